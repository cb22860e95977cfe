import type { CreditPolicy, StoredCredits } from './credit-types.js';

/** `public` keys may be published; `secret` keys stay on servers. */
export type KeyType = 'public' | 'secret';

/** A key's status, in the documented order of precedence (deleted keys are never shown). */
export type KeyStatus = 'active' | 'rolled' | 'disabled' | 'expired';

/** One rate limit or quota of a key: at most `limit` admitted requests per `windowSeconds`. */
export interface KeyLimit {
  limit: number;
  windowSeconds: number;
  /**
   * Whose count it is (docs/reference.md §10): the key's (default), its owner's (all keys of the owner share it)
   * or its organization's. Absent: `'key'`.
   */
  per?: 'key' | 'owner' | 'organization';
}

/** A limit as a compiled policy holds it: with the name of the counter it counts on. */
export interface PolicyLimit extends KeyLimit {
  /**
   * The counter's name: `limit:<lineageId>:slot<rank>` per key (its rank among the key's own per-key
   * limits, longest window first, so a changed window carries on the count; `limit:<lineageId>:<window>`
   * where a plan has a per-key limit of that window), `limit:owner:<org>:<type>:<id>:<window>` per owner, `limit:org:<org>:<window>` per organization (organization and owner ids URI-encoded).
   * Never a token or a hash.
   */
  readonly counter: string;
}

/** The fields a stored key and a returned key share, with the same meaning and type. */
export interface KeyRecordFields {
  id: string;
  organizationId: string;
  name: string;
  type: KeyType;
  scopes: string[];
  /** Display form, e.g. `kw_sk_…AbCd`. */
  redactedKey: string;
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  disabled: boolean;
  rolledAt: Date | null;
  replacedBy: string | null;
  /** Rate limits and quotas (docs/reference.md §6); `[]`: none. */
  limits: KeyLimit[];
  /** Origins a public key may be used from; `[]`: any. */
  allowedOrigins: string[];
  /** Client addresses and CIDR ranges the key may be used from; `[]`: any. */
  allowedIps: string[];
}

/** A key as the store keeps it. Never leaves the service: `hash` and secret tokens stay inside. */
export interface StoredKey extends KeyRecordFields {
  /** `HMAC-SHA-256(pepper, token)` in hex; unique. */
  hash: string;
  /** The full token, for public keys only; `null` for secret keys. */
  token: string | null;
  /** Unique per store: the key id, or `default:<organizationId>` for the organization's default key. */
  slot: string;
  deletedAt: Date | null;
  /** Counts the writes to this key (0 when inserted); conditional writes name the version they read. */
  version: number;
  /**
   * The id of the first key of its roll chain (its own id for a key never rolled into), copied on roll:
   * the key's rate-limit counters are named by it, so a rolled key and its successor share them. Neither
   * token nor hash.
   */
  lineageId: string;
  /** `true` for a key brought in by `importKey` (its token keeps its own format). @default false */
  legacy?: boolean;
  /** App data returned by verify (docs/reference.md §10); absent or `null`: none. Copied on roll. */
  meta?: Record<string, unknown> | null;
  /** Who in the organization owns the key (docs/reference.md §10); absent or `null`: the organization. */
  owner?: KeyOwner | null;
  /** The actor of the key's `key.created` (or `key.imported`) event; absent on keys made before it was kept. */
  createdBy?: KeyCreator | null;
  /** The app plan the key is on (docs/reference.md §10); absent or `null`: its organization's plan, if any. */
  plan?: string | null;
  /** The key's own credits (docs/reference.md §10); absent or `null`: its plan's, if any. Copied on roll. */
  credits?: StoredCredits | null;
}

/** Who owns a key inside its organization (docs/reference.md §10). */
export interface KeyOwner {
  type: 'user' | 'service';
  id: string;
}

/** Who created a key: the actor of its creation event. */
export interface KeyCreator {
  type: 'user' | 'api_key' | 'system';
  id: string;
}

/** A key as the service returns it (docs/reference.md §3 `Key`), with `Date`s. */
export interface ApiKey extends KeyRecordFields {
  /** Present for public keys only. */
  token?: string;
  status: KeyStatus;
  /** `true` for a key brought in by `importKey`; rolling it issues a Keyward-format key. */
  legacy: boolean;
  /** App data (docs/reference.md §10); `null`: none. */
  meta: Record<string, unknown> | null;
  /** Who in the organization owns the key; `null`: the organization. */
  owner: KeyOwner | null;
  /** The actor of the key's creation event; `null` when unknown (keys made before it was kept). */
  createdBy: KeyCreator | null;
  /** The key's plan; `null`: its organization's plan, if any. */
  plan: string | null;
}

/** What a request authenticated with a key knows about it (`req.apiKey`). Never the token or hash. */
export interface VerifiedKey {
  id: string;
  organizationId: string;
  name: string;
  type: KeyType;
  scopes: string[];
  /**
   * The key's app data (docs/reference.md §10), frozen; `null` when it has none. Always set by verify; optional in
   * the type so that middleware setting `req.apiKey` itself keeps compiling.
   */
  meta?: Readonly<Record<string, unknown>> | null;
}

/**
 * A key's policies as verify hands them to the middleware (docs/reference.md §6), compiled once per cached key and
 * frozen: requests share it. `null` on a verify result when the key has none of them.
 */
export interface KeyPolicy {
  /** Names the key's rate-limit counters; shared by a rolled key and its successor. */
  readonly lineageId: string;
  readonly limits: readonly Readonly<PolicyLimit>[];
  readonly allowedOrigins: readonly string[];
  readonly allowedIps: readonly string[];
  /** Whether the origin (e.g. `https://app.example.com`) matches `allowedOrigins`; true when it is empty. */
  allowsOrigin(origin: string): boolean;
  /** Whether the address (IPv4 or IPv6, as `req.ip`) is in `allowedIps`; true when it is empty. */
  allowsIp(address: string): boolean;
  /** The key's credits (its own, else its plan's, docs/reference.md §10); absent or `null`: none. */
  readonly credits?: CreditPolicy | null;
}

/**
 * Why a key was refused; one code per row of docs/reference.md §2. `verify` itself answers the first seven; the
 * policy codes (§6) are answered by the middleware, which sees the client's address, origin and counters.
 */
export type VerifyFailureCode =
  | 'missing_api_key'
  | 'invalid_api_key'
  | 'expired_api_key'
  | 'disabled_api_key'
  | 'secret_key_required'
  | 'insufficient_scope'
  | 'key_store_unavailable'
  | 'ip_not_allowed'
  | 'origin_not_allowed'
  | 'rate_limited'
  | 'credits_exhausted'
  | 'too_many_invalid_keys';

/** The outcome of `verify()`: expected outcomes are data, never exceptions. */
export type VerifyResult =
  | {
      valid: true;
      key: VerifiedKey;
      /** End of the grace period when the key was rolled and still works; else `null`. */
      sunsetAt: Date | null;
      /**
       * When the key was rolled, while it still works in its grace period (the `Deprecation` header of
       * RFC 9745); else `null`.
       */
      deprecatedAt: Date | null;
      /** The key's limits, allowed origins and addresses, compiled; `null` when it has none. */
      policy: KeyPolicy | null;
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
