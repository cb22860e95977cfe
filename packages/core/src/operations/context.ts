import type { ResolvedOptions } from '../config/options.js';
import { type EventContext, MAX_EVENT_TEXT, SYSTEM_ACTOR } from '../events/events.js';
import type { TokenHasher } from '../format/hash.js';
import { isKeyId, newKeyId } from '../format/ids.js';
import { generateToken, redactToken } from '../format/key-format.js';
import { keyCapReached, roomForKeys } from '../lifecycle/key-cap.js';
import { lifetimeDetails } from '../lifecycle/lifetime.js';
import { newStoredKey, type StoredKeyFields } from '../lifecycle/stored-key.js';
import type { createWritePath, WriteConditions } from '../lifecycle/write-path.js';
import { limitsOverMax } from '../policies/limit-options.js';
import { KeywardError, type ValidationDetail } from '../shared/errors.js';
import type { KeyCreator, KeyLimit, KeyType, StoredKey } from '../shared/types.js';
import { storeCall } from '../store/store-call.js';

/**
 * What every operation of the service receives: the resolved options, the token hasher, the guarded write
 * path and this instance's verify cache. Built once by `createKeyward`.
 */
export interface OperationContext {
  options: ResolvedOptions;
  hash: TokenHasher;
  write: ReturnType<typeof createWritePath>;
  /** This instance's verify cache: `invalidate` forgets one key, `clear` every key. */
  cache: { invalidate(id: string): void; clear(): void };
}

const MAX_ORGANIZATION_ID_LENGTH = 200;

/** Read-check-write rounds of an update before it gives up with 409 under constant concurrent change. */
export const MAX_WRITE_ATTEMPTS = 3;

export function checkOrganization(organizationId: unknown): asserts organizationId is string {
  if (
    typeof organizationId !== 'string' ||
    organizationId.length === 0 ||
    organizationId.length > MAX_ORGANIZATION_ID_LENGTH
  ) {
    throw new TypeError('Keyward: organizationId must be a non-empty string of at most 200 characters');
  }
}

/** The fields of a new key with a fresh id and token: the caller names the rest. */
export type NewKeyFields = Omit<
  StoredKeyFields,
  'id' | 'organizationId' | 'hash' | 'token' | 'redactedKey' | 'createdAt'
>;

/** A new key with a fresh id and token (shown once), hashed under the current pepper. */
export function newKey(ctx: OperationContext, organizationId: string, fields: NewKeyFields) {
  const id = newKeyId();
  const token = generateToken(ctx.options.prefix, fields.type);
  const key = newStoredKey({
    ...fields,
    id,
    organizationId,
    hash: ctx.hash(token),
    token: fields.type === 'public' ? token : null,
    redactedKey: redactToken(token),
    createdAt: new Date(ctx.options.clock()),
    meta: fields.meta ?? null,
    owner: fields.owner ?? null,
    plan: fields.plan ?? null,
    createdBy: fields.createdBy ?? null,
  });
  return { key, token };
}

/** 409 when the organization has no room for `n` more keys (see key-cap.ts). */
export async function checkRoom(ctx: OperationContext, organizationId: string, n: number): Promise<void> {
  const cap = ctx.options.maxKeysPerOrganization;
  if ((await roomForKeys(ctx.options.store, organizationId, cap)) < n) throw keyCapReached(cap);
}

/** The organization's key, or 404 `not_found`. */
export async function existing(
  ctx: OperationContext,
  organizationId: string,
  id: string,
): Promise<StoredKey> {
  const { store } = ctx.options;
  const key = isKeyId(id) ? await storeCall('findById', () => store.findById(organizationId, id)) : null;
  if (!key) throw new KeywardError('not_found');
  return key;
}

/** The fields `checkSemantics` judges. */
export interface SemanticFields {
  plan?: string | null;
  scopes?: string[];
  expiresAt?: Date | null;
  limits?: readonly KeyLimit[];
  allowedOrigins?: readonly string[];
}

/** Problems with scopes, expiry and policies that depend on the app's options, the type and the clock. */
export function checkSemantics(ctx: OperationContext, fields: SemanticFields, type: KeyType): void {
  const { options } = ctx;
  const now = options.clock();
  const details: ValidationDetail[] = [];
  if (fields.scopes) details.push(...options.scopes.check(fields.scopes, type));
  if (fields.expiresAt && fields.expiresAt.getTime() <= now) {
    details.push({ path: 'expiresAt', message: 'Must be in the future.' });
  }
  if (fields.expiresAt !== undefined) {
    details.push(...lifetimeDetails(options.lifetime, type, fields.expiresAt, now));
  }
  if (fields.limits) details.push(...limitsOverMax(fields.limits, options.limits.max[type]));
  if (typeof fields.plan === 'string' && !options.plans.has(fields.plan)) {
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
export async function withRetries<T>(attempt: () => Promise<T | null>): Promise<T> {
  for (let tries = 1; ; tries++) {
    const done = await attempt();
    if (done !== null) return done;
    if (tries >= MAX_WRITE_ATTEMPTS) {
      throw new KeywardError('conflict', { message: 'The key was changed at the same time. Try again.' });
    }
  }
}

/** 412 when the caller asked for a version (`If-Match`) the key is no longer at. */
export function checkPrecondition(key: StoredKey, { ifVersion }: WriteConditions): void {
  if (ifVersion !== undefined && key.version !== ifVersion) throw preconditionFailed();
}

export function preconditionFailed(): KeywardError {
  return new KeywardError('precondition_failed');
}

export function rollConflict(): KeywardError {
  return new KeywardError('conflict', { message: 'The key was changed at the same time. Try again.' });
}

export function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The actor of a creation event, as the key keeps it (`createdBy`). */
export function creatorOf(context: EventContext | undefined): KeyCreator {
  const actor = context?.actor ?? SYSTEM_ACTOR;
  return { type: actor.type, id: actor.id.slice(0, MAX_EVENT_TEXT) };
}
