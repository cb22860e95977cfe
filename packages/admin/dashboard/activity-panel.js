// The Activity panel (docs/reference.md §7): the organization's key events, newest first, paged with "Load more",
// filtered by key. A key's history (from its "…" menu) is this panel filtered by that key: the API's
// `?keyId=…&chain=true` answers the events of the key's whole roll chain as one list, so keys rolled or
// deleted before this page loaded are included.

import { h, replaceChildren } from './dom.js';
import { asApiError, showError } from './feedback.js';
import { timeElement } from './format.js';

/** @typedef {import('./api.js').Key} Key */
/** @typedef {import('./api.js').KeyEvent} KeyEvent */

/** Events per page. */
const PAGE_SIZE = 20;

/** What each event type says, as people read it. */
const EVENT_LABELS = /** @type {Record<string, string>} */ ({
  'key.created': 'Created',
  'key.imported': 'Imported',
  'key.updated': 'Edited',
  'key.rolled': 'Rolled',
  'key.disabled': 'Disabled',
  'key.enabled': 'Enabled',
  'key.deleted': 'Deleted',
  'key.used_after_roll': 'Used after its roll',
  'key.leaked': 'Reported leaked',
  'key.dormant_soon': 'Dormant: will be disabled in 7 days',
});

/** The API's field names as people read them (the names of changed fields on `key.updated`). */
const CHANGE_LABELS = /** @type {Record<string, string>} */ ({
  name: 'name',
  scopes: 'scopes',
  expiresAt: 'expiry',
  disabled: 'disabled',
  limits: 'rate limits',
  allowedOrigins: 'allowed origins',
  allowedIps: 'allowed IP addresses',
});

/**
 * @param {{
 *   api: import('./api.js').Api,
 *   keys: () => Key[],
 *   describeActor?: (actor: KeyEvent['actor']) => string | null | undefined,
 * }} deps `keys`: the keys listed now (the choices of the key filter); `describeActor`: the host app's
 *   name for an actor (e.g. a user's display name), or nothing to show the id
 */
