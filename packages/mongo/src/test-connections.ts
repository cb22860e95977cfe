import { useTestDatabase } from '@keyward/test-db';
import mongoose6 from 'mongoose6';
import mongoose7 from 'mongoose7';
import mongoose8 from 'mongoose8';
import mongoose9 from 'mongoose9';
import { afterAll } from 'vitest';

/** Both supported mongoose majors, to run a suite on each. */
export const MONGOOSE_MAJORS = [
  ['mongoose 8', mongoose8],
  ['mongoose 9', mongoose9],
] as const;

/**
 * The older majors the peer range also admits (6 and 7, on MongoDB drivers 4 and 5): the conformance suite runs on
 * them too, so the range is as wide as what is tested; the rest of the suites run on 8 and 9.
 */
export const OLDER_MONGOOSE_MAJORS = [
  ['mongoose 6', mongoose6 as unknown as typeof mongoose9],
  ['mongoose 7', mongoose7 as unknown as typeof mongoose9],
] as const;

/**
 * The store timeout and lease (`timeoutMs`, `leaseMs`) of suites about correctness under concurrency. On a
 * loaded shared machine a burst of racing writes on FerretDB (one SQLite writer) can outlive the default
 * 5 s of either: a timed-out call, or a writer whose lease ran out before it recorded its write, fails
 * closed (503), which such a suite would read as a broken invariant. The timeout's and the lease's own
 * behaviour are tested with short ones (mongo-store.test.ts, outage.test.ts, read-timeout.test.ts,
 * crash.test.ts).
 */
export const PATIENT_STORE = { timeoutMs: 30_000, leaseMs: 30_000 } as const;

type Mongoose = (typeof MONGOOSE_MAJORS)[number][1];

/**
 * A fresh database for this test file and a way to open connections to it with either mongoose major;
 * connections are closed after the file.
 */
export function useConnections(tag: string) {
  const db = useTestDatabase(tag);
  const open: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
  });
  return {
    db,
    async connect(mongoose: Mongoose, options: { serverSelectionTimeoutMS?: number } = {}) {
      const connection = await mongoose
        .createConnection(db.uri, { serverSelectionTimeoutMS: 5_000, ...options })
        .asPromise();
      open.push(connection);
      return connection;
    },
  };
}
