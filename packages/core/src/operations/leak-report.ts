import type { ResolvedOptions } from '../config/options.js';
import {
  buildKeyEvent,
  derivedEventId,
  type EventContext,
  type KeyEvent,
  MAX_EVENT_TEXT,
} from '../events/events.js';
import type { TokenHasher } from '../format/hash.js';
import { tokenType } from '../format/key-format.js';
import { createHashers } from '../format/pepper.js';
import { isKeywardError } from '../shared/errors.js';
import type { KeyType, StoredKey } from '../shared/types.js';
import { storeCall } from '../store/store-call.js';
import { createKeyLookup } from '../verify/key-lookup.js';

/**
 * What to do with a secret key whose token was reported leaked: delete it (`revoke`), disable it
 * (`disable`, reversible), or only record the report (`report`). Public keys are public by design: they are
 * always only reported.
 */
export type LeakAction = 'revoke' | 'disable' | 'report';

/** The actions a leak report may take, in the order of `LeakAction`. */
export const LEAK_ACTIONS: readonly LeakAction[] = Object.freeze(['revoke', 'disable', 'report']);

/** Where a leaked token was found, and what to do about it (`keyward.reportLeak`). */
export interface LeakReport {
  /** Who found it, e.g. `github:content` or your scanner's name; at most 512 characters kept. @default "unknown" */
  source?: string;
  /** Where it was found (a URL to the commit, paste or log); at most 512 characters kept. @default "" */
  url?: string;
  /** What to do with a secret key. @default "revoke" */
  onLeak?: LeakAction;
}

/** What a leak report found and did. Holds no token. */
export interface LeakResult {
  /**
   * Whether the token is one this service issued (a key of any organization, already revoked or not):
   * GitHub's `true_positive`.
   */
  found: boolean;
  /**
   * `revoked` / `disabled`: the key was deleted / disabled now (or was disabled already, for `disable`);
   * `reported`: the event was recorded and nothing else (a public key, or `onLeak: 'report'`); `none`: no
   * key, or a key already revoked.
   */
  action: 'revoked' | 'disabled' | 'reported' | 'none';
  /** The key the token names; `null` when `found` is false. */
  key: { id: string; organizationId: string; name: string; type: KeyType } | null;
}

/** What the service lends the leak reporter: its two mutations, so every change goes through one path. */
export interface LeakMutations {
  deleteKey(organizationId: string, id: string, context?: EventContext): Promise<void>;
  updateKey(
    organizationId: string,
    id: string,
    input: { disabled: true },
    context?: EventContext,
  ): Promise<unknown>;
}

/** The actor of every change a leak report makes. */
const LEAK_CONTEXT: EventContext = Object.freeze({
  actor: Object.freeze({ type: 'system', id: 'leak-report' }),
}) as EventContext;

/**
 * Builds `keyward.reportLeak` (docs/reference.md §11) for one service: finds the key of a Keyward-format token (by
 * its hash, also under previous peppers; a token of another format names no key and costs no read),
 * records a `key.leaked` event with `source` and `url` (never the token; its id is derived from the key,
 * source and url, so a report delivered twice keeps one event in the log), hands it to `onEvent`, then acts
 * on a secret key per `onLeak` through the service's own `deleteKey` / `updateKey` (events `key.deleted` /
 * `key.disabled`, caches invalidated, other instances told through the store's feed).
 *
 * @example
 * const reportLeak = createLeakReporter(resolved, hash, (event) => publisher.publish(event));
 * await reportLeak(service, token, { source: 'github:content', url, onLeak: 'revoke' });
 */
export function createLeakReporter(
  resolved: ResolvedOptions,
  hash: TokenHasher,
  publish: (event: KeyEvent) => void,
): (service: LeakMutations, token: unknown, report?: LeakReport) => Promise<LeakResult> {
  const { store, clock, prefix } = resolved;
  const { previous } = createHashers({ current: resolved.pepper, previous: resolved.previousPeppers });
  const find = createKeyLookup(store, { current: hash, fallbacks: previous });

  return async (service, token, report = {}) => {
    const { source, url, onLeak } = checkReport(report);
    const type = tokenType(token, prefix);
    if (type === null) return NOT_FOUND;
    const key = await find(token as string, false);
    if (key === null || key.type !== type) return NOT_FOUND;

    await record(key, source, url);
    return { found: true, action: await act(service, key, onLeak), key: describe(key) };
  };

  async function record(key: StoredKey, source: string, url: string): Promise<void> {
    const event: KeyEvent = {
      ...buildKeyEvent(
        'key.leaked',
        key,
        new Date(clock()),
        LEAK_CONTEXT,
        undefined,
        derivedEventId(`key.leaked:${key.id}:${source}\n${url}`),
      ),
      source,
      url,
    };
    const append = store.appendEvent?.bind(store);
    if (append) await storeCall('appendEvent', () => append(event));
    publish(event);
  }
}

async function act(
  service: LeakMutations,
  key: StoredKey,
  onLeak: LeakAction,
): Promise<LeakResult['action']> {
  if (key.deletedAt !== null) return 'none';
  if (key.type === 'public' || onLeak === 'report') return 'reported';
  try {
    if (onLeak === 'revoke') {
      await service.deleteKey(key.organizationId, key.id, LEAK_CONTEXT);
      return 'revoked';
    }
    if (!key.disabled) await service.updateKey(key.organizationId, key.id, { disabled: true }, LEAK_CONTEXT);
    return 'disabled';
  } catch (error) {
    // Deleted in between (by someone else, or by a report of the same token running at the same time).
    if (isKeywardError(error) && error.code === 'not_found') return 'none';
    throw error;
  }
}

const NOT_FOUND: LeakResult = Object.freeze({ found: false, action: 'none', key: null });

function describe(key: StoredKey): NonNullable<LeakResult['key']> {
  return { id: key.id, organizationId: key.organizationId, name: key.name, type: key.type };
}

function checkReport(report: LeakReport): Required<LeakReport> {
  if (typeof report !== 'object' || report === null) {
    throw new TypeError('Keyward: reportLeak(token, { source, url, onLeak }) takes an options object');
  }
  const { source = 'unknown', url = '', onLeak = 'revoke' } = report;
  if (typeof source !== 'string' || typeof url !== 'string') {
    throw new TypeError('Keyward: reportLeak source and url must be strings');
  }
  if (!LEAK_ACTIONS.includes(onLeak)) {
    throw new TypeError('Keyward: reportLeak onLeak must be "revoke", "disable" or "report"');
  }
  return { source: cut(source), url: cut(url), onLeak };
}

function cut(value: string): string {
  return value.length > MAX_EVENT_TEXT ? value.slice(0, MAX_EVENT_TEXT) : value;
}
