import type { RequestHandler } from 'express';

/**
 * CORS for the `/v1` API: any origin may call it from a browser (public keys are meant to be published),
 * with the key in `Authorization` or `X-API-Key`. No credentials: keys travel in headers, never cookies,
 * so the session cookie is never sent along. Preflights are answered here, before authentication.
 *
 * @example
 * v1.use(publicApiCors);
 */
export const publicApiCors: RequestHandler = function keywardDemoCors(req, res, next) {
  res.set('Access-Control-Allow-Origin', '*');
  res.set('Access-Control-Expose-Headers', 'Sunset, WWW-Authenticate');
  if (req.method === 'OPTIONS') {
    res.set('Access-Control-Allow-Methods', 'GET, POST');
    res.set('Access-Control-Allow-Headers', 'Authorization, X-API-Key, Content-Type');
    res.set('Access-Control-Max-Age', '600');
    res.status(204).end();
    return;
  }
  next();
};
