import { MemoryCreditLedger } from '../credits/memory-credit-ledger.js';
import type { KeyEvent } from '../events/events.js';
import type { CreditEntry } from '../shared/credit-types.js';
import { DuplicateKeyError } from '../shared/errors.js';
import { checkOptionNames } from '../shared/option-names.js';
import type { StoredKey } from '../shared/types.js';
import { USAGE_RETENTION_MS, type UsageOutcome } from '../usage/usage-outcomes.js';
import { EventLog, type EventStoreOptions } from './event-log.js';
import { matchesListQuery } from './key-list.js';
import type {
  EventListQuery,
  ExpiringQuery,
  IdempotencyRecord,
  KeyChangeListener,
  KeyChanges,
  KeyListQuery,
  KeyScanQuery,
  KeyStore,
  UpdateOptions,
  UsageBucket,
  UsageEntry,
  UsageReadQuery,
  UsageRow,
} from './store.js';

/**
 * A complete in-process `KeyStore`, for tests, demos and single-process apps. Instances of the service
 * that share one `MemoryKeyStore` see each other's changes at once through `subscribe`.
 *
 * @example
 * const keyward = createKeyward({ store: new MemoryKeyStore(), scopes: ['read'] });
 */
export class MemoryKeyStore implements KeyStore {
  readonly #byId = new Map<string, StoredKey>();
  /** Events written with a key's change and not yet in the log: the key record's outbox. */
  readonly #outbox = new Map<string, Map<string, KeyEvent>>();
  readonly #events: EventLog;
  readonly #idByHash = new Map<string, string>();
  readonly #idBySlot = new Map<string, string>();
  /** Last use, apart from the key records (a last-use write never rewrites a key). */
  readonly #lastUsed = new Map<string, Date>();
  readonly #listeners = new Set<KeyChangeListener>();
  /** `Idempotency-Key` records by id. */
  readonly #idempotency = new Map<string, IdempotencyRecord>();
  /** Usage buckets by key, granularity, start and instance (each written by its instance only). */
  readonly #usage = new Map<string, UsageBucket>();
  readonly #organizationPlans = new Map<string, string>();
  readonly #credits = new MemoryCreditLedger();

  /** `options.eventRetentionDays` (default 400) bounds how long events are listed. */
  constructor(options: EventStoreOptions = {}) {
    checkOptionNames('MemoryKeyStore', options, ['eventRetentionDays', 'faults']);
    this.#events = new EventLog(options);
  }

  async insert(key: StoredKey, event?: KeyEvent): Promise<void> {
    this.#checkFree(key);
    this.#add(key);
    if (event) this.#stage(key.id, event);
    this.#emit(key.id);
    if (event) await this.#deliverKey(key.id, event.id);
  }

  async claimIdempotency(record: IdempotencyRecord, now: Date): Promise<IdempotencyRecord | null> {
    const existing = this.#idempotency.get(record.id);
    const dead =
      !existing || existing.expiresAt <= now || (existing.response === null && existing.lockedUntil <= now);
    if (!dead) return { ...existing };
    this.#idempotency.set(record.id, { ...record, response: null });
    return null;
  }

  async completeIdempotency(id: string, claim: string, response: string): Promise<void> {
    const existing = this.#idempotency.get(id);
    if (existing?.claim === claim) existing.response = response;
  }

