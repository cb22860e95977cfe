// A redis-server of the benchmark's own (Debian's, as in the tests): a free loopback port, no persistence,
// stopped with the server process. `null` when redis-server is not installed (the Redis scenario is then
// left out, and the run says so).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface BenchRedis {
  /** Sends one command (what a rate-limit-redis store needs). */
  sendCommand(args: string[]): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Starts redis-server on a free loopback port and connects a client to it; `null` without redis-server.
 *
 * @example
 * const redis = await startBenchRedis();
 * await redis?.stop();
 */
export async function startBenchRedis(): Promise<BenchRedis | null> {
  if (!existsSync(REDIS_SERVER)) return null;
  const port = await freePort();
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: 'ignore' },
  );
  const client = createClient({ socket: { host: '127.0.0.1', port }, disableOfflineQueue: true });
  client.on('error', () => {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await client.connect();
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
  return {
    sendCommand: (args) => client.sendCommand(args),
    async stop() {
      client.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}
