import { z } from 'zod';

/** The most items one page holds (`?limit=`). */
export const MAX_PAGE_SIZE = 100;
/** Items per page when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 50;

const limitMessage = `Must be an integer from 1 to ${MAX_PAGE_SIZE}.`;
const LIMIT_PATTERN = /^(?:[1-9]\d?|100)$/;
const cursorMessage = 'Must be the `nextCursor` of an earlier page.';

/** Where a page ends: the last item's time and id. */
export interface PagePosition {
  at: Date;
  id: string;
}

/**
 * An opaque `nextCursor` for a page that ends at `position`: base64url of `{"t": ms, "id": id}`. Key and
 * event pages share the form.
 *
 * @example
 * encodePageCursor({ at: new Date(0), id: 'key_0123456789ABCDEFGHIJ' }); // "eyJ0IjowLCJpZCI6..."
 */
export function encodePageCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify({ t: position.at.getTime(), id: position.id })).toString('base64url');
}

/**
 * The position in `value`, or `null` when `encodePageCursor` could not have made it for an id that
 * `isId` accepts.
 *
 * @example
 * decodePageCursor('garbage', isKeyId); // null
 */
export function decodePageCursor(value: string, isId: (id: string) => boolean): PagePosition | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const shape = z
    .strictObject({ t: z.int().min(0).max(8.64e15), id: z.string().refine(isId) })
    .safeParse(parsed);
  if (!shape.success) return null;
  return { at: new Date(shape.data.t), id: shape.data.id };
}

/**
 * The `limit` and `cursor` fields of a page query: `limit` 1–100 (a decimal string from a URL too) and
 * `cursor` decoded by `decode` (400 when it is not one).
 *
 * @example
 * z.strictObject({ ...pageFields('Keys', decodeKeyListCursor), q: z.string().optional() });
 */
export function pageFields<T>(noun: string, decode: (value: string) => T | null) {
  return {
    limit: z
      .preprocess(
        (value) => (typeof value === 'string' && LIMIT_PATTERN.test(value) ? Number(value) : value),
        z.int({ error: limitMessage }).min(1, limitMessage).max(MAX_PAGE_SIZE, limitMessage),
      )
      .optional()
      .meta({ description: `${noun} per page, 1 to ${MAX_PAGE_SIZE}. Default ${DEFAULT_PAGE_SIZE}.` }),
    cursor: z
      .string({ error: cursorMessage })
      .transform((value, ctx) => {
        const cursor = decode(value);
        if (cursor === null) {
          ctx.addIssue({ code: 'custom', message: cursorMessage });
          return z.NEVER;
        }
        return cursor;
      })
      .optional()
      .meta({ description: "The previous page's `nextCursor` (opaque)." }),
  };
}
