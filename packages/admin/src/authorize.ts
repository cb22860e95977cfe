import { type EventActor, KeywardError } from '@keyward/core';
import type { Request } from 'express';
import { log } from './logger.js';
import type { Authorize } from './options.js';

/** The longest organization id the service accepts. */
const MAX_ORGANIZATION_ID_LENGTH = 200;

/**
 * Runs the host app's `authorize` and returns the organization the request acts for. Fails closed:
 * `'forbidden'` throws 403, every other answer that is not `{ organizationId: <non-empty string> }`
 * throws 401, and errors `authorize` throws propagate (a non-Keyward error becomes a 500).
 *
 * @example
 * const organizationId = await authorizeRequest(authorize, req); // "org_1"
 */
export async function authorizeRequest(authorize: Authorize, req: Request): Promise<string> {
  return (await authorizeCaller(authorize, req)).organizationId;
}

/** The actor of changes when `authorize` names none: a signed-in user the app did not name. */
export const UNNAMED_USER: EventActor = Object.freeze({ type: 'user', id: 'unknown' }) as EventActor;

const ACTOR_TYPES = new Set(['user', 'api_key', 'system']);

/**
 * `authorizeRequest` with the actor too: `{ organizationId, actor }` where `actor` is what `authorize`
 * named (`{ type: 'user' | 'api_key' | 'system', id }`), or `UNNAMED_USER` when it named none (the old
 * answer `{ organizationId }` keeps working). An `actor` that is not of that shape is refused with 401,
 * like any other unusable answer.
 *
 * @example
 * const { organizationId, actor } = await authorizeCaller(authorize, req);
 */
export async function authorizeCaller(
  authorize: Authorize,
  req: Request,
): Promise<{ organizationId: string; actor: EventActor; operator: boolean }> {
  const result: unknown = await authorize(req);
  if (result === 'forbidden') throw new KeywardError('forbidden');
  if (typeof result === 'object' && result !== null) {
    // Read once: a getter cannot answer one value to the check and another to the use.
    const organizationId: unknown = (result as { organizationId?: unknown }).organizationId;
    const actor = readActor((result as { actor?: unknown }).actor);
    if (
      typeof organizationId === 'string' &&
      organizationId.length > 0 &&
      organizationId.length <= MAX_ORGANIZATION_ID_LENGTH &&
      actor !== null
    ) {
      return { organizationId, actor, operator: (result as { operator?: unknown }).operator === true };
    }
  }
  if (result !== null && result !== 'unauthorized')
    log('authorize gave an unusable answer (%s): refused', describe(result));
  throw new KeywardError('unauthorized');
}

/** The actor `authorize` named, `UNNAMED_USER` when none, `null` when it is not an actor (refused). */
function readActor(value: unknown): EventActor | null {
  if (value === undefined || value === null) return UNNAMED_USER;
  if (typeof value !== 'object') return null;
  const type: unknown = (value as { type?: unknown }).type;
  const id: unknown = (value as { id?: unknown }).id;
  if (typeof type !== 'string' || !ACTOR_TYPES.has(type)) return null;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ORGANIZATION_ID_LENGTH) return null;
  return { type: type as EventActor['type'], id };
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}
