// A redis-server of the benchmark's own, from the launcher the tests use (@keyward/test-redis): a free
// loopback port, no persistence, stopped with the server process. `null` when redis-server is not installed
// (the Redis scenario is then left out, and the run says so).
import { redisClient, redisRequirement, startRedis } from '@keyward/test-redis';

export interface BenchRedis {
  /** Sends one command (what a rate-limit-redis store and the limiter's `redis` option need). */
  sendCommand(args: string[]): Promise<unknown>;
  /** How many commands `sendCommand` has sent: the round trips the limiters made. */
  readonly sent: number;
  /**
   * The server's `INFO commandstats` calls per command (commands a script runs are counted too), read on a
   * connection of its own, so the reads themselves are not among the limiters' commands.
   */
  commandStats(): Promise<Record<string, number>>;
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
  // Outside CI a missing binary means "leave the scenario out"; the benchmark never runs in CI.
  if (!redisRequirement({ ...process.env, CI: undefined }).run) return null;
  const server = await startRedis();
  const client = await redisClient(server.port);
  const admin = await redisClient(server.port);
  let sent = 0;
  return {
    sendCommand: (args) => {
      sent++;
      return client.sendCommand(args);
    },
    get sent() {
      return sent;
    },
    async commandStats() {
      const info = String(await admin.sendCommand(['INFO', 'commandstats']));
      const calls: Record<string, number> = {};
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (match[1] !== 'info') calls[match[1] as string] = Number(match[2]);
      }
      return calls;
    },
    async stop() {
      client.destroy();
      admin.destroy();
      await server.stop();
    },
  };
}
