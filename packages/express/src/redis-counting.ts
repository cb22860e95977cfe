import { createHash } from 'node:crypto';
import type { Count, CountedLimit, Counting } from './counting.js';

/**
 * Sends one Redis command and resolves to its reply: the function rate-limit-redis takes, e.g.
 * `(...args) => client.sendCommand(args)` (node-redis) or `(command, ...args) => client.call(command, ...args)`
 * (ioredis).
 */
export type RedisSendCommand = (...args: string[]) => Promise<unknown>;

/**
 * Every counter of one request in one call (docs/reference.md §6): KEYS are the counters, ARGV their window
 * (ms) and limit, in pairs. Each is incremented; a new one (or one without expiry) gets its window as its
 * expiry. When one goes over its limit, the others are given back (decremented) in the same call, so a
 * refused request uses none of the windows it did not exceed. Answers each counter's count (before that give
 * back) and its time to live in ms. Counters are plain integers under `prefix + name`, as rate-limit-redis
 * keeps them, so moving between the two keeps the counts.
 */
const SCRIPT = `local n = #KEYS
local out = {}
local over = false
for i = 1, n do
  local hits = redis.call('INCR', KEYS[i])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl <= 0 then
    ttl = tonumber(ARGV[2 * i - 1])
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
  out[2 * i - 1] = hits
  out[2 * i] = ttl
  if hits > tonumber(ARGV[2 * i]) then over = true end
end
if over then
  for i = 1, n do
    if out[2 * i - 1] <= tonumber(ARGV[2 * i]) then redis.call('DECR', KEYS[i]) end
  end
end
return out`;

const SHA = createHash('sha1').update(SCRIPT).digest('hex');

/**
 * Counting on one Redis server: one `EVALSHA` per request whatever the number of windows (and no second
 * command to give a refused request back). After `NOSCRIPT` (a restarted or flushed server) it sends the
 * script itself with `EVAL`, which loads it again. Not for Redis Cluster: a request's counters (its key's,
 * its owner's, its organization's) live in different hash slots.
 */
export class RedisCounting implements Counting {
  readonly #send: RedisSendCommand;
  readonly #prefix: string;

  constructor(send: RedisSendCommand, prefix: string) {
    this.#send = send;
    this.#prefix = prefix;
  }

  count(limits: readonly CountedLimit[]): Promise<readonly Count[]> {
    const n = limits.length;
    const args: string[] = new Array(2 + 3 * n);
    args[0] = SHA;
    args[1] = String(n);
    for (let i = 0; i < n; i++) {
      const { counter, limit, windowSeconds } = limits[i] as CountedLimit;
      args[2 + i] = this.#prefix + counter;
      args[2 + n + 2 * i] = String(windowSeconds * 1000);
      args[3 + n + 2 * i] = String(limit);
    }
    return this.#send('EVALSHA', ...args).then(toCounts, (error: unknown) => {
      if (!isNoScript(error)) throw error;
      args[0] = SCRIPT;
      return this.#send('EVAL', ...args).then(toCounts);
    });
  }
}

function isNoScript(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return message.includes('NOSCRIPT');
}

/** The script's reply, `[hits, ttl, hits, ttl, …]`, as counts; anything else is a failed count. */
function toCounts(reply: unknown): Count[] {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) {
    throw new TypeError('the counting script answered something other than its counts');
  }
  const now = Date.now();
  const counts: Count[] = new Array(reply.length / 2);
  for (let i = 0; i < counts.length; i++) {
    const hits = Number(reply[2 * i]);
    const ttl = Number(reply[2 * i + 1]);
    if (!Number.isFinite(hits)) throw new TypeError('the counting script answered a count that is no number');
    counts[i] = { hits, resetAt: Number.isFinite(ttl) && ttl > 0 ? now + ttl : Number.NaN };
  }
  return counts;
}