  async releaseIdempotency(id: string, claim: string): Promise<void> {
    if (this.#idempotency.get(id)?.claim === claim) this.#idempotency.delete(id);
  }

  async countKeys(organizationId: string): Promise<number> {
    let count = 0;
    for (const key of this.#byId.values()) {
      if (key.organizationId === organizationId && !key.deletedAt) count += 1;
    }
    return count;
  }

  async findByHash(hash: string): Promise<StoredKey | null> {
    return this.#copy(this.#idByHash.get(hash));
  }

  async findById(organizationId: string, id: string): Promise<StoredKey | null> {
    const key = this.#byId.get(id);
    if (!key || key.organizationId !== organizationId || key.deletedAt) return null;
    return this.#withUse(key);
  }

  async findBySlot(slot: string): Promise<StoredKey | null> {
    return this.#copy(this.#idBySlot.get(slot));
  }

  async list(organizationId: string, query?: KeyListQuery): Promise<StoredKey[]> {
    const keys = [...this.#byId.values()].filter(
      (k) => k.organizationId === organizationId && !k.deletedAt && (!query || matchesListQuery(k, query)),
    );
    keys.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    return (query ? keys.slice(0, query.limit) : keys).map((k) => this.#withUse(k));
  }

  /** The check and the write in one synchronous step: nothing can come between them in one process. */
  async update(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    options: UpdateOptions = {},
  ): Promise<StoredKey | null> {
    const { event, successor, successorEvent } = options;
    const key = this.#byId.get(id);
    if (!key || key.organizationId !== organizationId || key.deletedAt) return null;
    if (options.version !== undefined && key.version !== options.version) return null;
    if (changes.slot !== undefined && changes.slot !== key.slot && this.#idBySlot.has(changes.slot)) {
      throw new DuplicateKeyError('slot');
    }
    if (successor) this.#checkFree(successor);
    if (changes.slot !== undefined && changes.slot !== key.slot) {
      this.#idBySlot.delete(key.slot);
      this.#idBySlot.set(changes.slot, id);
    }
    if (successor) this.#add(successor);
    Object.assign(key, structuredClone(changes));
    key.version += 1;
    if (event) this.#stage(id, event);
    if (successor && successorEvent) this.#stage(successor.id, successorEvent);
    this.#emit(id);
    const updated = structuredClone(key);
    if (event) await this.#deliverKey(id, event.id);
    if (successor && successorEvent) await this.#deliverKey(successor.id, successorEvent.id);
    return updated;
  }

  async listEvents(organizationId: string, query: EventListQuery): Promise<KeyEvent[]> {
    return this.#events.list(organizationId, query);
  }

  async appendEvent(event: KeyEvent): Promise<void> {
    await this.#events.append(event);
  }

  async deliverEvents(): Promise<number> {
    let moved = 0;
    for (const keyId of [...this.#outbox.keys()]) moved += await this.#deliverKey(keyId, undefined, true);
    return moved;
  }

  async sweepEvents(now: Date): Promise<number> {
    return this.#events.sweep(now);
  }

  async scanKeys(query: KeyScanQuery): Promise<StoredKey[]> {
    const keys = [...this.#byId.values()].filter(
      (k) =>
        !k.deletedAt &&
        !k.rolledAt &&
        !k.disabled &&
        (query.after === undefined || k.id > query.after) &&
        (query.type === undefined || k.type === query.type),
    );
    keys.sort((a, b) => (a.id < b.id ? -1 : 1));
    return keys.slice(0, query.limit).map((k) => this.#withUse(k));
  }

  async listExpiring(query: ExpiringQuery): Promise<StoredKey[]> {
    const from = query.from.getTime();
    const until = query.until.getTime();
    const keys = [...this.#byId.values()].filter((k) => {
      const at = k.expiresAt?.getTime();
      return (
        at !== undefined &&
        at > from &&
        at <= until &&
        !k.deletedAt &&
        !k.rolledAt &&
        (query.organizationId === undefined || k.organizationId === query.organizationId)
      );
    });
    keys.sort(
      (a, b) => (a.expiresAt as Date).getTime() - (b.expiresAt as Date).getTime() || (a.id < b.id ? -1 : 1),
    );
    return keys.slice(0, query.limit).map((k) => structuredClone(k));
  }

  async insertMany(
    keys: ReadonlyArray<StoredKey>,
    events?: ReadonlyArray<KeyEvent | undefined>,
  ): Promise<Array<DuplicateKeyError | null>> {
    const outcomes: Array<DuplicateKeyError | null> = [];
    for (const [i, key] of keys.entries()) {
      const event = events?.[i];
      // The event first, idempotently (see KeyStore.insertMany); a duplicate key keeps the one event.
      if (event) await this.#events.append(event);
      try {
        await this.insert(key);
        outcomes.push(null);
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
        outcomes.push(error);
      }
    }
    return outcomes;
  }

  /** Gives the key `hash` in one step (a process-local map cannot crash half-way). */
  async rehash(key: StoredKey, hash: string): Promise<StoredKey | null> {
    const current = this.#byId.get(key.id);
    if (!current || current.deletedAt || current.hash !== key.hash || current.version !== key.version) {
      return null;
    }
    if (this.#idByHash.has(hash)) throw new DuplicateKeyError('hash');
    this.#idByHash.delete(current.hash);
    this.#idByHash.set(hash, current.id);
    current.hash = hash;
    current.version += 1;
    this.#emit(current.id);
    return structuredClone(current);
  }

  async recordUsage(entries: ReadonlyArray<UsageEntry>): Promise<void> {
    for (const { id, at } of entries) {
      const last = this.#lastUsed.get(id);
      if (this.#byId.has(id) && (!last || last < at)) this.#lastUsed.set(id, new Date(at));
    }
  }

  async recordOutcomes(buckets: ReadonlyArray<UsageBucket>): Promise<void> {
    for (const bucket of buckets) {
      const id = `${bucket.keyId}|${bucket.granularity}|${bucket.at.getTime()}|${bucket.instanceId}`;
      this.#usage.set(id, structuredClone(bucket));
    }
  }

  async readUsage(query: UsageReadQuery): Promise<UsageRow[]> {
    const rows = new Map<string, UsageRow>();
    for (const b of this.#usage.values()) {
      if (b.organizationId !== query.organizationId || b.granularity !== query.granularity) continue;
      if ((query.keyId !== undefined && b.keyId !== query.keyId) || b.at < query.from || b.at >= query.to)
        continue;
      const id = `${b.keyId}|${b.at.getTime()}`;
      let row = rows.get(id);
      if (!row) {
        row = { keyId: b.keyId, at: new Date(b.at), counts: {} };
        rows.set(id, row);
      }
      for (const [outcome, n] of Object.entries(b.counts) as Array<[UsageOutcome, number]>)
        row.counts[outcome] = (row.counts[outcome] ?? 0) + n;
    }
    return [...rows.values()];
  }

  async sweepUsage(now: Date): Promise<number> {
    let swept = 0;
    for (const [id, b] of this.#usage) {
      if (b.at.getTime() + USAGE_RETENTION_MS[b.granularity] < now.getTime()) {
        this.#usage.delete(id);
        swept++;
      }
    }
    return swept;
  }

  #checkFree(key: StoredKey): void {
    if (this.#byId.has(key.id)) throw new DuplicateKeyError('id');
    if (this.#idByHash.has(key.hash)) throw new DuplicateKeyError('hash');
    if (this.#idBySlot.has(key.slot)) throw new DuplicateKeyError('slot');
  }

  #add(key: StoredKey): void {
    this.#byId.set(key.id, structuredClone(key));
    this.#idByHash.set(key.hash, key.id);
    this.#idBySlot.set(key.slot, key.id);
  }

  #withUse(key: StoredKey): StoredKey {
    const copy = structuredClone(key);
    const used = this.#lastUsed.get(key.id);
    if (used && (!copy.lastUsedAt || copy.lastUsedAt < used)) copy.lastUsedAt = new Date(used);
    return copy;
  }

  async getOrganizationPlan(organizationId: string): Promise<string | null> {
    return this.#organizationPlans.get(organizationId) ?? null;
  }

  async setOrganizationPlan(organizationId: string, plan: string | null): Promise<void> {
    if (plan === null) this.#organizationPlans.delete(organizationId);
    else this.#organizationPlans.set(organizationId, plan);
    for (const listener of this.#listeners) {
      try {
        listener({ reset: true });
      } catch {
        // A failing subscriber must not fail the write.
      }
    }
  }

  /** The credit ledger (docs/reference.md §10): inserts of unique ids only, as in the shared stores. */
  readCredits(chain: string): Promise<CreditEntry[]> {
    return this.#credits.readCredits(chain);
  }

  leaseCredits(chain: string, block: { n: number; size: number; leasedUntil: Date }): Promise<boolean> {
    return this.#credits.leaseCredits(chain, block);
  }

  returnCredits(chain: string, n: number, amount: number): Promise<void> {
    return this.#credits.returnCredits(chain, n, amount);
  }

  subscribe(listener: KeyChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Part of the key's write: the event waits in the key record's outbox until it is in the log. */
  #stage(keyId: string, event: KeyEvent): void {
    const box = this.#outbox.get(keyId) ?? new Map<string, KeyEvent>();
    this.#outbox.set(keyId, box);
    box.set(event.id, structuredClone(event));
  }

  /**
   * Moves events of the key's outbox to the log (only `only` when given): append (idempotent by id), then
   * clear. A failure leaves the event in the outbox for `deliverEvents` (the key's write has happened and
   * stays) and, when `strict`, is rethrown.
   */
  async #deliverKey(keyId: string, only?: string, strict = false): Promise<number> {
    const box = this.#outbox.get(keyId);
    let moved = 0;
    for (const event of [...(box?.values() ?? [])]) {
      if (only !== undefined && event.id !== only) continue;
      try {
        await this.#events.append(event);
        await this.#events.beforeClear(event.id);
      } catch (error) {
        if (strict) throw error;
        continue;
      }
      box?.delete(event.id);
      moved++;
    }
    if (box?.size === 0) this.#outbox.delete(keyId);
    return moved;
  }

  #copy(id: string | undefined): StoredKey | null {
    const key = id === undefined ? undefined : this.#byId.get(id);
    return key ? structuredClone(key) : null;
  }

  #emit(id: string): void {
    for (const listener of this.#listeners) {
      try {
        listener({ id });
      } catch {
        // A failing subscriber must not fail the write.
      }
    }
  }
}
