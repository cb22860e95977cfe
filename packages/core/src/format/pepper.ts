import { createHash } from 'node:crypto';
import { createTokenHasher, type TokenHasher } from './hash.js';

/** One pepper: a secret string or bytes. */
export type Pepper = string | Uint8Array;

/**
 * The `pepper` option: one pepper, `false` (plain SHA-256), or `[current, ...previous]` to rotate it (keys
 * hashed with a previous pepper keep verifying and are re-hashed with the current one on use).
 */
export type PepperOption = Pepper | false | readonly [Pepper, ...Pepper[]];

/** The peppers after validation: the current one (`undefined`: plain SHA-256) and the previous ones. */
export interface ResolvedPeppers {
  current: Pepper | undefined;
  previous: Pepper[];
}

/**
 * Validates the `pepper` option once (TypeError when wrong; never names the value) and splits it into the
 * current pepper and the previous ones. `false` emits the `KEYWARD_NO_PEPPER` warning.
 *
 * @example
 * resolvePeppers([process.env.KEYWARD_PEPPER, process.env.KEYWARD_PEPPER_PREVIOUS]);
 */
export function resolvePeppers(pepper: unknown): ResolvedPeppers {
  if (Array.isArray(pepper)) {
    if (pepper.length === 0) throw new TypeError('Keyward: pepper must not be an empty array');
    const peppers = pepper.map((one, index) => checkPepper(one, `pepper[${index}]`));
    const seen = new Set(peppers.map((p) => Buffer.from(p).toString('base64')));
    if (seen.size !== peppers.length) throw new TypeError('Keyward: pepper lists the same pepper twice');
    const [current, ...previous] = peppers;
    return { current, previous };
  }
  if (pepper === false) {
    process.emitWarning(
      'Keyward: pepper: false — keys are hashed with plain SHA-256; set a pepper (KEYWARD_PEPPER) in production.',
      { code: 'KEYWARD_NO_PEPPER' },
    );
    return { current: undefined, previous: [] };
  }
  if (pepper === undefined || pepper === null || pepper === '') {
    throw new TypeError(
      'Keyward: options.pepper is required (a secret of 32 random bytes, e.g. from KEYWARD_PEPPER); ' +
        'pass pepper: false to hash with plain SHA-256',
    );
  }
  return { current: checkPepper(pepper, 'pepper'), previous: [] };
}

function checkPepper(pepper: unknown, name: string): Pepper {
  if (!(typeof pepper === 'string' || pepper instanceof Uint8Array)) {
    throw new TypeError(`Keyward: ${name} must be a string or bytes`);
  }
  if (pepper.length < 16) {
    throw new TypeError(`Keyward: ${name} must be at least 16 characters (32 random bytes recommended)`);
  }
  return pepper;
}

/** Plain SHA-256 of a token, hex: how a SHA-256 import is stored until its first use. */
export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The hashes a token may be stored under: `current` (the only one for keys that are up to date), each
 * previous pepper's (`previous`, newest first), and `digest`, plain SHA-256 — how an import by digest is
 * stored until its first use (`null` when the current hash is plain SHA-256 already).
 *
 * @example
 * const { current, previous } = createHashers(resolvePeppers([newPepper, oldPepper]));
 * current(token); previous.map((hash) => hash(token));
 */
export function createHashers(peppers: ResolvedPeppers): {
  current: TokenHasher;
  previous: TokenHasher[];
  digest: TokenHasher | null;
} {
  return {
    current: createTokenHasher(peppers.current),
    previous: peppers.previous.map((pepper) => createTokenHasher(pepper)),
    digest: peppers.current === undefined ? null : sha256Hex,
  };
}
