import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { freePort } from './free-port.js';
import { redisServerPath } from './requirement.js';

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** The loopback port. @default a free one */
  port?: number;
  /** How long to wait for the first PING answer, in ms (far above the usual few ms). @default 10000 */
  readyTimeoutMs?: number;
  /** The redis-server binary. @default `$REDIS_SERVER`, else `/usr/bin/redis-server` */
  serverPath?: string;
}

/** A running redis-server of a test's own. */
export interface TestRedis {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Starts it again on the same port (after `stop()`), ready when it answers PING. */
  start(): Promise<void>;
  /** Kills it (as an outage would); resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open and nothing answers, as on a stalled host. */
  freeze(): void;
  /** Resumes a frozen server (SIGCONT). */
  thaw(): void;
}

/**
 * Starts Debian's redis-server on a loopback port without persistence (nothing is written to disk) and
 * waits until it answers PING. Throws, saying how to install it, when the binary is missing: callers decide
 * beforehand with {@link redisRequirement} whether to run at all, so CI fails instead of skipping.
 *
 * @example
 * const redis = await startRedis();
 * afterAll(() => redis.stop());
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const serverPath = options.serverPath ?? redisServerPath();
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  if (!existsSync(serverPath)) {
    throw new Error(
      `redis-server not found at ${serverPath}: install it (apt-get install -y redis-server) or set REDIS_SERVER`,
    );
  }
  const port = options.port ?? (await freePort());
  let child: ChildProcess | null = null;

  async function start(): Promise<void> {
    const proc = spawn(
      serverPath,
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
    child = proc;
    const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));
    spawnError.catch(() => {});
    const probe = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
    probe.on('error', () => {});
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      try {
        await Promise.race([probe.connect().then(() => probe.ping()), spawnError]);
        probe.destroy();
        return;
      } catch (error) {
        if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
          probe.destroy();
          await stop();
          throw new Error(`redis-server did not answer on port ${port} within ${readyTimeoutMs} ms`, {
            cause: error,
          });
        }
        await sleep(50);
      }
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT'); // a frozen server must not keep the caller waiting
    proc.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
  };
}
