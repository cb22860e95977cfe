import { createClient } from 'redis';

/**
 * A node-redis client for a rate-limit store: commands fail at once while Redis is unreachable
 * (`disableOfflineQueue`) instead of waiting in a queue, and it reconnects every 100 ms.
 *
 * @example
 * const client = await redisClient(redis.port);
 * new RedisStore({ sendCommand: (...args: string[]) => client.sendCommand(args) });
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
