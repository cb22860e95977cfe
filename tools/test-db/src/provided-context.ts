import type { TestDatabaseInfo } from './types.js';

/** The key under which the global setup provides the run's {@link TestDatabaseInfo} to test files. */
export const PROVIDED_KEY = 'keywardTestDatabase';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's database, provided by `@keyward/test-db/global-setup`. */
    keywardTestDatabase: TestDatabaseInfo;
  }
}
