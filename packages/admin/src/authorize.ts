import { KeywardError } from '@keyward/core';
import type { Request } from 'express';
import { log } from './logger.js';
import type { Authorize } from './options.js';

/** The longest organization id the service accepts. */
const MAX_ORGANIZATION_ID_LENGTH = 200;

/**
 * Runs the host app's `authorize` and returns the organization the request acts for. Fails closed:
 * `'forbidden'` throws 403, every other answer that is not `{ organizationId: <non-empty string> }`
 * throws 401, and errors `authorize` throws propagate (a non-Keyward error becomes a 500).
 *
 * @example
 * const organizationId = await authorizeRequest(authorize, req); // "org_1"
 */
export async function authorizeRequest(authorize: Authorize, req: Request): Promise<string> {
  const result: unknown = await authorize(req);
  if (result === 'forbidden') throw new KeywardError('forbidden');
  if (typeof result === 'object' && result !== null) {
    // Read once: a getter cannot answer one value to the check and another to the use.
    const organizationId: unknown = (result as { organizationId?: unknown }).organizationId;
    if (
      typeof organizationId === 'string' &&
      organizationId.length > 0 &&
      organizationId.length <= MAX_ORGANIZATION_ID_LENGTH
    ) {
      return organizationId;
    }
  }
  if (result !== null && result !== 'unauthorized')
    log('authorize gave an unusable answer (%s): refused', describe(result));
  throw new KeywardError('unauthorized');
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}
