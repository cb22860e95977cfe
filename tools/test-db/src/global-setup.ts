import type { TestProject } from 'vitest/node';
import { PROVIDED_KEY } from './provided-context.js';
import { startTestDatabase } from './start-test-database.js';

/**
 * Vitest global setup: starts one database per run (see `startTestDatabase` for the selection order),
 * provides its `TestDatabaseInfo` to test files (read it with `useTestDatabase`) and stops it at the end.
 * Set `KEYWARD_TEST_DB_REPLICA_SET=1` to ask for a single-node replica set.
 * @example
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['@keyward/test-db/global-setup'] } });
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const replicaSet = /^(1|true|yes|on)$/i.test(process.env.KEYWARD_TEST_DB_REPLICA_SET ?? '');
  const database = await startTestDatabase({ replicaSet });
  project.provide(PROVIDED_KEY, {
    kind: database.kind,
    uri: database.uri,
    isFerretDB: database.isFerretDB,
    isReplicaSet: database.isReplicaSet,
  });
  return () => database.stop();
}
