import { type EventMaintenance, EventPublisher } from './events/event-hooks.js';
import { type EventContext, type KeyEvent, MAX_EVENT_TEXT, SYSTEM_ACTOR } from './events/events.js';
import { RollUseRecorder } from './events/roll-use.js';
import { createTokenHasher } from './format/hash.js';
import { isKeyId, newKeyId } from './format/ids.js';
import { generateToken, redactToken } from './format/key-format.js';
import { keyStatus } from './format/status.js';
import { type ExpiringKeysQuery, parseExpiringQuery } from './lifecycle/expiring.js';
import { createIdempotency } from './lifecycle/idempotency.js';
import {
  type ImportKeyInput,
  type ImportResult,
  importedKey,
  importKeyInputSchema,
} from './lifecycle/import-key.js';
import { keyCapReached, roomForKeys } from './lifecycle/key-cap.js';
import { createLeakReporter, type LeakReport, type LeakResult } from './lifecycle/leak-report.js';
import { isNonCompliant, lifetimeDetails, newKeyExpiry } from './lifecycle/lifetime.js';
import { type ChangeRecord, createWritePath, type WriteConditions } from './lifecycle/write-path.js';
import { type KeywardOptions, resolveOptions } from './options.js';
import { limitsOverMax } from './policies/limit-options.js';
import type { ScopePolicy } from './policies/scopes.js';
import {
  encodeEventListCursor,
  type ListEventsQuery,
  listEventsQuerySchema,
} from './schemas/event-schemas.js';
import { revokeOwnerInputSchema } from './schemas/owner-schemas.js';
import { copyLimit } from './schemas/policy-schemas.js';
import {
  type CreateKeyInput,
  createKeyInputSchema,
  DEFAULT_GRACE_PERIOD_SECONDS,
  DEFAULT_PAGE_SIZE,
  encodeKeyListCursor,
  type ListKeysQuery,
  listKeysQuerySchema,
  planNameSchema,
  type RollKeyInput,
  rollKeyInputSchema,
  type UpdateKeyInput,
  updateKeyInputSchema,
} from './schemas/schemas.js';
import { toApiKey } from './schemas/serialize.js';
import type { KeyUsage, OrganizationUsage, UsageQuery } from './schemas/usage-schemas.js';
import { DuplicateKeyError, isKeywardError, KeywardError, type ValidationDetail } from './shared/errors.js';
import { parseInput } from './shared/parse-input.js';
import type {
  ApiKey,
  KeyCreator,
  KeyLimit,
  KeyOwner,
  KeyType,
  StoredKey,
  VerifiedKey,
  VerifyRequirements,
  VerifyResult,
} from './shared/types.js';
import type { KeyChanges } from './store/store.js';
import { storeCall } from './store/store-call.js';
import { UsageRecorder } from './usage/usage.js';
import { UsageCounter } from './usage/usage-counter.js';
import type { UsageOutcome } from './usage/usage-outcomes.js';
import { topKeys, type UsageRange, usageBuckets, usageRange } from './usage/usage-report.js';
import type { VerifyOptions } from './verify/verify.js';
import { Verifier } from './verify/verify.js';

