import { KeywardError } from '@keyward/core';
import type { Request, Response } from 'express';
import express from 'express';
import { hasBody } from './request-guard.js';

/**
 * The largest request body the admin API reads: 16 kB.
 *
 * @example
 * express.json({ limit: MAX_BODY_BYTES });
 */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Reads a request's JSON body; `undefined` when the request has none.
 *
 * @example
 * const readBody: BodyReader = createBodyReader();
 */
export type BodyReader = (req: Request, res: Response) => Promise<unknown>;

/**
 * Builds the router's body reader on the `json()` parser of the app's own `express` (4 or 5), limited
 * to 16 kB. The request guard (`request-guard.ts`) has checked the content type and encoding already;
 * a body announced as larger than 16 kB is refused with 413 before it is read. When the host app parsed
 * the body already (`express.json()` mounted earlier), that parse is used, and the length check still
 * applies. An empty body (`Content-Length: 0`) reads as `undefined`.
 *
 * @example
 * const readBody = createBodyReader();
 * const body = await readBody(req, res); // {...} | undefined
 */
export function createBodyReader(): BodyReader {
  // `inflate: false`: compressed bodies are refused by the guard; should one get here, the parser
  // answers 415 rather than inflating it.
  const parse = express.json({
    limit: MAX_BODY_BYTES,
    strict: false,
    type: 'application/json',
    inflate: false,
  });

  return async function readBody(req, res) {
    if (!hasBody(req)) return undefined;
    const length = Number(req.headers['content-length']);
    if (length > MAX_BODY_BYTES) throw new KeywardError('payload_too_large');
    if (!alreadyParsed(req)) {
      await new Promise<void>((resolve, reject) => {
        parse(req, res, (error?: unknown) => (error ? reject(error) : resolve()));
      });
    }
    return req.body;
  };
}

/** `body-parser` marks a request whose body it has read with `_body`. */
function alreadyParsed(req: Request): boolean {
  return (req as Request & { _body?: boolean })._body === true;
}
