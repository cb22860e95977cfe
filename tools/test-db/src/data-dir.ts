import { accessSync, constants } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where a test server keeps its data: `/dev/shm` (memory) where it exists and can be written, else the
 * system's temp folder. The data lives only as long as the test run, and on a disk every SQLite commit of
 * the FerretDB runner waits for `fsync`: the FerretDB-backed suites run about a fifth faster in memory.
 * A process that is killed keeps its data there as on a disk (what the crash and outage tests rely on).
 */
function dataRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** A new, empty folder for one test server's data (the caller removes it). */
export function makeDataDir(): Promise<string> {
  return mkdtemp(join(dataRoot(), 'keyward-test-db-'));
}