/** The name of the key every organization gets when provisioned. */
export const DEFAULT_KEY_NAME = 'Default API Key';
const MAX_ORGANIZATION_ID_LENGTH = 200;

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
export interface Keyward {
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
   * `cursor`, filtered by `keyId` and `type`. Empty when the store keeps no events.
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

/**
 * Creates the Keyward service. Options are validated once; a wrong option throws `TypeError`.
 *
 * @example
 * const keyward = createKeyward({
 *   store: new MemoryKeyStore(),
 *   scopes: ['snippets:read', 'snippets:write'],
 *   publicScopes: ['snippets:read'],
 *   pepper: process.env.KEYWARD_PEPPER,
 * });
 * const { token } = await keyward.createKey('org_1', { name: 'CI', type: 'secret' });
 * await keyward.verify(token, { scopes: ['snippets:write'] }); // { valid: true, key: {...}, sunsetAt: null }
 */
export function createKeyward(options: KeywardOptions): Keyward {
  const resolved = resolveOptions(options);
  const { store, clock, prefix, scopes: policy } = resolved;
  const hash = createTokenHasher(resolved.pepper);
  const usage = new UsageRecorder(store, clock, resolved.usage);
  const counter = new UsageCounter(store, clock, resolved.usage.flushIntervalMs);
  const publisher = new EventPublisher(store, clock, resolved.onEvent, resolved.events.maintenanceIntervalMs);
  const rollUses = new RollUseRecorder(store, clock, (event) => publisher.publish(event));
  const verifier = new Verifier(
    resolved,
    hash,
    (id, keyHash, verified, rolled) => {
      if (rolled) rollUses.note(verified);
      return usage.touch(id, keyHash);
    },
    (id, organizationId, outcome) => counter.count(id, organizationId, outcome),
  );
  const reportLeak = createLeakReporter(resolved, hash, (event) => publisher.publish(event));
  const idempotent = createIdempotency({
    store,
    clock,
    peppers: resolved.pepper === undefined ? [] : [resolved.pepper, ...resolved.previousPeppers],
  });
  const unsubscribe = store.subscribe?.((event) => {
    if ('id' in event) verifier.invalidate(event.id, { remote: true });
    else verifier.clear();
  });

  function newKey(organizationId: string, fields: NewKeyFields) {
    const id = newKeyId();
    const token = generateToken(prefix, fields.type);
    const now = new Date(clock());
    const key: StoredKey = {
      id,
      organizationId,
      name: fields.name,
      type: fields.type,
      scopes: fields.scopes,
      hash: hash(token),
      token: fields.type === 'public' ? token : null,
      redactedKey: redactToken(token),
      isDefault: fields.isDefault,
      slot: fields.slot ?? id,
      createdAt: now,
      updatedAt: now,
      expiresAt: fields.expiresAt,
      lastUsedAt: null,
      disabled: false,
      rolledAt: null,
      replacedBy: null,
      deletedAt: null,
      version: 0,
      limits: fields.limits.map((l) => copyLimit(l)),
      allowedOrigins: [...fields.allowedOrigins],
      allowedIps: [...fields.allowedIps],
      lineageId: fields.lineageId ?? id,
      meta: fields.meta ?? null,
      owner: fields.owner ?? null,
      plan: fields.plan ?? null,
      createdBy: fields.createdBy ?? null,
    };
    return { key, token };
  }

  /** Parses and checks one import (throws `validation_error`) and builds its record. */
  function prepareImport(organizationId: string, input: unknown, context?: EventContext): StoredKey {
    const body = parseInput(importKeyInputSchema, input);
    const scopes = body.scopes === undefined ? policy.defaults(body.type) : unique(body.scopes);
    const expiresAt = newKeyExpiry(resolved.lifetime, body.type, body.expiresAt, clock());
    checkSemantics({ scopes, expiresAt }, body.type);
    const key = importedKey(
      organizationId,
      { ...body, expiresAt },
      {
        hash,
        pepper: resolved.pepper,
        scopes,
        now: new Date(clock()),
      },
    );
    // Imported keys get the app's default limits for their type, like created ones (docs/reference.md §6).
    return { ...key, limits: [...resolved.limits.defaults[body.type]], createdBy: creatorOf(context) };
  }

  const { insert, insertMany, change } = createWritePath({
    store,
    clock,
    invalidate: (id) => verifier.invalidate(id),
    publisher,
  });

  const keyCap = resolved.maxKeysPerOrganization;
  /** 409 when the organization has no room for `n` more keys (see key-cap.ts). */
  async function checkRoom(organizationId: string, n: number): Promise<void> {
    if ((await roomForKeys(store, organizationId, keyCap)) < n) throw keyCapReached(keyCap);
  }

  async function existing(organizationId: string, id: string): Promise<StoredKey> {
    const key = isKeyId(id) ? await storeCall('findById', () => store.findById(organizationId, id)) : null;
    if (!key) throw new KeywardError('not_found');
    return key;
  }

  /** Problems with scopes, expiry and policies that depend on the app's options, the type and the clock. */
  function checkSemantics(fields: SemanticFields, type: KeyType): void {
    const details: ValidationDetail[] = [];
    if (fields.scopes) details.push(...policy.check(fields.scopes, type));
    if (fields.expiresAt && fields.expiresAt.getTime() <= clock()) {
      details.push({ path: 'expiresAt', message: 'Must be in the future.' });
    }
    if (fields.expiresAt !== undefined) {
      details.push(...lifetimeDetails(resolved.lifetime, type, fields.expiresAt, clock()));
    }
    if (fields.limits) details.push(...limitsOverMax(fields.limits, resolved.limits.max[type]));
    if (typeof fields.plan === 'string' && !resolved.plans.has(fields.plan)) {
      details.push({ path: 'plan', message: 'Unknown plan.' });
    }
    if (type === 'secret' && fields.allowedOrigins && fields.allowedOrigins.length > 0) {
      details.push({
        path: 'allowedOrigins',
        message: 'Only public keys can be bound to origins (secret keys are never used from browsers).',
      });
    }
    if (details.length > 0) throw new KeywardError('validation_error', { details });
  }

  /** Runs read-check-write until the write lands on the version it checked (or refuses with 409). */
  async function withRetries<T>(attempt: () => Promise<T | null>): Promise<T> {
    for (let tries = 1; ; tries++) {
      const done = await attempt();
      if (done !== null) return done;
      if (tries >= MAX_WRITE_ATTEMPTS) {
        throw new KeywardError('conflict', { message: 'The key was changed at the same time. Try again.' });
      }
    }
  }

  const service: Keyward = {
    prefix,
    scopes: policy,
    plans: Object.freeze([...resolved.plans.keys()]),

    async provisionOrganization(organizationId) {
      checkOrganization(organizationId);
      const slot = `default:${organizationId}`;
      const { key } = newKey(organizationId, {
        name: DEFAULT_KEY_NAME,
        type: 'public',
        scopes: policy.defaults('public'),
        expiresAt: newKeyExpiry(resolved.lifetime, 'public', undefined, clock()),
        isDefault: true,
        slot,
        limits: resolved.limits.defaults.public,
        allowedOrigins: [],
        allowedIps: [],
      });
      try {
        await insert(key, 'key.created');
        return { created: true, key: toApiKey(key, clock()) };
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
      }
      return { created: false, key: await currentDefault(slot) };
    },

    async createKey(organizationId, input, context) {
      checkOrganization(organizationId);
      const body = parseInput(createKeyInputSchema, input);
      const scopes = body.scopes === undefined ? policy.defaults(body.type) : unique(body.scopes);
      const allowedOrigins = unique(body.allowedOrigins ?? []);
      const allowedIps = unique(body.allowedIps ?? []);
      const expiresAt = newKeyExpiry(resolved.lifetime, body.type, body.expiresAt, clock());
      // The app's defaults obey its maximum (checked at start-up); only limits the caller names are judged.
      checkSemantics(
        {
          scopes,
          expiresAt,
          allowedOrigins,
          ...(body.limits && { limits: body.limits }),
          ...(body.plan !== undefined && { plan: body.plan }),
        },
        body.type,
      );
      const { key, token } = newKey(organizationId, {
        name: body.name,
        type: body.type,
        scopes,
        expiresAt,
        isDefault: false,
        // A key on a plan follows the plan's limits unless it is given its own.
        limits: body.limits ?? (typeof body.plan === 'string' ? [] : resolved.limits.defaults[body.type]),
        allowedOrigins,
        allowedIps,
        plan: body.plan ?? null,
        meta: body.meta ?? null,
        owner: body.owner ?? null,
        createdBy: creatorOf(context),
      });
      await checkRoom(organizationId, 1);
      await insert(key, 'key.created', context);
      return { key: toApiKey(key, clock()), token };
    },

    async importKey(organizationId, input, context) {
      checkOrganization(organizationId);
      const key = prepareImport(organizationId, input, context);
      await checkRoom(organizationId, 1);
      try {
        await insert(key, 'key.imported', context);
      } catch (error) {
        if (error instanceof DuplicateKeyError) {
          throw new KeywardError('conflict', { message: 'This key was imported already.' });
        }
        throw error;
      }
      return toApiKey(key, clock());
    },

    async importKeys(organizationId, inputs, context) {
      checkOrganization(organizationId);
      if (!Array.isArray(inputs)) throw new TypeError('Keyward: importKeys takes an array of keys');
      const results: ImportResult[] = new Array(inputs.length);
      const keys: StoredKey[] = [];
      const rows: number[] = [];
      inputs.forEach((input, row) => {
        try {
          keys.push(prepareImport(organizationId, input, context));
          rows.push(row);
        } catch (error) {
          if (!isKeywardError(error)) throw error;
          results[row] = { status: 'refused', error };
        }
      });
      // Rows beyond the organization's cap are refused; the others are imported.
      const room = keys.length === 0 ? 0 : await roomForKeys(store, organizationId, keyCap);
      for (const row of rows.splice(room)) results[row] = { status: 'refused', error: keyCapReached(keyCap) };
      keys.splice(room);
      const outcomes = await insertMany(keys, context);
      const now = clock();
      outcomes.forEach((duplicate, i) => {
        const key = keys[i] as StoredKey;
        results[rows[i] as number] = duplicate
          ? { status: 'exists' }
          : { status: 'imported', key: toApiKey(key, now) };
      });
      return results;
    },

    async listKeys(organizationId, query = {}) {
      checkOrganization(organizationId);
      const {
        limit = DEFAULT_PAGE_SIZE,
        cursor,
        q,
        type,
        status,
        owner,
      } = parseInput(listKeysQuerySchema, query);
      const now = clock();
      // One more than asked: whether it exists says whether there is a next page.
      const keys = await storeCall('list', () =>
        store.list(organizationId, {
          limit: limit + 1,
          now: new Date(now),
          ...(cursor && { after: cursor }),
          ...(q && { q }),
          ...(type && { type }),
          ...(status && { status }),
          ...(owner && { owner }),
        }),
      );
      const page = keys.slice(0, limit);
      const last = page.at(-1);
      return {
        keys: page.map((k) => toApiKey(k, now)),
        nextCursor: keys.length > limit && last ? encodeKeyListCursor(last) : null,
      };
    },

    async getKey(organizationId, id) {
      checkOrganization(organizationId);
      if (!isKeyId(id)) return null;
      const key = await storeCall('findById', () => store.findById(organizationId, id));
      return key ? toApiKey(key, clock()) : null;
    },

    async updateKey(organizationId, id, input, context, conditions = {}) {
      checkOrganization(organizationId);
      // Shape first (400), then existence (404), then what depends on the key (400 / 409).
      const body = parseInput(updateKeyInputSchema, input === undefined ? {} : input);
      const updated = await withRetries(async () => {
        const current = await existing(organizationId, id);
        // A lost compare-and-set below comes back here: a key changed since `ifVersion` is 412.
        checkPrecondition(current, conditions);
        const changes: KeyChanges = {};
        if (body.name !== undefined) changes.name = body.name;
        if (body.scopes !== undefined) changes.scopes = unique(body.scopes);
        if (body.expiresAt !== undefined) changes.expiresAt = body.expiresAt;
        if (body.disabled !== undefined) changes.disabled = body.disabled;
        if (body.limits !== undefined) changes.limits = body.limits;
        if (body.allowedOrigins !== undefined) changes.allowedOrigins = unique(body.allowedOrigins);
        if (body.allowedIps !== undefined) changes.allowedIps = unique(body.allowedIps);
        if (body.meta !== undefined) changes.meta = body.meta;
        if (body.owner !== undefined) changes.owner = body.owner;
        if (body.plan !== undefined) changes.plan = body.plan;
        checkSemantics(changes, current.type);
        if (current.rolledAt && changes.expiresAt !== undefined) {
          const later =
            changes.expiresAt === null ||
            (current.expiresAt !== null && changes.expiresAt > current.expiresAt);
          if (later)
            throw new KeywardError('conflict', { message: 'A rolled key cannot be given more time.' });
        }
        const changed = changedFields(current, changes);
        if (changed.length === 0) return current;
        const effective = Object.fromEntries(
          changed.map((field) => [field, changes[field as keyof KeyChanges]]),
        ) as KeyChanges;
        // Conditional on the version read: a roll, disable or delete in between makes it check again.
        return change(organizationId, id, effective, {
          version: current.version,
          record: { ...updateEvent(changed, effective), keyName: effective.name ?? current.name, context },
        });
      });
      return toApiKey(updated, clock());
    },

    async rollKey(organizationId, id, rollOptions, context, conditions = {}) {
      checkOrganization(organizationId);
      const { gracePeriodSeconds = DEFAULT_GRACE_PERIOD_SECONDS } = parseInput(
        rollKeyInputSchema,
        rollOptions === undefined ? {} : rollOptions,
      );
      const old = await existing(organizationId, id);
      checkPrecondition(old, conditions);
      const status = keyStatus(old, clock());
      if (status !== 'active') {
        throw new KeywardError('conflict', { message: `A key that is ${status} cannot be rolled.` });
      }
      // The successor keeps the key's expiry: it must obey the lifetime policy as if written now.
      checkSemantics({ expiresAt: old.expiresAt }, old.type);
      const { key, token } = newKey(organizationId, {
        name: old.name,
        type: old.type,
        scopes: old.scopes,
        expiresAt: old.expiresAt,
        isDefault: old.isDefault,
        limits: old.limits ?? [],
        allowedOrigins: old.allowedOrigins ?? [],
        allowedIps: old.allowedIps ?? [],
        meta: old.meta ?? null,
        owner: old.owner ?? null,
        plan: old.plan ?? null,
        createdBy: old.createdBy ?? null,
        // The successor counts against the same limits as the key it replaces (one credential in transition).
        lineageId: old.lineageId ?? old.id,
        // One successor per version of the old key, under a unique index.
        slot: `roll:${old.id}:${old.version}`,
      });
      const now = clock();
      const graceEnd = now + gracePeriodSeconds * 1000;
      const end = old.expiresAt && old.expiresAt.getTime() < graceEnd ? old.expiresAt : new Date(graceEnd);
      let previous: StoredKey | null;
      try {
        // One guarded write, conditional on the version checked above: the old key is rolled and its
        // successor inserted together, or neither (a PATCH, disable, roll or delete in between wins).
        previous = await change(
          organizationId,
          id,
          { rolledAt: new Date(now), replacedBy: key.id, expiresAt: end },
          {
            version: old.version,
            record: { type: 'key.rolled', keyName: old.name, context },
            successor: key,
          },
        );
      } catch (error) {
        if (error instanceof DuplicateKeyError) throw rollConflict();
        // The write may have landed: read the key back (the store answers the settled state) and, if the
        // roll happened, answer it, since its token is shown only here.
        const after = await storeCall('findById', () => store.findById(organizationId, id)).catch(() => null);
        if (after?.replacedBy !== key.id) throw error;
        previous = after;
      }
      if (!previous) {
        // Lost the compare-and-set: with `ifVersion` the caller's version is gone (412), else try again (409).
        throw conditions.ifVersion === undefined ? rollConflict() : preconditionFailed();
      }
      return { key: toApiKey(key, now), token, previous: toApiKey(previous, now) };
    },

    async deleteKey(organizationId, id, context, conditions = {}) {
      checkOrganization(organizationId);
      // Read for the event's key name. Without `ifVersion` the write is unconditional: a delete wins over any
      // concurrent change; it is conditional only on the organization and on the key not being deleted yet.
      // With it, the guarded write is conditional on that version too.
      const current = await existing(organizationId, id);
      checkPrecondition(current, conditions);
      const { ifVersion } = conditions;
      const deleted = await change(
        organizationId,
        id,
        { deletedAt: new Date(clock()) },
        {
          ...(ifVersion !== undefined && { version: ifVersion }),
          record: { type: 'key.deleted', keyName: current.name, context },
        },
      );
      if (!deleted) {
        if (ifVersion === undefined) throw new KeywardError('not_found');
        // Changed or deleted in between: which one decides the answer.
        const after = await storeCall('findById', () => store.findById(organizationId, id));
        throw after ? preconditionFailed() : new KeywardError('not_found');
      }
    },

    async setOrganizationPlan(organizationId, plan) {
      checkOrganization(organizationId);
      const name = parseInput(planNameSchema, plan);
      if (name !== null && !resolved.plans.has(name)) {
        throw new KeywardError('validation_error', { details: [{ path: 'plan', message: 'Unknown plan.' }] });
      }
      const set = store.setOrganizationPlan;
      if (!set) throw new TypeError('Keyward: the store does not implement setOrganizationPlan');
      await storeCall('setOrganizationPlan', () => set.call(store, organizationId, name));
      // This instance at once (also without a change feed); other instances through the store's feed.
      verifier.clear();
    },

    async getOrganizationPlan(organizationId) {
      checkOrganization(organizationId);
      const get = store.getOrganizationPlan;
      return get ? storeCall('getOrganizationPlan', () => get.call(store, organizationId)) : null;
    },

    async revokeOwnerKeys(organizationId, owner, options, context) {
      checkOrganization(organizationId);
      const { owner: who, action } = parseInput(revokeOwnerInputSchema, { owner, action: options?.action });
      const keyIds: string[] = [];
      const revokeOne = async (key: StoredKey): Promise<void> => {
        if (action === 'delete') {
          const deleted = await change(
            organizationId,
            key.id,
            { deletedAt: new Date(clock()) },
            { record: { type: 'key.deleted', keyName: key.name, context } },
          );
          if (deleted) keyIds.push(key.id);
          return;
        }
        let current: StoredKey | null = key;
        for (let tries = 1; current && !current.disabled && !current.deletedAt; tries++) {
          const done = await change(
            organizationId,
            current.id,
            { disabled: true },
            { version: current.version, record: { type: 'key.disabled', keyName: current.name, context } },
          );
          if (done) {
            keyIds.push(current.id);
            return;
          }
          if (tries >= MAX_WRITE_ATTEMPTS) throw rollConflict();
          const id: string = current.id;
          current = await storeCall(
            'findById',
            (): Promise<StoredKey | null> => store.findById(organizationId, id),
          );
        }
      };
      // Deleting: expired rolled keys too (they are not listed by default); disabling: the listed ones.
      const statuses = action === 'delete' ? [undefined, 'expired' as const] : [undefined];
      for (const status of statuses) {
        let after: { createdAt: Date; id: string } | undefined;
        for (;;) {
          const page = await storeCall('list', () =>
            store.list(organizationId, {
              limit: REVOKE_PAGE,
              now: new Date(clock()),
              owner: who,
              ...(after && { after }),
              ...(status && { status }),
            }),
          );
          // A few writes at a time: one key's lease never waits on another's.
          for (let i = 0; i < page.length; i += REVOKE_PARALLEL) {
            await Promise.all(page.slice(i, i + REVOKE_PARALLEL).map(revokeOne));
          }
          const last = page.at(-1);
          if (page.length < REVOKE_PAGE || !last) break;
          after = { createdAt: last.createdAt, id: last.id };
        }
      }
      return { keyIds };
    },

    async listEvents(organizationId, query = {}) {
      checkOrganization(organizationId);
      const { limit = DEFAULT_PAGE_SIZE, cursor, keyId, type } = parseInput(listEventsQuerySchema, query);
      if (!store.listEvents) return { events: [], nextCursor: null };
      // One more than asked: whether it exists says whether there is a next page.
      const events = await storeCall('listEvents', () =>
        (store.listEvents as NonNullable<typeof store.listEvents>).call(store, organizationId, {
          limit: limit + 1,
          ...(cursor && { after: cursor }),
          ...(keyId !== undefined && { keyId }),
          ...(type && { type }),
        }),
      );
      const page = events.slice(0, limit);
      const last = page.at(-1);
      return { events: page, nextCursor: events.length > limit && last ? encodeEventListCursor(last) : null };
    },

    async expiringKeys(query) {
      const { within, organizationId, limit } = parseExpiringQuery(query);
      if (organizationId !== undefined) checkOrganization(organizationId);
      const now = clock();
      const listExpiring = store.listExpiring;
      if (!listExpiring) throw new TypeError('Keyward: the store does not implement listExpiring');
      const keys = await storeCall('listExpiring', () =>
        listExpiring.call(store, {
          from: new Date(now),
          until: new Date(now + within),
          limit,
          ...(organizationId !== undefined && { organizationId }),
        }),
      );
      return keys.map((k) => toApiKey(k, now));
    },

    reportLeak: (token, report) => reportLeak(service, token, report),

    maintainEvents: () => publisher.maintain(),

    async nonCompliantKeys(organizationId) {
      checkOrganization(organizationId);
      const now = clock();
      const keys = await storeCall('list', () => store.list(organizationId));
      return keys
        .filter((k) => !k.rolledAt && isNonCompliant(resolved.lifetime, k, now))
        .reverse()
        .map((k) => toApiKey(k, now));
    },

    idempotent(organizationId, idempotencyKey, request, run) {
      checkOrganization(organizationId);
      return idempotent(organizationId, idempotencyKey, request, run);
    },

    verify: (token, requirements, options) => verifier.verify(token, requirements, options),
    verifyCached: (token, requirements, options) => verifier.verifyCached(token, requirements, options),
    recordOutcome: (key, outcome, options) =>
      counter.countOutcome(key.id, key.organizationId, outcome, options?.replaces === 'admitted'),

    async keyUsage(organizationId, id, query) {
      const range = usageRange(query, clock());
      const key = await storeCall('findById', () => store.findById(organizationId, id));
      if (!key) return null;
      const rows = await readUsage({ organizationId, keyId: id, ...range });
      return { data: usageBuckets(rows, range), granularity: range.granularity };
    },

    async usage(organizationId, query) {
      const range = usageRange(query, clock());
      const rows = await readUsage({ organizationId, ...range });
      return { data: usageBuckets(rows, range), granularity: range.granularity, topKeys: topKeys(rows) };
    },

    flushUsage: () => Promise.all([counter.flush(), usage.flush(), rollUses.flush()]).then(() => undefined),

    async close() {
      unsubscribe?.();
      publisher.stop();
      verifier.clear();
      counter.stop();
      await Promise.all([counter.flush(), usage.flush(), rollUses.flush()]);
    },
  };
  return service;

  /** The store's usage rows of an organization's range (none when the store keeps no usage). */
  async function readUsage(query: {
    organizationId: string;
    keyId?: string;
    granularity: UsageRange['granularity'];
    from: number;
    to: number;
  }) {
    const read = store.readUsage;
    if (!read) return [];
    const { from, to, ...rest } = query;
    const rows = await storeCall('readUsage', () =>
      read.call(store, { ...rest, from: new Date(from), to: new Date(to) }),
    );
    return query.keyId === undefined ? rows : rows.filter((r) => r.keyId === query.keyId);
  }

  async function currentDefault(slot: string): Promise<ApiKey | null> {
    let key = await storeCall('findBySlot', () => store.findBySlot(slot));
    // Follow rolls to the key that replaced the original default.
    for (let hops = 0; key?.replacedBy && hops < 100; hops++) {
      const { organizationId, replacedBy } = key;
      key = await storeCall('findById', () => store.findById(organizationId, replacedBy));
    }
    return key && !key.deletedAt ? toApiKey(key, clock()) : null;
  }
}

/** Keys read per page by `revokeOwnerKeys`. */
const REVOKE_PAGE = 100;
/** Keys `revokeOwnerKeys` writes at the same time. */
const REVOKE_PARALLEL = 8;

/** Read-check-write rounds of an update before it gives up with 409 under constant concurrent change. */
const MAX_WRITE_ATTEMPTS = 3;

/** The fields a PATCH may change, in the order `changes` lists them. */
const UPDATABLE_FIELDS = [
  'name',
  'scopes',
  'expiresAt',
  'disabled',
  'limits',
  'allowedOrigins',
  'allowedIps',
  'meta',
  'owner',
  'plan',
] as const;

/** The names of the fields in `changes` whose value differs from `current`'s. */
function changedFields(current: StoredKey, changes: KeyChanges): string[] {
  return UPDATABLE_FIELDS.filter((field) => {
    const next = changes[field];
    if (next === undefined) return false;
    const now = current[field];
    if (field === 'meta' || field === 'owner' || field === 'plan')
      return JSON.stringify(next) !== JSON.stringify(now ?? null);
    if (next instanceof Date || now instanceof Date) {
      return !(next instanceof Date && now instanceof Date && next.getTime() === now.getTime());
    }
    if (Array.isArray(next) && Array.isArray(now)) {
      // Lists of strings (scopes, origins, IPs) or of plain `{ limit, windowSeconds }` objects.
      return JSON.stringify(next) !== JSON.stringify(now);
    }
    return next !== now;
  });
}

/** `key.disabled` / `key.enabled` when only `disabled` changes; else `key.updated` naming the fields. */
function updateEvent(changed: string[], changes: KeyChanges): Pick<ChangeRecord, 'type' | 'changes'> {
  if (changed.length === 1 && changed[0] === 'disabled') {
    return { type: changes.disabled ? 'key.disabled' : 'key.enabled' };
  }
  return { type: 'key.updated', changes: changed };
}

/** 412 when the caller asked for a version (`If-Match`) the key is no longer at. */
function checkPrecondition(key: StoredKey, { ifVersion }: WriteConditions): void {
  if (ifVersion !== undefined && key.version !== ifVersion) throw preconditionFailed();
}

function preconditionFailed(): KeywardError {
  return new KeywardError('precondition_failed');
}

function rollConflict(): KeywardError {
  return new KeywardError('conflict', { message: 'The key was changed at the same time. Try again.' });
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

interface NewKeyFields {
  name: string;
  type: KeyType;
  scopes: string[];
  expiresAt: Date | null;
  isDefault: boolean;
  slot?: string;
  limits: readonly KeyLimit[];
  allowedOrigins: readonly string[];
  allowedIps: readonly string[];
  /** The roll chain's first key id; a new chain starts with the key's own id. */
  lineageId?: string;
  meta?: Record<string, unknown> | null;
  owner?: KeyOwner | null;
  createdBy?: KeyCreator | null;
  plan?: string | null;
}

/** The actor of a creation event, as the key keeps it (`createdBy`). */
function creatorOf(context: EventContext | undefined): KeyCreator {
  const actor = context?.actor ?? SYSTEM_ACTOR;
  return { type: actor.type, id: actor.id.slice(0, MAX_EVENT_TEXT) };
}

interface SemanticFields {
  plan?: string | null;
  scopes?: string[];
  expiresAt?: Date | null;
  limits?: readonly KeyLimit[];
  allowedOrigins?: readonly string[];
}

function checkOrganization(organizationId: unknown): asserts organizationId is string {
  if (
    typeof organizationId !== 'string' ||
    organizationId.length === 0 ||
    organizationId.length > MAX_ORGANIZATION_ID_LENGTH
  ) {
    throw new TypeError('Keyward: organizationId must be a non-empty string of at most 200 characters');
  }
}
