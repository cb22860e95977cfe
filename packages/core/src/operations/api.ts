import type { EventMaintenance } from '../background/event-hooks.js';
import type { EventContext, KeyEvent } from '../events/events.js';
import type { DormancySweep } from '../lifecycle/dormancy.js';
import type { ExpiringKeysQuery } from '../lifecycle/expiring.js';
import type { ImportKeyInput, ImportResult } from '../lifecycle/import-key.js';
import type { WriteConditions } from '../lifecycle/write-path.js';
import type { ScopePolicy } from '../policies/scopes.js';
import type { ListEventsQuery } from '../schemas/event-schemas.js';
import type { CreateKeyInput, ListKeysQuery, RollKeyInput, UpdateKeyInput } from '../schemas/schemas.js';
import type { KeyUsage, OrganizationUsage, UsageQuery } from '../schemas/usage-schemas.js';
import type { ApiKey, KeyOwner, VerifiedKey, VerifyRequirements, VerifyResult } from '../shared/types.js';
import type { UsageOutcome } from '../usage/usage-outcomes.js';
import type { VerifyOptions } from '../verify/verify.js';
import type { CreditMethods } from './credits.js';
import type { LeakReport, LeakResult } from './leak-report.js';

/** The name of the key every organization gets when provisioned. */
export const DEFAULT_KEY_NAME = 'Default API Key';

/** A created or rolled key with its full token, which is shown exactly once. */
export interface KeyWithToken {
  key: ApiKey;
  token: string;
}

/** One page of keys: `nextCursor` fetches the next one (`null` on the last page). */
export interface KeyPage {
  keys: ApiKey[];
  nextCursor: string | null;
}

/** One page of events: `nextCursor` fetches the next one (`null` on the last page). */
export interface EventPage {
  events: KeyEvent[];
  nextCursor: string | null;
}

/** Options of `Keyward.recordOutcome`. */
export interface RecordOutcomeOptions {
  /**
   * `'admitted'`: this verification was reported as admitted already (by an earlier guard on the same
   * request) and is refused now: its count moves from admitted to `outcome`.
   */
  replaces?: 'admitted';
}

