// Sorting the listed keys. The admin API lists keys newest first; the other orders sort the keys loaded so
// far in the browser (every page already loaded, not the whole organization: "Load more" then re-sorts).

/** @typedef {import('./api.js').Key} Key */

/** @typedef {'newest' | 'oldest' | 'name' | 'last-used' | 'expires'} SortOrder */

/**
 * The orders offered, with their labels, the column they sort by and its `aria-sort` direction.
 *
 * @type {Array<{ value: SortOrder, label: string, column: string, direction: 'ascending' | 'descending' }>}
 */
export const SORT_ORDERS = [
  { value: 'newest', label: 'Newest first', column: 'Created', direction: 'descending' },
  { value: 'oldest', label: 'Oldest first', column: 'Created', direction: 'ascending' },
  { value: 'name', label: 'Name (A–Z)', column: 'Name', direction: 'ascending' },
  { value: 'last-used', label: 'Recently used', column: 'Last used', direction: 'descending' },
  { value: 'expires', label: 'Expiring soonest', column: 'Expires', direction: 'ascending' },
];

const names = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** Epoch milliseconds of an ISO time, `fallback` for `null`. @param {string | null} iso @param {number} fallback */
const time = (iso, fallback) => (iso ? Date.parse(iso) : fallback);

/** @type {Record<string, (a: Key, b: Key) => number>} */
const COMPARE = {
  name: (a, b) => names.compare(a.name, b.name),
  // Never used last.
  'last-used': (a, b) => time(b.lastUsedAt, -1) - time(a.lastUsedAt, -1),
  // Never expiring last.
  expires: (a, b) => {
    const [x, y] = [time(a.expiresAt, Number.POSITIVE_INFINITY), time(b.expiresAt, Number.POSITIVE_INFINITY)];
    return x === y ? 0 : x < y ? -1 : 1;
  },
};

/**
 * `keys` (in the API's order, newest first) in `order`, as a new array. Ties keep the API's order.
 *
 * @param {Key[]} keys
 * @param {string} order one of {@link SORT_ORDERS}' values; anything else is "newest"
 * @returns {Key[]}
 * @example sortKeys(keys, 'name')
 */
export function sortKeys(keys, order) {
  if (order === 'oldest') return [...keys].reverse();
  const compare = COMPARE[order];
  return compare ? [...keys].sort(compare) : [...keys];
}
