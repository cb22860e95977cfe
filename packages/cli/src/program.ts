import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { isKeywardError, parseToken } from '@keyward/core';
import { ownerFilterSchema, serializeCredits } from '@keyward/core/schemas';
import { Command, CommanderError, Option } from 'commander';
import { openSession, type Session } from './connect.js';
import { registerEventsCommand } from './events-command.js';
import { CliError, EXIT } from './exit-codes.js';
import { keyJSON, keyTable } from './format.js';
import { registerImport } from './import-command.js';
import {
  type GlobalOptions,
  readSettings,
  requireScopeCatalog,
  type Settings,
  splitList,
} from './settings.js';

/** Where the CLI writes; tests pass their own. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** Where `import` draws its progress bar, and whether it is a terminal (no bar otherwise). */
  progress?: { stream: NodeJS.WritableStream; isTTY: boolean };
}

interface OrgOption {
  org: string;
  json?: boolean;
}

/**
 * Runs `keyward` with `argv` (without the node and script paths) and resolves with the exit code:
 * 0 ok, 1 refused, 2 usage or connection error.
 */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const program = new Command('keyward');
  let exitCode: number = EXIT.ok;
  const say = (line: string): void => io.stderr(`${line}\n`);
  const print = (line: string): void => io.stdout(`${line}\n`);

  program
    .description('Manage the Keyward API keys of your app in its MongoDB database.')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(keyward --help for usage)')
    .version(packageVersion(), '-V, --version', "print the CLI's version")
    .option('--scope-catalog <list>', "the app's scope catalog, comma-separated (default: KEYWARD_SCOPES)")
    .option('--public-scopes <list>', 'the scopes public keys may hold (default: KEYWARD_PUBLIC_SCOPES)')
    .option('--prefix <prefix>', "the app's token prefix (default: KEYWARD_PREFIX, else kw)")
    .option('--timeout <seconds>', 'give up reaching the database after this long (default: 5)')
    .option('--plans <list>', "the names of the app's plans, comma-separated (default: KEYWARD_PLANS)");

  // Opens the database, runs `use`, and always closes it again.
  const withSession = async (use: (session: Session) => Promise<void>): Promise<void> => {
    const session = await openSession(readSettings(program.opts<GlobalOptions>(), io.env));
    try {
      await use(session);
    } finally {
      await session.close();
    }
  };

  program
    .command('pepper')
    .description('print a new random pepper (32 bytes, base64url) for KEYWARD_PEPPER')
    .action(() => {
      print(randomBytes(32).toString('base64url'));
    });

  const requireCatalog = (): void => requireScopeCatalog(program.opts<GlobalOptions>(), io.env);

  const keys = program.command('keys').description("list and change an organization's keys");
  const org = (command: Command): Command =>
    command.requiredOption('--org <id>', 'the organization id').option('--json', 'print JSON');

  org(keys.command('list').description("list the organization's keys (never their tokens)")).action(
    async (options: OrgOption) => {
      await withSession(async ({ keyward }) => {
        // Every page: an operator listing an organization wants all its keys.
        const list = [];
        let cursor: string | null = null;
        do {
          const page = await keyward.listKeys(options.org, { limit: 100, ...(cursor ? { cursor } : {}) });
          list.push(...page.keys);
          cursor = page.nextCursor;
        } while (cursor !== null);
        if (options.json) print(JSON.stringify(list.map(keyJSON), null, 2));
        else if (list.length === 0) say(`No keys in organization ${options.org}.`);
        else print(keyTable(list));
      });
    },
  );

  org(
    keys
      .command('create')
      .description('create a key and print its token once, on stdout')
      .requiredOption('--name <name>', 'a name people recognise, e.g. "CI"')
      .addOption(
        new Option('--type <type>', 'public or secret').choices(['public', 'secret']).makeOptionMandatory(),
      )
      .option('--scopes <list>', "the key's scopes, comma-separated, from the catalog")
      .option('--expires <date>', 'when it stops working, RFC 3339, e.g. 2027-01-31T00:00:00Z')
      .option('--owner <owner>', 'who owns it in the organization: user:<id> or service:<id>')
      .option('--meta <json>', 'app data returned on verify: a JSON object of at most 1 kB')
      .option('--plan <name>', "one of the app's plans (KEYWARD_PLANS); default: the organization's plan"),
  ).action(
    async (
      options: OrgOption & {
        name: string;
        type: 'public' | 'secret';
        scopes?: string;
        expires?: string;
        owner?: string;
        meta?: string;
        plan?: string;
      },
    ) => {
      requireCatalog();
      await withSession(async ({ keyward }) => {
        const { key, token } = await keyward.createKey(options.org, {
          name: options.name,
          type: options.type,
          ...(options.scopes !== undefined ? { scopes: splitList(options.scopes) } : {}),
          ...(options.expires !== undefined ? { expiresAt: options.expires } : {}),
          ...(options.owner !== undefined ? { owner: parseOwner(options.owner) } : {}),
          ...(options.meta !== undefined ? { meta: parseMeta(options.meta) } : {}),
          ...(options.plan !== undefined ? { plan: options.plan } : {}),
        });
        if (options.json) print(JSON.stringify({ token, key: keyJSON(key) }, null, 2));
        else {
          print(token);
          say(`Created ${key.type} key ${key.id} ("${key.name}") in ${key.organizationId}.`);
          say('The token above is shown once: store it now.');
        }
      });
    },
  );

  org(
    keys
      .command('roll <id>')
      .description('replace a key: print the new token once; the old one works for the grace period')
      .option('--grace <seconds>', 'how long the old key keeps working (default: 43200, 12 hours)'),
  ).action(async (id: string, options: OrgOption & { grace?: string }) => {
    const grace = options.grace === undefined ? undefined : Number(options.grace);
    if (grace !== undefined && !Number.isInteger(grace))
      throw new CliError('--grace must be a whole number of seconds', EXIT.usage);
    await withSession(async ({ keyward }) => {
      const { key, token, previous } = await keyward.rollKey(
        options.org,
        id,
        grace === undefined ? {} : { gracePeriodSeconds: grace },
      );
      if (options.json)
        print(JSON.stringify({ token, key: keyJSON(key), previous: keyJSON(previous) }, null, 2));
      else {
        print(token);
        say(
          `Rolled ${previous.id} into ${key.id}; the old key works until ${previous.expiresAt?.toISOString() ?? 'now'}.`,
        );
        say('The token above is shown once: store it now.');
      }
    });
  });

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    org(keys.command(`${name} <id>`).description(`${name} a key (at once, on every instance)`)).action(
      async (id: string, options: OrgOption) => {
        await withSession(async ({ keyward }) => {
          const key = await keyward.updateKey(options.org, id, { disabled });
          if (options.json) print(JSON.stringify(keyJSON(key), null, 2));
          else say(`Key ${key.id} is now ${key.status}.`);
        });
      },
    );
  }

  org(
    keys
      .command('plan <id> <plan>')
      .description('put a key on one of the app\'s plans (KEYWARD_PLANS); "none": its organization\'s plan'),
  ).action(async (id: string, plan: string, options: OrgOption) => {
    await withSession(async ({ keyward }) => {
      const key = await keyward.updateKey(options.org, id, { plan: plan === 'none' ? null : plan });
      if (options.json) print(JSON.stringify(keyJSON(key), null, 2));
      else say(`Key ${key.id} is on ${key.plan === null ? "its organization's plan" : `plan ${key.plan}`}.`);
    });
  });

  org(
    keys
      .command('credits <id>')
      .description("show a key's credits; with --set, set them (starting afresh), with --remove, remove them")
      .option('--set <n>', 'the balance from now until the next refill')
      .option('--refill <amount>', 'with --set: the balance each refill sets')
      .option('--every <seconds>', 'with --refill: seconds between refills (60 to 31622400)')
      .option('--remove', "remove the key's own credits (it then spends its plan's, if any)"),
  ).action(
    async (
      id: string,
      options: OrgOption & { set?: string; refill?: string; every?: string; remove?: boolean },
    ) => {
      if (options.set !== undefined && options.remove)
        throw new CliError('Give --set or --remove, not both.', EXIT.usage);
      if (
        (options.refill === undefined) !== (options.every === undefined) ||
        (options.refill && !options.set)
      )
        throw new CliError('--refill and --every go together, with --set.', EXIT.usage);
      await withSession(async ({ keyward }) => {
        const credits =
          options.set !== undefined
            ? await keyward.setCredits(options.org, id, {
                remaining: Number(options.set),
                ...(options.refill !== undefined
                  ? { refill: { amount: Number(options.refill), intervalSeconds: Number(options.every) } }
                  : {}),
              })
            : options.remove
              ? await keyward.setCredits(options.org, id, null)
              : await keyward.getCredits(options.org, id);
        if (options.json) print(JSON.stringify(credits && serializeCredits(credits), null, 2));
        else if (credits === null) say(`Key ${id} has no credits.`);
        else
          say(
            `Key ${id}: ${credits.remaining} credits left (${credits.source === 'plan' ? 'from its plan' : 'its own'})` +
              (credits.refill && credits.refillsAt
                ? `; back to ${credits.refill.amount} at ${credits.refillsAt.toISOString()}, every ${credits.refill.intervalSeconds} s.`
                : '.'),
          );
      });
    },
  );

  org(
    program
      .command('org-plan <plan>')
      .description('put an organization on one of the app\'s plans (KEYWARD_PLANS); "none": no plan'),
  ).action(async (plan: string, options: OrgOption) => {
    await withSession(async ({ keyward }) => {
      await keyward.setOrganizationPlan(options.org, plan === 'none' ? null : plan);
      if (options.json)
        print(JSON.stringify({ organizationId: options.org, plan: plan === 'none' ? null : plan }));
      else say(`Organization ${options.org} is on ${plan === 'none' ? 'no plan' : `plan ${plan}`}.`);
    });
  });

  org(keys.command('delete <id>').description('delete a key: it stops working at once')).action(
    async (id: string, options: OrgOption) => {
      await withSession(async ({ keyward }) => {
        await keyward.deleteKey(options.org, id);
        if (options.json) print(JSON.stringify({ deleted: id }));
        else say(`Key ${id} is deleted.`);
      });
    },
  );

  registerEventsCommand(program, { withSession, print, say });

  program
    .command('verify <token>')
    .description('check a token as your API would ("-" reads it from stdin); exit 1 when refused')
    .option('--json', 'print JSON')
    .action(async (token: string, options: { json?: boolean }) => {
      const candidate = token === '-' ? (await text(io.stdin)).trim() : token;
      const settings = readSettings(program.opts<GlobalOptions>(), io.env);
      await withSession(async ({ keyward }) => {
        const result = await keyward.verify(candidate);
        if (result.valid) {
          if (options.json) print(JSON.stringify(result, null, 2));
          else {
            print(
              `valid: ${result.key.type} key ${result.key.id} ("${result.key.name}") of ${result.key.organizationId}`,
            );
            print(`scopes: ${result.key.scopes.join(', ') || '—'}`);
            if (result.sunsetAt) print(`rolled: works until ${result.sunsetAt.toISOString()}`);
          }
          return;
        }
        if (result.code === 'key_store_unavailable')
          throw new CliError('The key store is unavailable.', EXIT.usage);
        const hint = result.code === 'invalid_api_key' ? invalidTokenHint(candidate, settings) : undefined;
        if (options.json) print(JSON.stringify(hint ? { ...result, hint } : result));
        else say(hint ? `refused: ${result.code}\nhint: ${hint}` : `refused: ${result.code}`);
        exitCode = EXIT.refused;
      });
    });

  registerImport(
    program,
    {
      stdout: io.stdout,
      stderr: io.stderr,
      stderrIsTTY: io.progress?.isTTY === true,
      progressStream: io.progress?.stream ?? process.stderr,
    },
    withSession,
    (code) => {
      exitCode = code;
    },
    requireCatalog,
  );

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? EXIT.ok
        : EXIT.usage;
    }
    if (error instanceof CliError) {
      say(error.message);
      return error.exitCode;
    }
    if (isKeywardError(error)) {
      const details =
        error.details?.map((detail) => `  ${detail.path || '(input)'}: ${detail.message}`) ?? [];
      say([`${error.code}: ${error.message}`, ...details].join('\n'));
      return error.code === 'key_store_unavailable' ? EXIT.usage : EXIT.refused;
    }
    throw error;
  }
}