export function createActivityPanel({ api, keys, describeActor = () => null }) {
  /** @type {KeyEvent[]} */
  let events = [];
  /** Where the next page starts; `null` when every event is shown. @type {string | null} */
  let cursor = null;
  /** Redacted keys seen in any listing, by key id (a deleted key's events still name it). */
  const redacted = new Map();
  /** The key shown when it is no longer listed (deleted): its id and name. */
  let extraKey = { id: '', name: '' };
  let loaded = false;
  /** Each load gets a number; an answer to an older load is dropped. */
  let generation = 0;

  const title = h('h2', { class: 'kw-section-title', id: 'kw-activity-title', tabindex: '-1' }, 'Activity');
  const filter = /** @type {HTMLSelectElement} */ (
    h('select', { class: 'kw-input', id: 'kw-activity-key', name: 'keyId' })
  );
  const chainNote = h('p', { class: 'kw-hint', id: 'kw-activity-chain', hidden: true });
  const list = h('ol', { class: 'kw-events', id: 'kw-events', 'aria-labelledby': title.id });
  const state = h('p', { class: 'kw-table-state', id: 'kw-activity-state' }, 'Loading activity…');
  const alert = h('div', { class: 'kw-alert', role: 'alert' });
  const more = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'kw-button' }, 'Load more activity')
  );
  const paging = h('div', { class: 'kw-paging', hidden: true }, more);
  const element = h(
    'section',
    { class: 'kw-card kw-activity', id: 'kw-activity', 'aria-labelledby': title.id },
    h(
      'div',
      { class: 'kw-activity-head' },
      title,
      h(
        'div',
        { class: 'kw-field kw-activity-filter' },
        h('label', { class: 'kw-label', for: filter.id }, 'Key'),
        filter,
      ),
    ),
    chainNote,
    alert,
    list,
    state,
    paging,
  );

  /** The filter's choices: every key, the listed keys, and the shown key when it is not listed. */
  function renderFilter() {
    const chosen = filter.value;
    const listed = keys();
    for (const key of listed) redacted.set(key.id, key.redactedKey);
    const options = [h('option', { value: '' }, 'All keys')];
    for (const key of listed)
      options.push(h('option', { value: key.id }, `${key.name} (${key.redactedKey})`));
    if (extraKey.id && !listed.some((key) => key.id === extraKey.id)) {
      options.push(h('option', { value: extraKey.id }, `${extraKey.name} (no longer listed)`));
    }
    replaceChildren(filter, options);
    filter.value = chosen;
    if (filter.value !== chosen) filter.value = '';
  }

  /** @param {KeyEvent} event */
  function eventItem(event) {
    const label = EVENT_LABELS[event.type] ?? event.type;
    const changed =
      event.type === 'key.updated' && event.changes && event.changes.length > 0
        ? `: ${event.changes.map((/** @type {string} */ field) => CHANGE_LABELS[field] ?? field).join(', ')}`
        : '';
    let named = null;
    try {
      named = describeActor(event.actor);
    } catch {
      // The app's function failed: the id is shown.
    }
    const actor =
      typeof named === 'string' && named !== ''
        ? `by ${named}`
        : event.actor.type === 'system'
          ? `by the system (${event.actor.id})`
          : `by ${event.actor.type === 'api_key' ? 'API key' : 'user'} ${event.actor.id}`;
    return h(
      'li',
      { class: `kw-event kw-event-${event.type.replace('.', '-')}`, 'data-event-type': event.type },
      h('span', { class: 'kw-event-time' }, timeElement(event.at, 'datetime')),
      h(
        'span',
        { class: 'kw-event-what' },
        h('strong', {}, `${label}${changed}`),
        ' ',
        h(
          'span',
          { class: 'kw-event-key' },
          redacted.has(event.keyId) ? `${event.keyName} (${redacted.get(event.keyId)})` : event.keyName,
        ),
      ),
      h('span', { class: 'kw-event-who' }, actor, event.ip ? ` from ${readableIp(event.ip)}` : ''),
    );
  }

  /**
   * One page of events: the organization's, or the chosen key's whole roll chain.
   * @param {string | null} from
   * @param {number} limit
   */
  function readPage(from, limit) {
    const keyId = filter.value;
    return api.events(keyId ? { keyId, chain: 'true', limit, cursor: from } : { limit, cursor: from });
  }

  /** The note under a key's history: how many other keys of its roll chain the shown events name. */
  function renderChainNote() {
    const others = new Set(events.map((event) => event.keyId));
    others.delete(filter.value);
    chainNote.hidden = !filter.value || others.size === 0;
    chainNote.textContent =
      others.size === 1
        ? 'Includes the events of 1 other key of its roll chain.'
        : `Includes the events of ${others.size} other keys of its roll chain.`;
  }

  function render() {
    replaceChildren(list, events.map(eventItem));
    state.textContent =
      events.length > 0 ? '' : filter.value ? 'No activity for this key.' : 'No activity yet.';
    state.hidden = events.length > 0;
    paging.hidden = cursor === null;
    renderChainNote();
  }

  /** Reads the first page again (as many events as are shown, at most 100). */
  async function reload() {
    const mine = ++generation;
    const limit = Math.min(100, Math.max(PAGE_SIZE, events.length));
    element.setAttribute('aria-busy', 'true');
    try {
      const page = await readPage(null, limit);
      if (mine !== generation) return;
      cursor = page.nextCursor;
      events = page.data;
      loaded = true;
      replaceChildren(alert);
      alert.classList.remove('kw-shown');
      render();
    } catch (error) {
      if (mine !== generation) return;
      state.textContent = 'The activity could not be loaded.';
      state.hidden = false;
      showError(alert, asApiError(error));
    } finally {
      if (mine === generation) element.setAttribute('aria-busy', 'false');
    }
  }

  filter.addEventListener('change', () => {
    events = [];
    void reload();
  });

  more.addEventListener('click', async () => {
    if (cursor === null) return;
    const mine = generation;
    more.disabled = true;
    more.textContent = 'Loading…';
    try {
      const page = await readPage(cursor, PAGE_SIZE);
      if (mine !== generation) return;
      const known = new Set(events.map((event) => event.id));
      cursor = page.nextCursor;
      events = [...events, ...page.data.filter((event) => !known.has(event.id))];
      render();
    } catch (error) {
      showError(alert, asApiError(error));
    } finally {
      more.disabled = false;
      more.textContent = 'Load more activity';
    }
  });

  return {
    element,
    /** Loads the first page (all keys). */
    load: () => {
      renderFilter();
      return reload();
    },
    /** The key list changed (a reload, a change): new filter choices, and the newest events. */
    refresh: () => {
      renderFilter();
      return loaded ? reload() : Promise.resolve();
    },
    /**
     * A key's history: the panel filtered by `key`, scrolled into view, its heading focused.
     * @param {{ id: string, name: string }} key
     */
    showKey: async (key) => {
      extraKey = { id: key.id, name: key.name };
      renderFilter();
      filter.value = key.id;
      events = [];
      element.scrollIntoView({ block: 'start' });
      title.focus();
      await reload();
    },
  };
}

/**
 * An address as people write it: an IPv4 address mapped into IPv6 (`::ffff:127.0.0.1`, how Node reports
 * IPv4 clients of a dual-stack server) without its prefix.
 * @param {string} ip
 */
function readableIp(ip) {
  return ip.replace(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i, '$1');
}
