import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';

/** Debian's redis-server; `.ci/run` installs it. */
export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/**
 * Whether the Redis suites run: always in CI (a missing server fails them with a clear message there),
 * elsewhere when redis-server is installed.
 */
export const RUN_REDIS = process.env.CI === 'true' || existsSync(REDIS_SERVER);

/** A free loopback port (the OS picks one; it is released for redis-server to take). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * A real redis-server on a loopback port, without persistence (nothing written to disk). `stop()` ends
 * it (as an outage would), `start()` brings it back on the same port.
 */
export async function startRedis(port?: number) {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(
      `redis-server not found at ${REDIS_SERVER}: install it (apt-get install -y redis-server) or set REDIS_SERVER`,
    );
  }
  const chosen = port ?? (await freePort());
  let child: ChildProcess | null = null;

  async function start(): Promise<void> {
    const proc = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(chosen),
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
    child = proc;
    // Ready when it answers PING; bounded (10 s, far above the usual few ms).
    const probe = createClient({ socket: { host: '127.0.0.1', port: chosen, reconnectStrategy: false } });
    probe.on('error', () => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        probe.destroy();
        return;
      } catch {
        if (proc.exitCode !== null || Date.now() > deadline) {
          throw new Error(`redis-server did not start on port ${chosen} within 10 s`);
        }
        await sleep(50);
      }
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT'); // a frozen server must not keep the test waiting
    proc.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers, as a stalled host would. */
  function freeze(): void {
    child?.kill('SIGSTOP');
  }

  /** Resumes a frozen server (SIGCONT). */
  function thaw(): void {
    child?.kill('SIGCONT');
  }

  await start();
  return { port: chosen, url: `redis://127.0.0.1:${chosen}`, start, stop, freeze, thaw };
}

/**
 * A node-redis client for a rate-limit store: commands fail at once while Redis is unreachable
 * (`disableOfflineQueue`) instead of waiting in a queue, and it reconnects every 100 ms.
 */
export async function redisClient(port: number) {
  const client = createClient({
    socket: { host: '127.0.0.1', port, reconnectStrategy: () => 100 },
    disableOfflineQueue: true,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}
