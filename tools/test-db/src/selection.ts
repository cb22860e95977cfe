import { redactConnectionString } from 'mongodb-connection-string-url';
import { ensureFerretDBBinary, GoNotFoundError } from './ferretdb-binary.js';
import type { TestDatabaseKind } from './types.js';

type LocalKind = Exclude<TestDatabaseKind, 'external'>;

/** `MONGO_URL`, trimmed, or `undefined` when unset or empty. */
export function externalUrl(): string | undefined {
  return process.env.MONGO_URL?.trim() || undefined;
}

/**
 * The kind `KEYWARD_TEST_DB` forces (`mongodb-memory-server` or `ferretdb`), or `undefined` to try
 * mongodb-memory-server first and fall back to FerretDB.
 * @throws {TypeError} on any other value
 */
export function forcedKind(): LocalKind | undefined {
  const value = process.env.KEYWARD_TEST_DB?.trim();
  if (!value) return undefined;
  if (value === 'mongodb-memory-server' || value === 'ferretdb') return value;
  throw new TypeError(
    `KEYWARD_TEST_DB must be "mongodb-memory-server" or "ferretdb", not ${JSON.stringify(value)}`,
  );
}

/** The error to throw when `KEYWARD_TEST_DB=mongodb-memory-server` is set and it failed. */
export function forcedFailure(error: unknown): Error {
  return new Error(
    `KEYWARD_TEST_DB=mongodb-memory-server is set, but it could not start: ${reasonOf(error)}`,
    {
      cause: error,
    },
  );
}

/** The first line of an error's message, for one-line notes. */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() || 'unknown error';
}

/**
 * The FerretDB runner binary, built if needed; when Go is missing, one error that says how to get a
 * database instead.
 */
export async function ferretDBBinaryOrExplain(memoryServerFailure: string | undefined): Promise<string> {
  try {
    return await ensureFerretDBBinary();
  } catch (error) {
    if (!(error instanceof GoNotFoundError)) throw error;
    const why = memoryServerFailure
      ? `mongodb-memory-server could not start (${memoryServerFailure})`
      : 'KEYWARD_TEST_DB=ferretdb is set';
    throw new Error(
      `No database for the tests: MONGO_URL is not set, ${why}, and the FerretDB fallback needs Go ` +
        '(https://go.dev/dl/) to be built once. Point MONGO_URL at a MongoDB or FerretDB server you run, e.g. ' +
        '`docker run -d -p 27017:27017 mongo:8` then `MONGO_URL=mongodb://127.0.0.1:27017 pnpm test`.',
      { cause: error },
    );
  }
}

/** A URI safe to print: credentials replaced (the driver's own redactor). */
export function redact(uri: string): string {
  return redactConnectionString(uri);
}
