// The notice above the table for keys that stop working within 7 days (active keys only: a rolled key's
// end is announced where it was rolled). It looks at the keys loaded so far.

import { h } from './dom.js';
import { timeElement } from './format.js';

/** @typedef {import('./api.js').Key} Key */

/** How far ahead the notice looks. */
export const EXPIRING_WITHIN_MS = 7 * 86_400_000;
/** Keys named in the notice; the rest are counted. */
const NAMED = 5;

/**
 * The active keys that expire within 7 days of `now`, soonest first.
 *
 * @param {Key[]} keys
 * @param {number} [now]
 * @returns {Key[]}
 * @example expiringSoon(state.keys).length
 */
export function expiringSoon(keys, now = Date.now()) {
  return keys
    .filter((key) => {
      if (key.status !== 'active' || !key.expiresAt) return false;
      const end = Date.parse(key.expiresAt);
      return end > now && end <= now + EXPIRING_WITHIN_MS;
    })
    .sort((a, b) => Date.parse(a.expiresAt ?? '') - Date.parse(b.expiresAt ?? ''));
}

/**
 * The notice's content: "2 keys expire within 7 days: Deploy bot (Dec 3, 11:59 PM), …", or `null`.
 *
 * @param {Key[]} keys
 * @returns {Array<string | Node> | null}
 */
export function expiryNotice(keys) {
  const soon = expiringSoon(keys);
  if (soon.length === 0) return null;
  /** @type {Array<string | Node>} */
  const parts = [
    h(
      'strong',
      {},
      soon.length === 1 ? '1 key expires within 7 days: ' : `${soon.length} keys expire within 7 days: `,
    ),
  ];
  soon.slice(0, NAMED).forEach((key, index) => {
    if (index > 0) parts.push(', ');
    parts.push(
      h('strong', { class: 'kw-notice-name' }, key.name),
      ' (',
      timeElement(/** @type {string} */ (key.expiresAt), 'datetime'),
      ')',
    );
  });
  if (soon.length > NAMED) parts.push(` and ${soon.length - NAMED} more`);
  parts.push('. Roll them or give them a later date with Edit.');
  return parts;
}
