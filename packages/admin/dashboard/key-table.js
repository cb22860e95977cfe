// The keys table: its header (which says how the rows are sorted), the rows, a line for "loading" and
// "no keys", and the "Load more keys" button.

import { h, replaceChildren } from './dom.js';
import { SORT_ORDERS } from './sort.js';

const COLUMNS = ['Name', 'Type', 'Key', 'Created', 'Expires', 'Last used', 'Status'];

/**
 * @returns {{
 *   element: HTMLElement,
 *   rows: HTMLTableSectionElement,
 *   loadMore: HTMLButtonElement,
 *   setRows: (rows: HTMLTableRowElement[]) => void,
 *   setState: (text: string) => void,
 *   setMore: (more: boolean) => void,
 *   setSort: (order: string) => void,
 * }}
 */
export function createKeyTable() {
  const headers = COLUMNS.map((label) => h('th', { scope: 'col' }, label));
  const rows = /** @type {HTMLTableSectionElement} */ (h('tbody', { id: 'kw-rows' }));
  const state = h('p', { class: 'kw-table-state', id: 'kw-table-state' }, 'Loading keys…');
  const loadMore = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'kw-button', id: 'kw-load-more' }, 'Load more keys')
  );
  const paging = h('div', { class: 'kw-paging', hidden: true }, loadMore);
  const element = h(
    'div',
    { class: 'kw-card kw-keys' },
    h(
      'div',
      { class: 'kw-table-scroll' },
      h(
        'table',
        { class: 'kw-table', id: 'kw-table', 'aria-describedby': state.id },
        h('caption', { class: 'kw-visually-hidden' }, 'API keys'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            headers,
            h('th', { scope: 'col' }, h('span', { class: 'kw-visually-hidden' }, 'Actions')),
          ),
        ),
        rows,
      ),
    ),
    state,
    paging,
  );

  return {
    element,
    rows,
    loadMore,
    setRows: (list) => replaceChildren(rows, list),
    setState: (text) => {
      state.textContent = text;
      state.hidden = text === '';
    },
    setMore: (more) => {
      paging.hidden = !more;
    },
    setSort: (order) => {
      const sort = SORT_ORDERS.find((o) => o.value === order) ?? SORT_ORDERS[0];
      for (const th of headers) {
        if (th.textContent === sort?.column) th.setAttribute('aria-sort', sort.direction);
        else th.removeAttribute('aria-sort');
      }
    },
  };
}
