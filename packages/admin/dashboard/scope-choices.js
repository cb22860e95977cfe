// The scopes of the create and edit dialogs: presets ("All", "Read only", "Custom") over one labelled
// checkbox per scope of the catalog. A scope the key's type may not hold (over the public ceiling) or that
// the admin API does not let its callers grant (`grantableScopes`, docs/reference.md §10) is shown disabled
// with the reason. A preset checks its scopes; changing a checkbox selects the preset that matches, or
// "Custom".

import { h } from './dom.js';

/** @typedef {import('./api.js').ScopeCatalog} ScopeCatalog */

/** A read scope by the usual naming: `orders:read`, `orders.read`, `read`. */
const READ_SCOPE = /(^|[:./_-])read$/i;

/**
 * The scopes a key of `type` can be given here: under the public ceiling for a public key, and grantable.
 * @param {ScopeCatalog} catalog
 * @param {'public' | 'secret'} type
 */
export function grantableFor(catalog, type) {
  const grantable = catalog.grantableScopes ?? catalog.scopes;
  return catalog.scopes.filter(
    (scope) => grantable.includes(scope) && (type === 'secret' || catalog.publicScopes.includes(scope)),
  );
}

/**
 * The presets for a key of `type`: "All" (every scope it can be given), "Read only" (the read scopes among
 * them, when there are some and they are not all of them), and "Custom".
 * @param {ScopeCatalog} catalog
 * @param {'public' | 'secret'} type
 * @returns {Array<{ value: string, label: string, scopes: string[] | null }>}
 */
export function scopePresets(catalog, type) {
  const all = grantableFor(catalog, type);
  const read = all.filter((scope) => READ_SCOPE.test(scope));
  return [
    { value: 'all', label: 'All', scopes: all },
    ...(read.length > 0 && read.length < all.length
      ? [{ value: 'read', label: 'Read only', scopes: read }]
      : []),
    { value: 'custom', label: 'Custom', scopes: null },
  ];
}

/**
 * The presets and one labelled checkbox per scope of `catalog` for a key of `type`.
 *
 * @param {ScopeCatalog} catalog
 * @param {'public' | 'secret'} type
 * @param {(scope: string) => boolean} isChecked whether a scope starts checked (a scope that cannot be
 *   given here starts checked only if the key holds it: an edit keeps it)
 * @param {string} [idPrefix] names the presets' radio group (one per dialog)
 * @returns {HTMLElement[]}
 */
export function scopeChoices(catalog, type, isChecked, idPrefix = 'kw-scopes') {
  const grantable = catalog.grantableScopes ?? catalog.scopes;
  const boxes = catalog.scopes.map((scope) => {
    const overCeiling = type === 'public' && !catalog.publicScopes.includes(scope);
    const notGrantable = !grantable.includes(scope);
    const allowed = !overCeiling && !notGrantable;
    const box = /** @type {HTMLInputElement} */ (
      h('input', {
        type: 'checkbox',
        name: 'scopes',
        value: scope,
        checked: (allowed || notGrantable) && isChecked(scope),
        disabled: !allowed,
      })
    );
    const label = h(
      'label',
      { class: allowed ? 'kw-choice kw-check' : 'kw-choice kw-check kw-choice-disabled' },
      box,
      h(
        'span',
        {},
        h('code', { class: 'kw-scope' }, scope),
        overCeiling
          ? h('span', { class: 'kw-hint' }, 'Secret keys only')
          : notGrantable && h('span', { class: 'kw-hint' }, 'Not offered here'),
      ),
    );
    return { box, label };
  });
  const presets = scopePresets(catalog, type);
  const radios = presets.map((preset) => ({
    preset,
    radio: /** @type {HTMLInputElement} */ (
      h('input', { type: 'radio', name: `${idPrefix}-preset`, value: preset.value })
    ),
  }));
  const enabled = () => boxes.filter(({ box }) => !box.disabled);
  const checkedNow = () =>
    enabled()
      .filter(({ box }) => box.checked)
      .map(({ box }) => box.value);
  /** Selects the preset the checked scopes match, or "Custom". */
  const match = () => {
    const now = checkedNow().join(' ');
    const found = presets.find((p) => p.scopes !== null && p.scopes.join(' ') === now) ?? presets.at(-1);
    for (const { preset, radio } of radios) radio.checked = preset === found;
  };
  for (const { preset, radio } of radios) {
    radio.addEventListener('change', () => {
      if (!radio.checked || preset.scopes === null) return;
      const wanted = new Set(preset.scopes);
      for (const { box } of enabled()) {
        if (box.checked === wanted.has(box.value)) continue;
        box.checked = wanted.has(box.value);
        // As if the user had clicked it: the dialog keeps track of the scopes unchecked by hand.
        box.dispatchEvent(new Event('change', { bubbles: true }));
      }
      radio.checked = true;
    });
  }
  for (const { box } of boxes) box.addEventListener('change', (event) => event.isTrusted && match());
  match();
  const group = h(
    'fieldset',
    { class: 'kw-presets' },
    h('legend', { class: 'kw-presets-label' }, 'Permissions'),
    radios.map(({ preset, radio }) => h('label', { class: 'kw-preset' }, radio, h('span', {}, preset.label))),
  );
  return [group, ...boxes.map(({ label }) => label)];
}
