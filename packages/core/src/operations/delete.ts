import type { EventContext } from '../events/events.js';
import type { WriteConditions } from '../lifecycle/write-path.js';
import { revokeOwnerInputSchema } from '../schemas/owner-schemas.js';
import { KeywardError } from '../shared/errors.js';
import { parseInput } from '../shared/parse-input.js';
import type { KeyOwner, StoredKey } from '../shared/types.js';
import { storeCall } from '../store/store-call.js';
import {
  checkOrganization,
  checkPrecondition,
  existing,
  MAX_WRITE_ATTEMPTS,
  type OperationContext,
  preconditionFailed,
  rollConflict,
} from './context.js';

/** Keys read per page by `revokeOwnerKeys`. */
const REVOKE_PAGE = 100;
/** Keys `revokeOwnerKeys` writes at the same time. */
const REVOKE_PARALLEL = 8;

/** `keyward.deleteKey`: revokes a key at once. */
export async function deleteKey(
  ctx: OperationContext,
  organizationId: string,
  id: string,
  context?: EventContext,
  conditions: WriteConditions = {},
): Promise<void> {
  checkOrganization(organizationId);
  const { store, clock } = ctx.options;
  // Read for the event's key name. Without `ifVersion` the write is unconditional: a delete wins over any
  // concurrent change; it is conditional only on the organization and on the key not being deleted yet.
  // With it, the guarded write is conditional on that version too.
  const current = await existing(ctx, organizationId, id);
  checkPrecondition(current, conditions);
  const { ifVersion } = conditions;
  const deleted = await ctx.write.change(
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
}

/** `keyward.revokeOwnerKeys`: disables or deletes every key of one owner, each with its own event. */
export async function revokeOwnerKeys(
  ctx: OperationContext,
  organizationId: string,
  owner: KeyOwner,
  options: { action: 'disable' | 'delete' },
  context?: EventContext,
): Promise<{ keyIds: string[] }> {
  checkOrganization(organizationId);
  const { store, clock } = ctx.options;
  const { change } = ctx.write;
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
}
