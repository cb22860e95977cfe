// The expiry field of the create and edit dialogs: presets (7 / 30 / 90 days, a date, never) with a
// nudge against "never" for secret keys, and the exact moment the key will stop working.

import { h } from './dom.js';
import { endOfDay, exactTime, today } from './format.js';

const DAY = 86_400_000;
/** @type {Array<[string, string]>} */
const PRESETS = [
  ['7', '7 days'],
  ['30', '30 days'],
  ['90', '90 days'],
  ['date', 'On a date…'],
  ['never', 'Never'],
];

/**
 * @typedef {{ ok: true, value: string | null | undefined } | { ok: false, message: string }} ExpiryValue
 *   `value`: an ISO time, `null` for never, `undefined` for "leave as it is" (edit only)
 */

/**
 * @param {string} prefix id prefix, e.g. "kw-create"
 * @param {{ keepOption?: boolean, keyType: () => 'public' | 'secret' }} options
 */
export function expiryField(prefix, { keepOption = false, keyType }) {
  const select = h(
    'select',
    {
      class: 'kw-input',
      id: `${prefix}-expiry`,
      name: 'expiry',
      'aria-describedby': `${prefix}-expiry-hint`,
    },
    keepOption && h('option', { value: 'keep' }, 'Keep the current expiry'),
    PRESETS.map(([value, label]) => h('option', { value }, label)),
  );
  const date = /** @type {HTMLInputElement} */ (
    h('input', {
      class: 'kw-input kw-input-date',
      id: `${prefix}-expires`,
      name: 'expires',
      type: 'date',
      'aria-label': 'Expiration date',
    })
  );
  const hint = h('p', { class: 'kw-hint', id: `${prefix}-expiry-hint` });
  const element = h(
    'div',
    { class: 'kw-field' },
    h('label', { class: 'kw-label', for: select.id }, 'Expires'),
    select,
    date,
    hint,
  );

  /** @returns {ExpiryValue} */
  function value() {
    const choice = /** @type {HTMLSelectElement} */ (select).value;
    if (choice === 'keep') return { ok: true, value: undefined };
    if (choice === 'never') return { ok: true, value: null };
    if (choice === 'date') {
      const end = endOfDay(date.value);
      // A past day is the server's to refuse (its message names the field).
      if (!end) return { ok: false, message: 'Enter a valid expiration date.' };
      return { ok: true, value: end };
    }
    return { ok: true, value: new Date(Date.now() + Number(choice) * DAY).toISOString() };
  }

  function update() {
    const choice = /** @type {HTMLSelectElement} */ (select).value;
    date.hidden = choice !== 'date';
    date.min = today();
    const result = value();
    if (choice === 'never') {
      hint.textContent =
        keyType() === 'secret'
          ? 'A secret key that never expires keeps working if it leaks. Prefer 90 days and roll it.'
          : 'The key works until you disable or delete it.';
      hint.classList.toggle('kw-warning', keyType() === 'secret');
      return;
    }
    hint.classList.remove('kw-warning');
    if (choice === 'keep') hint.textContent = 'The expiry stays as it is.';
    else if (result.ok && result.value) hint.textContent = `Stops working on ${exactTime(result.value)}.`;
    else hint.textContent = 'The key stops working at the end of this day, in your time zone.';
  }
  select.addEventListener('change', update);
  date.addEventListener('input', update);

  return {
    element,
    value,
    /** The control an error is about: the date when one is asked for, else the preset. */
    get input() {
      return /** @type {HTMLSelectElement} */ (select).value === 'date'
        ? date
        : /** @type {HTMLSelectElement} */ (select);
    },
    /** @param {string} [initial] */
    reset(initial = keepOption ? 'keep' : '90') {
      /** @type {HTMLSelectElement} */ (select).value = initial;
      date.value = '';
      update();
    },
    update,
  };
}
