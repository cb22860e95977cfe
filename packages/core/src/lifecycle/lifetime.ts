import type { ValidationDetail } from '../shared/errors.js';
import type { KeyType } from '../shared/types.js';

const DAY_MS = 86_400_000;
/** The longest `max` or `default` the option takes, in days (100 years). */
const MAX_LIFETIME_DAYS = 36_500;

/**
 * How long keys of one type may live, in days (docs/reference.md §11): at most `max` days from when their expiry is
 * written, `default` days when a create or import gives none, and with `required`, never "never".
 *
 * @example
 * const policy: LifetimePolicy = { max: 366, default: 90, required: true };
 */
export interface LifetimePolicy {
  max?: number;
  default?: number;
  required?: boolean;
}

/** The `lifetime` option: a policy per key type. @default {} (any expiry, never by default) */
export interface LifetimeOptions {
  secret?: LifetimePolicy;
  public?: LifetimePolicy;
}

/** A policy after validation. */
export interface ResolvedLifetimePolicy {
  maxDays: number | null;
  defaultDays: number | null;
  required: boolean;
}

export type ResolvedLifetime = Readonly<Record<KeyType, ResolvedLifetimePolicy>>;

/** Checks the option once at start-up; a wrong one throws `TypeError`. */
export function resolveLifetime(option: LifetimeOptions | undefined): ResolvedLifetime {
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new TypeError('Keyward: lifetime must be an object { secret?, public? }');
  }
  const one = (type: KeyType): ResolvedLifetimePolicy => {
    const policy = option?.[type] ?? {};
    const days = (name: 'max' | 'default') => {
      const value = policy[name];
      if (value === undefined) return null;
      if (!Number.isInteger(value) || value < 1 || value > MAX_LIFETIME_DAYS) {
        throw new TypeError(
          `Keyward: lifetime.${type}.${name} must be a whole number of days, 1 to ${MAX_LIFETIME_DAYS}`,
        );
      }
      return value;
    };
    const maxDays = days('max');
    const defaultDays = days('default');
    if (maxDays !== null && defaultDays !== null && defaultDays > maxDays) {
      throw new TypeError(`Keyward: lifetime.${type}.default must not exceed lifetime.${type}.max`);
    }
    if (policy.required !== undefined && typeof policy.required !== 'boolean') {
      throw new TypeError(`Keyward: lifetime.${type}.required must be a boolean`);
    }
    return { maxDays, defaultDays, required: policy.required === true };
  };
  return { secret: one('secret'), public: one('public') };
}

/**
 * The expiry of a new key (create, import): `expiresAt` as given (`null`: never), or, when not given, the
 * policy's default (`null` without one).
 */
export function newKeyExpiry(
  lifetime: ResolvedLifetime,
  type: KeyType,
  expiresAt: Date | null | undefined,
  now: number,
): Date | null {
  if (expiresAt !== undefined) return expiresAt;
  const { defaultDays } = lifetime[type];
  return defaultDays === null ? null : new Date(now + defaultDays * DAY_MS);
}

/** How long a key the service makes itself lives when the policy requires an expiry but names no days. */
const REQUIRED_FALLBACK_DAYS = 365;

/**
 * The expiry of a key the service makes itself, with no expiry given (sign-up's default key, docs/reference.md
 * §11): the policy's `default`, else its `max`, else with `required` 365 days, else never; inside the policy.
 */
export function serviceKeyExpiry(lifetime: ResolvedLifetime, type: KeyType, now: number): Date | null {
  const { defaultDays, maxDays, required } = lifetime[type];
  const days = defaultDays ?? maxDays ?? (required ? REQUIRED_FALLBACK_DAYS : null);
  return days === null ? null : new Date(now + days * DAY_MS);
}

/**
 * What the policy says about writing `expiresAt` at `now` (create, PATCH, roll, import): `[]` when allowed;
 * else one detail at `path` (400 `validation_error`). `max` counts from `now`.
 */
export function lifetimeDetails(
  lifetime: ResolvedLifetime,
  type: KeyType,
  expiresAt: Date | null,
  now: number,
  path = 'expiresAt',
): ValidationDetail[] {
  const { maxDays, required } = lifetime[type];
  if (expiresAt === null) {
    return required || maxDays !== null
      ? [
          {
            path,
            message: `${capitalized(type)} keys must expire${maxDays === null ? '' : ` within ${maxDays} days`}.`,
          },
        ]
      : [];
  }
  if (maxDays !== null && expiresAt.getTime() > now + maxDays * DAY_MS) {
    return [{ path, message: `${capitalized(type)} keys may expire at most ${maxDays} days from now.` }];
  }
  return [];
}

/** Whether a key's expiry, written now, would be refused (a key made before a tighter policy). */
export function isNonCompliant(
  lifetime: ResolvedLifetime,
  key: { type: KeyType; expiresAt: Date | null },
  now: number,
): boolean {
  return lifetimeDetails(lifetime, key.type, key.expiresAt, now).length > 0;
}

function capitalized(type: KeyType): string {
  return type === 'secret' ? 'Secret' : 'Public';
}
