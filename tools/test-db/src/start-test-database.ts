import { rm } from 'node:fs/promises';
import { removeOnExit } from './child-cleanup.js';
import { makeDataDir } from './data-dir.js';
import { createTestDatabase } from './database.js';
import { type FerretDBProcess, startFerretDB } from './ferretdb-runner.js';
import { startMemoryServer } from './memory-server.js';
import { toServerUri } from './mongo-uri.js';
import { note } from './note.js';
import { probeServer } from './probe.js';
import {
  externalUrl,
  ferretDBBinaryOrExplain,
  forcedFailure,
  forcedKind,
  reasonOf,
  redact,
} from './selection.js';
import type { StartTestDatabaseOptions, TestDatabase } from './types.js';

async function useExternal(url: string): Promise<TestDatabase> {
  const uri = toServerUri(url);
  let traits: Awaited<ReturnType<typeof probeServer>>;
  try {
    traits = await probeServer(uri);
  } catch (error) {
    throw new Error(`MONGO_URL is set, but ${redact(uri)} does not answer: ${reasonOf(error)}`, {
      cause: error,
    });
  }
  note(`using MONGO_URL ${redact(uri)}${traits.isFerretDB ? ' (FerretDB)' : ''}`);
  return createTestDatabase({ kind: 'external', uri, ...traits }, async () => {});
}

/**
 * Starts (or, with `MONGO_URL`, connects to) a MongoDB-wire server for tests, choosing in this order:
 * 1. `MONGO_URL`, an external server used as it is;
 * 2. mongodb-memory-server (a real mongod, downloaded on first use), unless `KEYWARD_TEST_DB=ferretdb`;
 * 3. the FerretDB runner of tools/ferretdb (built with Go on first use), unless
 *    `KEYWARD_TEST_DB=mongodb-memory-server`.
 * Writes one line to stderr saying which one it chose. Call `stop()` when done; servers we started also
 * get SIGTERM when the process exits.
 * @throws {Error} when no database can be had, with a message saying how to get one
 * @example
 * const db = await startTestDatabase();
 * const client = await MongoClient.connect(db.uriFor('kw_example'));
 * // ...
 * await client.close();
 * await db.stop();
 */
export async function startTestDatabase(options: StartTestDatabaseOptions = {}): Promise<TestDatabase> {
  const external = externalUrl();
  if (external) return useExternal(external);

  const forced = forcedKind();
  let memoryServerFailure: string | undefined;
  if (forced !== 'ferretdb') {
    try {
      const server = await startMemoryServer({ replicaSet: options.replicaSet ?? false });
      const uri = toServerUri(server.getUri());
      const traits = await probeServer(uri);
      note(`using mongodb-memory-server at ${uri}${traits.isReplicaSet ? ' (replica set)' : ''}`);
      return createTestDatabase({ kind: 'mongodb-memory-server', uri, ...traits }, async () => {
        await server.stop({ doCleanup: true, force: false });
      });
    } catch (error) {
      if (forced) throw forcedFailure(error);
      memoryServerFailure = reasonOf(error);
    }
  }

  const binary = await ferretDBBinaryOrExplain(memoryServerFailure);
  return startKeptFerretDB(binary, memoryServerFailure);
}

/**
 * The FerretDB runner for a whole test run, with its data in a folder of ours. Should it exit while the
 * run still needs it (it crashed, or something killed it), that is said on stderr with the runner's last
 * words, and it starts again on the same port with the same data: the test that was using it fails, the
 * files after it do not.
 */
async function startKeptFerretDB(
  binary: string,
  memoryServerFailure: string | undefined,
): Promise<TestDatabase> {
  const dir = await makeDataDir();
  const forgetDir = removeOnExit(dir);
  let stopped = false;
  let listen = '127.0.0.1:0';
  let server: FerretDBProcess;
  const start = async (): Promise<FerretDBProcess> => {
    const started = await startFerretDB({
      binary,
      listen,
      dir,
      onUnexpectedExit: (reason) => {
        if (stopped) return;
        note(`FerretDB at ${listen} exited unexpectedly (${reason}); starting it again on the same port`);
        restarting = start().then(
          (again) => {
            server = again;
          },
          (error: unknown) => note(`FerretDB did not start again: ${reasonOf(error)}`),
        );
      },
    });
    listen = `127.0.0.1:${started.port}`;
    return started;
  };
  let restarting: Promise<void> = Promise.resolve();
  server = await start();
  const stop = async (): Promise<void> => {
    stopped = true;
    await restarting;
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    forgetDir();
  };
  const uri = toServerUri(server.uri);
  const traits = await probeServer(uri).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  note(
    `using FerretDB at ${uri}${memoryServerFailure ? ` (mongodb-memory-server: ${memoryServerFailure})` : ''}`,
  );
  return createTestDatabase({ kind: 'ferretdb', uri, ...traits }, stop);
}
