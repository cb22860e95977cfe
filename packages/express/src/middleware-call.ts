import type { NextFunction, Request, Response } from 'express';

/**
 * Whether a middleware factory was called by Express itself, as `(req, res, next)` (or as an error
 * handler, `(err, req, res, next)`, when `errorHandler` is set): the app mounted the factory without `()`,
 * e.g. `app.post('/x', requireSecretKey, handler)`. No options object looks like this.
 */
export function isMiddlewareCall(args: readonly unknown[]): args is [Request, Response, NextFunction] {
  return args.length >= 3 && isRequest(args[0]) && isObject(args[1]) && typeof args[2] === 'function';
}

/** The same test for an error handler's call shape `(err, req, res, next)`. */
export function isErrorHandlerCall(
  args: readonly unknown[],
): args is [unknown, Request, Response, NextFunction] {
  return args.length >= 4 && isRequest(args[1]) && isObject(args[2]) && typeof args[3] === 'function';
}

/** A TypeError for a factory that cannot guess its arguments, e.g. `app.use(apiKeyAuth)`. */
export function mountedUncalled(where: string, name: string, example: string): TypeError {
  return new TypeError(`${where}: ${name} was mounted without being called. Write ${example} instead.`);
}

function isRequest(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof (value as { method?: unknown }).method === 'string' &&
    isObject((value as { headers?: unknown }).headers)
  );
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}
