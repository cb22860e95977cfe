import { withDatabase } from './mongo-uri.js';
import type { TestDatabase, TestDatabaseInfo } from './types.js';

/** Adds `uriFor` and an idempotent `stop` to what a starter found out. */
export function createTestDatabase(info: TestDatabaseInfo, stopServer: () => Promise<void>): TestDatabase {
  let stopping: Promise<void> | undefined;
  return {
    ...info,
    uriFor: (dbName) => withDatabase(info.uri, dbName),
    stop: () => {
      stopping ??= stopServer();
      return stopping;
    },
  };
}
