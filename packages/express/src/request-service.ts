import type { Keyward } from '@keyward/core';

/**
 * Where `apiKeyAuth` and the Passport strategy leave the Keyward service that authenticated a request, so a
 * later `requireScopes` can check its scope names against that service's catalog. `Symbol.for` so the ESM
 * and CJS builds of this package find each other's; non-enumerable so it never shows in logs or JSON.
 */
const SERVICE = Symbol.for('keyward.express.service');

/** Records the service that authenticated `req`. */
export function attachService(req: object, keyward: Keyward): void {
  Object.defineProperty(req, SERVICE, { value: keyward, configurable: true, writable: true });
}

/** The service that authenticated `req`, if `apiKeyAuth` or the Passport strategy did. */
export function serviceOf(req: object): Keyward | undefined {
  return (req as { [SERVICE]?: Keyward })[SERVICE];
}
