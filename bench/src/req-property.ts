// What adding one property to a request costs, with and without the prototype swap Express makes on every
// request (`Object.setPrototypeOf(req, app.request)`): after the swap V8 gives each request object a map of
// its own, so an added property (`req.apiKey`, `req.user`) cannot reuse a cached transition. Two more rows
// try an accessor on Express's request prototype instead of an own property: one whose setter stores nothing,
// one that keeps the value in a WeakMap; and no property at all, the request as a key of a module-level WeakMap.
// Usage: pnpm --filter @keyward/bench exec tsx src/req-property.ts  → prints the median µs of an assignment.
// Bounded: 24,000 keep-alive requests on loopback, then it exits.
import { Agent, createServer, get } from 'node:http';
import express from 'express';

const REQUESTS = 24_000;
const prototype = express().request;
const byRequest = new WeakMap<object, unknown>();
let last: unknown;
// On the app's own request prototype (what `app.request` is for), never on Node's IncomingMessage.
Object.defineProperty(prototype, 'viaSetter', {
  configurable: true,
  set(value: unknown) {
    last = value;
  },
});
Object.defineProperty(prototype, 'viaWeakMap', {
  configurable: true,
  get(this: object) {
    return byRequest.get(this);
  },
  set(this: object, value: unknown) {
    byRequest.set(this, value);
  },
});
const value = Object.freeze({ id: 'key' });
const MODES = [
  ['an own property on a plain IncomingMessage', false, 'apiKey'],
  ["an own property after Express's prototype swap", true, 'apiKey'],
  ['an accessor on the prototype whose setter stores nothing, after the swap', true, 'viaSetter'],
  ['an accessor on the prototype that keeps it in a WeakMap, after the swap', true, 'viaWeakMap'],
  ['no property: `weakMap.set(req, value)` in a module-level WeakMap, after the swap', true, null],
] as const;
/** Each assignment's time in µs, per mode: the median leaves out assignments the OS preempted. */
const spent = MODES.map(() => new Float64Array(REQUESTS / MODES.length));
let served = 0;

const server = createServer((req, res) => {
  const mode = served++ % MODES.length;
  const [, swapped, name] = MODES[mode] as (typeof MODES)[number];
  if (swapped) Object.setPrototypeOf(req, prototype);
  const started = performance.now();
  if (name === null) byRequest.set(req, value);
  else (req as unknown as Record<string, unknown>)[name] = value;
  (spent[mode] as Float64Array)[Math.floor((served - 1) / MODES.length)] =
    (performance.now() - started) * 1000;
  res.end('ok');
});
server.listen(0, '127.0.0.1', async () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < REQUESTS; i++) {
    await new Promise<void>((resolve, reject) => {
      get({ host: '127.0.0.1', port, agent, path: '/' }, (res) => {
        res.resume().on('end', resolve);
      }).on('error', reject);
    });
  }
  const median = (us: Float64Array) => (us.sort()[us.length >> 1] as number).toFixed(2);
  MODES.forEach(([name], i) => {
    process.stdout.write(`${median(spent[i] as Float64Array)} µs  ${name} (median)\n`);
  });
  process.stdout.write(`(last value set: ${last === value ? 'the key' : 'none'})\n`);
  agent.destroy();
  server.close();
});
