import { KeywardError } from '@keyward/core';
import type { Request, Response } from 'express';
import express from 'express';

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
 * to 16 kB. A body with a non-JSON content type is refused with 415 before it is read; one announced
 * as larger than 16 kB with 413. When the host app parsed the body already (`express.json()` mounted
 * earlier), that parse is used, and the content type and length checks still apply.
 *
 * @example
 * const readBody = createBodyReader();
 * const body = await readBody(req, res); // {...} | undefined
 */
export function createBodyReader(): BodyReader {
  const parse = express.json({ limit: MAX_BODY_BYTES, strict: false, type: 'application/json' });

  return async function readBody(req, res) {
    if (!hasBody(req)) return undefined;
    if (!req.is('application/json')) {
      throw new KeywardError('unsupported_media_type', {
        message: 'The request body must be JSON (Content-Type: application/json).',
      });
    }
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

/**
 * Whether the request carries a body. `Content-Length: 0` (what `fetch` sends for a bodiless POST)
 * counts as none, so `POST /:id/roll` works without a body and without a content type.
 */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** `body-parser` marks a request whose body it has read with `_body`. */
function alreadyParsed(req: Request): boolean {
  return (req as Request & { _body?: boolean })._body === true;
}
