// A key's policies in a few words for the table and the phone cards: "10 / second · 10,000 / day ·
// 2 origins · 1 IP address". The Edit dialog shows them in full.

import { splitWindow } from './policy-fields.js';

/** @typedef {import('./api.js').Key} Key */

const UNIT_NAMES = /** @type {Record<number, [string, string]>} */ ({
  1: ['second', 'seconds'],
  60: ['minute', 'minutes'],
  3600: ['hour', 'hours'],
  86400: ['day', 'days'],
});

const numbers = new Intl.NumberFormat(undefined);

/**
 * "1 / 10 seconds", "10,000 / day".
 * @param {{ limit: number, windowSeconds: number }} limit
 */
export function limitText({ limit, windowSeconds }) {
  const [count, unit] = splitWindow(windowSeconds);
  const [one, many] = UNIT_NAMES[unit] ?? ['second', 'seconds'];
  return `${numbers.format(limit)} / ${count === 1 ? one : `${numbers.format(count)} ${many}`}`;
}

/**
 * The key's limits, origins and addresses in one short line; `''` when it has none.
 *
 * @param {Partial<Pick<Key, 'limits' | 'allowedOrigins' | 'allowedIps'>>} key
 * @returns {string}
 * @example policySummary({ limits: [{ limit: 10, windowSeconds: 1 }], allowedIps: ['10.0.0.0/8'] })
 *   // "10 / second · 1 IP address"
 */
export function policySummary(key) {
  const parts = (key.limits ?? []).map(limitText);
  const origins = key.allowedOrigins?.length ?? 0;
  const ips = key.allowedIps?.length ?? 0;
  if (origins > 0) parts.push(`${origins} ${origins === 1 ? 'origin' : 'origins'}`);
  if (ips > 0) parts.push(`${ips} ${ips === 1 ? 'IP address' : 'IP addresses'}`);
  return parts.join(' · ');
}
