import type { ValidationDetail } from '../shared/errors.js';
import type { KeyLimit, KeyType } from '../shared/types.js';
import { keyLimitSchema, limitsSchema } from './policy-schemas.js';

/**
 * The app's rules for key limits (`createKeyward({ limits })`): what a new key gets when its creator names
 * no limits, and the loosest limit a customer may ask for.
 *
 * @example
 * createKeyward({
 *   ...options,
 *   limits: {
 *     defaults: { public: [{ limit: 10, windowSeconds: 1 }, { limit: 10_000, windowSeconds: 86_400 }] },
 *     max: { public: { limit: 100, windowSeconds: 1 } },
 *   },
 * });
 */
export interface LimitOptions {
  /**
   * Limits a new key of each type gets when `createKey` is called without `limits` (the organization's
   * Default key too). Stored on the key, shown in the Key object, changeable by PATCH.
   * @default { public: [], secret: [] }
   */
  defaults?: { public?: readonly KeyLimit[]; secret?: readonly KeyLimit[] };
  /**
   * Per key type, the highest rate a customer may set, as `{ limit, windowSeconds }`: every limit given on
   * create or PATCH must average no more requests per second (`limit / windowSeconds <= max.limit /
   * max.windowSeconds`), and a key of that type must keep at least one limit. Over it: 400
   * `validation_error` with one detail per offending entry. The type's `defaults` must obey it too (so a
   * type with a maximum needs defaults).
   * @default {} (any limit the schema allows, or none)
   */
  max?: { public?: KeyLimit; secret?: KeyLimit };
}

/** `LimitOptions` checked once (TypeError when wrong), frozen. */
export interface ResolvedLimits {
  defaults: Readonly<Record<KeyType, readonly KeyLimit[]>>;
  max: Readonly<Record<KeyType, KeyLimit | null>>;
}

/** Validates `limits` options with the same schema as customer input; never mutates them. */
export function resolveLimits(options: LimitOptions | undefined): ResolvedLimits {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('Keyward: limits must be an object { defaults?, max? }');
  }
  const max = options?.max;
  if (max !== undefined && (typeof max !== 'object' || max === null || Object.keys(max).some(notAType))) {
    throw new TypeError('Keyward: limits.max must be an object { public?, secret? }');
  }
  const resolved: ResolvedLimits = {
    defaults: Object.freeze({
      public: defaultsOf('public', options?.defaults?.public),
      secret: defaultsOf('secret', options?.defaults?.secret),
    }),
    max: Object.freeze({ public: maxOf('public', max?.public), secret: maxOf('secret', max?.secret) }),
  };
  for (const type of ['public', 'secret'] as const) {
    const over = limitsOverMax(resolved.defaults[type], resolved.max[type]);
    if (over.length > 0) {
      throw new TypeError(`Keyward: limits.defaults.${type} ${over[0]?.message.toLowerCase()}`);
    }
  }
  return Object.freeze(resolved);
}

/** The problems of `limits` under the app's `max` (empty when none). */
export function limitsOverMax(limits: readonly KeyLimit[], max: KeyLimit | null): ValidationDetail[] {
  if (max === null) return [];
  const ceiling = `${max.limit} per ${max.windowSeconds} s`;
  if (limits.length === 0) {
    return [{ path: 'limits', message: `Must hold at least one limit (the most allowed is ${ceiling}).` }];
  }
  const details: ValidationDetail[] = [];
  limits.forEach((entry, index) => {
    // Cross-multiplied: exact in integers, no rounding of a rate.
    if (entry.limit * max.windowSeconds > max.limit * entry.windowSeconds) {
      details.push({ path: `limits.${index}`, message: `Must not allow more than ${ceiling} on average.` });
    }
  });
  return details;
}

const notAType = (name: string): boolean => name !== 'public' && name !== 'secret';

function maxOf(type: KeyType, value: unknown): KeyLimit | null {
  if (value === undefined) return null;
  const parsed = keyLimitSchema.safeParse(value);
  if (!parsed.success) {
    throw new TypeError(`Keyward: limits.max.${type} must be { limit: 1-1e9, windowSeconds: 1-2678400 }`);
  }
  return Object.freeze(parsed.data);
}

function defaultsOf(type: KeyType, value: unknown): readonly KeyLimit[] {
  if (value === undefined) return Object.freeze([]);
  const parsed = limitsSchema.safeParse(value);
  if (!parsed.success) {
    throw new TypeError(
      `Keyward: limits.defaults.${type} must be up to 3 { limit, windowSeconds } with distinct windows`,
    );
  }
  return Object.freeze(parsed.data.map((l) => Object.freeze(l)));
}
