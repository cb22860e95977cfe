import { existsSync } from 'node:fs';

/** The redis-server binary: `$REDIS_SERVER`, else Debian's (`.ci/run` installs it). */
export function redisServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.REDIS_SERVER ?? '/usr/bin/redis-server';
}

/** Whether a suite that needs Redis runs here, and why not when it does not. */
export interface RedisRequirement {
  /** `true`: run the suite (in CI a missing server then fails it in `startRedis`, never skips it). */
  run: boolean;
  /** Printed with the skip: what to install or set. Empty when `run`. */
  reason: string;
}

/**
 * Always run in CI (`CI=true`): a missing redis-server must fail there, with a message saying how to install
 * it, not quietly skip. Elsewhere run when the binary is installed, and say how to get it when not.
 *
 * @example
 * const redis = redisRequirement();
 * describe.skipIf(!redis.run)('… (skipped: ' + redis.reason + ')', () => { … });
 */
export function redisRequirement(env: NodeJS.ProcessEnv = process.env): RedisRequirement {
  const path = redisServerPath(env);
  if (env.CI === 'true' || existsSync(path)) return { run: true, reason: '' };
  return {
    run: false,
    reason: `redis-server not found at ${path} (apt-get install -y redis-server, or set REDIS_SERVER)`,
  };
}
