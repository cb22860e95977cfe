import { keyStatus } from './status.js';
import type { ApiKey, StoredKey } from './types.js';

/** The service's view of a stored key: no hash, the token for public keys only, and its status at `now`. */
export function toApiKey(key: StoredKey, now: number): ApiKey {
  const out: ApiKey = {
    id: key.id,
    organizationId: key.organizationId,
    name: key.name,
    type: key.type,
    scopes: [...key.scopes],
    redactedKey: key.redactedKey,
    isDefault: key.isDefault,
    createdAt: key.createdAt,
    updatedAt: key.updatedAt,
    expiresAt: key.expiresAt,
    lastUsedAt: key.lastUsedAt,
    disabled: key.disabled,
    rolledAt: key.rolledAt,
    replacedBy: key.replacedBy,
    status: keyStatus(key, now),
  };
  if (key.type === 'public' && key.token) out.token = key.token;
  return out;
}
