// What the confirm dialog asks before each action of the "…" menu: roll (with the grace period), disable
// or enable, delete (with warnings for the Default key and for a replacement whose predecessor still works).

import { h } from './dom.js';
import { shortDateTime } from './format.js';
import { isDefault } from './key-rows.js';

/** @typedef {import('./api.js').Key} Key */
/** @typedef {import('./confirm-dialog.js').Confirmation} Confirmation */

const DEFAULT_GRACE_PERIOD = 43_200;
/** @type {Array<[number, string]>} */
const GRACE_PERIODS = [
  [0, 'No time: it stops working now'],
  [3_600, '1 hour'],
  [DEFAULT_GRACE_PERIOD, '12 hours'],
  [86_400, '1 day'],
  [259_200, '3 days'],
  [604_800, '7 days'],
];

/**
 * What the actions need from the page.
 *
 * @typedef {{
 *   api: import('./api.js').Api,
 *   refresh: () => Promise<void>,
 *   announce: (text: string) => void,
 *   showToken: (key: Key, token: string, previous: Key | null) => void,
 *   focusKey: (id: string) => void,
 *   keys: () => Key[],
 * }} ActionDeps
 */

/** "Deploy bot" (kw_sk_…AbCd) @param {Key} key */
function keyLabel(key) {
  return [h('strong', {}, key.name), ' (', h('code', { class: 'kw-key' }, key.redactedKey), ')'];
}

/**
 * @param {Key} key
 * @param {ActionDeps} deps
 * @returns {Confirmation}
 */
export function rollConfirmation(key, { api, refresh, announce, showToken }) {
  const select = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      {
        class: 'kw-input',
        id: 'kw-grace-period',
        name: 'gracePeriodSeconds',
        'aria-describedby': 'kw-grace-hint',
      },
      GRACE_PERIODS.map(([seconds, label]) =>
        h('option', { value: String(seconds), selected: seconds === DEFAULT_GRACE_PERIOD }, label),
      ),
    )
  );
  return {
    key,
    title: 'Roll this key?',
    message: [
      'A new key replaces ',
      ...keyLabel(key),
      ', with the same name, scopes and expiration. The new key is shown once.',
    ],
    extra: h(
      'div',
      { class: 'kw-field' },
      h('label', { class: 'kw-label', for: select.id }, 'Keep the old key working for'),
      select,
      h(
        'p',
        { class: 'kw-hint', id: 'kw-grace-hint' },
        'Time to deploy the new key. The old key never works past its own expiration date.',
      ),
    ),
    confirmLabel: 'Roll key',
    danger: false,
    run: async () => {
      const { data, token, previous } = await api.roll(key.id, Number(select.value), key);
      await refresh();
      announce(`Key ${key.name} rolled.`);
      return () => showToken(data, token, previous);
    },
  };
}

/**
 * @param {Key} key
 * @param {ActionDeps} deps
 * @returns {Confirmation}
 */
export function toggleConfirmation(key, { api, refresh, announce, focusKey }) {
  const enable = key.disabled;
  return {
    key,
    title: enable ? 'Enable this key?' : 'Disable this key?',
    message: enable
      ? [...keyLabel(key), ' will authenticate requests again (unless it has expired).']
      : ['Requests with ', ...keyLabel(key), ' are refused at once, until you enable the key again.'],
    confirmLabel: enable ? 'Enable key' : 'Disable key',
    danger: !enable,
    run: async () => {
      await api.update(key.id, { disabled: !enable }, key);
      await refresh();
      announce(`Key ${key.name} ${enable ? 'enabled' : 'disabled'}.`);
      return () => focusKey(key.id);
    },
  };
}

/**
 * @param {Key} key
 * @param {ActionDeps} deps
 * @returns {Confirmation}
 */
export function deleteConfirmation(key, { api, refresh, announce, focusKey, keys }) {
  const warnings = [];
  if (isDefault(key)) {
    warnings.push(
      h(
        'p',
        { class: 'kw-warning' },
        'This is the organization’s Default key. Apps that use it stop working, and no new Default key is created.',
      ),
    );
  }
  for (const predecessor of keys().filter((k) => k.replacedBy === key.id && k.status === 'rolled')) {
    warnings.push(
      h(
        'p',
        { class: 'kw-warning' },
        'This key replaced ',
        h('code', { class: 'kw-key' }, predecessor.redactedKey),
        ', which still works until ',
        h(
          'time',
          { datetime: predecessor.expiresAt ?? '' },
          predecessor.expiresAt ? shortDateTime(predecessor.expiresAt) : '',
        ),
        '. Deleting this key leaves that one without a replacement; delete or keep it too.',
      ),
    );
  }
  return {
    key,
    title: 'Delete this key?',
    message: ['Requests with ', ...keyLabel(key), ' are refused at once. This cannot be undone.'],
    ...(warnings.length > 0 && { extra: h('div', {}, warnings) }),
    confirmLabel: 'Delete key',
    danger: true,
    run: async () => {
      await api.remove(key.id, key);
      await refresh();
      announce(`Key ${key.name} deleted.`);
      return () => focusKey(key.id);
    },
  };
}
