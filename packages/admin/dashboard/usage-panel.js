// The Usage panel (contract §9): the organization's verifications, or one key's (from its "…" menu), over
// 24 hours, 7, 30 or 90 days, as a chart with a table alternative.

import { h, replaceChildren } from './dom.js';
import { asApiError, showError } from './feedback.js';
import { usageChart } from './usage-chart.js';

/** @typedef {import('./api.js').Key} Key */

/** The range picker: label, length in ms, bucket size. */
const RANGES = /** @type {const} */ ([
  ['24h', '24 hours', 24 * 3_600_000, 'hour'],
  ['7d', '7 days', 7 * 86_400_000, 'hour'],
  ['30d', '30 days', 30 * 86_400_000, 'day'],
  ['90d', '90 days', 90 * 86_400_000, 'day'],
]);

/**
 * @param {{ api: import('./api.js').Api, now?: () => number }} deps
 */
export function createUsagePanel({ api, now = Date.now }) {
  /** @type {{ id: string, name: string } | null} */
  let key = null;
  let range = '7d';
  let generation = 0;
  const title = h('h2', { class: 'kw-section-title', id: 'kw-usage-title', tabindex: '-1' }, 'Usage');
  const scope = h('p', { class: 'kw-usage-scope', id: 'kw-usage-scope' }, 'All keys');
  const allKeys = /** @type {HTMLButtonElement} */ (
    h(
      'button',
      { type: 'button', class: 'kw-button kw-small', hidden: true, onclick: () => void show(null) },
      'Show all keys',
    )
  );
  const picker = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { class: 'kw-input', id: 'kw-usage-range', name: 'range', onchange: () => void setRange(picker.value) },
      RANGES.map(([value, label]) => h('option', { value, selected: value === range }, label)),
    )
  );
  const body = h(
    'div',
    { class: 'kw-usage-body', id: 'kw-usage-body', 'aria-live': 'polite' },
    'Loading usage…',
  );
  const alert = h('div', { class: 'kw-alert', role: 'alert' });
  const element = h(
    'section',
    { class: 'kw-usage', 'aria-labelledby': title.id },
    title,
    h('div', { class: 'kw-usage-controls' }, scope, allKeys, h('label', { for: picker.id }, 'Range'), picker),
    alert,
    body,
  );

  async function load() {
    const mine = ++generation;
    const [, label, length, granularity] = RANGES.find(([value]) => value === range) ?? RANGES[1];
    const to = now();
    const query = new URLSearchParams({
      granularity,
      from: new Date(to - length).toISOString(),
      to: new Date(to).toISOString(),
    });
    try {
      const usage = await api.usage(key?.id ?? null, query.toString());
      if (mine !== generation) return;
      replaceChildren(alert);
      replaceChildren(body, usageChart(usage, { title: `${key ? key.name : 'All keys'}, last ${label}` }));
    } catch (error) {
      if (mine !== generation) return;
      replaceChildren(body);
      showError(alert, asApiError(error));
    }
  }

  /** @param {string} value */
  async function setRange(value) {
    range = value;
    await load();
  }

  /** Shows one key's usage (`null`: the organization's) and moves focus to the panel. */
  async function show(/** @type {{ id: string, name: string } | null} */ next) {
    key = next;
    scope.textContent = next ? `Key: ${next.name}` : 'All keys';
    allKeys.hidden = next === null;
    await load();
    if (next) title.focus();
  }

  return { element, load, showKey: (/** @type {Key} */ k) => show({ id: k.id, name: k.name }) };
}
