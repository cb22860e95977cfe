/** `public` keys may be published; `secret` keys stay on servers. */
export type KeyType = 'public' | 'secret';

/** A key's status, in the contract's order of precedence (deleted keys are never shown). */
export type KeyStatus = 'active' | 'rolled' | 'disabled' | 'expired';

/** A key as the store keeps it. Never leaves the service: `hash` and secret tokens stay inside. */
export interface StoredKey {
  id: string;
  organizationId: string;
  name: string;
  type: KeyType;
  scopes: string[];
  /** `HMAC-SHA-256(pepper, token)` in hex; unique. */
  hash: string;
  /** The full token, for public keys only; `null` for secret keys. */
  token: string | null;
  /** Display form, e.g. `kw_sk_…AbCd`. */
  redactedKey: string;
  isDefault: boolean;
  /** Unique per store: the key id, or `default:<organizationId>` for the organization's default key. */
  slot: string;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  disabled: boolean;
  rolledAt: Date | null;
  replacedBy: string | null;
  deletedAt: Date | null;
  /** Counts the writes to this key (0 when inserted); conditional writes name the version they read. */
  version: number;
  /** `true` for a key brought in by `importKey` (its token keeps its own format). @default false */
  legacy?: boolean;
}

/** A key as the service returns it (contract §3 `Key`), with `Date`s. */
export interface ApiKey {
  id: string;
  organizationId: string;
  name: string;
  type: KeyType;
  scopes: string[];
  redactedKey: string;
  /** Present for public keys only. */
  token?: string;
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  disabled: boolean;
  rolledAt: Date | null;
  replacedBy: string | null;
  status: KeyStatus;
  /** `true` for a key brought in by `importKey`; rolling it issues a Keyward-format key. */
  legacy: boolean;
}

/** What a request authenticated with a key knows about it (`req.apiKey`). Never the token or hash. */
export interface VerifiedKey {
  id: string;
  organizationId: string;
  name: string;
  type: KeyType;
  scopes: string[];
}

/** Why a key was refused; one code per row of contract §2. */
export type VerifyFailureCode =
  | 'missing_api_key'
  | 'invalid_api_key'
  | 'expired_api_key'
  | 'disabled_api_key'
  | 'secret_key_required'
  | 'insufficient_scope'
  | 'key_store_unavailable';

/** The outcome of `verify()`: expected outcomes are data, never exceptions. */
export type VerifyResult =
  | {
      valid: true;
      key: VerifiedKey;
      /** End of the grace period when the key was rolled and still works; else `null`. */
      sunsetAt: Date | null;
    }
  | { valid: false; code: VerifyFailureCode; required?: string[] };

/** What a route asks of the key in `verify(token, requirements)`. */
export interface VerifyRequirements {
  /** `'secret'` refuses public keys with `secret_key_required`. */
  type?: KeyType;
  /** Every listed scope must be held, else `insufficient_scope`. */
  scopes?: readonly string[];
}

/** Returns the current time in milliseconds since the epoch. */
export type Clock = () => number;
