// A redis-server of the benchmark's own, from the launcher the tests use (@keyward/test-redis): a free
// loopback port, no persistence, stopped with the server process. `null` when redis-server is not installed
// (the Redis scenario is then left out, and the run says so).
import { redisClient, redisRequirement, startRedis } from '@keyward/test-redis';

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
  // Outside CI a missing binary means "leave the scenario out"; the benchmark never runs in CI.
  if (!redisRequirement({ ...process.env, CI: undefined }).run) return null;
  const server = await startRedis();
  const client = await redisClient(server.port);
  return {
    sendCommand: (args) => client.sendCommand(args),
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
