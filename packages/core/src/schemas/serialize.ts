import { keyStatus } from '../format/status.js';
import { copyLimit } from '../policies/policy-schemas.js';
import type { ApiKey, KeyRecordFields, StoredKey } from '../shared/types.js';
import type { KeyJSON } from './schemas.js';

/** The stored version of every key the service answered (see `keyEtag`); weak, so keys are not kept. */
const versions = new WeakMap<ApiKey, number>();

/**
 * The stored `version` of a key the service answered (`getKey`, `updateKey`, `rollKey`, `createKey`, …):
 * every write of the key raises it, so it names the key's stored state (`status` and `lastUsedAt`, which
 * change without a write, are not part of it). `undefined` for an object the service did not answer.
 * The admin API sends it in `ETag`; `If-Match` brings it back (see `parseIfMatch`).
 *
 * @example
 * keyVersion(await keyward.getKey(org, id)); // 3
 */
export function keyVersion(key: ApiKey): number | undefined {
  return versions.get(key);
}

/**
 * The key version an `If-Match` header asks for (`ifVersion` of `updateKey`, `rollKey`, `deleteKey`):
 * `undefined` when the header is absent or `*` (any current key); the version for one strong tag
 * `"<version>"` or `"<version>-<digest>"` (the admin API's `ETag`: the digest tells answers apart for
 * `If-None-Match`, the version is what `If-Match` asks for); `-1`, a version no key has, when it can match
 * none (a weak tag `W/"…"`, which `If-Match` never matches under RFC 9110's strong comparison, a foreign
 * tag, or several tags).
 *
 * @example
 * parseIfMatch('"3"'); // 3
 */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return undefined;
  const match = /^"(0|[1-9][0-9]{0,15})(?:-[0-9A-Za-z_-]{1,64})?"$/.exec(value);
  const version = match ? Number(match[1]) : -1;
  return Number.isSafeInteger(version) ? version : -1;
}

/** The fields that name a key, the same in every view of it; the scopes copied. */
function identityOf(
  key: KeyRecordFields,
): Pick<KeyRecordFields, 'id' | 'organizationId' | 'name' | 'type' | 'scopes' | 'redactedKey'> {
  const { id, organizationId, name, type, redactedKey } = key;
  return { id, organizationId, name, type, scopes: [...key.scopes], redactedKey };
}

/** The service's view of a stored key: no hash, the token for public keys only, and its status at `now`. */
export function toApiKey(key: StoredKey, now: number): ApiKey {
  const out: ApiKey = {
    ...identityOf(key),
    // After a roll the replacement is the Default key; the rolled-away one is no longer marked.
    isDefault: key.isDefault && key.replacedBy === null,
    createdAt: key.createdAt,
    updatedAt: key.updatedAt,
    expiresAt: key.expiresAt,
    lastUsedAt: key.lastUsedAt,
    disabled: key.disabled,
    rolledAt: key.rolledAt,
    replacedBy: key.replacedBy,
    status: keyStatus(key, now),
    limits: (key.limits ?? []).map((l) => copyLimit(l)),
    allowedOrigins: [...(key.allowedOrigins ?? [])],
    allowedIps: [...(key.allowedIps ?? [])],
    legacy: key.legacy === true,
    meta: key.meta ? structuredClone(key.meta) : null,
    owner: key.owner ? { type: key.owner.type, id: key.owner.id } : null,
    createdBy: key.createdBy ? { type: key.createdBy.type, id: key.createdBy.id } : null,
    plan: key.plan ?? null,
  };
  if (key.type === 'public' && key.token) out.token = key.token;
  versions.set(out, key.version);
  return out;
}

/**
 * A key as the admin API sends it (docs/reference.md §3 `Key`, the `keySchema`): times as ISO strings or `null`.
 * Fields are picked one by one, so nothing the service might add later (and no secret token) reaches a
 * client by accident.
 *
 * @example
 * res.json({ data: serializeKey(await keyward.getKey(org, id)) });
 */
export function serializeKey(key: ApiKey): KeyJSON {
  const token = key.type === 'public' && typeof key.token === 'string' ? { token: key.token } : {};
  return {
    ...identityOf(key),
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
    limits: key.limits.map((l) => copyLimit(l)),
    allowedOrigins: [...key.allowedOrigins],
    allowedIps: [...key.allowedIps],
    legacy: key.legacy,
    meta: key.meta === null ? null : structuredClone(key.meta),
    owner: key.owner && { type: key.owner.type, id: key.owner.id },
    createdBy: key.createdBy && { type: key.createdBy.type, id: key.createdBy.id },
    plan: key.plan,
  };
}

function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

// The service's key and the wire key must name the same fields: a field added to one and not the other
// fails to compile here.
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : false;
const sameFields: SameKeys<ApiKey, KeyJSON> = true;
void sameFields;
