import type { Request, Response } from 'express';

/**
 * A value one guard notes on a request for the guards after it (what was counted, charged, reported).
 *
 * @example
 * const counted = requestMark<string>('counted');
 * if (counted.get(req, res) !== lineage) counted.set(req, res, lineage);
 */
export interface RequestMark<T> {
  get(req: object | undefined, res: Response | undefined): T | undefined;
  set(req: object | undefined, res: Response | undefined, value: T): void;
}

type Locals = Record<symbol, unknown>;

/**
 * A mark kept under a symbol on `res.locals`: Express makes that object for every request with
 * `Object.create(null)`, so a symbol on it costs a dictionary insert (0.35 µs in bench/src/req-property.ts),
 * and `Object.keys` and JSON never show it. Never a property of `req`: adding one to Express's request
 * objects costs µs (Express swaps their prototype, so V8 finds no cached transition). Where a response has
 * no `res.locals` (not Express's), a `WeakMap` keyed by the request (about 1 µs). The symbol and the map
 * are shared through `Symbol.for` and `globalThis`, so the ESM and CJS builds of this package see one mark.
 * An app that replaces `res.locals` between two guards drops the marks: the later guard then counts,
 * charges or reports the request as the first.
 */
export function requestMark<T>(name: string): RequestMark<T> {
  const symbol = Symbol.for(`keyward.express.${name}`);
  const shared = globalThis as Record<symbol, WeakMap<object, T> | undefined>;
  const byRequest = shared[symbol] ?? new WeakMap<object, T>();
  shared[symbol] = byRequest;
  const localsOf = (req: object | undefined, res: Response | undefined): Locals | undefined => {
    const locals = (res ?? (req as Request | undefined)?.res)?.locals as unknown;
    return typeof locals === 'object' && locals !== null ? (locals as Locals) : undefined;
  };
  return {
    get(req, res) {
      const locals = localsOf(req, res);
      if (locals !== undefined) return locals[symbol] as T | undefined;
      return req === undefined ? undefined : byRequest.get(req);
    },
    set(req, res, value) {
      const locals = localsOf(req, res);
      if (locals !== undefined) locals[symbol] = value;
      else if (req !== undefined) byRequest.set(req, value);
    },
  };
}
