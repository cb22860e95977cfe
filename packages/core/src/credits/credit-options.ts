import type { CreditMeterSettings } from './credit-meter.js';

/**
 * How credits are leased from the store (docs/reference.md §10).
 *
 * @example
 * createKeyward({ store, scopes, credits: { expectedInstances: 4 } });
 */
export interface CreditOptions {
  /**
   * How many instances share the store: a lease takes ⌊available / (2 × expectedInstances)⌋ credits (at
   * least the request's cost), so blocks shrink to one credit as the balance nears zero. @default 2
   */
  expectedInstances?: number;
  /** Credits leased here and not spent from for this long (one to two sweeps) go back to the store (ms). @default 1000 */
  idleReturnMs?: number;
  /** A leased block is spent from for at most this long; then its rest goes back (ms). @default 30000 */
  leaseMs?: number;
}

/** The options checked (TypeError when wrong), with defaults. */
export function resolveCreditOptions(options: CreditOptions | undefined): CreditMeterSettings {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('Keyward: credits must be an object');
  }
  const settings: CreditMeterSettings = {
    expectedInstances: options?.expectedInstances ?? 2,
    idleReturnMs: options?.idleReturnMs ?? 1000,
    leaseMs: options?.leaseMs ?? 30_000,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new TypeError(`Keyward: credits.${name} must be a positive integer`);
    }
  }
  return settings;
}
