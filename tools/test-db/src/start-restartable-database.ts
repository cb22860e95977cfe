import { mkdir, rm } from 'node:fs/promises';
import type { MongoMemoryServer } from 'mongodb-memory-server';
import { removeOnExit } from './child-cleanup.js';
import { makeDataDir } from './data-dir.js';
import { createTestDatabase } from './database.js';
import { type FerretDBProcess, startFerretDB } from './ferretdb-runner.js';
import { startMemoryServer } from './memory-server.js';
import { toServerUri } from './mongo-uri.js';
import { note } from './note.js';
import { probeServer } from './probe.js';
import { externalUrl, ferretDBBinaryOrExplain, forcedFailure, forcedKind, reasonOf } from './selection.js';
import type { RestartableDatabase, TestDatabaseInfo } from './types.js';

// FerretDB serves open connections for 3 s after SIGTERM; a pause should cut them off at once. Killing it
// is safe for the data: SQLite commits survive the process being killed.
const PAUSE_GRACE_MS = 300;

interface Controls {
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

// pause/resume/stop run one at a time, in call order; pausing a paused server or resuming a running one
// does nothing, and nothing works after stop.
function createRestartable(info: TestDatabaseInfo, controls: Controls): RestartableDatabase {
  let queue: Promise<void> = Promise.resolve();
  let state: 'running' | 'paused' | 'stopped' = 'running';
  const enqueue = (step: () => Promise<void>): Promise<void> => {
    const next = queue.then(step);
    queue = next.catch(() => {});
    return next;
  };
  const database = createTestDatabase(info, () =>
    enqueue(async () => {
      if (state === 'stopped') return;
      state = 'stopped';
      await controls.stop();
    }),
  );
  return {
    ...database,
    kind: info.kind as RestartableDatabase['kind'],
    pause: () =>
      enqueue(async () => {
        if (state === 'stopped') throw new Error('The database was stopped');
        if (state === 'paused') return;
        await controls.pause();
        state = 'paused';
      }),
    resume: () =>
      enqueue(async () => {
        if (state === 'stopped') throw new Error('The database was stopped');
        if (state === 'running') return;
        await controls.resume();
        state = 'running';
      }),
  };
}

async function restartableMemoryServer(dbPath: string, forgetDir: () => void): Promise<RestartableDatabase> {
  const server = (await startMemoryServer({ dbPath })) as MongoMemoryServer;
  const uri = toServerUri(server.getUri());
  const traits = await probeServer(uri).catch(async (error: unknown) => {
    await server.stop({ doCleanup: false });
    throw error;
  });
  return createRestartable(
    { kind: 'mongodb-memory-server', uri, ...traits },
    {
      pause: async () => {
        await server.stop({ doCleanup: false });
      },
      resume: () => server.start(true),
      stop: async () => {
        await server.stop({ doCleanup: true, force: true });
        await rm(dbPath, { recursive: true, force: true });
        forgetDir();
      },
    },
  );
}

async function restartableFerretDB(
  dir: string,
  forgetDir: () => void,
  memoryServerFailure: string | undefined,
): Promise<RestartableDatabase> {
  const binary = await ferretDBBinaryOrExplain(memoryServerFailure);
  let server: FerretDBProcess | undefined = await startFerretDB({ binary, listen: '127.0.0.1:0', dir });
  const listen = `127.0.0.1:${server.port}`;
  const uri = toServerUri(server.uri);
  const traits = await probeServer(uri).catch(async (error: unknown) => {
    await server?.stop();
    throw error;
  });
  return createRestartable(
    { kind: 'ferretdb', uri, ...traits },
    {
      pause: async () => {
        await server?.stop(PAUSE_GRACE_MS);
        server = undefined;
      },
      resume: async () => {
        server = await startFerretDB({ binary, listen, dir });
      },
      stop: async () => {
        await server?.stop(PAUSE_GRACE_MS);
        server = undefined;
        await rm(dir, { recursive: true, force: true });
        forgetDir();
      },
    },
  );
}

/**
 * Starts a server of our own that a test may stop and start again on the same port with the same data,
 * e.g. to check what happens while the store is unreachable. mongodb-memory-server is tried first, then the
 * FerretDB runner (same selection as `startTestDatabase`, minus `MONGO_URL`). With `MONGO_URL` set there is
 * nothing we may stop, so it resolves with `{ skipped: reason }` instead.
 * @example
 * const db = await startRestartableDatabase();
 * if ('skipped' in db) return ctx.skip(db.skipped);
 * await db.pause();   // connection attempts now fail
 * await db.resume();  // same port, same data
 * await db.stop();
 */
export async function startRestartableDatabase(): Promise<RestartableDatabase | { skipped: string }> {
  if (externalUrl()) {
    return { skipped: 'MONGO_URL is set: tests use that server and cannot stop or restart it' };
  }
  const forced = forcedKind();
  const dir = await makeDataDir();
  const forgetDir = removeOnExit(dir);
  try {
    let memoryServerFailure: string | undefined;
    if (forced !== 'ferretdb') {
      try {
        const database = await restartableMemoryServer(dir, forgetDir);
        note(`restartable mongodb-memory-server at ${database.uri}`);
        return database;
      } catch (error) {
        if (forced) throw forcedFailure(error);
        memoryServerFailure = reasonOf(error);
        // start FerretDB on an empty directory, whatever mongod may have left
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir);
      }
    }
    const database = await restartableFerretDB(dir, forgetDir, memoryServerFailure);
    note(`restartable FerretDB at ${database.uri}`);
    return database;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    forgetDir();
    throw error;
  }
}
