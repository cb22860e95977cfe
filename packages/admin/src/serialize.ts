import type { ApiKey, KeyStatus, KeyType } from '@keyward/core';

/**
 * A key on the wire (contract §3 `Key`): times are ISO-8601 strings or `null`.
 *
 * @example
 * const { data }: { data: KeyJSON[] } = await (await fetch('/api/keys')).json();
 */
export interface KeyJSON {
  id: string;
  organizationId: string;
  name: string;
  type: KeyType;
  scopes: string[];
  redactedKey: string;
  /** The full token, present for public keys only (they are publishable). */
  token?: string;
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  disabled: boolean;
  rolledAt: string | null;
  replacedBy: string | null;
  status: KeyStatus;
}

/**
 * Turns the service's `ApiKey` into the contract's `Key`. Fields are picked one by one, so nothing the
 * service might add later (and no secret token) reaches the client by accident.
 *
 * @example
 * res.json({ data: serializeKey(await keyward.getKey(org, id)) });
 */
export function serializeKey(key: ApiKey): KeyJSON {
  // Built in the contract's field order; `token` only for public keys.
  const token = key.type === 'public' && typeof key.token === 'string' ? { token: key.token } : {};
  return {
    id: key.id,
    organizationId: key.organizationId,
    name: key.name,
    type: key.type,
    scopes: [...key.scopes],
    redactedKey: key.redactedKey,
    ...token,
    isDefault: key.isDefault,
    createdAt: key.createdAt.toISOString(),
    updatedAt: key.updatedAt.toISOString(),
    expiresAt: isoOrNull(key.expiresAt),
    lastUsedAt: isoOrNull(key.lastUsedAt),
    disabled: key.disabled,
    rolledAt: isoOrNull(key.rolledAt),
    replacedBy: key.replacedBy,
    status: key.status,
  };
}

function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
