import { z } from 'zod';
import { createTokenHasher, type TokenHasher } from '../format/hash.js';
import { derivedKeyId } from '../format/ids.js';
import { redactToken } from '../format/key-format.js';
import { redactLegacyToken } from '../format/legacy.js';
import { sha256Hex } from '../format/pepper.js';
import { keyOwnerSchema, metaSchema } from '../schemas/owner-schemas.js';
import {
  expiresAtSchema,
  keyNameSchema,
  keyTypeSchema,
  planNameSchema,
  scopesSchema,
} from '../schemas/schemas.js';
import type { KeywardError } from '../shared/errors.js';
import type { ApiKey, KeyType, StoredKey } from '../shared/types.js';
import { newStoredKey } from './stored-key.js';

/** A token as `importKey` takes it: 1 to 256 visible ASCII characters (what an HTTP header carries). */
export const IMPORT_TOKEN_PATTERN = /^[\x21-\x7E]{1,256}$/;
/** A SHA-256 digest as `importKey` takes it: 64 hex digits (either case; stored lowercase). */
export const SHA256_PATTERN = /^[0-9a-fA-F]{64}$/;

/**
 * Input of `importKey`: a key issued before Keyward, with exactly one of `token` (the plaintext token,
 * hashed as usual) or `sha256` (the hex SHA-256 digest of the token, stored as such until its first use),
 * and the fields of `createKey`.
 *
 * @example
 * importKeyInputSchema.parse({ sha256: 'e3b0c442…', name: 'Legacy CI', type: 'secret' });
 */
export const importKeyInputSchema = z
  .strictObject(
    {
      token: z
        .string({ error: 'Must be a string.' })
        .regex(IMPORT_TOKEN_PATTERN, 'Must be 1 to 256 visible ASCII characters.')
        .optional()
        .meta({ description: 'The plaintext token; hashed with the current pepper.' }),
      sha256: z
        .string({ error: 'Must be a string.' })
        .regex(SHA256_PATTERN, 'Must be 64 hexadecimal characters (a SHA-256 digest).')
        .transform((digest) => digest.toLowerCase())
        .optional()
        .meta({ description: "The token's SHA-256 digest, hex; upgraded to the current hash on first use." }),
      name: keyNameSchema,
      type: keyTypeSchema,
      scopes: scopesSchema.optional(),
      expiresAt: expiresAtSchema.optional(),
      owner: keyOwnerSchema.optional(),
      meta: metaSchema.optional(),
      plan: planNameSchema.optional(),
      disabled: z.boolean({ error: 'Must be true or false.' }).optional().meta({
        description: 'Stores the key disabled, in the same write (docs/reference.md §8). @default false',
      }),
    },
    { error: 'Must be a JSON object.' },
  )
  .superRefine((input, ctx) => {
    if ((input.token === undefined) === (input.sha256 === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'Give exactly one of token and sha256.' });
    }
  });

/**
 * What `importKeys` did with one input: `imported`, `exists` (the same token was imported before — also as
 * a digest, also if that key was deleted since), or `refused` (a validation error, with its details).
 */
export type ImportResult =
  | { status: 'imported'; key: ApiKey }
  | { status: 'exists' }
  | { status: 'refused'; error: KeywardError };

/** Input of `importKey`. */
export type ImportKeyInput = z.input<typeof importKeyInputSchema>;
/** `importKey`'s input after parsing. */
export type ParsedImport = z.output<typeof importKeyInputSchema>;

/**
 * The slot of an imported key: derived from the token's SHA-256 under the current pepper, so the same token
 * imported twice (as plaintext or as digest) collides on the unique slot — re-running an import skips what
 * is there, also after a key imported by digest was upgraded, and never brings a deleted key back.
 */
function importSlot(digest: string, slotHash: TokenHasher): string {
  return `import:${slotHash(`keyward-import:${digest}`)}`;
}

/**
 * Builds the stored record of an imported key (`legacy: true`). `hash` is the current token hasher;
 * `scopes` and `expiresAt` are already checked against the app's catalog and clock.
 *
 * @example
 * const key = importedKey('org_1', parsed, { hash, pepper, scopes, now: new Date() });
 */
export function importedKey(
  organizationId: string,
  input: ParsedImport,
  context: { hash: TokenHasher; pepper: string | Uint8Array | undefined; scopes: string[]; now: Date },
): StoredKey {
  const { token, sha256 } = input;
  const digest = sha256 ?? sha256Hex(token as string);
  const slot = importSlot(digest, createTokenHasher(context.pepper));
  // Derived from the slot: every attempt of one import gives the key the same id (see `importKeys`).
  const id = derivedKeyId(slot);
  const type: KeyType = input.type;
  return newStoredKey({
    id,
    organizationId,
    name: input.name,
    type,
    scopes: context.scopes,
    hash: token === undefined ? digest : context.hash(token),
    token: type === 'public' && token !== undefined ? token : null,
    redactedKey: token === undefined ? redactLegacyToken(null) : redactToken(token),
    slot,
    createdAt: context.now,
    expiresAt: input.expiresAt ?? null,
    // Stored disabled in the import's one write: no moment where it verifies, no second event.
    disabled: input.disabled === true,
    legacy: true,
    ...(input.owner ? { owner: input.owner } : {}),
    ...(input.meta ? { meta: input.meta } : {}),
    ...(input.plan ? { plan: input.plan } : {}),
  });
}
