export { startRestartableDatabase } from './start-restartable-database.js';
export { startTestDatabase } from './start-test-database.js';
export type {
  RestartableDatabase,
  StartTestDatabaseOptions,
  TestDatabase,
  TestDatabaseInfo,
  TestDatabaseKind,
} from './types.js';
export { type FileDatabase, type UseTestDatabaseOptions, useTestDatabase } from './use-test-database.js';
