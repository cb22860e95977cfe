import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { note } from './note.js';

/** tools/ferretdb: the Go program that runs FerretDB for tests. */
export const FERRETDB_SOURCE_DIR = fileURLToPath(new URL('../../ferretdb/', import.meta.url));
const SOURCE_FILES = ['main.go', 'go.mod', 'go.sum'];

const LOCK_STALE_MS = 15 * 60_000;
const LOCK_POLL_MS = 500;
const BUILD_TIMEOUT_MS = 15 * 60_000;

/** Thrown when the FerretDB runner is not built and cannot be, because Go is missing. */
export class GoNotFoundError extends Error {
  override name = 'GoNotFoundError';
}

function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keyward');
}

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of SOURCE_FILES) {
    const content = await readFile(join(FERRETDB_SOURCE_DIR, file));
    hash.update(`${file}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex').slice(0, 12);
}

/** Where the runner built from the current sources lives (it may not exist yet). */
export async function ferretDBBinaryPath(): Promise<string> {
  return join(cacheDir(), `ferretdb-${await sourceHash()}`);
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

function goCommand(): string | undefined {
  const candidates = [
    process.env.GOROOT ? join(process.env.GOROOT, 'bin', 'go') : undefined,
    ...(process.env.PATH ?? '')
      .split(process.platform === 'win32' ? ';' : ':')
      .map((dir) => dir && join(dir, 'go')),
    '/usr/local/go/bin/go',
  ];
  for (const candidate of candidates) {
    if (candidate && (isFile(candidate) || isFile(`${candidate}.exe`))) return candidate;
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// A lock file created with O_EXCL holding "pid host". A lock whose process is gone, or older than
// LOCK_STALE_MS, is stale and taken over. Resolves with the release function, or with `null` when another
// process produced `binary` while we waited.
async function acquireLock(lockPath: string, binary: string): Promise<(() => Promise<void>) | null> {
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(`${process.pid} ${hostname()}\n`);
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (existsSync(binary)) return null;
    const [pid, host] = (await readFile(lockPath, 'utf8').catch(() => '')).trim().split(' ');
    const age = Date.now() - ((await stat(lockPath).catch(() => null))?.mtimeMs ?? Date.now());
    const holderGone = host === hostname() && pid !== undefined && !isAlive(Number(pid));
    if (holderGone || age > LOCK_STALE_MS) {
      await rm(lockPath, { force: true });
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

function runGoBuild(go: string, output: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['build', '-o', output, '.'], {
      cwd: FERRETDB_SOURCE_DIR,
      env: { ...process.env, CGO_ENABLED: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const collect = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-8000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(`\`go build\` in ${FERRETDB_SOURCE_DIR} failed (${signal ?? `exit ${code}`}):\n${log}`),
        );
    });
  });
}

/**
 * Returns the path of the FerretDB runner built from tools/ferretdb, building it first (about two minutes,
 * once per source change) with `CGO_ENABLED=0 go build` into `$XDG_CACHE_HOME/keyward/` (or
 * `~/.cache/keyward/`). A lock file keeps concurrent test processes from building at the same time.
 * @throws {GoNotFoundError} when the runner is not built and Go is not installed
 * @example
 * const binary = await ensureFerretDBBinary();
 */
export async function ensureFerretDBBinary(): Promise<string> {
  const binary = await ferretDBBinaryPath();
  if (existsSync(binary)) return binary;
  const go = goCommand();
  if (!go)
    throw new GoNotFoundError(`Go is not installed, so the FerretDB runner (${binary}) cannot be built`);
  await mkdir(cacheDir(), { recursive: true });
  const release = await acquireLock(`${binary}.lock`, binary);
  if (!release) return binary;
  try {
    if (existsSync(binary)) return binary;
    note(`building the FerretDB runner into ${binary} (first run only, about 2 minutes)`);
    const temp = `${binary}.tmp-${process.pid}`;
    try {
      await runGoBuild(go, temp);
      await rename(temp, binary);
    } finally {
      await rm(temp, { force: true });
    }
    return binary;
  } finally {
    await release();
  }
}
