import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { MongoClient, MongoServerSelectionError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RestartableDatabase,
  startRestartableDatabase,
  startTestDatabase,
  type TestDatabase,
  useTestDatabase,
} from './index.js';

const fileDatabase = useTestDatabase('test-db');

async function withClient<T>(uri: string, use: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

describe('the database of the run', () => {
  it('accepts an insert and finds the document again', async () => {
    await withClient(fileDatabase.uri, async (client) => {
      const things = client.db().collection<{ _id: string; n: number }>('things');
      await things.insertOne({ _id: 'a', n: 1 });
      expect(await things.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 1 });
    });
  });

  it('names a fresh database after the file tag and says what the server is', () => {
    expect(fileDatabase.dbName).toMatch(/^kw_test_db_[0-9a-f]{10}$/);
    expect(fileDatabase.uri).toContain(`/${fileDatabase.dbName}`);
    expect(['external', 'mongodb-memory-server', 'ferretdb']).toContain(fileDatabase.kind);
    if (fileDatabase.kind !== 'external') {
      expect(fileDatabase.isFerretDB).toBe(fileDatabase.kind === 'ferretdb');
    }
  });
});

describe('startTestDatabase', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await startTestDatabase();
  }, 180_000);
  afterAll(() => database?.stop());

  it('keeps what is written through one uriFor name out of every other name', async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    const [a, b] = [database.uriFor(`kw_iso_a_${suffix}`), database.uriFor(`kw_iso_b_${suffix}`)];
    await withClient(a, (client) => client.db().collection('things').insertOne({ from: 'a' }));
    await withClient(b, (client) => client.db().collection('things').insertOne({ from: 'b' }));
    const seenByA = await withClient(a, (client) => client.db().collection('things').find().toArray());
    const seenByB = await withClient(b, (client) => client.db().collection('things').find().toArray());
    expect(seenByA.map((doc) => doc.from)).toEqual(['a']);
    expect(seenByB.map((doc) => doc.from)).toEqual(['b']);
    await withClient(a, (client) => client.db().dropDatabase());
    await withClient(b, (client) => client.db().dropDatabase());
  });

  it('reports FerretDB exactly when the server answers buildInfo with a ferretdbVersion', async () => {
    const buildInfo = await withClient(database.uri, (client) =>
      client.db('admin').command({ buildInfo: 1 }),
    );
    expect(database.isFerretDB).toBe(typeof buildInfo.ferretdbVersion === 'string');
  });
});

/** The id of the process listening on 127.0.0.1:`port`, from /proc (Linux). */
function listenerPid(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set(
    readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      // local address, state 0A (LISTEN), inode
      .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A')
      .map((f) => f[9]),
  );
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode && inodes.has(inode)) return Number(pid);
      } catch {
        // the descriptor closed meanwhile
      }
    }
  }
  return undefined;
}

describe('startTestDatabase when its FerretDB runner dies during the run', () => {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    if (process.platform !== 'linux' || process.env.MONGO_URL) return;
    database = await startTestDatabase();
  }, 180_000);
  afterAll(() => database?.stop());

  it('says so and starts it again on the same port with the same data', async (ctx) => {
    if (database?.kind !== 'ferretdb') {
      ctx.skip(`needs the FerretDB runner on Linux (here: ${database?.kind ?? process.platform})`);
      return;
    }
    const uri = database.uriFor('kw_crash');
    await withClient(uri, (client) =>
      client
        .db()
        .collection('things')
        .insertOne({ _id: 'kept' } as never),
    );
    const port = Number(new URL(database.uri).port);
    const pid = listenerPid(port);
    expect(pid, `no process listens on ${port}`).toBeTypeOf('number');
    const said: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      said.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      process.kill(pid as number, 'SIGKILL');
      await expect
        .poll(() => listenerPid(port) !== undefined && listenerPid(port) !== pid, { timeout: 30_000 })
        .toBe(true);
    } finally {
      process.stderr.write = write;
    }
    expect(said.join('')).toMatch(/FerretDB at 127\.0\.0\.1:\d+ exited unexpectedly \(SIGKILL\)/);
    const found = await withClient(uri, (client) =>
      client
        .db()
        .collection('things')
        .findOne({ _id: 'kept' } as never),
    );
    expect(found).toEqual({ _id: 'kept' });
  });
});

describe('a restartable database', () => {
  let database: RestartableDatabase | { skipped: string };
  beforeAll(async () => {
    database = await startRestartableDatabase();
  }, 180_000);
  afterAll(async () => {
    if (database && !('skipped' in database)) await database.stop();
  });

  it('refuses connections while paused and serves the same data again after resume', async (ctx) => {
    if ('skipped' in database) return ctx.skip(database.skipped);
    const uri = database.uriFor('kw_restart');
    await withClient(uri, (client) =>
      client
        .db()
        .collection('things')
        .insertOne({ _id: 'kept' as never }),
    );

    await database.pause();
    const unreachable = new MongoClient(uri, { serverSelectionTimeoutMS: 300 });
    try {
      await expect(unreachable.db().command({ ping: 1 })).rejects.toBeInstanceOf(MongoServerSelectionError);
    } finally {
      await unreachable.close();
    }

    await database.resume();
    const kept = await withClient(uri, (client) =>
      client
        .db()
        .collection('things')
        .findOne({ _id: 'kept' as never }),
    );
    expect(kept).toEqual({ _id: 'kept' });
  });

  it('lets a client that outlived the pause work again after resume', async (ctx) => {
    if ('skipped' in database) return ctx.skip(database.skipped);
    const restartable = database;
    await withClient(restartable.uriFor('kw_restart_client'), async (client) => {
      const things = client.db().collection('things');
      await things.insertOne({ n: 1 });
      await restartable.pause();
      await restartable.resume();
      await things.insertOne({ n: 2 });
      expect(await things.countDocuments()).toBe(2);
    });
  });
});
