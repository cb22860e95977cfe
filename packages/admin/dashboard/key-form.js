// The fields the "New API key" and "Edit key" dialogs share: the name, the scopes fieldset, expiry and
// policies, the error line, and the map of fields that an answer's error details point at.

import { h } from './dom.js';
import { expiryField } from './expiry.js';
import { policyFields } from './policy-fields.js';

/**
 * Builds the shared fields of a key form; ids start with `prefix` (`kw-create`, `kw-edit`).
 *
 * @param {string} prefix
 * @param {{
 *   keyType: () => 'public' | 'secret',
 *   keepExpiry?: boolean,
 *   defaultsHint?: string,
 *   nameHintId?: string,
 * }} options `keepExpiry`: offer "keep the current expiry"; `defaultsHint`: said when no limit is set;
 *   `nameHintId`: the id of a hint that describes the name input
 */
export function keyFormFields(prefix, { keyType, keepExpiry = false, defaultsHint, nameHintId }) {
  const name = /** @type {HTMLInputElement} */ (
    h('input', {
      class: 'kw-input',
      id: `${prefix}-name`,
      name: 'name',
      maxlength: '100',
      autocomplete: 'off',
      required: true,
      'aria-describedby': nameHintId,
    })
  );
  const scopeList = h('div', { class: 'kw-scope-list' });
  const scopeHint = h('p', { class: 'kw-hint', id: `${prefix}-scopes-hint` });
  const scopes = /** @type {HTMLFieldSetElement} */ (
    h(
      'fieldset',
      { class: 'kw-field kw-fieldset', id: `${prefix}-scopes`, 'aria-describedby': scopeHint.id },
      h('legend', { class: 'kw-label' }, 'Scopes'),
      scopeList,
      scopeHint,
    )
  );
  const expiry = expiryField(prefix, { keepOption: keepExpiry, keyType });
  const policies = policyFields(prefix, { keyType, ...(defaultsHint !== undefined && { defaultsHint }) });
  const error = h('div', { class: 'kw-form-error', id: `${prefix}-error`, role: 'alert' });
  const fields = {
    name,
    scopes,
    get expiresAt() {
      return expiry.input;
    },
    ...policies.fields,
  };
  return { name, scopeList, scopeHint, scopes, expiry, policies, error, fields };
}
