import { createHash } from 'node:crypto';
import type { ApiKey, WriteConditions } from '@keyward/core';
import { keyVersion, parseIfMatch } from '@keyward/core/schemas';
import type { RouteInput } from '../endpoint.js';

/**
 * `{ ETag }` for an answer about `key`: a strong tag `"<version>-<digest>"`. The version (raised by every
 * write of the key) is what `If-Match` checks; the digest of the answer's body tells apart answers of one
 * version whose `lastUsedAt` or `status` differ, so `If-None-Match` (304) never hides such a change.
 * None when the service gave no version for the key.
 */
export function etagHeader(key: ApiKey, body: unknown): Record<string, string> {
  const version = keyVersion(key);
  if (version === undefined) return {};
  const digest = createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 22);
  return { ETag: `"${version}-${digest}"` };
}

/**
 * The service's write conditions from `If-Match`: the version is checked by the guarded write itself
 * (412 `precondition_failed` when the key changed), never by a read here.
 */
export function ifMatch(header: RouteInput['header']): WriteConditions {
  const ifVersion = parseIfMatch(header('if-match'));
  return ifVersion === undefined ? {} : { ifVersion };
}
