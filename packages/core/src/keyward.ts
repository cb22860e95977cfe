import { DuplicateKeyError, KeywardError } from './errors.js';
import { createTokenHasher } from './hash.js';
import { isKeyId, newKeyId } from './ids.js';
import { generateToken, redactToken } from './key-format.js';
import { type KeywardOptions, resolveOptions } from './options.js';
import type { ScopePolicy } from './scopes.js';
import { toApiKey } from './serialize.js';
import { keyStatus } from './status.js';
import type { KeyChanges } from './store.js';
import { storeCall } from './store-call.js';
import type { ApiKey, KeyType, StoredKey, VerifyRequirements, VerifyResult } from './types.js';
import { UsageRecorder } from './usage.js';
import {
  Checker,
  type CreateKeyInput,
  DEFAULT_GRACE_PERIOD_SECONDS,
  type UpdateKeyInput,
} from './validate.js';
import { Verifier } from './verify.js';

/** The name of the key every organization gets when provisioned. */
export const DEFAULT_KEY_NAME = 'Default API Key';
const MAX_ORGANIZATION_ID_LENGTH = 200;

/** A created or rolled key with its full token, which is shown exactly once. */
export interface KeyWithToken {
  key: ApiKey;
  token: string;
}

/** The Keyward service: the whole key lifecycle and verification. Create it with `createKeyward`. */
export interface Keyward {
  /** The token prefix, e.g. `kw`. */
  readonly prefix: string;
  /** The scope catalog and the public ceiling. */
  readonly scopes: ScopePolicy;
  /** Creates the organization's public `Default API Key` once; later calls return the current default. */
  provisionOrganization(organizationId: string): Promise<{ created: boolean; key: ApiKey | null }>;
  createKey(organizationId: string, input: CreateKeyInput): Promise<KeyWithToken>;
  /** The organization's keys, newest first; deleted keys are never listed. */
  listKeys(organizationId: string): Promise<ApiKey[]>;
  /** The key, or `null` for an unknown, malformed, deleted or other organization's id. */
  getKey(organizationId: string, id: string): Promise<ApiKey | null>;
  updateKey(organizationId: string, id: string, input: UpdateKeyInput): Promise<ApiKey>;
  /** Replaces a key; the old one keeps working for the grace period. */
  rollKey(
    organizationId: string,
    id: string,
    options?: { gracePeriodSeconds?: number },
  ): Promise<KeyWithToken & { previous: ApiKey }>;
  /** Revokes a key at once. */
  deleteKey(organizationId: string, id: string): Promise<void>;
  /** Checks a token; expected refusals are data (`{ valid: false, code }`), never exceptions. */
  verify(token: unknown, requirements?: VerifyRequirements): Promise<VerifyResult>;
  /** Writes pending `lastUsedAt` updates now (they are otherwise batched every second). */
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
  const verifier = new Verifier(resolved, hash, (id, keyHash) => usage.touch(id, keyHash));
  const unsubscribe = store.subscribe?.((event) => {
    if ('id' in event) verifier.invalidate(event.id);
    else verifier.clear();
  });

