import { redactConnectionString } from 'mongodb-connection-string-url';
import { CliError, EXIT } from './exit-codes.js';

/** What every database command needs, from the environment or global options. */
export interface Settings {
  mongoUrl: string;
  pepper: string;
  /** `KEYWARD_PREVIOUS_PEPPERS` (comma-separated, newest first), while the app rotates its pepper. */
  previousPeppers: string[];
  /** `KEYWARD_LEGACY_PATTERN`: the app's `legacyTokens.pattern` source, for `verify` of imported tokens. */
  legacyPattern: RegExp | undefined;
  scopes: string[];
  publicScopes: string[];
  prefix: string | undefined;
  timeoutMs: number;
  /** `KEYWARD_PLANS` (comma-separated): the names of the app's plans, so that `--plan` and `plan` can name one. */
  plans: string[];
}

/** The global options of `keyward`, as commander parsed them. */
export interface GlobalOptions {
  scopeCatalog?: string;
  publicScopes?: string;
  prefix?: string;
  timeout?: string;
  plans?: string;
}

/** Splits `a, b,c` into `['a', 'b', 'c']`; empty entries are dropped. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** Reads the settings: global options first, then `MONGO_URL`, `KEYWARD_*`; missing ones are usage errors. */
export function readSettings(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Settings {
  const mongoUrl = env.MONGO_URL;
  if (!mongoUrl)
    throw new CliError(
      'MONGO_URL is not set: the MongoDB URL of your app, e.g. mongodb://127.0.0.1:27017/app',
      EXIT.usage,
    );
  const pepper = env.KEYWARD_PEPPER;
  if (!pepper)
    throw new CliError('KEYWARD_PEPPER is not set: the pepper your app passes to createKeyward', EXIT.usage);
  const timeoutSeconds = Number(options.timeout ?? env.KEYWARD_TIMEOUT ?? 5);
  if (!(timeoutSeconds > 0)) throw new CliError('--timeout must be a number of seconds above 0', EXIT.usage);
  let legacyPattern: RegExp | undefined;
  try {
    legacyPattern = env.KEYWARD_LEGACY_PATTERN ? new RegExp(env.KEYWARD_LEGACY_PATTERN) : undefined;
  } catch {
    throw new CliError('KEYWARD_LEGACY_PATTERN is not a valid regular expression', EXIT.usage);
  }
  return {
    mongoUrl,
    pepper,
    previousPeppers: splitList(env.KEYWARD_PREVIOUS_PEPPERS),
    legacyPattern,
    scopes: splitList(options.scopeCatalog ?? env.KEYWARD_SCOPES),
    publicScopes: splitList(options.publicScopes ?? env.KEYWARD_PUBLIC_SCOPES),
    prefix: options.prefix ?? env.KEYWARD_PREFIX ?? undefined,
    timeoutMs: timeoutSeconds * 1000,
    plans: splitList(options.plans ?? env.KEYWARD_PLANS),
  };
}

/**
 * Refuses to go on without a scope catalog (exit 2): a key made without one holds no scope and is refused
 * with 403 on every route that asks for one, and `create` would still exit 0.
 */
export function requireScopeCatalog(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): void {
  if (splitList(options.scopeCatalog ?? env.KEYWARD_SCOPES).length > 0) return;
  throw new CliError(
    "KEYWARD_SCOPES is not set: the app's scope catalog, comma-separated, as it passes to createKeyward " +
      '(e.g. KEYWARD_SCOPES=snippets:read,snippets:write), or --scope-catalog',
    EXIT.usage,
  );
}

/**
 * The URL without its credentials (user, password, and secrets in the query such as
 * `tlsCertificateKeyFilePassword`), for messages: the driver's own redactor, not a regex of ours.
 */
export function redactUrl(url: string): string {
  return redactConnectionString(url);
}
