import { createHash } from 'node:crypto';
import { BASE62, randomBase62 } from '../format/base62.js';

/**
 * The event types of docs/reference.md §7, one per kind of change (and one for a rolled key still in use, one for a
 * key whose token was reported leaked and one for a key about to be disabled as dormant, §11).
 */
export const KEY_EVENT_TYPES = [
  'key.created',
  'key.imported',
  'key.updated',
  'key.rolled',
  'key.disabled',
  'key.enabled',
  'key.deleted',
  'key.used_after_roll',
  'key.leaked',
  'key.dormant_soon',
] as const;

/** One of `KEY_EVENT_TYPES`. */
export type KeyEventType = (typeof KEY_EVENT_TYPES)[number];

/** Who made a change: a signed-in user, an API key, or Keyward / the app itself. */
export interface EventActor {
  type: 'user' | 'api_key' | 'system';
  /** The user's or key's id as the app knows it; for `system`, what acted (e.g. `keyward`). */
  id: string;
}

/**
 * One audit event (docs/reference.md §7), as the service and the stores hold it (`at` is a `Date`; the admin API
 * sends it as an ISO string). Never holds a token, hash or pepper.
 */
export interface KeyEvent {
  /** `evt_` followed by 22 base62 characters; unique, so writing an event twice keeps one. */
  id: string;
  organizationId: string;
  type: KeyEventType;
  keyId: string;
  /** The key's name after the change (before it, for `key.deleted`). */
  keyName: string;
  at: Date;
  actor: EventActor;
  /** The client address of the request that made the change (the admin router passes `req.ip`). */
  ip?: string;
  userAgent?: string;
  /** `key.updated` only: the names (never the values) of the fields changed, e.g. `["name", "scopes"]`. */
  changes?: string[];
  /** `key.leaked` only: who found the token (`github:<where>`, e.g. `github:content`, or the scanner's name). */
  source?: string;
  /** `key.leaked` only: where the token was found (e.g. the GitHub URL of the commit). Never the token. */
  url?: string;
  /** `key.disabled` by the service, and `key.dormant_soon`: why (`dormant`, docs/reference.md §11). */
  reason?: string;
  /** `key.created` of a roll's new key: the id of the key it replaces (docs/reference.md §7). */
  rolledFrom?: string;
  /** `key.rolled`: the id of the new key that replaces it. */
  replacedBy?: string;
}

/** The optional fields an event of one type carries besides the common ones (see `KeyEvent`). */
export type KeyEventDetails = Pick<KeyEvent, 'source' | 'url' | 'reason' | 'rolledFrom' | 'replacedBy'>;

/**
 * Who acts and from where; the last argument of the service's mutations. Without it the actor is
 * `SYSTEM_ACTOR`.
 */
export interface EventContext {
  actor?: EventActor;
  ip?: string;
  userAgent?: string;
}

/** The actor of changes made without a context (provisioning, scripts, the CLI). */
export const SYSTEM_ACTOR: EventActor = Object.freeze({ type: 'system', id: 'keyward' }) as EventActor;

/** The longest `ip`, `userAgent` or actor id an event keeps; longer values are cut. */
export const MAX_EVENT_TEXT = 512;

/** An event id: `evt_` and 22 base62 characters. The one definition (the event schema uses it). */
export const EVENT_ID_PATTERN = /^evt_[0-9A-Za-z]{22}$/;

/**
 * A new event id: `evt_` and 22 random base62 characters (about 130 bits). Also a valid MongoDB field
 * name, so stores can key an outbox by it.
 *
 * @example
 * newEventId(); // "evt_3hK9…"
 */
export function newEventId(): string {
  return `evt_${randomBase62(22)}`;
}

/**
 * Whether `id` has the shape of an event id.
 *
 * @example
 * isEventId('evt_0123456789ABCDEFGHIJKL'); // true
 */
