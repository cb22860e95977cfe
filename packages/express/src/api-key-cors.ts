import cors from 'cors';
import type { RequestHandler } from 'express';
import { isMiddlewareCall } from './middleware-call.js';
import { checkOptionsObject } from './options.js';

/**
 * Options of `apiKeyCors`. Credentials (cookies) are never allowed: API keys travel in a header.
 *
 * @example
 * app.use('/v1', apiKeyCors({ methods: ['GET', 'POST'] }));
 */
export interface ApiKeyCorsOptions {
  /**
   * Methods a browser may use, answered to preflights (`Access-Control-Allow-Methods`).
   * @default ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
   */
  methods?: readonly string[];
  /**
   * Request headers a page may send (`Access-Control-Allow-Headers`): list the headers your keys travel in
   * when you changed them.
   * @default ["Authorization", "X-API-Key", "Content-Type"]
   */
  allowedHeaders?: readonly string[];
  /**
   * Response headers a page may read (`Access-Control-Expose-Headers`); replaces the default list.
   * @default ["RateLimit", "RateLimit-Policy", "Retry-After", "Sunset", "Deprecation", "WWW-Authenticate"]
   */
  exposedHeaders?: readonly string[];
  /**
   * Seconds a browser may reuse a preflight answer (`Access-Control-Max-Age`), 0–86400.
   * @default 600
   */
  maxAge?: number;
}

const WHERE = '@keyward/express apiKeyCors';
const ALLOWED = ['methods', 'allowedHeaders', 'exposedHeaders', 'maxAge'];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$/;

/**
 * CORS for an API authenticated with Keyward keys, built on the `cors` package: every origin may call it
 * (public keys are meant for browsers), without credentials. Preflights (`OPTIONS`, which browsers send
 * without the key) are answered here with `204` and the allowed methods and headers. Mount it before
 * `apiKeyAuth`: once `apiKeyAuth` (or the Passport strategy) has verified a public key bound to
 * `allowedOrigins`, it narrows `Access-Control-Allow-Origin` to the request's origin when that origin is
 * allowed (with `Vary: Origin`) and removes it otherwise, from the verify result it already has: no second
 * lookup, and nothing before the invalid-key throttle.
 *
 * @example
 * app.use('/v1', apiKeyCors(), apiKeyAuth(keyward));
 */
export function apiKeyCors(options?: ApiKeyCorsOptions): RequestHandler;
export function apiKeyCors(...args: unknown[]): RequestHandler | undefined {
  if (isMiddlewareCall(args)) {
    // Mounted without `()`: the defaults are all there is to guess (built per call: a mistake's path, and
    // no state at module level).
    build(undefined)(...args);
    return undefined;
  }
  return build(args[0]);
}

function build(options: unknown): RequestHandler {
  const checked = checkOptionsObject(WHERE, options, ALLOWED);
  const handler = cors({
    origin: '*',
    credentials: false,
    methods: tokens('methods', checked.methods, ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
    allowedHeaders: tokens('allowedHeaders', checked.allowedHeaders, [
      'Authorization',
      'X-API-Key',
      'Content-Type',
    ]),
    exposedHeaders: tokens('exposedHeaders', checked.exposedHeaders, [
      'RateLimit',
      'RateLimit-Policy',
      'Retry-After',
      'Sunset',
      'Deprecation',
      'WWW-Authenticate',
      'Credits-Remaining',
    ]),
    maxAge: maxAge(checked.maxAge),
    preflightContinue: false,
    optionsSuccessStatus: 204,
  });
  return function apiKeyCors(req, res, next) {
    handler(req, res, next);
  };
}

function tokens(option: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && TOKEN.test(v))) {
    throw new TypeError(`${WHERE}: ${option} must be an array of header or method names`);
  }
  return [...new Set(value as string[])];
}

function maxAge(value: unknown): number {
  if (value === undefined) return 600;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 86_400) {
    throw new TypeError(`${WHERE}: maxAge must be a whole number of seconds from 0 to 86400`);
  }
  return value;
}
