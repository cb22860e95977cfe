import type { KeyEvent } from '../events/events.js';
import { compareEvents } from '../store/event-log.js';
import type { EventListQuery, KeyStore } from '../store/store.js';
import { storeCall } from '../store/store-call.js';

/** The most keys one roll chain is followed through (each roll adds one). */
export const MAX_CHAIN_KEYS = 100;

/**
 * The ids of the roll chain `keyId` belongs to, oldest first (docs/reference.md §7): followed back through
 * each key's `key.created` event (`rolledFrom`) and forward through its `key.rolled` event (`replacedBy`,
 * or the key's own `replacedBy` while it exists, for rolls recorded before events named the new key).
 * Links to another organization's key cannot exist: every lookup is within `organizationId`.
 *
 * @example
 * await rollChain(store, 'org_1', 'key_…'); // ['key_first…', 'key_second…', 'key_…']
 */
export async function rollChain(store: KeyStore, organizationId: string, keyId: string): Promise<string[]> {
  const listEvents = store.listEvents;
  if (!listEvents) return [keyId];
  const link = async (id: string, type: 'key.created' | 'key.rolled'): Promise<string | undefined> => {
    const [event] = await storeCall('listEvents', () =>
      listEvents.call(store, organizationId, { limit: 1, keyId: id, type }),
    );
    return type === 'key.created' ? event?.rolledFrom : event?.replacedBy;
  };
  const chain = [keyId];
  const seen = new Set(chain);
  for (let id = await link(keyId, 'key.created'); id && !seen.has(id) && seen.size < MAX_CHAIN_KEYS; ) {
    chain.unshift(id);
    seen.add(id);
    id = await link(id, 'key.created');
  }
  for (let from = keyId; seen.size < MAX_CHAIN_KEYS; ) {
    let next = await link(from, 'key.rolled');
    if (!next) {
      const key = await storeCall('findById', () => store.findById(organizationId, from));
      next = key?.replacedBy ?? undefined;
    }
    if (!next || seen.has(next)) break;
    chain.push(next);
    seen.add(next);
    from = next;
  }
  return chain;
}

/**
 * One page of the events of every key of `keyIds` (`EventListQuery` without `keyId`), newest first: the
 * newest `query.limit` after `query.after` of each key, merged. Each key's page is in list order, so the
 * merged page is exactly the page a single query over all of them would answer.
 *
 * @example
 * await listEventsOfKeys(store, 'org_1', chain, { limit: 51 });
 */
export async function listEventsOfKeys(
  store: KeyStore,
  organizationId: string,
  keyIds: readonly string[],
  query: Omit<EventListQuery, 'keyId'>,
): Promise<KeyEvent[]> {
  const listEvents = store.listEvents;
  if (!listEvents) return [];
  const pages = await Promise.all(
    keyIds.map((keyId) =>
      storeCall('listEvents', () => listEvents.call(store, organizationId, { ...query, keyId })),
    ),
  );
  return pages.flat().sort(compareEvents).slice(0, query.limit);
}