export function isEventId(id: unknown): id is string {
  return typeof id === 'string' && EVENT_ID_PATTERN.test(id);
}

/**
 * The id of a `key.used_after_roll` event for `keyId` in the clock hour of `at`: the same on every
 * instance, so stores keep one such event per key and hour however many instances note it.
 *
 * @example
 * hourlyEventId('key_0123456789ABCDEFGHIJ', new Date()); // "evt_…" (same for the whole hour)
 */
export function hourlyEventId(keyId: string, at: Date): string {
  const hour = Math.floor(at.getTime() / 3_600_000);
  return derivedEventId(`used_after_roll:${keyId}:${hour}`);
}

/**
 * An event id that is the same every time for the same `seed` (so writing the event twice keeps one).
 *
 * @example
 * derivedEventId('key.imported:import:…'); // "evt_…" (22 base62 characters)
 */
export function derivedEventId(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let id = 'evt_';
  for (let i = 0; i < 22; i++) id += BASE62[(digest[i] as number) % 62];
  return id;
}

/**
 * Builds an event from what the service knows; `context` values are copied and cut to `MAX_EVENT_TEXT`.
 *
 * @example
 * const event = buildKeyEvent('key.deleted', key, new Date(), { actor: { type: 'user', id: 'u_1' } });
 */
export function buildKeyEvent(
  type: KeyEventType,
  key: { id: string; organizationId: string; name: string },
  at: Date,
  context: EventContext = {},
  changes?: readonly string[],
  id: string = newEventId(),
): KeyEvent {
  const actor = context.actor ?? SYSTEM_ACTOR;
  const event: KeyEvent = {
    id,
    organizationId: key.organizationId,
    type,
    keyId: key.id,
    keyName: key.name,
    at,
    actor: { type: actor.type, id: cut(actor.id) },
  };
  if (typeof context.ip === 'string' && context.ip !== '') event.ip = cut(context.ip);
  if (typeof context.userAgent === 'string' && context.userAgent !== '')
    event.userAgent = cut(context.userAgent);
  if (changes) event.changes = [...changes];
  return event;
}

/**
 * A deep copy of `event` with exactly the fields of `KeyEvent` (stores may keep more).
 *
 * @example
 * onEvent(copyKeyEvent(event));
 */
export function copyKeyEvent(event: KeyEvent): KeyEvent {
  return {
    id: event.id,
    organizationId: event.organizationId,
    type: event.type,
    keyId: event.keyId,
    keyName: event.keyName,
    at: new Date(event.at),
    actor: { type: event.actor.type, id: event.actor.id },
    ...optionalEventFields(event),
  };
}

/** The optional fields of `KeyEvent`: the one list that copies, serializers and stores walk. */
export const KEY_EVENT_OPTIONAL_FIELDS = [
  'ip',
  'userAgent',
  'changes',
  'source',
  'url',
  'reason',
  'rolledFrom',
  'replacedBy',
] as const satisfies readonly (keyof KeyEvent)[];

type OptionalEventFields = Pick<KeyEvent, (typeof KEY_EVENT_OPTIONAL_FIELDS)[number]>;

/**
 * The optional fields `event` has set, copied (a list too), in `KEY_EVENT_OPTIONAL_FIELDS` order.
 *
 * @example
 * optionalEventFields({ ip: '203.0.113.7', changes: ['name'] }); // { ip: '203.0.113.7', changes: ['name'] }
 */
export function optionalEventFields(event: OptionalEventFields): OptionalEventFields {
  const out: Record<string, unknown> = {};
  for (const field of KEY_EVENT_OPTIONAL_FIELDS) {
    const value = event[field];
    if (value !== undefined) out[field] = Array.isArray(value) ? [...value] : value;
  }
  return out as OptionalEventFields;
}

function cut(value: string): string {
  return value.length > MAX_EVENT_TEXT ? value.slice(0, MAX_EVENT_TEXT) : value;
}
