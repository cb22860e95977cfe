// The rows of the keys table. A rolled key is listed right below the key that replaced it.

import { h } from './dom.js';
import { timeElement } from './format.js';
import { menuButton } from './menu.js';
import { policySummary } from './policy-summary.js';

/** @typedef {import('./api.js').Key} Key */

/**
 * @typedef {{
 *   isRevealed: (key: Key) => boolean,
 *   onReveal: (key: Key, revealed: boolean) => void,
 *   onCopy: (text: string, button: HTMLButtonElement) => void,
 *   onRoll: (key: Key) => void,
 *   onEdit: (key: Key) => void,
 *   onToggleDisabled: (key: Key) => void,
 *   onHistory: (key: Key) => void,
 *   onUsage: (key: Key) => void,
 *   usageCell: (key: Key) => HTMLElement,
 *   lifetimeIssue: (key: Key) => string | null,
 *   onDelete: (key: Key) => void,
 * }} RowActions
 */

const STATUS_LABELS = { active: 'Active', rolled: 'Rolled', disabled: 'Disabled', expired: 'Expired' };

/**
 * The keys in table order: as the API lists them (newest first), or as `sort` orders them, each rolled
 * key right after the key that replaced it (its `successor`).
 *
 * @param {Key[]} keys
 * @param {(keys: Key[]) => Key[]} [sort] orders the keys that head a row group
 * @returns {Array<{ key: Key, successor: Key | null }>}
 */
export function orderKeys(keys, sort) {
  const byId = new Map(keys.map((key) => [key.id, key]));
  /** @type {Map<string, Key[]>} */
  const predecessors = new Map();
  for (const key of keys) {
    if (key.replacedBy && byId.has(key.replacedBy)) {
      predecessors.set(key.replacedBy, [...(predecessors.get(key.replacedBy) ?? []), key]);
    }
  }
  /** @type {Array<{ key: Key, successor: Key | null }>} */
  const ordered = [];
  const seen = new Set();
  /** @param {Key} key @param {Key | null} successor */
  const visit = (key, successor) => {
    if (seen.has(key.id)) return;
    seen.add(key.id);
    ordered.push({ key, successor });
    for (const predecessor of predecessors.get(key.id) ?? []) visit(predecessor, key);
  };
  const heads = keys.filter((key) => !(key.replacedBy && byId.has(key.replacedBy)));
  for (const key of sort ? sort(heads) : heads) visit(key, null);
  for (const key of keys) visit(key, byId.get(key.replacedBy ?? '') ?? null);
  return ordered;
}

/**
 * One row of the table.
 *
 * @param {Key} key
 * @param {Key | null} successor the key that replaced this one, when it is listed
 * @param {RowActions} actions
 * @returns {HTMLTableRowElement}
 */
export function keyRow(key, successor, actions) {
  return h(
    'tr',
    {
      class: successor ? 'kw-row kw-row-predecessor' : 'kw-row',
      'data-key-id': key.id,
      'data-status': key.status,
    },
    h('th', { scope: 'row', class: 'kw-cell-name' }, nameCell(key, successor), lifetimeFlag(key, actions)),
    h('td', { 'data-label': 'Type' }, typeBadge(key)),
    h('td', { 'data-label': 'Key', class: 'kw-cell-key' }, keyCell(key, actions)),
    h('td', { 'data-label': 'Created' }, timeElement(key.createdAt, 'date')),
    h('td', { 'data-label': 'Expires' }, expiryCell(key.expiresAt)),
    // When it was last used, and its last 7 days as a sparkline under it (no column of its own: the table
    // still fits 1000 px without scrolling sideways).
    h(
      'td',
      { 'data-label': 'Last used', class: 'kw-cell-used' },
      optionalTime(key.lastUsedAt, 'Never'),
      actions.usageCell(key),
    ),
    h('td', { 'data-label': 'Status' }, statusCell(key)),
    h(
      'td',
      { class: 'kw-cell-actions' },
      menuButton({
        label: `Actions for ${key.name} (${key.redactedKey})`,
        items: [
          {
            label: 'Roll key…',
            disabled: key.status !== 'active',
            hint: key.status === 'active' ? undefined : `A key that is ${key.status} cannot be rolled.`,
            onSelect: () => actions.onRoll(key),
          },
          { label: 'Edit…', onSelect: () => actions.onEdit(key) },
          { label: key.disabled ? 'Enable…' : 'Disable…', onSelect: () => actions.onToggleDisabled(key) },
          { label: 'Show usage', onSelect: () => actions.onUsage(key) },
          { label: 'Show history', onSelect: () => actions.onHistory(key) },
          { label: 'Delete…', danger: true, onSelect: () => actions.onDelete(key) },
        ],
      }),
    ),
  );
}

/**
 * A key outside the lifetime policy (docs/reference.md §11): a tag and the reason, in text (read with the
 * row; printed too).
 * @param {Key} key
 * @param {RowActions} actions
 */
function lifetimeFlag(key, actions) {
  const reason = actions.lifetimeIssue(key);
  if (!reason) return null;
  return h(
    'span',
    { class: 'kw-lifetime-issue' },
    h('span', { class: 'kw-tag kw-tag-issue' }, 'Outside policy'),
    ' ',
    h('span', { class: 'kw-lifetime-reason' }, reason),
  );
}

