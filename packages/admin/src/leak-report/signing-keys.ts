import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { log } from '../logger.js';

/** Where GitHub publishes the keys that sign its secret-scanning reports. */
export const GITHUB_SECRET_SCANNING_KEYS_URL = 'https://api.github.com/meta/public_keys/secret_scanning';

/** The most keys one document may hold, and the most bytes it may have (the URL is trusted, not unbounded). */
const MAX_KEYS = 100;
const MAX_DOCUMENT_BYTES = 256 * 1024;

/** What the key cache needs to know. */
export interface SigningKeysOptions {
  url: string;
  fetch: typeof globalThis.fetch;
  /** How long a fetched document is trusted before it is fetched again. */
  ttlMs: number;
  /** The least time between two fetches made because a report named a key id the cache does not hold. */
  refetchIntervalMs: number;
  clock: () => number;
}

/** Why a signature was not accepted; `unavailable` when no keys could be fetched at all. */
export type SignatureCheck = 'valid' | 'invalid' | 'unknown_key' | 'unavailable';

/**
 * The published signing keys (`{ public_keys: [{ key_identifier, key, is_current }] }`, PEM ECDSA P-256),
 * fetched on first use, kept for `ttlMs`, fetched once more when a report names a key id not held (GitHub
 * rotates keys) — but at most once per `refetchIntervalMs`, so reports with made-up key ids cannot make
 * every request fetch. One fetch at a time; while a fetch fails, the keys last fetched stay in use.
 *
 * @example
 * const keys = new SigningKeys({ url, fetch, ttlMs: 3_600_000, refetchIntervalMs: 60_000, clock: Date.now });
 * await keys.check(keyId, signatureBase64, rawBody); // 'valid' | 'invalid' | 'unknown_key' | 'unavailable'
 */
export class SigningKeys {
  readonly #options: SigningKeysOptions;
  #keys: Map<string, KeyObject> | null = null;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | null = null;

  constructor(options: SigningKeysOptions) {
    this.#options = options;
  }

  /** Checks an ECDSA P-256 / SHA-256 signature (base64 of ASN.1 DER) of `body` by the key `keyId`. */
  async check(keyId: string, signature: string, body: Buffer): Promise<SignatureCheck> {
    const now = this.#options.clock();
    if (this.#keys === null || now - this.#fetchedAt >= this.#options.ttlMs) {
      // Expired: fetch (at most once per interval while fetches fail), else keep the old keys.
      if (this.#keys === null || now - this.#attemptedAt >= this.#options.refetchIntervalMs) {
        await this.#refresh();
      }
    }
    let key = this.#keys?.get(keyId);
    if (key === undefined && this.#keys !== null) {
      if (this.#options.clock() - this.#attemptedAt >= this.#options.refetchIntervalMs) {
        log('leak report signed by unknown key id; fetching the signing keys again');
        await this.#refresh();
        key = this.#keys?.get(keyId);
      }
    }
    if (this.#keys === null) return 'unavailable';
    if (key === undefined) return 'unknown_key';
    return verifies(key, signature, body) ? 'valid' : 'invalid';
  }

  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    this.#attemptedAt = this.#options.clock();
    try {
      const response = await this.#options.fetch(this.#options.url, {
        headers: { accept: 'application/json', 'user-agent': 'keyward-leak-report' },
        redirect: 'error',
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_DOCUMENT_BYTES) throw new Error('document too large');
      this.#keys = parseKeys(JSON.parse(text));
      this.#fetchedAt = this.#options.clock();
      log('fetched %d leak report signing key(s)', this.#keys.size);
    } catch (error) {
      // The keys fetched before stay in use; without any, reports are answered 503 (GitHub retries).
      log('fetching the leak report signing keys failed (%s)', (error as Error)?.message ?? 'error');
    }
  }
}

/** The document's usable keys by id: PEM EC keys on P-256 only; anything else in it is skipped. */
function parseKeys(document: unknown): Map<string, KeyObject> {
  const list = (document as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list)) throw new Error('no public_keys array');
  const keys = new Map<string, KeyObject>();
  for (const entry of list.slice(0, MAX_KEYS)) {
    const { key_identifier: id, key: pem } = (entry ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || typeof pem !== 'string') continue;
    try {
      const key = createPublicKey(pem);
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
        keys.set(id, key);
      }
    } catch {
      // Not a PEM public key: skipped.
    }
  }
  return keys;
}

function verifies(key: KeyObject, signature: string, body: Buffer): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
