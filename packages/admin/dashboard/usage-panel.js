// The Usage panel (docs/reference.md §9): the organization's verifications, or one key's (picked in the
// panel, or with "Show usage" in the key's "…" menu), over 24 hours, 7, 30 or 90 days, as a chart with a
// table alternative. A key with credits (docs/reference.md §10) shows its balance and next refill above the
// chart, read only (the operator sets credits through the API).

import { h, replaceChildren } from './dom.js';
import { asApiError, showError } from './feedback.js';
import { timeElement } from './format.js';
import { usageChart } from './usage-chart.js';

/** @typedef {import('./api.js').Key} Key */

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The range picker: value, label, buckets, granularity. */
const RANGES = /** @type {const} */ ([
  ['24h', '24 hours', 24, 'hour'],
  ['7d', '7 days', 7 * 24, 'hour'],
  ['30d', '30 days', 30, 'day'],
  ['90d', '90 days', 90, 'day'],
]);

/**
 * The query of the last `buckets` buckets of `granularity` up to `now` (the current one included).
 * @param {number} now
 * @param {number} buckets
 * @param {'hour' | 'day'} granularity
 */
export function usageQuery(now, buckets, granularity) {
  const size = granularity === 'day' ? DAY : HOUR;
  return {
    granularity,
    from: new Date(now - (buckets - 1) * size).toISOString(),
    to: new Date(now).toISOString(),
  };
}

/**
 * @param {{ api: import('./api.js').Api, keys: () => Key[], now?: () => number }} deps `keys`: the keys
 *   loaded now (the choices of the key picker)
 */
export function createUsagePanel({ api, keys, now = Date.now }) {
  /** @type {{ id: string, name: string } | null} */
  let key = null;
  /** @type {string} */
  let range = '7d';
  let generation = 0;
  const title = h('h2', { class: 'kw-section-title', id: 'kw-usage-title', tabindex: '-1' }, 'Usage');
  const picked = /** @type {HTMLSelectElement} */ (
    h('select', {
      class: 'kw-input',
      id: 'kw-usage-key',
      name: 'keyId',
      onchange: () => {
        const chosen = keys().find((k) => k.id === picked.value);
        void show(chosen ? { id: chosen.id, name: chosen.name } : null);
      },
    })
  );
  const picker = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      {
        class: 'kw-input',
        id: 'kw-usage-range',
        name: 'range',
        onchange: () => {
          range = picker.value;
          void load();
        },
      },
      RANGES.map(([value, label]) => h('option', { value, selected: value === range }, label)),
    )
  );
  const credits = h('p', { class: 'kw-hint kw-credits', id: 'kw-usage-credits', hidden: true });
  const body = h('div', { class: 'kw-usage-body', id: 'kw-usage-body' }, 'Loading usage…');
  const alert = h('div', { class: 'kw-alert', role: 'alert' });
  const element = h(
    'section',
    { class: 'kw-card kw-usage', 'aria-labelledby': title.id },
    title,
    h(
      'div',
      { class: 'kw-usage-controls' },
      h('label', { for: picked.id }, 'Key'),
      picked,
      h('label', { for: picker.id }, 'Range'),
      picker,
    ),
    alert,
    credits,
    body,
  );

  /** The key choices: all keys, then the loaded ones (and the shown key if it is no longer loaded). */
  function fillChoices() {
    const listed = keys().map((k) => ({ id: k.id, label: `${k.name} (${k.redactedKey})` }));
    if (key && !listed.some((k) => k.id === key?.id)) listed.push({ id: key.id, label: key.name });
    replaceChildren(
      picked,
      h('option', { value: '' }, 'All keys'),
      listed.map((k) => h('option', { value: k.id, selected: k.id === key?.id }, k.label)),
    );
  }

  /** Reads the shown usage again; an older answer arriving late is dropped. */
  async function load() {
    fillChoices();
    const mine = ++generation;
    const [, label, buckets, granularity] = RANGES.find(([value]) => value === range) ?? RANGES[1];
    element.setAttribute('aria-busy', 'true');
    void loadCredits(mine);
    try {
      const usage = await api.usage(key?.id ?? null, usageQuery(now(), buckets, granularity));
      if (mine !== generation) return;
      replaceChildren(alert);
      replaceChildren(body, usageChart(usage, { title: `${key ? key.name : 'All keys'}, last ${label}` }));
    } catch (error) {
      if (mine !== generation) return;
      replaceChildren(body);
      showError(alert, asApiError(error));
    } finally {
      if (mine === generation) element.setAttribute('aria-busy', 'false');
    }
  }

  /**
   * The shown key's credits: its balance and next refill, or nothing when it has none (or the server has
   * no credits route, or it could not be read: the usage is what the panel is for).
   * @param {number} mine the load it belongs to
   */
  async function loadCredits(mine) {
    if (!key) {
      credits.hidden = true;
      replaceChildren(credits);
      return;
    }
    /** @type {import('./api.js').Credits | null} */
    let balance = null;
    try {
      balance = await api.credits(key.id);
    } catch {
      balance = null;
    }
    if (mine !== generation) return;
    credits.hidden = balance === null;
    replaceChildren(credits, balance === null ? [] : creditsText(balance));
  }

  /** Shows one key's usage (`null`: the organization's). @param {{ id: string, name: string } | null} next */
  async function show(next) {
    key = next;
    await load();
  }

  return {
    element,
    load,
    /** A key's usage: the panel scrolled into view, its heading focused. @param {Key} k */
    showKey: async (k) => {
      const shown = show({ id: k.id, name: k.name });
      element.scrollIntoView({ block: 'start' });
      title.focus();
      await shown;
    },
  };
}

/**
 * "Credits: 40 left, next refill of 100 at <time> (every 3,600 s)", or without the refill part.
 * @param {import('./api.js').Credits} balance
 */
function creditsText(balance) {
  const parts = [h('strong', {}, 'Credits:'), ` ${balance.remaining.toLocaleString('en')} left`];
  if (balance.refill && balance.refillsAt) {
    parts.push(
      `, next refill of ${balance.refill.amount.toLocaleString('en')} `,
      timeElement(balance.refillsAt, 'relative'),
      ` (every ${balance.refill.intervalSeconds.toLocaleString('en')} s)`,
    );
  }
  if (balance.source === 'plan') parts.push(", from the key's plan");
  return parts;
}
