import type { EventContext } from '../events/events.js';
import type { ChangeRecord, WriteConditions } from '../lifecycle/write-path.js';
import { updateKeyInputSchema } from '../schemas/schemas.js';
import { toApiKey } from '../schemas/serialize.js';
import { KeywardError } from '../shared/errors.js';
import { parseInput } from '../shared/parse-input.js';
import type { ApiKey, StoredKey } from '../shared/types.js';
import type { KeyChanges } from '../store/store.js';
import {
  checkOrganization,
  checkPrecondition,
  checkSemantics,
  existing,
  type OperationContext,
  unique,
  withRetries,
} from './context.js';

/**
 * `keyward.updateKey`. Shape first (400), then existence (404), then what depends on the key (400 / 409);
 * one event per call, none when nothing changes.
 */
export async function updateKey(
  ctx: OperationContext,
  organizationId: string,
  id: string,
  input: unknown,
  context?: EventContext,
  conditions: WriteConditions = {},
): Promise<ApiKey> {
  checkOrganization(organizationId);
  const body = parseInput(updateKeyInputSchema, input === undefined ? {} : input);
  const updated = await withRetries(async () => {
    const current = await existing(ctx, organizationId, id);
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
    checkSemantics(ctx, changes, current.type);
    if (current.rolledAt && changes.expiresAt !== undefined) {
      const later =
        changes.expiresAt === null || (current.expiresAt !== null && changes.expiresAt > current.expiresAt);
      if (later) throw new KeywardError('conflict', { message: 'A rolled key cannot be given more time.' });
    }
    const changed = changedFields(current, changes);
    if (changed.length === 0) return current;
    const effective = Object.fromEntries(
      changed.map((field) => [field, changes[field as keyof KeyChanges]]),
    ) as KeyChanges;
    // Conditional on the version read: a roll, disable or delete in between makes it check again.
    return ctx.write.change(organizationId, id, effective, {
      version: current.version,
      record: { ...updateEvent(changed, effective), keyName: effective.name ?? current.name, context },
    });
  });
  return toApiKey(updated, ctx.options.clock());
}

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