/** The Keyward service: the whole key lifecycle and verification. Create it with `createKeyward`. */
export interface Keyward extends CreditMethods {
  /** The token prefix, e.g. `kw`. */
  readonly prefix: string;
  /** The scope catalog and the public ceiling. */
  readonly scopes: ScopePolicy;
  /** The names of the app's `plans` (docs/reference.md §10). */
  readonly plans: readonly string[];
  /**
   * Creates the organization's public `Default API Key` once (also under concurrent calls); later calls
   * return `{ created: false }` with the current default key, following rolls to the replacement, or with
   * `key: null` when the organization's default key has been deleted (it is not created again).
   */
  provisionOrganization(organizationId: string): Promise<{ created: boolean; key: ApiKey | null }>;
  /** Creates a key (event `key.created`; `context` names the actor, default `SYSTEM_ACTOR`). */
  createKey(organizationId: string, input: CreateKeyInput, context?: EventContext): Promise<KeyWithToken>;
  /**
   * Brings a key issued before Keyward: `token` (hashed as usual) or `sha256` (its hex digest, stored as
   * such and upgraded to the current hash on the key's first use), with `name`, `type`, `scopes?` and
   * `expiresAt?` as in `createKey`. The key shows `legacy: true`. Importing the same token again is a
   * `conflict`.
   *
   * @example
   * await keyward.importKey('org_1', { token: 'sk_live_…', name: 'Old CI key', type: 'secret' });
   */
  importKey(organizationId: string, input: ImportKeyInput, context?: EventContext): Promise<ApiKey>;
  /**
   * `importKey` for many keys at once (the store's bulk insert when it has one). Each input is checked on
   * its own; the answer has one `ImportResult` per input, in order. A store fault rejects (some keys may
   * have been imported: running it again reports them as `exists`).
   *
   * @example
   * const results = await keyward.importKeys('org_1', rows); // [{ status: 'imported', key }, { status: 'exists' }, …]
   */
  importKeys(
    organizationId: string,
    inputs: readonly ImportKeyInput[],
    context?: EventContext,
  ): Promise<ImportResult[]>;
  /**
   * One page of the organization's keys, newest first (deleted keys are never listed): `limit` keys
   * (default 50), after `cursor` (the previous page's `nextCursor`), filtered by `q` (name substring or
   * last 4 characters), `type` and `status`. Without `status`, rolled keys whose grace period has ended are
   * left out. `nextCursor` is `null` on the last page. A bad query throws `validation_error`.
   *
   * @example
   * const { keys, nextCursor } = await keyward.listKeys('org_1', { limit: 20, q: 'ci' });
   */
  listKeys(organizationId: string, query?: ListKeysQuery): Promise<KeyPage>;
  /** The key, or `null` for an unknown, malformed, deleted or other organization's id. */
  getKey(organizationId: string, id: string): Promise<ApiKey | null>;
  /**
   * Changes name, scopes, expiry or `disabled`. Fields given with their current value are no change; a
   * call that changes nothing writes nothing and records no event. One event per call: `key.disabled` /
   * `key.enabled` when `disabled` is the only field that changes, else `key.updated` with the names of
   * every changed field (`disabled` included). With `conditions.ifVersion` (see `keyEtag`), 412
   * `precondition_failed` unless the key is still at that version when written.
   */
  updateKey(
    organizationId: string,
    id: string,
    input: UpdateKeyInput,
    context?: EventContext,
    conditions?: WriteConditions,
  ): Promise<ApiKey>;
  /**
   * Replaces a key; the old one keeps working for the grace period. With `conditions.ifVersion`, 412
   * `precondition_failed` unless the old key is still at that version when written.
   */
  rollKey(
    organizationId: string,
    id: string,
    options?: RollKeyInput,
    context?: EventContext,
    conditions?: WriteConditions,
  ): Promise<KeyWithToken & { previous: ApiKey }>;
  /**
   * Puts the organization on one of the app's `plans` (`null`: none); its keys without a plan or limits
   * of their own follow it from the next request on this instance, and on others once the store's change
   * feed announces it. Needs a store with `setOrganizationPlan` (MemoryKeyStore, MongoKeyStore).
   *
   * @example
   * await keyward.setOrganizationPlan('org_1', 'pro');
   */
  setOrganizationPlan(organizationId: string, plan: string | null): Promise<void>;
  /** The organization's plan, or `null`. */
  getOrganizationPlan(organizationId: string): Promise<string | null>;
  /**
   * Revokes a key at once (event `key.deleted`). With `conditions.ifVersion`, 412 `precondition_failed`
   * unless the key is still at that version when written.
   */
  deleteKey(
    organizationId: string,
    id: string,
    context?: EventContext,
    conditions?: WriteConditions,
  ): Promise<void>;
  /**
   * Disables or deletes every key of one owner of the organization (a member who leaves, a retired service
   * account), each through the guarded write path with its own event (`key.disabled` / `key.deleted`);
   * keys already disabled (or deleted) are left as they are. Answers the ids of the keys it changed. Each
   * write applies on this instance at once and on every other within the freshness bound (docs/reference.md §2).
   *
   * @example
   * await keyward.revokeOwnerKeys('org_1', { type: 'user', id: 'u_1' }, { action: 'disable' });
   */
  revokeOwnerKeys(
    organizationId: string,
    owner: KeyOwner,
    options: { action: 'disable' | 'delete' },
    context?: EventContext,
  ): Promise<{ keyIds: string[] }>;
  /**
   * One page of the organization's audit events (docs/reference.md §7), newest first: `limit` (default 50), after
   * `cursor`, filtered by `keyId` and `type`; with `keyId` and `chain: true`, the events of every key of
   * its roll chain (the keys it replaced and the keys that replaced it). Empty when the store keeps no
   * events.
   *
   * @example
   * const { events, nextCursor } = await keyward.listEvents('org_1', { keyId: 'key_…', limit: 20 });
   */
  listEvents(organizationId: string, query?: ListEventsQuery): Promise<EventPage>;
  /**
   * Keys (not deleted, not rolled) that expire within `within` ms from now: `now < expiresAt <= now +
   * within`, soonest first, of one organization or of all. Already expired and never-expiring keys are
   * not listed.
   *
   * @example
   * const soon = await keyward.expiringKeys({ within: 7 * 86_400_000 });
   */
  expiringKeys(query: ExpiringKeysQuery): Promise<ApiKey[]>;
  /**
   * A scanner found `token` in public (docs/reference.md §11). For a Keyward-format token of this service: records
   * `key.leaked` (with `source` and `url`, never the token; handed to `onEvent`), then, for a secret key,
   * acts per `onLeak` (default `revoke`: deleted; `disable`; `report`: nothing more). Public keys are only
   * reported. Other tokens answer `{ found: false }` without a store read. `createLeakReportRouter` in
   * `@keyward/admin` serves GitHub's secret-scanning reports with it.
   *
   * @example
   * const { found, action } = await keyward.reportLeak(token, { source: 'my-scanner', url, onLeak: 'revoke' });
   */
  reportLeak(token: unknown, report?: LeakReport): Promise<LeakResult>;
  /**
   * The organization's keys (not deleted, not rolled) whose expiry the lifetime policy would refuse if it
   * were written now: keys made before a tighter policy (docs/reference.md §11). Oldest first.
   *
   * @example
   * const stale = await keyward.nonCompliantKeys('org_1');
   */
  nonCompliantKeys(organizationId: string): Promise<ApiKey[]>;
  /**
   * Disables keys unused for `dormantAfterDays` and records `key.dormant_soon` 7 days before — never a
   * disable without that week's notice (docs/reference.md §11); answers what it did. Safe to run from
   * several instances at once (one event each, and a newer change of a key wins). Runs every
   * `dormancySweepIntervalMs` on its own.
   *
   * @example
   * const { warned, disabled } = await keyward.sweepDormantKeys();
   */
  sweepDormantKeys(): Promise<DormancySweep>;
  /** Runs the event log's upkeep now (outbox delivery and retention sweep); it also runs on a timer. */
  maintainEvents(): Promise<EventMaintenance>;
  /**
   * Checks a token; expected refusals are data (`{ valid: false, code }`), never exceptions. On success
   * `key` is frozen (a handler cannot change what later requests see).
   */
  verify(token: unknown, requirements?: VerifyRequirements, options?: VerifyOptions): Promise<VerifyResult>;
  /**
   * `verify` without waiting: the same answer when it needs no store read (no token, a malformed token, a
   * cached key or a cached miss), else `undefined` (then call `verify`). For middleware hot paths.
   *
   * @example
   * const result = keyward.verifyCached(token) ?? (await keyward.verify(token));
   */
  verifyCached(
    token: unknown,
    requirements?: VerifyRequirements,
    options?: VerifyOptions,
  ): VerifyResult | undefined;
  /**
   * Counts the final outcome of a verification that `verify` admitted with `{ count: 'refusals' }` (docs/reference.md
   * §9): `admitted`, or the refusal the caller answered (`ip_not_allowed`, `rate_limited`, …). Call it once
   * per such verification. A counter increment; written by the next usage flush.
   *
   * @example
   * const result = keyward.verifyCached(token, undefined, { count: 'refusals' });
   * if (result?.valid) keyward.recordOutcome(result.key, allowed ? 'admitted' : 'ip_not_allowed');
   */
  recordOutcome(
    key: Pick<VerifiedKey, 'id' | 'organizationId'>,
    outcome: UsageOutcome,
    options?: RecordOutcomeOptions,
  ): void;
  /**
   * The key's usage (docs/reference.md §9), or `null` for an unknown, deleted or other organization's id: one bucket
   * per `granularity` from `from` to `to`, oldest first, empty buckets included. A bad query (or one of more
   * than `MAX_USAGE_BUCKETS` buckets) throws `validation_error`. Empty when the store keeps no usage.
   *
   * @example
   * const usage = await keyward.keyUsage('org_1', 'key_…', { granularity: 'day', from: '2030-01-01T00:00:00Z' });
   */
  keyUsage(organizationId: string, id: string, query?: UsageQuery): Promise<KeyUsage | null>;
  /** The organization's usage (every key summed) as `keyUsage`, with its most used keys (`topKeys`). */
  usage(organizationId: string, query?: UsageQuery): Promise<OrganizationUsage>;
  /**
   * Runs `run` once per organization and `idempotencyKey` within 24 h, across instances sharing the store
   * (`Idempotency-Key`, docs/reference.md §11): a repeat with the same `request` (route and body, compared by a
   * hash) answers the stored answer of the first, also while it is in progress (it waits for it); another
   * `request` is 422 `idempotency_key_reused`. The answer must be JSON; it is stored encrypted under a key
   * derived from the pepper (it may hold a token). See idempotency.ts for the details.
   *
   * @example
   * const answer = await keyward.idempotent('org_1', req.get('idempotency-key'), req.body, () => create());
   */
  idempotent<T>(
    organizationId: string,
    idempotencyKey: string,
    request: unknown,
    run: () => Promise<T>,
  ): Promise<T>;
  /** Writes pending usage counts, `lastUsedAt` updates and noted uses of rolled keys now (otherwise batched). */
  flushUsage(): Promise<void>;
  /** Stops listening to the store's change feed and writes pending `lastUsedAt` updates. */
  close(): Promise<void>;
}
