import { z } from 'zod';

// The input rules of docs/reference.md §10 that belong to a key itself: its `meta` and its `owner`, once.
// schemas.ts puts them into the create, update, list and wire Key schemas.

/** The most bytes of a key's `meta`, serialized as JSON (UTF-8). */
export const MAX_META_BYTES = 1024;
/** The longest owner id. */
export const MAX_OWNER_ID_LENGTH = 200;

const metaMessage = `Must be a JSON object of at most ${MAX_META_BYTES} bytes serialized.`;

/**
 * `meta`: a JSON object the app sets on a key (at most 1 kB serialized), returned by verify as
 * `req.apiKey.meta`; `null` removes it. Stored as the JSON it serializes to (no `undefined`, no functions).
 *
 * @example
 * metaSchema.parse({ customerId: 'cus_42', plan: 'pro' });
 */
export const metaSchema = z
  // z.unknown() rather than z.json(): the latter is recursive, and the OpenAPI document (generated from
  // these schemas) must stay free of $defs references. The JSON round trip below is the check.
  .record(z.string(), z.unknown(), { error: metaMessage })
  .superRefine((value, ctx) => {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined;
    }
    if (json === undefined || Buffer.byteLength(json, 'utf8') > MAX_META_BYTES) {
      ctx.addIssue({ code: 'custom', message: metaMessage });
    }
  })
  .transform((value) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>)
  .nullable()
  .meta({
    description: `App data returned with the key on verify (\`req.apiKey.meta\`): a JSON object of at most ${MAX_META_BYTES} bytes serialized; \`null\`: none.`,
    examples: [{ customerId: 'cus_42' }],
  });

const ownerIdMessage = `Must be 1 to ${MAX_OWNER_ID_LENGTH} characters without control characters.`;
// No control characters (Unicode's Cc: U+0000–U+001F, U+007F–U+009F), written with `\x` escapes so that
// the OpenAPI document's pattern compiles in Python's re and RE2 as well as in ECMAScript.
const OWNER_ID_PATTERN = new RegExp(`^[^\\x00-\\x1f\\x7f-\\x9f]{1,${MAX_OWNER_ID_LENGTH}}$`, 'u');

/** The kinds of owner a key may have inside its organization. */
export const ownerTypeSchema = z.enum(['user', 'service'], { error: 'Must be "user" or "service".' });

const ownerObjectSchema = z.strictObject(
  {
    type: ownerTypeSchema,
    id: z
      .string({ error: ownerIdMessage })
      .regex(OWNER_ID_PATTERN, ownerIdMessage)
      .meta({ pattern: OWNER_ID_PATTERN.source }),
  },
  { error: 'Must be an object { type, id } or null.' },
);

/**
 * `owner`: who inside the organization a key belongs to, `{ type: "user" | "service", id }`; `null`: the
 * organization itself.
 *
 * @example
 * keyOwnerSchema.parse({ type: 'user', id: 'u_1' });
 */
export const keyOwnerSchema = ownerObjectSchema.nullable().meta({
  description:
    'Who in the organization owns the key (a member or a service account); `null`: the organization.',
});

/**
 * Arguments of `revokeOwnerKeys`: an owner (not `null`) and what to do with its keys.
 *
 * @example
 * revokeOwnerInputSchema.parse({ owner: { type: 'user', id: 'u_1' }, action: 'disable' });
 */
export const revokeOwnerInputSchema = z.strictObject({
  owner: ownerObjectSchema,
  action: z.enum(['disable', 'delete'], { error: 'Must be "disable" or "delete".' }),
});

const ownerFilterMessage = 'Must be "user:<id>" or "service:<id>".';
const OWNER_FILTER_PATTERN = new RegExp(
  `^(user|service):[^\\x00-\\x1f\\x7f-\\x9f]{1,${MAX_OWNER_ID_LENGTH}}$`,
  'u',
);

/**
 * The owner filter of a list (`?owner=user:u_1`), parsed to `{ type, id }`.
 *
 * @example
 * ownerFilterSchema.parse('service:billing'); // { type: 'service', id: 'billing' }
 */
export const ownerFilterSchema = z
  .string({ error: ownerFilterMessage })
  .regex(OWNER_FILTER_PATTERN, ownerFilterMessage)
  .transform((value) => {
    const at = value.indexOf(':');
    return { type: value.slice(0, at) as 'user' | 'service', id: value.slice(at + 1) };
  })
  .meta({ pattern: OWNER_FILTER_PATTERN.source, description: 'Only keys of this owner, e.g. `user:u_1`.' });

/** A key's owner. */
