import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFerretDBBinary } from './ferretdb-binary.js';

const PACKAGE = fileURLToPath(new URL('../', import.meta.url));

let dataDir = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startDb(port: number): Run {
  // Node with tsx's loader, as `pnpm db` runs it: not the tsx command, which relays a signal to its child
  // and kills it when the child has not confirmed within 30 ms (exit 130 on a loaded machine).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/db.ts'], {
    cwd: PACKAGE,
    env: { ...process.env, KEYWARD_DB_PORT: String(port), KEYWARD_DB_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitForUrl(run: Run): Promise<string> {
  for (;;) {
    const match = /export MONGO_URL=(\S+)/.exec(run.stdout());
    if (match?.[1]) return match[1];
    if (run.child.exitCode !== null)
      throw new Error(`pnpm db exited early:\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'keyward-db-test-'));
  await ensureFerretDBBinary(); // the first build can take minutes; the global setup usually did it
}, 600_000);

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('pnpm db', () => {
  it('prints the MONGO_URL, keeps the data in its folder across restarts, and stops on Ctrl-C', async () => {
    const port = await freePort();
    const first = startDb(port);
    const url = await waitForUrl(first);
    expect(url).toBe(`mongodb://127.0.0.1:${port}/keyward`);
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
    await client.db().collection<{ _id: string }>('notes').insertOne({ _id: 'kept' });
    await client.close();
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain('FerretDB stopped.');

    const second = startDb(port);
    const again = new MongoClient(await waitForUrl(second), { serverSelectionTimeoutMS: 5_000 });
    expect(await again.db().collection<{ _id: string }>('notes').findOne({ _id: 'kept' })).toEqual({
      _id: 'kept',
    });
    await again.close();
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('says so and exits 2 when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const run = startDb(port);
      expect(await run.exited).toBe(2);
      expect(run.stderr()).toContain(`Port ${port} is taken`);
      expect(run.stderr()).toContain(`KEYWARD_DB_PORT=${port + 1} pnpm db`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);
});
