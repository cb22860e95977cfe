import type { EventContext } from '../events/events.js';
import { type ImportResult, importedKey, importKeyInputSchema } from '../lifecycle/import-key.js';
import { keyCapReached, roomForKeys } from '../lifecycle/key-cap.js';
import { newKeyExpiry } from '../lifecycle/lifetime.js';
import { toApiKey } from '../schemas/serialize.js';
import { DuplicateKeyError, isKeywardError, KeywardError } from '../shared/errors.js';
import { parseInput } from '../shared/parse-input.js';
import type { ApiKey, StoredKey } from '../shared/types.js';
import {
  checkOrganization,
  checkRoom,
  checkSemantics,
  creatorOf,
  type OperationContext,
  unique,
} from './context.js';

/** Parses and checks one import (throws `validation_error`) and builds its record. */
function prepareImport(
  ctx: OperationContext,
  organizationId: string,
  input: unknown,
  context?: EventContext,
): StoredKey {
  const { options } = ctx;
  const body = parseInput(importKeyInputSchema, input);
  const scopes = body.scopes === undefined ? options.scopes.defaults(body.type) : unique(body.scopes);
  const expiresAt = newKeyExpiry(options.lifetime, body.type, body.expiresAt, options.clock());
  checkSemantics(
    ctx,
    { scopes, expiresAt, ...(body.plan !== undefined ? { plan: body.plan } : {}) },
    body.type,
  );
  const key = importedKey(
    organizationId,
    { ...body, expiresAt },
    { hash: ctx.hash, pepper: options.pepper, scopes, now: new Date(options.clock()) },
  );
  // Imported keys get the app's default limits for their type, like created ones (docs/reference.md §6).
  return { ...key, limits: [...options.limits.defaults[body.type]], createdBy: creatorOf(context) };
}

/** `keyward.importKey`: one key issued before Keyward; the same token again is a `conflict`. */
export async function importKey(
  ctx: OperationContext,
  organizationId: string,
  input: unknown,
  context?: EventContext,
): Promise<ApiKey> {
  checkOrganization(organizationId);
  const key = prepareImport(ctx, organizationId, input, context);
  await checkRoom(ctx, organizationId, 1);
  try {
    await ctx.write.insert(key, 'key.imported', context);
  } catch (error) {
    if (error instanceof DuplicateKeyError) {
      throw new KeywardError('conflict', { message: 'This key was imported already.' });
    }
    throw error;
  }
  return toApiKey(key, ctx.options.clock());
}

/** `keyward.importKeys`: one `ImportResult` per input, in order. */
export async function importKeys(
  ctx: OperationContext,
  organizationId: string,
  inputs: readonly unknown[],
  context?: EventContext,
): Promise<ImportResult[]> {
  checkOrganization(organizationId);
  if (!Array.isArray(inputs)) throw new TypeError('Keyward: importKeys takes an array of keys');
  const { store, clock, maxKeysPerOrganization: keyCap } = ctx.options;
  const results: ImportResult[] = new Array(inputs.length);
  const keys: StoredKey[] = [];
  const rows: number[] = [];
  inputs.forEach((input, row) => {
    try {
      keys.push(prepareImport(ctx, organizationId, input, context));
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
  const outcomes = await ctx.write.insertMany(keys, context);
  const now = clock();
  outcomes.forEach((duplicate, i) => {
    const key = keys[i] as StoredKey;
    results[rows[i] as number] = duplicate
      ? { status: 'exists' }
      : { status: 'imported', key: toApiKey(key, now) };
  });
  return results;
}
