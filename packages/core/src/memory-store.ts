import { DuplicateKeyError } from './errors.js';
import { matchesListQuery } from './key-list.js';
import type {
  KeyChangeListener,
  KeyChanges,
  KeyListQuery,
  KeyStore,
  UpdateConditions,
  UsageEntry,
} from './store.js';
import type { StoredKey } from './types.js';

/**
 * A complete in-process `KeyStore`, for tests, demos and single-process apps. Instances of the service
 * that share one `MemoryKeyStore` see each other's changes at once through `subscribe`.
 *
 * @example
 * const keyward = createKeyward({ store: new MemoryKeyStore(), scopes: ['read'] });
 */
export class MemoryKeyStore implements KeyStore {
  readonly #byId = new Map<string, StoredKey>();
  readonly #idByHash = new Map<string, string>();
  readonly #idBySlot = new Map<string, string>();
  readonly #listeners = new Set<KeyChangeListener>();

  async insert(key: StoredKey): Promise<void> {
    if (this.#byId.has(key.id)) throw new DuplicateKeyError('id');
    if (this.#idByHash.has(key.hash)) throw new DuplicateKeyError('hash');
    if (this.#idBySlot.has(key.slot)) throw new DuplicateKeyError('slot');
    this.#byId.set(key.id, structuredClone(key));
    this.#idByHash.set(key.hash, key.id);
    this.#idBySlot.set(key.slot, key.id);
    this.#emit(key.id);
  }

  async findByHash(hash: string): Promise<StoredKey | null> {
    return this.#copy(this.#idByHash.get(hash));
  }

  async findById(organizationId: string, id: string): Promise<StoredKey | null> {
    const key = this.#byId.get(id);
    if (!key || key.organizationId !== organizationId || key.deletedAt) return null;
    return structuredClone(key);
  }

  async findBySlot(slot: string): Promise<StoredKey | null> {
    return this.#copy(this.#idBySlot.get(slot));
  }

  async list(organizationId: string, query?: KeyListQuery): Promise<StoredKey[]> {
    const keys = [...this.#byId.values()].filter(
      (k) => k.organizationId === organizationId && !k.deletedAt && (!query || matchesListQuery(k, query)),
    );
    keys.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    return (query ? keys.slice(0, query.limit) : keys).map((k) => structuredClone(k));
  }

  async update(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    conditions: UpdateConditions = {},
  ): Promise<StoredKey | null> {
    const key = this.#byId.get(id);
    if (!key || key.organizationId !== organizationId || key.deletedAt) return null;
    if (conditions.version !== undefined && key.version !== conditions.version) return null;
    if (changes.slot !== undefined && changes.slot !== key.slot) {
      if (this.#idBySlot.has(changes.slot)) throw new DuplicateKeyError('slot');
      this.#idBySlot.delete(key.slot);
      this.#idBySlot.set(changes.slot, id);
    }
    Object.assign(key, structuredClone(changes));
    key.version += 1;
    this.#emit(id);
    return structuredClone(key);
  }

  async insertMany(keys: ReadonlyArray<StoredKey>): Promise<Array<DuplicateKeyError | null>> {
    const outcomes: Array<DuplicateKeyError | null> = [];
    for (const key of keys) {
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

  /** Moves the key to `hash` in one step (a process-local map cannot crash half-way). */
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
      const key = this.#byId.get(id);
      if (key && (!key.lastUsedAt || key.lastUsedAt < at)) key.lastUsedAt = new Date(at);
    }
  }

  subscribe(listener: KeyChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
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
