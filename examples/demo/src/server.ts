// `pnpm demo`: the demo server on PORT (default 3000), keys in MONGO_URL, an embedded MongoDB, or memory.
import type { AddressInfo } from 'node:net';
import { createDemoApp } from './app.js';
import { openDemoStore } from './store.js';

const startedAt = performance.now();
const port = parsePort(process.env.PORT);
let opened: Awaited<ReturnType<typeof openDemoStore>>;
try {
  opened = await openDemoStore();
} catch (error) {
  console.error(`[demo] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const { store, sessionStore, description, close } = opened;
const demo = createDemoApp({
  store,
  ...(sessionStore ? { sessionStore } : {}),
  log: (line) => console.error(line),
});
const { app, keyward } = demo;
if (!process.env.KEYWARD_PEPPER?.trim()) {
  console.error(
    '[demo] KEYWARD_PEPPER is not set: a random one is used, so keys made before a restart stop working',
  );
}
if (!process.env.SESSION_SECRET?.trim()) {
  console.error('[demo] SESSION_SECRET is not set: a random one is used, so restarting signs everyone out');
}

const server = app.listen(port);
server.on('listening', () => {
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(
    [
      `Keyward demo ready on ${url} in ${seconds} s (keys kept in ${description})`,
      `  sign up in the browser:  ${url}/`,
      `  or with curl:            curl -i -X POST ${url}/signup -H 'Content-Type: application/json' -d '{"organization":"Acme"}'`,
      '',
    ].join('\n'),
  );
});
server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `[demo] port ${port} is in use: stop what runs there, or start with PORT=${port + 1} pnpm demo`
      : `[demo] cannot listen on port ${port}: ${error.message}`,
  );
  void shutdown(1);
});

let stopping = false;
async function shutdown(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  demo.close();
  await keyward.close().catch(() => {});
  await close().catch(() => {});
  process.exit(code);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());

function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`[demo] PORT must be a port number from 0 to 65535, not ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return port;
}
