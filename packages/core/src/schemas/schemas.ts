import { z } from 'zod';
import { KEY_ID_PATTERN } from '../format/ids.js';
import { KEY_STATUSES } from '../format/status.js';
import { PLAN_NAME_PATTERN } from '../policies/plans.js';
import {
  allowedIpsSchema,
  allowedOriginsSchema,
  keyLimitSchema,
  limitsSchema,
} from '../policies/policy-schemas.js';
import { keyOwnerSchema, metaSchema, ownerFilterSchema, ownerTypeSchema } from './owner-schemas.js';
import { decodePageCursor, encodePageCursor, pageFields } from './page-query.js';

// The input rules of docs/reference.md §1 and the Key of §3, once. The service parses with them, the admin router
// lets the service parse, and the OpenAPI document and the dashboard's types are generated from them.
// Each rule is one regular expression where it can be, so the JSON Schema (`pattern`) that tools see is
// exactly the check the server runs: a request valid under the document is valid here, and the reverse.

/** The longest name, in Unicode code points after trimming. */
export const MAX_NAME_LENGTH = 100;
/** The longest grace period of a roll: 7 days. */
export const MAX_GRACE_PERIOD_SECONDS = 604_800;
/** The default grace period of a roll: 12 hours. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 43_200;

// A character a name may hold: no control characters, no bidi embedding/override/isolate controls
// (U+202A–U+202E, U+2066–U+2069), no lone surrogates (the `u` flag reads a valid pair as one code point).
const NAME_CHAR = String.raw`[^\p{Cc}\u202A-\u202E\u2066-\u2069\uD800-\uDFFF]`;
// A character that shows: not white space, a format or invisible character, or a lone combining mark.
const VISIBLE = String.raw`[^\s\p{Cc}\p{Cf}\p{Z}\p{M}\p{Default_Ignorable_Code_Point}]`;

/**
 * A key name as sent: after trimming (`String.prototype.trim`, the same white space as `\s`) 1 to 100 code
 * points of allowed characters, at least one of them visible. The stored name is trimmed and NFC-normalized.
 * An ECMAScript `u`-flag expression (`\p{…}`, lookbehind): the exact rule the server applies. Portable tools
 * read `NAME_PORTABLE_PATTERN` and the lengths instead.
 */
export const NAME_PATTERN = new RegExp(
  String.raw`^(?=[\s\S]*${VISIBLE})\s*(?=\S)${NAME_CHAR}{1,${MAX_NAME_LENGTH}}(?<=\S)\s*$`,
  'u',
);

/**
 * The most code points a name may have as sent, before trimming and NFC normalization: four per stored
 * character (the longest canonical decomposition of a character that NFC composes back into one, e.g.
 * U+1F82, is four code points), so a name typed in decomposed form (as macOS often sends it) still fits,
 * while the document can state a bound that tools without the full rule still apply.
 */
export const MAX_NAME_INPUT_LENGTH = 4 * MAX_NAME_LENGTH;

// The characters no name holds, as a class body every regex engine reads: `\xHH` escapes (ECMAScript
// without flags, Python `re`, RE2/Go) and, for the bidirectional controls, the characters themselves
// (RE2 has no `\uHHHH`; ECMAScript without the `u` flag has no `\x{…}`).
const BIDI_CONTROLS = `${String.fromCharCode(0x202a)}-${String.fromCharCode(0x202e)}${String.fromCharCode(0x2066)}-${String.fromCharCode(0x2069)}`;
// Tab to carriage return are white space that trimming removes (in the middle they are refused, a rule
// left to the description), so they are not in this class.
const NEVER_IN_NAME = String.raw`\x00-\x08\x0E-\x1F\x7F-\x9F` + BIDI_CONTROLS;

/**
 * The name rule as a pattern that compiles the same in ECMAScript without flags, Python `re` and RE2 (no
 * `\p{…}`, no lookaround): no C0/C1 control characters but tab to carriage return (trimmed white space), no
 * bidirectional controls, at least one character other than those and a space. Every name `NAME_PATTERN` accepts (after NFC) matches it; the rest of the rule (a
 * visible character in the Unicode sense, no lone surrogates, 100 code points after trimming and NFC) is in
 * the document's description, and the server answers 400 for it.
 */
