import { z } from 'zod';
import {
  copyKeyEvent,
  EVENT_ID_PATTERN,
  isEventId,
  KEY_EVENT_TYPES,
  type KeyEvent,
} from '../events/events.js';
import { decodePageCursor, encodePageCursor, type PagePosition, pageFields } from './page-query.js';

const typeMessage = `Must be one of ${KEY_EVENT_TYPES.map((t) => `"${t}"`).join(', ')}.`;

/** The event types of docs/reference.md §7 as a schema. */
export const keyEventTypeSchema = z.enum(KEY_EVENT_TYPES, { error: typeMessage });

/**
 * An event on the wire (docs/reference.md §7): what `GET <admin>/events` answers and the dashboard shows. `at` is
 * an ISO-8601 string (UTC); `changes` (on `key.updated`) names the changed fields, never their values.
 */
export const keyEventSchema = z
  .strictObject({
    id: z.string().meta({ pattern: EVENT_ID_PATTERN.source }),
    organizationId: z.string(),
    type: keyEventTypeSchema,
    keyId: z.string(),
    keyName: z
      .string()
      .meta({ description: 'The key name after the change (before it, for `key.deleted`).' }),
    at: z.string().meta({ format: 'date-time' }),
    actor: z
      .strictObject({
        type: z.enum(['user', 'api_key', 'system']),
        id: z.string(),
      })
      .meta({ description: "Who made the change, as the host app's `authorize` named them." }),
    ip: z.string().optional().meta({ description: 'Client address of the request that made the change.' }),
    userAgent: z.string().optional(),
    changes: z
      .array(z.string())
      .optional()
      .meta({ description: '`key.updated` only: the names of the fields changed.' }),
    source: z
      .string()
      .optional()
      .meta({ description: '`key.leaked` only: who found the token (e.g. `github:content`).' }),
    url: z
      .string()
      .optional()
      .meta({ description: '`key.leaked` only: where the token was found. Never the token.' }),
    reason: z.string().optional().meta({
      description: '`key.disabled` by the service and `key.dormant_soon`: why (`dormant`: unused too long).',
    }),
    rolledFrom: z
      .string()
      .optional()
      .meta({ description: "`key.created` of a roll's new key: the id of the key it replaces." }),
    replacedBy: z
      .string()
      .optional()
      .meta({ description: '`key.rolled`: the id of the new key that replaces this one.' }),
  })
  .meta({ id: 'Event' });

/** An event on the wire (docs/reference.md §7). */
export type KeyEventJSON = z.output<typeof keyEventSchema>;

/** Where a page of events ends: the last event's time and id. */
export type EventListCursor = PagePosition;

/**
 * The `nextCursor` of an event page that ends with `event`.
 *
 * @example
 * encodeEventListCursor({ at: new Date(0), id: 'evt_0123456789ABCDEFGHIJKL' }); // "eyJ0IjowLCJpZCI6..."
 */
export function encodeEventListCursor(event: EventListCursor): string {
  return encodePageCursor(event);
}

/**
 * The cursor in `value`, or `null` when `encodeEventListCursor` could not have made it.
 *
 * @example
 * decodeEventListCursor('garbage'); // null
 */
export function decodeEventListCursor(value: string): EventListCursor | null {
  return decodePageCursor(value, isEventId);
}

/**
 * The query of `listEvents` / `GET <admin>/events`: `limit` (1–100, default 50; numeric strings are
 * accepted), `cursor` from an earlier page's `nextCursor`, filters `keyId` and `type`, and `chain`
 * (`true` / `"true"`, with `keyId`: the key's whole roll chain).
 *
 * @example
 * listEventsQuerySchema.parse({ limit: '20', type: 'key.rolled' }); // { limit: 20, type: 'key.rolled' }
 */
export const listEventsQuerySchema = z
  .strictObject(
    {
      ...pageFields('Events', decodeEventListCursor),
      keyId: z
        .string({ error: 'Must be a string.' })
        .max(100, 'Must be at most 100 characters.')
        .optional()
        .meta({ description: "Only this key's events (another organization's key id lists nothing)." }),
      type: keyEventTypeSchema.optional().meta({ description: 'Only events of this type.' }),
      chain: z
        .preprocess(
          (value) => (value === 'true' ? true : value === 'false' ? false : value),
          z.boolean({ error: 'Must be true or false.' }),
        )
        .optional()
        .meta({
          description:
            "With `keyId`: the events of the key's whole roll chain (the keys it replaced and those that replaced it).",
        }),
    },
    { error: 'Must be an object.' },
  )
  .refine((query) => !query.chain || query.keyId !== undefined, {
    path: ['chain'],
    message: 'Needs keyId.',
  });

/** Input of `listEvents`. */
export type ListEventsQuery = z.input<typeof listEventsQuerySchema>;

/**
 * An event as the admin API sends it (`keyEventSchema`): `at` as an ISO string, fields picked one by one.
 *
 * @example
 * res.json({ data: events.map(serializeEvent) });
 */
export function serializeEvent(event: KeyEvent): KeyEventJSON {
  return { ...copyKeyEvent(event), at: event.at.toISOString() };
}