/**
 * Why `verify` may have answered `invalid_api_key`, for the two usual mistakes: a token outside Keyward's
 * format (an imported one) while `KEYWARD_LEGACY_PATTERN` is unset or does not match it, or a well-formed
 * token that no key has (most often another pepper or another database than the app's). Never quotes the
 * token.
 */
export function invalidTokenHint(token: string, settings: Settings): string {
  const parsed = parseToken(token);
  const prefix = settings.prefix ?? 'kw';
  if (parsed !== null && parsed.prefix !== prefix) {
    return (
      `the token's prefix is ${parsed.prefix}, the CLI expects ${prefix}: set KEYWARD_PREFIX (or --prefix) ` +
      'to the prefix your app passes to createKeyward.'
    );
  }
  if (parsed === null && settings.legacyPattern === undefined) {
    return (
      "the token is not in Keyward's format (prefix_sk_… or prefix_pk_…) and KEYWARD_LEGACY_PATTERN is not " +
      "set: an imported key verifies only with your app's legacyTokens pattern in KEYWARD_LEGACY_PATTERN."
    );
  }
  if (parsed === null && !settings.legacyPattern?.test(token)) {
    return (
      "the token is neither in Keyward's format nor matches KEYWARD_LEGACY_PATTERN: check it was copied " +
      'whole (no missing or extra character).'
    );
  }
  return (
    'the token is well-formed but no key has it under this pepper: check that KEYWARD_PEPPER is the pepper ' +
    'your app runs with (and KEYWARD_PREVIOUS_PEPPERS while it rotates one), and that MONGO_URL is its database. ' +
    'A deleted key is refused the same way.'
  );
}

/** The version in this package's package.json (one folder up from both `src/` and `dist/`). */
function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `--owner user:u_1` as the service takes it; anything else goes through as is, for its 400. */
function parseOwner(value: string): { type: 'user' | 'service'; id: string } {
  const parsed = ownerFilterSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  return value as never;
}

/** `--meta '{"customerId":"cus_1"}'`; text that is not JSON goes through as is, for the service's 400. */
function parseMeta(value: string): Record<string, unknown> {
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    return value as never;
  }
}