export const NAME_PORTABLE_PATTERN = new RegExp(
  `^[^${NEVER_IN_NAME}]*[^${NEVER_IN_NAME}\\x09-\\x0D\\x20][^${NEVER_IN_NAME}]*$`,
);

/**
 * RFC 3339 `date-time` with an explicit offset (`Z` or `±hh:mm`), at most 9 fractional digits, and a year
 * of at most 9998 so that the instant, in UTC, is still a four-digit year (an ISO string every client reads).
 * ASCII digits spelled `[0-9]` (Python's `\d` also matches other scripts' digits), no flags: portable as is.
 */
export const DATE_TIME_PATTERN =
  /^(?:[0-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$/;

const nameMessage = (value: string): string => {
  const trimmed = value.trim();
  if (trimmed.length === 0) return 'Must not be empty.';
  if ([...trimmed].length > MAX_NAME_LENGTH) return `Must be at most ${MAX_NAME_LENGTH} characters.`;
  if (!new RegExp(`^${NAME_CHAR}*$`, 'u').test(trimmed)) {
    return 'Must not contain control characters, bidirectional controls or lone surrogates.';
  }
  return 'Must contain a visible character.';
};

const required = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'Required.' : message;

/** A key name (docs/reference.md §1); parses to the trimmed, NFC-normalized name. */
export const keyNameSchema = z
  .string({ error: required('Must be a string.') })
  .superRefine((value, ctx) => {
    // A bound on the text as sent, which the document states as `maxLength` (see MAX_NAME_INPUT_LENGTH).
    if (codePoints(value) > MAX_NAME_INPUT_LENGTH) {
      ctx.addIssue({ code: 'custom', message: `Must be at most ${MAX_NAME_LENGTH} characters.` });
      return;
    }
    // Counted as stored: after NFC normalization (`e` + U+0301 is one character, U+0958 two).
    const nfc = value.normalize('NFC');
    if (!NAME_PATTERN.test(nfc)) ctx.addIssue({ code: 'custom', message: nameMessage(nfc) });
  })
  .transform((value) => value.trim().normalize('NFC'))
  .meta({
    // The portable form (ECMAScript without flags, Python, RE2); the exact rule is NAME_PATTERN, described.
    pattern: NAME_PORTABLE_PATTERN.source,
    minLength: 1,
    maxLength: MAX_NAME_INPUT_LENGTH,
    description:
      '1 to 100 characters (Unicode code points) after trimming white space and NFC normalization; no ' +
      'control characters, bidirectional controls (U+202A–U+202E, U+2066–U+2069) or lone surrogates; at ' +
      'least one visible character (not white space, a format character or a lone combining mark). At most ' +
      `${MAX_NAME_INPUT_LENGTH} code points as sent. Stored trimmed and NFC-normalized. \`pattern\` is the ` +
      'part of the rule every regex engine reads; the server answers 400 `validation_error` for the rest. ' +
      `The exact rule, as an ECMAScript \`u\`-flag expression, is \`x-pattern-ecmascript\`.`,
    'x-pattern-ecmascript': NAME_PATTERN.source,
    examples: ['Production server'],
  });

/** `public` or `secret`. */
export const keyTypeSchema = z.enum(['public', 'secret'], {
  error: required('Must be "public" or "secret".'),
});

/** Scope names; checked against the app's catalog and public ceiling by the service. */
export const scopesSchema = z
  .array(z.string({ error: 'Must be a string.' }), { error: 'Must be an array of strings.' })
  .meta({ description: "Scopes from the app's catalog; public keys only those under the public ceiling." });

const dateTimeMessage =
  'Must be an RFC 3339 date-time with a time zone, e.g. 2031-01-01T00:00:00Z (year at most 9998).';

/** An RFC 3339 date-time that names a real calendar day, as a `Date`. */
export const dateTimeSchema = z
  .string({ error: dateTimeMessage })
  .superRefine((value, ctx) => {
    if (!DATE_TIME_PATTERN.test(value) || !realDay(value))
      ctx.addIssue({ code: 'custom', message: dateTimeMessage });
  })
  .transform((value) => new Date(value))
  .meta({ format: 'date-time', pattern: DATE_TIME_PATTERN.source, examples: ['2031-01-01T00:00:00Z'] });

/**
 * `expiresAt` on input: an RFC 3339 string (or, from JavaScript, a `Date`), or `null` for "never". Whether
 * it lies in the future depends on the clock and is checked by the service.
 */
export const expiresAtSchema = z
  .preprocess((value) => (value instanceof Date ? isoOrInvalid(value) : value), dateTimeSchema)
  .nullable()
  .meta({ description: 'When the key stops working (must be in the future); `null`: never.' });

/** `gracePeriodSeconds` of a roll: an integer from 0 to 604800 (7 days). */
export const gracePeriodSecondsSchema = z
  .int({ error: `Must be an integer from 0 to ${MAX_GRACE_PERIOD_SECONDS}.` })
  .min(0, `Must be an integer from 0 to ${MAX_GRACE_PERIOD_SECONDS}.`)
  .max(MAX_GRACE_PERIOD_SECONDS, `Must be an integer from 0 to ${MAX_GRACE_PERIOD_SECONDS}.`)
  .meta({
    description: 'How long the old key keeps working, in seconds (0: revoked now). Default 43200 (12 hours).',
  });

const object = { error: 'Must be a JSON object.' };

/** A plan name (one of the app's `plans`, checked by the service) or `null` for the organization's plan. */
export const planNameSchema = z
  .string({ error: 'Must be a plan name or null.' })
  .regex(PLAN_NAME_PATTERN, 'Must be a plan name or null.')
  .nullable()
  .meta({
    description:
      "One of the app's plans (set by the operator only); the key's own limits tighten the plan's. `null`: the organization's plan.",
  });

/** The optional fields that creating and updating a key take alike, in the order both list them. */
const optionalKeyFields = {
  limits: limitsSchema.optional(),
  allowedOrigins: allowedOriginsSchema.optional(),
  allowedIps: allowedIpsSchema.optional(),
  meta: metaSchema.optional(),
  owner: keyOwnerSchema.optional(),
  plan: planNameSchema.optional(),
};

/**
 * Input of `createKey` (and the body of `POST /`).
 *
 * @example
 * createKeyInputSchema.parse({ name: 'CI', type: 'secret', scopes: ['snippets:write'] });
 */
export const createKeyInputSchema = z.strictObject(
  {
    name: keyNameSchema,
    type: keyTypeSchema,
    scopes: scopesSchema.optional(),
    expiresAt: expiresAtSchema.optional(),
    ...optionalKeyFields,
  },
  object,
);

/**
 * Input of `updateKey` (and the body of `PATCH /:id`): any subset of the fields; `expiresAt: null` removes
 * the expiry; `limits`, `allowedOrigins` and `allowedIps` replace the whole list (`[]` removes it).
 *
 * @example
 * updateKeyInputSchema.parse({ disabled: true });
 */
export const updateKeyInputSchema = z.strictObject(
  {
    name: keyNameSchema.optional(),
    scopes: scopesSchema.optional(),
    expiresAt: expiresAtSchema.optional(),
    disabled: z.boolean({ error: 'Must be a boolean.' }).optional(),
    ...optionalKeyFields,
  },
  object,
);

/**
 * Options of `rollKey` (and the body of `POST /:id/roll`).
 *
 * @example
 * rollKeyInputSchema.parse({ gracePeriodSeconds: 3600 });
 */
export const rollKeyInputSchema = z.strictObject(
  { gracePeriodSeconds: gracePeriodSecondsSchema.optional() },
  object,
);

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './page-query.js';

/**
 * Where a page of `listKeys` ends: the last key's creation time (ms) and id. On the wire it is opaque:
 * base64url of `{"t": ms, "id": "key_…"}`.
 */
export interface KeyListCursor {
  createdAt: Date;
  id: string;
}

/**
 * The `nextCursor` of a page that ends with `key`.
 *
 * @example
 * encodeKeyListCursor({ createdAt: new Date(0), id: 'key_0123456789ABCDEFGHIJ' }); // "eyJ0IjowLCJpZCI6..."
 */
export function encodeKeyListCursor(key: KeyListCursor): string {
  return encodePageCursor({ at: key.createdAt, id: key.id });
}

/** The cursor in `value`, or `null` when it is not one `encodeKeyListCursor` could have made. */
export function decodeKeyListCursor(value: string): KeyListCursor | null {
  const position = decodePageCursor(value, (id) => KEY_ID_PATTERN.test(id));
  return position && { createdAt: position.at, id: position.id };
}

/**
 * The query of `listKeys` (and of `GET /`): `limit` 1–100 (default 50; a decimal string from a URL too),
 * `cursor` from an earlier page's `nextCursor`, and filters `q` (a substring of the name, ignoring case, or
 * the token's last 4 characters), `type` and `status`. An empty `q` filters nothing.
 *
 * @example
 * listKeysQuerySchema.parse({ limit: '20', status: 'active' }); // { limit: 20, status: 'active' }
 */
export const listKeysQuerySchema = z.strictObject(
  {
    ...pageFields('Keys', decodeKeyListCursor),
    q: z
      .string({ error: 'Must be a string.' })
      .max(MAX_NAME_LENGTH * 2, `Must be at most ${MAX_NAME_LENGTH * 2} characters.`)
      .optional()
      .meta({
        description:
          'Only keys whose name contains this (ignoring case), or whose token ends with it (4 characters).',
      }),
    type: keyTypeSchema.optional(),
    status: z
      .enum(KEY_STATUSES, {
        error: 'Must be "active", "rolled", "disabled" or "expired".',
      })
      .optional()
      .meta({
        description:
          'Only keys with this status. Without it, rolled keys whose grace period has ended are left out.',
      }),
    owner: ownerFilterSchema.optional(),
  },
  { error: 'Must be an object.' },
);

/** Input of `listKeys`. */
export type ListKeysQuery = z.input<typeof listKeysQuerySchema>;

/** Input of `createKey`. */
export type CreateKeyInput = z.input<typeof createKeyInputSchema>;
/** Input of `updateKey`: any subset of these fields. */
export type UpdateKeyInput = z.input<typeof updateKeyInputSchema>;
/** Options of `rollKey`. */
export type RollKeyInput = z.input<typeof rollKeyInputSchema>;

const isoDateTime = z.string().meta({ format: 'date-time' });

/**
 * A key on the wire (docs/reference.md §3 `Key`): what the admin API answers and the dashboard shows. Times are
 * ISO-8601 strings (UTC) or `null`; `token` only on public keys.
 */
export const keySchema = z
  .strictObject({
    id: z.string().meta({ pattern: KEY_ID_PATTERN.source }),
    organizationId: z.string(),
    name: z.string(),
    type: keyTypeSchema,
    scopes: z.array(z.string()),
    redactedKey: z.string().meta({ description: 'Display form, e.g. `kw_sk_…AbCd`.' }),
    token: z
      .string()
      .optional()
      .meta({ description: 'The full token, on public keys only (they are publishable).' }),
    isDefault: z.boolean(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
    expiresAt: isoDateTime.nullable(),
    lastUsedAt: isoDateTime.nullable().meta({ description: 'Accurate to about a minute.' }),
    disabled: z.boolean(),
    rolledAt: isoDateTime.nullable(),
    replacedBy: z.string().nullable(),
    status: z.enum(KEY_STATUSES),
    limits: z.array(keyLimitSchema).meta({ description: 'Rate limits and quotas; empty: none.' }),
    allowedOrigins: z
      .array(z.string())
      .meta({ description: 'Origins a public key may be used from; empty: any.' }),
    allowedIps: z.array(z.string()).meta({ description: 'Addresses and CIDR ranges; empty: any.' }),
    legacy: z.boolean().meta({
      description:
        'An imported key (its token keeps its own format); rolling it issues a Keyward-format key.',
    }),
    meta: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({ description: 'App data returned with the key on verify; `null`: none.' }),
    owner: z
      .strictObject({ type: ownerTypeSchema, id: z.string() })
      .nullable()
      .meta({ description: 'Who in the organization owns the key; `null`: the organization.' }),
    createdBy: z
      .strictObject({ type: z.enum(['user', 'api_key', 'system']), id: z.string() })
      .nullable()
      .meta({ description: "The actor of the key's creation event; `null`: unknown (older keys)." }),
    plan: z
      .string()
      .nullable()
      .meta({ description: "The key's plan; `null`: its organization's plan, if any." }),
  })
  .meta({ id: 'Key' });

/** A key on the wire (docs/reference.md §3 `Key`). */
export type KeyJSON = z.output<typeof keySchema>;

function isoOrInvalid(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

/** The length in Unicode code points (a lone surrogate counts as one), as JSON Schema's `maxLength`. */
function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/** Whether the date part names a day that exists (no 31 April, 29 February only in leap years). */
function realDay(value: string): boolean {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= days;
}
