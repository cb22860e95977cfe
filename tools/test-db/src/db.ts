// `pnpm db`: the FerretDB runner that the tests use, as a development database that keeps its data.
// Port: KEYWARD_DB_PORT or 27017; data: KEYWARD_DB_DIR or $XDG_CACHE_HOME/keyward/db-data (~/.cache/...).
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensureFerretDBBinary, GoNotFoundError } from './ferretdb-binary.js';
import { startFerretDB } from './ferretdb-runner.js';

const DEFAULT_PORT = 27017;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function main(): Promise<number> {
  const port = Number(process.env.KEYWARD_DB_PORT || DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`KEYWARD_DB_PORT must be a TCP port, not "${process.env.KEYWARD_DB_PORT}"\n`);
    return 2;
  }
  const dir =
    process.env.KEYWARD_DB_DIR ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keyward', 'db-data');
  if (!(await portIsFree(port))) {
    process.stderr.write(
      `Port ${port} is taken (another MongoDB or \`pnpm db\` already running?).\n` +
        `If it is a MongoDB server, use it: MONGO_URL=mongodb://127.0.0.1:${port}/keyward\n` +
        `Or start this one on another port: KEYWARD_DB_PORT=${port + 1} pnpm db\n`,
    );
    return 2;
  }
  await mkdir(dir, { recursive: true });
  let binary: string;
  try {
    binary = await ensureFerretDBBinary();
  } catch (error) {
    if (!(error instanceof GoNotFoundError)) throw error;
    process.stderr.write(
      `${error.message}.\nInstall Go 1.24+ (https://go.dev/dl/) or run MongoDB yourself.\n`,
    );
    return 2;
  }
  const server = await startFerretDB({ binary, listen: `127.0.0.1:${port}`, dir });
  process.stdout.write(
    `FerretDB 1.24 (SQLite) is listening on 127.0.0.1:${port}, data in ${dir}\n` +
      `Use it with:\n\n  export MONGO_URL=mongodb://127.0.0.1:${port}/keyward\n\nCtrl-C stops it (the data stays).\n`,
  );
  // The runner's child is unref'd (it was made for tests); this keeps the process up until a signal.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(keepAlive);
  await server.stop();
  process.stdout.write('FerretDB stopped.\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`pnpm db: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
