export { freePort } from './free-port.js';
export { redisClient } from './redis-client.js';
export { type RedisRequirement, redisRequirement, redisServerPath } from './requirement.js';
export { type StartRedisOptions, startRedis, type TestRedis } from './start-redis.js';
