import type { Keyward } from '@keyward/core';

/**
 * Which Keyward service verified each key object `apiKeyAuth` and the Passport strategy hand out, so a later
 * `requireScopes` can check its scope names against that service's catalog. Core shares one frozen key
 * object per cached key, so the link is made once per key, not per request: a symbol property set on every
 * request object cost about 6 µs of server time per request (a property added to Express's `req`, measured
 * with `pnpm bench`), a `WeakMap` read costs next to nothing. Kept on `globalThis` under `Symbol.for` so the
 * ESM and CJS builds of this package share it.
 */
const SERVICES = Symbol.for('keyward.express.services');
const store = globalThis as { [SERVICES]?: WeakMap<object, Keyward> };
const services: WeakMap<object, Keyward> = store[SERVICES] ?? new WeakMap();
store[SERVICES] = services;

/** Records the service that verified `key` (the object set as `req.apiKey`). */
export function attachService(key: object, keyward: Keyward): void {
  if (services.get(key) !== keyward) services.set(key, keyward);
}

/** The service that authenticated `req`, if `apiKeyAuth` or the Passport strategy did. */
export function serviceOf(req: object): Keyward | undefined {
  const key = (req as { apiKey?: unknown }).apiKey;
  return typeof key === 'object' && key !== null ? services.get(key) : undefined;
}
