import type { StoredKey } from '../shared/types.js';
import type { KeyListQuery } from './store.js';

/**
 * Whether `key` belongs on a page of `query` (filters and position; not the limit). The reference
 * semantics of `KeyListQuery`, used by `MemoryKeyStore` and the conformance suite.
 *
 * @example
 * keys.filter((k) => matchesListQuery(k, { limit: 50, now: new Date() }));
 */
export function matchesListQuery(key: StoredKey, query: KeyListQuery): boolean {
  const now = query.now.getTime();
  const expired = key.expiresAt !== null && key.expiresAt.getTime() <= now;
  if (query.after) {
    const at = key.createdAt.getTime();
    const after = query.after.createdAt.getTime();
    if (!(at < after || (at === after && key.id < query.after.id))) return false;
  }
  if (query.type !== undefined && key.type !== query.type) return false;
  if (
    query.owner !== undefined &&
    (key.owner?.type !== query.owner.type || key.owner.id !== query.owner.id)
  ) {
    return false;
  }
  if (query.q !== undefined && query.q !== '' && !matchesSearch(key, query.q)) return false;
  switch (query.status) {
    case undefined:
      return !(expired && key.rolledAt !== null);
    case 'expired':
      return expired;
    case 'disabled':
      return !expired && key.disabled;
    case 'rolled':
      return !expired && !key.disabled && key.rolledAt !== null;
    case 'active':
      return !expired && !key.disabled && key.rolledAt === null;
  }
}

/** The name contains `q` ignoring case, or `q` is the token's last 4 characters. */
export function matchesSearch(key: Pick<StoredKey, 'name' | 'redactedKey'>, q: string): boolean {
  if (new RegExp(escapeRegExp(q), 'i').test(key.name)) return true;
  return q.length === 4 && key.redactedKey.endsWith(q);
}

/**
 * `text` with every regular-expression metacharacter escaped (for `$regex` and `RegExp`).
 *
 * @example
 * escapeRegExp('a.b'); // "a\\.b"
 */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
