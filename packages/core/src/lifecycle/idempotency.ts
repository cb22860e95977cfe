import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Pepper } from '../format/pepper.js';
import { KeywardError } from '../shared/errors.js';
import type { IdempotencyRecord, KeyStore } from '../store/store.js';
import { storeCall } from '../store/store-call.js';

/** How long an answer is kept for replays of its `Idempotency-Key`: 24 h. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** How long a claim in progress blocks others before it may be taken over (its holder presumed dead). */
export const IDEMPOTENCY_LOCK_MS = 60_000;
/** Longest `Idempotency-Key`, in characters (printable ASCII). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** Polls of a claim in progress before a duplicate gives up with 409 `conflict` (about 10 s in all). */
const WAIT_POLLS = 60;

/** What `createIdempotency` needs of the service. */
export interface IdempotencyDeps {
  store: KeyStore;
  clock: () => number;
  /** The current pepper, then the earlier ones: answers are encrypted under a key derived from the first. */
  peppers: ReadonlyArray<Pepper>;
  /** Sleeps between polls of a claim in progress (real time; injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * `Idempotency-Key` for the service: `run` is done once per organization and key within 24 h, on any
 * number of instances sharing the store; repeats answer its stored answer.
 *
 * - The claim (a record with a unique id = SHA-256(organization, key)) is inserted **before** the work:
 *   the atomic insert elects one request. A duplicate that arrives while the work is in progress waits
 *   (polls) for the answer; after about 10 s it gets 409 `conflict` ("still in progress").
 * - The same key with another request (`fingerprint` of the route and body) is 422 `idempotency_key_reused`.
 * - The answer holds the new token: it is stored encrypted with AES-256-GCM under a key derived (HKDF) from
 *   the pepper, never in plaintext. Without a pepper there is no secret to encrypt with: 400.
 * - A failed `run` releases the claim (the request may be retried). If this instance dies in between, the
 *   claim may be taken over after `IDEMPOTENCY_LOCK_MS`.
 */
export function createIdempotency({ store, clock, peppers, sleep = defaultSleep }: IdempotencyDeps) {
  const keys = peppers.map(deriveKey);

  return async function idempotent<T>(
    organizationId: string,
    idempotencyKey: string,
    request: unknown,
    run: () => Promise<T>,
  ): Promise<T> {
    checkKey(idempotencyKey);
    const { claimIdempotency, completeIdempotency, releaseIdempotency } = store;
    if (!claimIdempotency || !completeIdempotency || !releaseIdempotency) {
      throw refused('This server does not keep Idempotency-Key records (its key store has no support).');
    }
    const current = keys[0];
    if (!current) throw refused('Idempotency-Key needs a pepper on this server (answers are encrypted).');
    const id = sha256(`${organizationId}\0${idempotencyKey}`);
    const fingerprint = sha256(canonicalJson(request));
    for (let poll = 0; ; poll++) {
      const now = clock();
      const record: IdempotencyRecord = {
        id,
        fingerprint,
        claim: randomBytes(16).toString('hex'),
        response: null,
        lockedUntil: new Date(now + IDEMPOTENCY_LOCK_MS),
        expiresAt: new Date(now + IDEMPOTENCY_TTL_MS),
      };
      const existing = await storeCall('claimIdempotency', () =>
        claimIdempotency.call(store, record, new Date(now)),
      );
      if (existing === null) return runClaimed(record, run);
      if (existing.fingerprint !== fingerprint) throw new KeywardError('idempotency_key_reused');
      if (existing.response !== null) return decrypt(existing.response, id) as T;
      if (poll >= WAIT_POLLS) {
        throw new KeywardError('conflict', {
          message: 'A request with this Idempotency-Key is still in progress. Retry it later.',
        });
      }
      await sleep(Math.min(20 * 2 ** poll, 250));
    }

    async function runClaimed(record: IdempotencyRecord, work: () => Promise<T>): Promise<T> {
      let answer: T;
      try {
        answer = await work();
      } catch (error) {
        await storeCall('releaseIdempotency', () =>
          (releaseIdempotency as NonNullable<typeof releaseIdempotency>).call(store, record.id, record.claim),
        ).catch(() => undefined);
        throw error;
      }
      // The work is done: a store fault now must not hide its answer (a new token) from this caller.
      await storeCall('completeIdempotency', () =>
        (completeIdempotency as NonNullable<typeof completeIdempotency>).call(
          store,
          record.id,
          record.claim,
          encrypt(answer, record.id, current as Buffer),
        ),
      ).catch(() => undefined);
      return answer;
    }
  };

  function decrypt(sealed: string, id: string): unknown {
    for (const key of keys) {
      const opened = open(sealed, id, key);
      if (opened !== undefined) return JSON.parse(opened);
    }
    // Sealed under a pepper this server no longer has.
    throw new KeywardError('conflict', {
      message: 'The answer to this Idempotency-Key can no longer be read. Use a new Idempotency-Key.',
    });
  }
}

/** `createIdempotency`'s function. */
export type Idempotent = ReturnType<typeof createIdempotency>;

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new KeywardError('validation_error', {
      details: [
        {
          path: 'Idempotency-Key',
          message: `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces`,
        },
      ],
    });
  }
}

function refused(message: string): KeywardError {
  return new KeywardError('validation_error', { message, details: [{ path: 'Idempotency-Key', message }] });
}

function deriveKey(pepper: Pepper): Buffer {
  return Buffer.from(hkdfSync('sha256', pepper, 'keyward', 'keyward idempotency answers v1', 32));
}

/** `v1.<iv>.<tag>.<ciphertext>` (base64url), bound to the record id (additional data). */
function encrypt(answer: unknown, id: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(id));
  const body = Buffer.concat([cipher.update(JSON.stringify(answer), 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

function open(sealed: string, id: string, key: Buffer): string | undefined {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so that `{a, b}` and `{b, a}` are the same request. */
function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          )
        : v,
    ) ?? 'null'
  );
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
