import { escapeRegExp, type KeyListQuery } from '@keyward/core/store';

/**
 * The filter of one page of `KeyStore.list` (see `KeyListQuery`) as one query document: position after
 * the cursor, search, type, and the status at `now` written as conditions on `expiresAt`, `disabled` and
 * `rolledAt` (status depends on the clock, so it is not stored). FerretDB 1.24 scans for any filter but
 * `_id` alone, so a page is still one query (sorted and limited by the server).
 *
 * @example
 * model.find(listFilter('org_1', { limit: 50, now: new Date() })).sort({ createdAt: -1, _id: -1 });
 */
export function listFilter(organizationId: string, query: KeyListQuery): Record<string, unknown> {
  const { now } = query;
  const and: Record<string, unknown>[] = [];
  const expired = { expiresAt: { $ne: null, $lte: now } };
  const notExpired = { $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] };
  if (query.after) {
    const { createdAt, id } = query.after;
    and.push({ $or: [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }] });
  }
  if (query.owner) and.push({ 'owner.type': query.owner.type, 'owner.id': query.owner.id });
  if (query.q) {
    const search: Record<string, unknown>[] = [{ name: { $regex: escapeRegExp(query.q), $options: 'i' } }];
    if (query.q.length === 4) search.push({ redactedKey: { $regex: `${escapeRegExp(query.q)}$` } });
    and.push({ $or: search });
  }
  switch (query.status) {
    case undefined:
      // Rolled keys whose grace period has ended are not listed unless asked for.
      and.push({ $or: [{ rolledAt: null }, { expiresAt: null }, { expiresAt: { $gt: now } }] });
      break;
    case 'expired':
      and.push(expired);
      break;
    case 'disabled':
      and.push(notExpired, { disabled: true });
      break;
    case 'rolled':
      and.push(notExpired, { disabled: false, rolledAt: { $ne: null } });
      break;
    case 'active':
      and.push(notExpired, { disabled: false, rolledAt: null });
      break;
  }
  return {
    organizationId,
    deletedAt: null,
    ...(query.type && { type: query.type }),
    $and: and,
  };
}
