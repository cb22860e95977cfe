// The scope checkboxes of the create and edit dialogs: every scope of the catalog, those over the public
// ceiling disabled for public keys.

import { h } from './dom.js';

/** @typedef {import('./api.js').ScopeCatalog} ScopeCatalog */

/**
 * One labelled checkbox per scope of `catalog` for a key of `type`.
 *
 * @param {ScopeCatalog} catalog
 * @param {'public' | 'secret'} type
 * @param {(scope: string) => boolean} isChecked whether an allowed scope starts checked
 */
export function scopeChoices(catalog, type, isChecked) {
  return catalog.scopes.map((scope) => {
    const allowed = type === 'secret' || catalog.publicScopes.includes(scope);
    return h(
      'label',
      { class: allowed ? 'kw-choice kw-check' : 'kw-choice kw-check kw-choice-disabled' },
      h('input', {
        type: 'checkbox',
        name: 'scopes',
        value: scope,
        checked: allowed && isChecked(scope),
        disabled: !allowed,
      }),
      h(
        'span',
        {},
        h('code', { class: 'kw-scope' }, scope),
        !allowed && h('span', { class: 'kw-hint' }, 'Secret keys only'),
      ),
    );
  });
}
