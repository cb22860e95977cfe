// A menu button (WAI-ARIA APG "menu button" pattern): Enter, Space or ArrowDown open the menu on its first
// item, ArrowUp on its last; ArrowUp/ArrowDown move (and wrap), Home/End jump, Escape closes and returns
// focus to the button, Tab closes and moves on. The menu is positioned next to its button with `fixed`
// coordinates (set through the CSSOM, which the page's CSP allows), so no scrolling container clips it; it
// follows the button when the page scrolls, and closes once the button is out of view.

import { h } from './dom.js';

/**
 * @typedef {{ label: string, onSelect: (opener: HTMLButtonElement) => void, disabled?: boolean,
 *   danger?: boolean, hint?: string }} MenuItem
 */

let menuCount = 0;

/**
 * A "…" button with its menu. `label` names both, e.g. "Actions for Deploy bot".
 *
 * @param {{ label: string, items: MenuItem[] }} options
 * @returns {HTMLElement}
 */
export function menuButton({ label, items }) {
  const id = `kw-menu-${++menuCount}`;
  const button = h(
    'button',
    {
      type: 'button',
      class: 'kw-button kw-icon-button',
      id: `${id}-button`,
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
      'aria-controls': id,
      'aria-label': label,
      title: 'Actions',
    },
    h('span', { 'aria-hidden': 'true' }, '…'),
  );
  const entries = items.map((item) =>
    h(
      'button',
      {
        type: 'button',
        role: 'menuitem',
        tabindex: '-1',
        class: item.danger ? 'kw-menuitem kw-menuitem-danger' : 'kw-menuitem',
        'aria-disabled': item.disabled ? 'true' : undefined,
        title: item.hint,
        onclick: () => {
          if (item.disabled) return;
          close(false);
          item.onSelect(button);
        },
      },
      item.label,
    ),
  );
  const menu = h(
    'div',
    { role: 'menu', id, class: 'kw-menu', 'aria-labelledby': `${id}-button`, hidden: true },
    entries,
  );
  const wrapper = h('div', { class: 'kw-menu-wrap' }, button, menu);

  const isOpen = () => !menu.hidden;

  /** @param {number} index */
  function focusItem(index) {
    const count = entries.length;
    entries[((index % count) + count) % count]?.focus();
  }

  /** @param {'first' | 'last'} where */
  function open(where) {
    if (!isOpen()) {
      menu.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      place();
      window.addEventListener('resize', onViewportChange);
      window.addEventListener('scroll', onViewportChange, true);
      document.addEventListener('pointerdown', onPointerDown, true);
    }
    focusItem(where === 'first' ? 0 : entries.length - 1);
  }

  /** @param {boolean} returnFocus */
  function close(returnFocus) {
    if (!isOpen()) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    window.removeEventListener('resize', onViewportChange);
    window.removeEventListener('scroll', onViewportChange, true);
    document.removeEventListener('pointerdown', onPointerDown, true);
    if (returnFocus) button.focus();
  }

  // Below the button, right-aligned with it; above it when there is no room below.
  function place() {
    const anchor = button.getBoundingClientRect();
    const width = menu.offsetWidth;
    const height = menu.offsetHeight;
    const below = anchor.bottom + 4;
    const top =
      below + height > window.innerHeight && anchor.top - 4 - height > 0 ? anchor.top - 4 - height : below;
    const left = Math.max(8, Math.min(anchor.right - width, window.innerWidth - width - 8));
    menu.style.top = `${Math.round(top)}px`;
    menu.style.left = `${Math.round(left)}px`;
  }

  // On a scroll or a resize the menu follows its button, and closes only when the button is out of view.
  // It used to close on any scroll event, but scroll events arrive at the next animation frame: the scroll
  // that brought the button into view just before it was clicked, or the browser's scroll anchoring when
  // content above it (a panel that finished loading) changed height, reached the listener added when the
  // menu opened, and closed a menu that had just been opened.
  function onViewportChange() {
    const anchor = button.getBoundingClientRect();
    const inView =
      anchor.height > 0 &&
      anchor.bottom > 0 &&
      anchor.top < window.innerHeight &&
      anchor.right > 0 &&
      anchor.left < window.innerWidth;
    if (inView) place();
    else close(false);
  }

  /** @param {PointerEvent} event */
  function onPointerDown(event) {
    if (event.target instanceof Node && !wrapper.contains(event.target)) close(false);
  }

  button.addEventListener('click', () => {
    if (isOpen()) close(true);
    else open('first');
  });
  button.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      open(event.key === 'ArrowDown' ? 'first' : 'last');
    } else if (event.key === 'Escape' && isOpen()) {
      event.preventDefault();
      close(true);
    }
  });
  menu.addEventListener('keydown', (event) => {
    const current = entries.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    switch (event.key) {
      case 'ArrowDown':
        focusItem(current + 1);
        break;
      case 'ArrowUp':
        focusItem(current - 1);
        break;
      case 'Home':
        focusItem(0);
        break;
      case 'End':
        focusItem(entries.length - 1);
        break;
      case 'Escape':
        close(true);
        break;
      case 'Tab':
        // Back on the button first, so the browser moves focus on from there.
        close(true);
        return;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  });
  menu.addEventListener('focusout', (event) => {
    const next = event.relatedTarget;
    if (next instanceof Node && !wrapper.contains(next)) close(false);
  });

  return wrapper;
}
