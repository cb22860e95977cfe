/** Which server a {@link TestDatabase} runs on. */
export type TestDatabaseKind = 'external' | 'mongodb-memory-server' | 'ferretdb';

/** What tests learn about the database; plain data, so vitest can `provide` it to test files. */
export interface TestDatabaseInfo {
  /** Where the server came from: `MONGO_URL`, mongodb-memory-server, or our FerretDB runner. */
  kind: TestDatabaseKind;
  /** Server URI without a database name, e.g. `mongodb://127.0.0.1:40123/` (query parameters kept). */
  uri: string;
  /** `true` when the server is FerretDB (`buildInfo.ferretdbVersion` is set), also for `MONGO_URL`. */
  isFerretDB: boolean;
  /** `true` when the server is a replica set member (`hello.setName` is set): change streams work. */
  isReplicaSet: boolean;
}

/** A running MongoDB-wire server for tests. */
export interface TestDatabase extends TestDatabaseInfo {
  /**
   * The server URI with `dbName` as its database, query parameters kept.
   * @throws {TypeError} when `dbName` is not a valid MongoDB database name
   */
  uriFor(dbName: string): string;
  /** Stops the server (and removes its data) if we started it; for `MONGO_URL` it does nothing. Idempotent. */
  stop(): Promise<void>;
}

/** A server this process owns, that a test can stop and start again on the same port with the same data. */
export interface RestartableDatabase extends TestDatabase {
  kind: 'mongodb-memory-server' | 'ferretdb';
  /** Stops the server but keeps its port and data: connection attempts fail until {@link resume}. */
  pause(): Promise<void>;
  /** Starts the server again on the same port with the same data. */
  resume(): Promise<void>;
}

/** Options of {@link startTestDatabase}. */
export interface StartTestDatabaseOptions {
  /**
   * Ask for a single-node replica set (needed by change streams). Only mongodb-memory-server can honour
   * it; `MONGO_URL` is used as it is and FerretDB has no replica sets, so check `isReplicaSet`.
   * @default false
   */
  replicaSet?: boolean;
}
