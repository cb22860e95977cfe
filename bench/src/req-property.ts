// What adding one property to a request costs, with and without the prototype swap Express makes on every
// request (`Object.setPrototypeOf(req, app.request)`): after the swap V8 gives each request object a map of
// its own, so an added property (`req.apiKey`, `req.user`) cannot reuse a cached transition.
// Usage: pnpm --filter @keyward/bench exec tsx src/req-property.ts  → prints µs per added property.
// Bounded: 20,000 keep-alive requests on loopback, then it exits.
import { Agent, createServer, get } from 'node:http';
import express from 'express';

const REQUESTS = 20_000;
const prototype = express().request;
const value = Object.freeze({ id: 'key' });
const spent = { plain: 0, swapped: 0 };
let served = 0;

const server = createServer((req, res) => {
  const swapped = served++ % 2 === 1;
  if (swapped) Object.setPrototypeOf(req, prototype);
  const started = performance.now();
  (req as { apiKey?: object }).apiKey = value;
  spent[swapped ? 'swapped' : 'plain'] += performance.now() - started;
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
  const perAdd = (ms: number) => ((ms / (REQUESTS / 2)) * 1000).toFixed(2);
  process.stdout.write(
    `one added property: ${perAdd(spent.plain)} µs on a plain IncomingMessage, ${perAdd(spent.swapped)} µs after Express's prototype swap\n`,
  );
  agent.destroy();
  server.close();
});
