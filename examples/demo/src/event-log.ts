import type { KeyEvent } from '@keyward/core';

/**
 * One log line for an audit event: type, key, name (JSON-quoted, so a name cannot forge lines), actor
 * and client address. Events hold no token, hash or pepper, and nothing else is added.
 *
 * @example
 * formatEventLine(event); // '[event] key.created key_… "CI" by user:org_1:owner from 127.0.0.1'
 */
export function formatEventLine(event: KeyEvent): string {
  const changes = event.changes ? ` (${event.changes.join(', ')})` : '';
  const from = event.ip ? ` from ${JSON.stringify(event.ip).slice(1, -1)}` : '';
  const actor = JSON.stringify(`${event.actor.type}:${event.actor.id}`).slice(1, -1);
  return `[event] ${event.type} ${event.keyId} ${JSON.stringify(event.keyName)}${changes} by ${actor}${from}`;
}
