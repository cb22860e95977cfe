import type { KeyPolicy, VerifiedKey } from '@keyward/core';
import type { Request, Response } from 'express';

/**
 * Narrows the CORS answer of `apiKeyCors` (or any CORS middleware that ran before) for a public key bound
 * to `allowedOrigins`: `Access-Control-Allow-Origin` becomes the request's `Origin` when the key allows it
 * (with `Vary: Origin`), and is removed otherwise, so a browser keeps the answer from other origins' pages.
 * Called with the verify result the middleware already has; a key without origins costs one comparison.
 *
 * @example
 * if (result.valid && result.policy !== null) corsForKey(result.policy, result.key, req, res);
 */
export function corsForKey(
  policy: KeyPolicy,
  key: VerifiedKey,
  req: Request,
  res: Response | undefined,
): void {
  if (policy.allowedOrigins.length === 0 || key.type !== 'public') return;
  if (res === undefined || res.headersSent || !res.hasHeader('access-control-allow-origin')) return;
  res.vary('Origin');
  const origin = req.headers.origin;
  if (typeof origin === 'string' && policy.allowsOrigin(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
  } else {
    res.removeHeader('Access-Control-Allow-Origin');
    res.removeHeader('Access-Control-Expose-Headers');
  }
}
