// The 7-day sparkline of each row (docs/reference.md §9). A row's usage is read when the row comes into
// view (a page of 250 keys does not send 250 requests at once), at most four at a time, and kept until the
// list is read again; re-sorting the rows draws the kept ones at once.

import { h, replaceChildren } from './dom.js';
import { sparkline } from './usage-chart.js';
import { usageQuery } from './usage-panel.js';

/** @typedef {import('./api.js').Key} Key */
/** @typedef {import('./api.js').UsageBucket} UsageBucket */

/** Requests in flight at most. */
const PARALLEL = 4;

/**
 * @param {{ api: import('./api.js').Api, now?: () => number }} deps
 */
export function createSparklines({ api, now = Date.now }) {
  /** Usage per key id: the 7 days, or `null` when it could not be read. @type {Map<string, UsageBucket[] | null>} */
  let known = new Map();
  /** Cells waiting for their key's usage. @type {Map<string, Set<HTMLElement>>} */
  let waiting = new Map();
  /** @type {string[]} */
  let queue = [];
  /** Keys being read now. @type {Set<string>} */
  let reading = new Set();

  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      const id = /** @type {HTMLElement} */ (entry.target).dataset.usageKey;
      if (id && !known.has(id) && !queue.includes(id) && !reading.has(id)) queue.push(id);
    }
    pump();
  });

  function pump() {
    while (reading.size < PARALLEL && queue.length > 0) {
      const id = /** @type {string} */ (queue.shift());
      void read(id);
    }
  }

  /** @param {string} id */
  async function read(id) {
    const mine = known;
    const inFlight = reading;
    inFlight.add(id);
    const cells = () => [...(waiting.get(id) ?? [])].filter((cell) => cell.isConnected);
    for (const cell of cells()) cell.setAttribute('aria-busy', 'true');
    /** @type {UsageBucket[] | null} */
    let data = null;
    try {
      data = (await api.usage(id, usageQuery(now(), 7, 'day'))).data;
    } catch {
      data = null;
    }
    inFlight.delete(id);
    if (mine === known) {
      known.set(id, data);
      for (const cell of cells()) fill(cell, data);
      waiting.delete(id);
    }
    pump();
  }

  /** @param {HTMLElement} cell @param {UsageBucket[] | null} data */
  function fill(cell, data) {
    cell.removeAttribute('aria-busy');
    replaceChildren(cell, data ? sparkline(data) : h('span', { class: 'kw-muted' }, 'Not available'));
  }

  return {
    /** The sparkline of `key`: drawn now when its usage is known, else when its row comes into view. @param {Key} key */
    cell(key) {
      const cell = h('span', { class: 'kw-spark-cell', 'data-usage-key': key.id });
      const data = known.get(key.id);
      if (data !== undefined) {
        fill(cell, data);
        return cell;
      }
      cell.append(h('span', { class: 'kw-muted' }, '—'));
      const cells = waiting.get(key.id) ?? new Set();
      cells.add(cell);
      waiting.set(key.id, cells);
      // Already being read: the answer fills this cell too.
      if (!reading.has(key.id)) observer.observe(cell);
      return cell;
    },
    /** Forgets what was read (the list is read again: the counts may have moved). */
    reset() {
      known = new Map();
      waiting = new Map();
      queue = [];
      reading = new Set();
      observer.disconnect();
    },
  };
}
