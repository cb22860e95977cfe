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

/** Marks a request whose JSON body was read and was empty (zero bytes, also when sent in chunks). */
const EMPTY = Symbol('keyward.admin.emptyBody');

/**
 * Reads a request's JSON body. Every POST and PATCH needs one (the OpenAPI document says `required: true`):
 * an empty body is 400 `validation_error`, `{}` being the body that asks for the defaults.
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
 * applies. An empty body (`Content-Length: 0`, or no bytes in chunks) is refused with 400, as the
 * document requires a body: a client that means the defaults sends `{}`.
 *
 * @example
 * const readBody = createBodyReader();
 * const body = await readBody(req, res); // {...}
 */
export function createBodyReader(): BodyReader {
  // `inflate: false`: compressed bodies are refused by the guard; should one get here, the parser
  // answers 415 rather than inflating it.
  const parse = express.json({
    limit: MAX_BODY_BYTES,
    strict: false,
    type: 'application/json',
    inflate: false,
    // body-parser reads zero bytes as `{}`; noted here so the empty body is refused like `Content-Length: 0`.
    verify: (req, _res, buffer) => {
      if (buffer.length === 0) (req as Request & { [EMPTY]?: true })[EMPTY] = true;
    },
  });

  return async function readBody(req, res) {
    if (!hasBody(req)) throw emptyBody();
    const length = Number(req.headers['content-length']);
    if (length > MAX_BODY_BYTES) throw new KeywardError('payload_too_large');
    if (!alreadyParsed(req)) {
      await new Promise<void>((resolve, reject) => {
        parse(req, res, (error?: unknown) => (error ? reject(error) : resolve()));
      });
    }
    if ((req as Request & { [EMPTY]?: true })[EMPTY]) throw emptyBody();
    return req.body;
  };
}

function emptyBody(): KeywardError {
  return new KeywardError('validation_error', {
    details: [{ path: '', message: 'Send a JSON body ({} for the defaults).' }],
  });
}

/** `body-parser` marks a request whose body it has read with `_body`. */
function alreadyParsed(req: Request): boolean {
  return (req as Request & { _body?: boolean })._body === true;
}
