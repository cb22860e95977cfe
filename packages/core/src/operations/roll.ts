import type { EventContext } from '../events/events.js';
import { keyStatus } from '../format/status.js';
import type { WriteConditions } from '../lifecycle/write-path.js';
import { DEFAULT_GRACE_PERIOD_SECONDS, rollKeyInputSchema } from '../schemas/schemas.js';
import { toApiKey } from '../schemas/serialize.js';
import { DuplicateKeyError, KeywardError } from '../shared/errors.js';
import { parseInput } from '../shared/parse-input.js';
import type { ApiKey, StoredKey } from '../shared/types.js';
import { storeCall } from '../store/store-call.js';
import type { KeyWithToken } from './api.js';
import {
  checkOrganization,
  checkPrecondition,
  checkSemantics,
  existing,
  newKey,
  type OperationContext,
  preconditionFailed,
  rollConflict,
} from './context.js';

/** `keyward.rollKey`: a successor now, the old key kept for the grace period, in one guarded write. */
export async function rollKey(
  ctx: OperationContext,
  organizationId: string,
  id: string,
  rollOptions?: unknown,
  context?: EventContext,
  conditions: WriteConditions = {},
): Promise<KeyWithToken & { previous: ApiKey }> {
  checkOrganization(organizationId);
  const { store, clock } = ctx.options;
  const { gracePeriodSeconds = DEFAULT_GRACE_PERIOD_SECONDS } = parseInput(
    rollKeyInputSchema,
    rollOptions === undefined ? {} : rollOptions,
  );
  const old = await existing(ctx, organizationId, id);
  checkPrecondition(old, conditions);
  const status = keyStatus(old, clock());
  if (status !== 'active') {
    throw new KeywardError('conflict', { message: `A key that is ${status} cannot be rolled.` });
  }
  // The successor keeps the key's expiry: it must obey the lifetime policy as if written now.
  checkSemantics(ctx, { expiresAt: old.expiresAt }, old.type);
  const { key, token } = newKey(ctx, organizationId, {
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
  // Credits go with the credential (docs/reference.md §10): the successor spends the same balance.
  if (old.credits) key.credits = old.credits;
  const now = clock();
  const graceEnd = now + gracePeriodSeconds * 1000;
  const end = old.expiresAt && old.expiresAt.getTime() < graceEnd ? old.expiresAt : new Date(graceEnd);
  let previous: StoredKey | null;
  try {
    // One guarded write, conditional on the version checked above: the old key is rolled and its
    // successor inserted together, or neither (a PATCH, disable, roll or delete in between wins).
    previous = await ctx.write.change(
      organizationId,
      id,
      { rolledAt: new Date(now), replacedBy: key.id, expiresAt: end },
      {
        version: old.version,
        // The roll names the new key, and the new key's history starts with the key it replaces.
        record: { type: 'key.rolled', keyName: old.name, context, details: { replacedBy: key.id } },
        successor: key,
        successorRecord: { type: 'key.created', keyName: key.name, context, details: { rolledFrom: old.id } },
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
}