/** @param {Key} key @param {Key | null} successor */
function nameCell(key, successor) {
  return [
    h('span', { class: 'kw-name' }, key.name),
    // A rolled Default key is replaced: only its successor is the Default now.
    isDefault(key) && ' ',
    isDefault(key) && h('span', { class: 'kw-tag' }, 'Default'),
    // Imported from before Keyward (docs/reference.md §8): its token keeps its own format until it is rolled.
    isLegacy(key) && ' ',
    isLegacy(key) &&
      h(
        'span',
        { class: 'kw-tag kw-tag-legacy', title: 'Imported key: roll it to get a Keyward key' },
        'Legacy',
      ),
    h(
      'span',
      { class: 'kw-scopes' },
      key.scopes.length === 0
        ? 'No scopes'
        : key.scopes.map((scope) => h('code', { class: 'kw-scope' }, scope)),
    ),
    policyLine(key),
    successor &&
      h(
        'span',
        { class: 'kw-replaced' },
        'Replaced by ',
        h('code', { class: 'kw-key' }, successor.redactedKey),
      ),
  ];
}

/**
 * Whether the key was imported from before Keyward (`legacy`, docs/reference.md §8; absent on servers without import).
 * @param {Key} key
 */
function isLegacy(key) {
  return /** @type {Key & { legacy?: boolean }} */ (key).legacy === true;
}

/** The key's limits, origins and addresses in a line, when it has any. @param {Key} key */
function policyLine(key) {
  const summary = policySummary(key);
  return (
    summary &&
    h('span', { class: 'kw-policy' }, h('span', { class: 'kw-visually-hidden' }, 'Policies: '), summary)
  );
}

/**
 * Whether the key is the organization's Default key now (a rolled one was, its successor is).
 * @param {Key} key
 */
export function isDefault(key) {
  return key.isDefault && key.rolledAt === null && key.replacedBy === null;
}

/**
 * The exact expiry date and time, and how far away it is.
 * @param {string | null} iso
 */
function expiryCell(iso) {
  if (!iso) return h('span', { class: 'kw-muted' }, 'Never');
  return [
    timeElement(iso, 'datetime'),
    h('span', { class: 'kw-expiry-exact' }, timeElement(iso, 'relative')),
  ];
}

/** @param {Key} key */
function typeBadge(key) {
  return h('span', { class: `kw-type kw-type-${key.type}` }, key.type === 'secret' ? 'Secret' : 'Public');
}

/** @param {string | null} iso @param {string} fallback */
function optionalTime(iso, fallback) {
  return iso ? timeElement(iso, 'relative') : h('span', { class: 'kw-muted' }, fallback);
}

/** @param {Key} key */
function statusCell(key) {
  const badge = h(
    'span',
    { class: `kw-badge kw-badge-${key.status}` },
    STATUS_LABELS[key.status] ?? key.status,
  );
  if (key.status !== 'rolled' || !key.expiresAt) return badge;
  return [
    badge,
    h('span', { class: 'kw-status-note' }, 'until ', timeElement(key.expiresAt, 'datetime')),
    h('span', { class: 'kw-status-note kw-still-used' }, stillInUse(key)),
  ];
}

/**
 * Whether a rolled key is still being used (the question that decides when to cut it): its last use
 * after the roll, from `lastUsedAt` (accurate to about a minute).
 * @param {Key} key
 */
function stillInUse(key) {
  const used = key.lastUsedAt ? Date.parse(key.lastUsedAt) : Number.NaN;
  const rolled = key.rolledAt ? Date.parse(key.rolledAt) : Number.NaN;
  if (!(used >= rolled) || !key.lastUsedAt) return 'no use seen since the roll';
  return ['still in use ', timeElement(key.lastUsedAt, 'relative')];
}

/**
 * The redacted key; public keys can be shown in full (and copied) and hidden again. Secret keys never.
 *
 * @param {Key} key
 * @param {RowActions} actions
 */
function keyCell(key, actions) {
  const token = key.type === 'public' ? key.token : undefined;
  const code = h('code', { class: 'kw-key', id: `kw-key-${key.id}` }, key.redactedKey);
  if (!token) return code;
  const toggle = h('button', { type: 'button', class: 'kw-link-button', 'aria-controls': code.id });
  const copy = h(
    'button',
    { type: 'button', class: 'kw-link-button', 'aria-label': `Copy the key ${key.name}` },
    'Copy',
  );
  copy.addEventListener('click', () => actions.onCopy(token, copy));
  const show = (/** @type {boolean} */ revealed) => {
    code.textContent = revealed ? token : key.redactedKey;
    code.classList.toggle('kw-key-revealed', revealed);
    toggle.textContent = revealed ? 'Hide' : 'Show';
    toggle.setAttribute('aria-expanded', String(revealed));
    toggle.setAttribute('aria-label', `${revealed ? 'Hide' : 'Show'} the key ${key.name}`);
    copy.hidden = !revealed;
  };
  toggle.addEventListener('click', () => {
    const revealed = toggle.getAttribute('aria-expanded') !== 'true';
    show(revealed);
    actions.onReveal(key, revealed);
  });
  show(actions.isRevealed(key));
  return h('span', { class: 'kw-key-cell' }, code, h('span', { class: 'kw-key-buttons' }, toggle, copy));
}