  function newKey(organizationId: string, fields: Omit<NewKeyFields, 'id'> & { id?: string }) {
    const id = fields.id ?? newKeyId();
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
    };
    return { key, token };
  }

  async function insert(key: StoredKey): Promise<void> {
    await storeCall('insert', () => store.insert(key));
    verifier.invalidate(key.id);
  }

  async function change(organizationId: string, id: string, changes: KeyChanges, notRolled = false) {
    const updated = await storeCall('update', () =>
      store.update(organizationId, id, { ...changes, updatedAt: new Date(clock()) }, { notRolled }),
    );
    verifier.invalidate(id);
    return updated;
  }

  async function existing(organizationId: string, id: string): Promise<StoredKey> {
    checkOrganization(organizationId);
    const key = isKeyId(id) ? await storeCall('findById', () => store.findById(organizationId, id)) : null;
    if (!key) throw new KeywardError('not_found');
    return key;
  }

  return {
    prefix,
    scopes: policy,

    async provisionOrganization(organizationId) {
      checkOrganization(organizationId);
      const slot = `default:${organizationId}`;
      const { key } = newKey(organizationId, {
        name: DEFAULT_KEY_NAME,
        type: 'public',
        scopes: policy.defaults('public'),
        expiresAt: null,
        isDefault: true,
        slot,
      });
      try {
        await insert(key);
        return { created: true, key: toApiKey(key, clock()) };
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
      }
      return { created: false, key: await currentDefault(slot) };
    },

    async createKey(organizationId, input) {
      checkOrganization(organizationId);
      const check = new Checker();
      const body = (input ?? {}) as Partial<CreateKeyInput>;
      const name = check.name(body.name);
      const type = check.type(body.type);
      const scopes =
        body.scopes === undefined ? policy.defaults(type) : check.scopes(body.scopes, type, policy);
      const expiresAt = body.expiresAt === undefined ? null : check.expiresAt(body.expiresAt, clock());
      check.done();
      const { key, token } = newKey(organizationId, { name, type, scopes, expiresAt, isDefault: false });
      await insert(key);
      return { key: toApiKey(key, clock()), token };
    },

    async listKeys(organizationId) {
      checkOrganization(organizationId);
      const keys = await storeCall('list', () => store.list(organizationId));
      const now = clock();
      return keys.map((k) => toApiKey(k, now));
    },

    async getKey(organizationId, id) {
      checkOrganization(organizationId);
      if (!isKeyId(id)) return null;
      const key = await storeCall('findById', () => store.findById(organizationId, id));
      return key ? toApiKey(key, clock()) : null;
    },

    async updateKey(organizationId, id, input) {
      const current = await existing(organizationId, id);
      const check = new Checker();
      const body = (input ?? {}) as UpdateKeyInput;
      const changes: KeyChanges = {};
      if (body.name !== undefined) changes.name = check.name(body.name);
      if (body.scopes !== undefined) changes.scopes = check.scopes(body.scopes, current.type, policy);
      if (body.expiresAt !== undefined) changes.expiresAt = check.expiresAt(body.expiresAt, clock());
      if (body.disabled !== undefined) {
        if (typeof body.disabled === 'boolean') changes.disabled = body.disabled;
        else check.add('disabled', 'Must be a boolean.');
      }
      check.done();
      if (current.rolledAt && changes.expiresAt !== undefined) {
        const later =
          changes.expiresAt === null || (current.expiresAt !== null && changes.expiresAt > current.expiresAt);
        if (later) throw new KeywardError('conflict', { message: 'A rolled key cannot be given more time.' });
      }
      const updated = await change(organizationId, id, changes);
      if (!updated) throw new KeywardError('not_found');
      return toApiKey(updated, clock());
    },

    async rollKey(organizationId, id, rollOptions = {}) {
      const old = await existing(organizationId, id);
      const check = new Checker();
      const grace = check.gracePeriodSeconds(rollOptions.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS);
      check.done();
      const status = keyStatus(old, clock());
      if (status !== 'active')
        throw new KeywardError('conflict', { message: `A key that is ${status} cannot be rolled.` });
      const fields = {
        name: old.name,
        type: old.type,
        scopes: old.scopes,
        expiresAt: old.expiresAt,
        isDefault: old.isDefault,
      };
      const { key, token } = newKey(organizationId, fields);
      await insert(key);
      const now = clock();
      const graceEnd = now + grace * 1000;
      const end = old.expiresAt && old.expiresAt.getTime() < graceEnd ? old.expiresAt : new Date(graceEnd);
      const previous = await change(
        organizationId,
        id,
        { rolledAt: new Date(now), replacedBy: key.id, expiresAt: end },
        true,
      );
      if (!previous) {
        // Lost a race with another roll or a delete: take the new key back.
        await change(organizationId, key.id, { deletedAt: new Date(now) });
        throw new KeywardError('conflict', { message: 'The key was changed at the same time. Try again.' });
      }
      return { key: toApiKey(key, now), token, previous: toApiKey(previous, now) };
    },

    async deleteKey(organizationId, id) {
      checkOrganization(organizationId);
      // The update is already conditional on the organization and on the key not being deleted.
      const deleted = isKeyId(id) ? await change(organizationId, id, { deletedAt: new Date(clock()) }) : null;
      if (!deleted) throw new KeywardError('not_found');
    },

    verify: (token, requirements) => verifier.verify(token, requirements),

    flushUsage: () => usage.flush(),

    async close() {
      unsubscribe?.();
      verifier.clear();
      await usage.flush();
    },
  };

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

interface NewKeyFields {
  id: string;
  name: string;
  type: KeyType;
  scopes: string[];
  expiresAt: Date | null;
  isDefault: boolean;
  slot?: string;
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
