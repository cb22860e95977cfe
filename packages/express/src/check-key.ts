import { isKeywardError, type KeywardError, type VerifiedKey } from '@keyward/core';
import type { Request, Response } from 'express';
import type { ResolvedAuth } from './options.js';
import { refusal } from './refusal.js';

/** A key that passed: what goes on `req.apiKey`, and the end of its grace period when it was rolled. */
export interface Admitted {
  key: VerifiedKey;
  sunsetAt: Date | null;
}

/** Verifies `token` through core with the route's requirements; refusals come back as `KeywardError`s. */
export async function checkToken(auth: ResolvedAuth, token: string): Promise<Admitted | KeywardError> {
  const result = await auth.keyward.verify(token, auth.requirements);
  if (result.valid) return { key: result.key, sunsetAt: result.sunsetAt };
  return refusal(result.code, auth.realm, result.required);
}

/** Sets `req.apiKey` and, for a rolled key in its grace period, the `Sunset` header (RFC 8594). */
export function admit(req: Request, res: Response | undefined, { key, sunsetAt }: Admitted): void {
  req.apiKey = key;
  if (sunsetAt !== null) res?.setHeader('Sunset', sunsetAt.toUTCString());
}

/** Whether an outcome is a refusal rather than a passed key. */
export function isRefusal<T>(outcome: T | KeywardError): outcome is KeywardError {
  return isKeywardError(outcome);
}
