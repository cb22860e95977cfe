// The toolbar above the keys table: search (name or last 4 characters), type and status filters, which
// ask the admin API again, and the sort order, which re-sorts the loaded keys in the browser.

import { h } from './dom.js';
import { SORT_ORDERS } from './sort.js';

/**
 * @param {{ onFilter: () => void, onSort: () => void }} handlers `onFilter` runs 250 ms after the last
 *   change of a filter (typing in the search box); `onSort` at once
 * @returns {{
 *   element: HTMLFormElement,
 *   query: () => { q: string, type: string, status: string },
 *   filtered: () => boolean,
 *   sort: () => string,
 * }}
 */
export function createToolbar({ onFilter, onSort }) {
  const search = /** @type {HTMLInputElement} */ (
    h('input', {
      class: 'kw-input',
      id: 'kw-search',
      name: 'q',
      type: 'search',
      maxlength: '100',
      autocomplete: 'off',
      placeholder: 'Name or last 4 characters',
    })
  );
  const select = (
    /** @type {string} */ id,
    /** @type {string} */ name,
    /** @type {Array<[string, string]>} */ options,
  ) =>
    /** @type {HTMLSelectElement} */ (
      h(
        'select',
        { class: 'kw-input', id, name },
        options.map(([value, label]) => h('option', { value }, label)),
      )
    );
  const type = select('kw-filter-type', 'type', [
    ['', 'All types'],
    ['secret', 'Secret'],
    ['public', 'Public'],
  ]);
  const status = select('kw-filter-status', 'status', [
    ['', 'Current keys'],
    ['active', 'Active'],
    ['rolled', 'Rolled'],
    ['disabled', 'Disabled'],
    ['expired', 'Expired'],
  ]);
  const sort = select(
    'kw-sort',
    'sort',
    SORT_ORDERS.map((order) => [order.value, order.label]),
  );
  const field = (/** @type {HTMLElement} */ control, /** @type {string} */ label, extraClass = '') =>
    h(
      'div',
      { class: `kw-field${extraClass}` },
      h('label', { class: 'kw-label', for: control.id }, label),
      control,
    );
  const element = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'kw-toolbar', id: 'kw-filters', role: 'search', 'aria-label': 'Filter keys' },
      field(search, 'Search', ' kw-search'),
      field(type, 'Type'),
      field(status, 'Status'),
      field(sort, 'Sort'),
    )
  );

  let timer = 0;
  const changed = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(onFilter, 250);
  };
  element.addEventListener('input', (event) => {
    if (event.target === sort) onSort();
    else changed();
  });
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    changed();
  });

  const query = () => ({ q: search.value.trim(), type: type.value, status: status.value });
  return {
    element,
    query,
    filtered: () => {
      const { q, type: t, status: s } = query();
      return q !== '' || t !== '' || s !== '';
    },
    sort: () => sort.value,
  };
}
