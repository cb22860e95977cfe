import type { KeyEvent, KeyEventType } from '@keyward/core';
import type { Command } from 'commander';
import type { Session } from './connect.js';
import { CliError, EXIT } from './exit-codes.js';
import { columns } from './format.js';

/** What the `events` command needs from the program. */
export interface EventsCommandIo {
  withSession: (use: (session: Session) => Promise<void>) => Promise<void>;
  print: (line: string) => void;
  say: (line: string) => void;
}

interface EventsOptions {
  org: string;
  key?: string;
  type?: string;
  chain?: boolean;
  limit: string;
  json?: boolean;
}

/** The most events one `keyward events` prints. */
const MAX_EVENTS = 10_000;

/**
 * Adds `keyward events --org ID [--key ID [--chain]] [--type TYPE] [--limit N] [--json]`: the organization's
 * audit events (docs/reference.md §7), newest first, as a table or JSON; `--chain` follows the key's rolls. Events never hold a token, hash or pepper.
 *
 * @example
 * registerEventsCommand(program, { withSession, print, say });
 */
export function registerEventsCommand(program: Command, io: EventsCommandIo): void {
  program
    .command('events')
    .description("list an organization's audit events, newest first (who changed which key, when)")
    .requiredOption('--org <id>', 'the organization id')
    .option('--key <id>', "only this key's events")
    .option(
      '--chain',
      "with --key: the events of the key's whole roll chain (the keys it replaced and those that replaced it)",
    )
    .option('--type <type>', 'only events of this type, e.g. key.rolled')
    .option('--limit <n>', `at most this many events (1 to ${MAX_EVENTS})`, '50')
    .option('--json', 'print JSON')
    .action(async (options: EventsOptions) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS) {
        throw new CliError(`--limit must be a whole number from 1 to ${MAX_EVENTS}`, EXIT.usage);
      }
      if (options.chain && options.key === undefined) throw new CliError('--chain needs --key', EXIT.usage);
      await io.withSession(async ({ keyward }) => {
        const events: KeyEvent[] = [];
        let cursor: string | null = null;
        do {
          const page = await keyward.listEvents(options.org, {
            limit: Math.min(100, limit - events.length),
            ...(cursor ? { cursor } : {}),
            ...(options.key !== undefined ? { keyId: options.key } : {}),
            ...(options.chain ? { chain: true } : {}),
            ...(options.type !== undefined ? { type: options.type as KeyEventType } : {}),
          });
          events.push(...page.events);
          cursor = page.nextCursor;
        } while (cursor !== null && events.length < limit);
        if (options.json) io.print(JSON.stringify(events, null, 2));
        else if (events.length === 0) io.say(`No events in organization ${options.org}.`);
        else io.print(eventTable(events));
      });
    });
}

/** Events as a text table, one per line. */
function eventTable(events: KeyEvent[]): string {
  const rows = [
    ['AT', 'TYPE', 'KEY', 'NAME', 'ACTOR', 'CHANGES', 'IP'],
    ...events.map((e) => [
      e.at.toISOString(),
      e.type,
      e.keyId,
      e.keyName,
      `${e.actor.type}:${e.actor.id}`,
      e.changes?.join(',') || '—',
      e.ip ?? '—',
    ]),
  ];
  return columns(rows);
}
