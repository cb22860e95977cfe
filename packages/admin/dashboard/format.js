// Dates in the viewer's locale: absolute times with Intl.DateTimeFormat, distances ("in 11 hours",
// "5 minutes ago") with Intl.RelativeTimeFormat. Every shown time has the exact time as its title.

import { h } from './dom.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** @type {Array<[Intl.RelativeTimeFormatUnit, number]>} */
const UNITS = [
  ['year', 365 * DAY],
  ['month', 30 * DAY],
  ['day', DAY],
  ['hour', HOUR],
  ['minute', MINUTE],
  ['second', SECOND],
];

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const thisYearDateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const exactFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'always' });
const nowFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/**
 * "in 11 hours", "5 minutes ago", "now". Distances are cut down to whole units (11 h 59 min is "in 11
 * hours"), so a deadline never looks further away than it is.
 *
 * @param {number} time epoch milliseconds
 * @param {number} [now]
 * @returns {string}
 */
export function relativeTime(time, now = Date.now()) {
  const distance = time - now;
  if (Math.abs(distance) < 10 * SECOND) return nowFormat.format(0, 'second');
  for (const [unit, size] of UNITS) {
    if (Math.abs(distance) >= size) return relativeFormat.format(Math.trunc(distance / size), unit);
  }
  return nowFormat.format(0, 'second');
}

/**
 * The exact time, e.g. "Tuesday, January 1, 2030 at 3:04:05 PM UTC".
 *
 * @param {string} iso
 * @returns {string}
 */
export function exactTime(iso) {
  return exactFormat.format(new Date(iso));
}

/**
 * A short date and time, e.g. "Jan 1, 2030, 3:04 PM", without the year when it is this year ("Jan 1,
 * 3:04 PM").
 *
 * @param {string} iso
 * @returns {string}
 */
export function shortDateTime(iso) {
  const date = new Date(iso);
  const format = date.getFullYear() === new Date().getFullYear() ? thisYearDateTimeFormat : dateTimeFormat;
  return format.format(date);
}

/**
 * A `<time>` element: `date` shows the date, `datetime` the date and time, `relative` the distance to now
 * (kept fresh by {@link refreshRelativeTimes}); the title always holds the exact time.
 *
 * @param {string} iso
 * @param {'date' | 'datetime' | 'relative'} style
 * @returns {HTMLTimeElement}
 */
export function timeElement(iso, style) {
  const time = Date.parse(iso);
  const label =
    style === 'date'
      ? dateFormat.format(time)
      : style === 'datetime'
        ? shortDateTime(iso)
        : relativeTime(time);
  return h('time', { datetime: iso, title: exactTime(iso), 'data-relative': style === 'relative' }, label);
}

/**
 * Updates every relative `<time>` under `root` to the current time.
 *
 * @param {ParentNode} root
 */
export function refreshRelativeTimes(root) {
  const now = Date.now();
  for (const element of root.querySelectorAll('time[data-relative]')) {
    const iso = element.getAttribute('datetime');
    if (iso) element.textContent = relativeTime(Date.parse(iso), now);
  }
}

/**
 * The end of a calendar day (`YYYY-MM-DD` from `<input type="date">`) in the viewer's time zone, as an
 * ISO-8601 string; `null` for an empty or impossible date.
 *
 * @param {string} value
 * @returns {string | null}
 */
export function endOfDay(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const end = new Date(year, month - 1, day, 23, 59, 59, 999);
  if (end.getFullYear() !== year || end.getMonth() !== month - 1 || end.getDate() !== day) return null;
  return end.toISOString();
}

/**
 * Today's date as `YYYY-MM-DD` in the viewer's time zone (the `min` of date inputs).
 *
 * @returns {string}
 */
export function today() {
  const now = new Date();
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
