// Tiny DOM helpers. Text always goes in as text nodes (never as HTML), and no inline style is ever set
// through attributes, so the page runs under a strict Content-Security-Policy.

/**
 * @typedef {string | number | boolean | null | undefined | EventListener} PropValue
 * @typedef {Node | string | null | undefined | false} Child
 */

/**
 * Creates an element. `on<event>` props add listeners, `true` sets a boolean attribute, `false`, `null`
 * and `undefined` leave the attribute out.
 *
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, PropValue>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 * @example h('button', { type: 'button', onclick: save }, 'Save')
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (name === 'class') {
      element.className = String(value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

/**
 * The element with this id, which the page must have.
 *
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`The page has no #${id}`);
  return element;
}

/**
 * Replaces an element's children.
 *
 * @param {Element} element
 * @param {...(Child | Child[])} children
 */
export function replaceChildren(element, ...children) {
  element.replaceChildren(
    ...children
      .flat()
      .filter(/** @returns {c is Node | string} */ (c) => c !== null && c !== undefined && c !== false),
  );
}
