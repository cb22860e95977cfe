import {
  KeywardError,
  MAX_GRACE_PERIOD_SECONDS,
  MAX_NAME_LENGTH,
  type ValidationDetail,
} from '@keyward/core';
import { type ZodType, z } from 'zod';

// The shape of request bodies. The service checks what depends on the app and the clock (scopes against
// the catalog and the public ceiling, `expiresAt` in the future) and reports it the same way.

const required = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'Required.' : message;

const name = z
  .string({ error: required('Must be a string.') })
  .trim()
  .min(1, 'Must not be empty.')
  .max(MAX_NAME_LENGTH, `Must be at most ${MAX_NAME_LENGTH} characters.`);

const type = z.enum(['public', 'secret'], { error: required('Must be "public" or "secret".') });

const scopes = z.array(z.string({ error: 'Must be a string.' }), { error: 'Must be an array of strings.' });

const expiresAt = z.iso
  .datetime({
    offset: true,
    error: 'Must be an ISO-8601 date-time with a time zone, e.g. 2031-01-01T00:00:00Z.',
  })
  .nullable();

const gracePeriodSeconds = z
  .int({ error: `Must be an integer from 0 to ${MAX_GRACE_PERIOD_SECONDS}.` })
  .min(0, `Must be an integer from 0 to ${MAX_GRACE_PERIOD_SECONDS}.`)
  .max(MAX_GRACE_PERIOD_SECONDS, `Must be an integer from 0 to ${MAX_GRACE_PERIOD_SECONDS}.`);

const object = { error: 'Must be a JSON object.' };

/**
 * Body of `POST /`.
 *
 * @example
 * createKeyBody.parse({ name: 'CI', type: 'secret', scopes: ['snippets:write'] });
 */
export const createKeyBody = z.strictObject(
  { name, type, scopes: scopes.optional(), expiresAt: expiresAt.optional() },
  object,
);

/**
 * Body of `PATCH /:id`: any subset of the fields; `expiresAt: null` removes the expiry.
 *
 * @example
 * updateKeyBody.parse({ disabled: true });
 */
export const updateKeyBody = z.strictObject(
  {
    name: name.optional(),
    scopes: scopes.optional(),
    expiresAt: expiresAt.optional(),
    disabled: z.boolean({ error: 'Must be a boolean.' }).optional(),
  },
  object,
);

/**
 * Body of `POST /:id/roll`; no body at all means the defaults.
 *
 * @example
 * rollKeyBody.parse({ gracePeriodSeconds: 3600 });
 */
export const rollKeyBody = z.strictObject({ gracePeriodSeconds: gracePeriodSeconds.optional() }, object);

/**
 * Parses a request body (`undefined` when the request had none, read as `{}`) or throws a
 * `validation_error` listing every problem as `{ path, message }` (`path` is dotted, `""` for the body).
 *
 * @example
 * const input = parseBody(createKeyBody, req.body); // { name: 'CI', type: 'secret' }
 */
export function parseBody<T>(schema: ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body === undefined ? {} : body);
  if (result.success) return result.data;
  const details: ValidationDetail[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        details.push({ path: [...path, key].join('.'), message: 'Unknown field.' });
    } else {
      details.push({ path: path.join('.'), message: issue.message });
    }
  }
  throw new KeywardError('validation_error', { details });
}
