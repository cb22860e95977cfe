import type { ValidationDetail } from '../shared/errors.js';
import type { KeyType } from '../shared/types.js';

/** The app's scope catalog and the ceiling of public keys. */
export interface ScopePolicy {
  readonly catalog: ReadonlySet<string>;
  readonly publicCeiling: ReadonlySet<string>;
  /** The scopes a key of this type gets when none are asked for. */
  defaults(type: KeyType): string[];
  /** Problems with `scopes` for a key of `type`: unknown scopes and public scopes over the ceiling. */
  check(scopes: readonly string[], type: KeyType, path?: string): ValidationDetail[];
  /** The scopes a stored key holds now: known to the catalog and, for public keys, under the ceiling. */
  effective(scopes: readonly string[], type: KeyType): string[];
}

const SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._\-/*]{0,99}$/;

/** Validates the catalog and ceiling once (TypeError when wrong) and returns the policy. */
export function createScopePolicy(catalog: readonly string[], publicScopes: readonly string[]): ScopePolicy {
  if (!Array.isArray(catalog) || !catalog.every((s) => typeof s === 'string' && SCOPE_PATTERN.test(s))) {
    throw new TypeError('Keyward: scopes must be an array of scope names like "snippets:read"');
  }
  if (!Array.isArray(publicScopes) || !publicScopes.every((s) => catalog.includes(s))) {
    throw new TypeError('Keyward: publicScopes must be a subset of scopes');
  }
  const all = new Set(catalog);
  const ceiling = new Set(publicScopes);
  return {
    catalog: all,
    publicCeiling: ceiling,
    defaults: (type) => [...(type === 'public' ? ceiling : all)],
    check(scopes, type, path = 'scopes') {
      const details: ValidationDetail[] = [];
      scopes.forEach((scope, i) => {
        if (!all.has(scope)) details.push({ path: `${path}.${i}`, message: `Unknown scope "${scope}".` });
        else if (type === 'public' && !ceiling.has(scope)) {
          details.push({ path: `${path}.${i}`, message: `Public keys cannot hold the scope "${scope}".` });
        }
      });
      return details;
    },
    effective: (scopes, type) => scopes.filter((s) => all.has(s) && (type === 'secret' || ceiling.has(s))),
  };
}
