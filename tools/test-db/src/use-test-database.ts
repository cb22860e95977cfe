import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, inject } from 'vitest';
import { withDatabase } from './mongo-uri.js';
import { PROVIDED_KEY } from './provided-context.js';
import type { TestDatabaseInfo } from './types.js';

/** A database of its own for one test file, on the run's server. */
export interface FileDatabase extends TestDatabaseInfo {
  /** The database name, `kw_<tag>_<random>`. */
  dbName: string;
  /** The URI of that database (the server's query parameters kept). */
  uri: string;
  /** The server URI without a database name. */
  serverUri: string;
}

/** Options of {@link useTestDatabase}. */
export interface UseTestDatabaseOptions {
  /**
   * Keep the database after the file's tests (by default it is dropped in `afterAll`).
   * @default false
   */
  keep?: boolean;
}

/**
 * Gives the calling test file a fresh database named `kw_<fileTag>_<random>` on the server that
 * `@keyward/test-db/global-setup` started for the run, and drops it after the file's tests. Call it at the
 * top level of a test file (or of a `describe`).
 * @throws {Error} when the vitest config does not use the global setup
 * @example
 * const db = useTestDatabase('mongo-store');
 * const connection = await mongoose.createConnection(db.uri).asPromise();
 */
export function useTestDatabase(fileTag: string, options: UseTestDatabaseOptions = {}): FileDatabase {
  const server = inject(PROVIDED_KEY);
  if (!server) {
    throw new Error(
      "No test database: add globalSetup: ['@keyward/test-db/global-setup'] to this package's vitest.config.ts",
    );
  }
  const tag = fileTag
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  const dbName = `kw_${tag}_${randomBytes(5).toString('hex')}`;
  const uri = withDatabase(server.uri, dbName);
  if (!options.keep) {
    afterAll(async () => {
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
      try {
        await client.db().dropDatabase();
      } finally {
        await client.close();
      }
    });
  }
  return { ...server, serverUri: server.uri, dbName, uri };
}
