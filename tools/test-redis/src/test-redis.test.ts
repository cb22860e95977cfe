import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { redisClient } from './redis-client.js';
import { redisRequirement } from './requirement.js';
import { startRedis } from './start-redis.js';

const requirement = redisRequirement();

describe('redisRequirement', () => {
  it('runs in CI even without the binary, so a missing redis-server fails there instead of skipping', () => {
    expect(redisRequirement({ CI: 'true', REDIS_SERVER: '/nonexistent/redis-server' })).toEqual({
      run: true,
      reason: '',
    });
  });

  it('skips outside CI without the binary, and the reason says how to install it', () => {
    const { run, reason } = redisRequirement({ REDIS_SERVER: '/nonexistent/redis-server' });
    expect(run).toBe(false);
    expect(reason).toContain('/nonexistent/redis-server');
    expect(reason).toContain('apt-get install -y redis-server');
  });
});

describe('startRedis without the binary', () => {
  it('throws a message that says how to install it', async () => {
    await expect(startRedis({ serverPath: '/nonexistent/redis-server' })).rejects.toThrow(
      /redis-server not found at \/nonexistent\/redis-server: install it/,
    );
  });
});

describe.skipIf(!requirement.run)(
  `startRedis (a real redis-server)${requirement.run ? '' : ` (skipped: ${requirement.reason})`}`,
  () => {
    it('answers on its port, goes away on stop() and comes back on the same port on start()', async () => {
      const redis = await startRedis();
      try {
        expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
        const client = await redisClient(redis.port);
        try {
          await client.set('k', 'v');
          expect(await client.get('k')).toBe('v');
          await redis.stop();
          // disableOfflineQueue: a command fails at once while the server is away.
          await expect(client.get('k')).rejects.toThrow();
          await redis.start();
          // Nothing was persisted: the restarted server is empty.
          await expect.poll(() => client.get('k').catch(() => 'unreachable'), { timeout: 10_000 }).toBeNull();
        } finally {
          client.destroy();
        }
      } finally {
        await redis.stop();
      }
    });

    it('holds commands while frozen and answers them once thawed', async () => {
      const redis = await startRedis();
      const client = await redisClient(redis.port);
      try {
        redis.freeze();
        let answered = false;
        const pending = client.ping().then((reply) => {
          answered = true;
          return reply;
        });
        // A PING the running server answers in well under a millisecond is still unanswered 200 ms later.
        await sleep(200);
        expect(answered).toBe(false);
        redis.thaw();
        await expect(pending).resolves.toBe('PONG');
      } finally {
        client.destroy();
        await redis.stop();
      }
    });
  },
);
