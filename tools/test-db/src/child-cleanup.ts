import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';

// Process-wide by nature: one 'exit' hook for every server child this process started.
const owned = new Set<ChildProcess>();
let exitHookInstalled = false;

function terminateOwned(): void {
  for (const child of owned) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
}

// A tiny `sh` that waits for EOF on its stdin, i.e. for this process to die (even by SIGKILL, when no
// 'exit' handler runs), then sends SIGTERM to the server child.
function startWatchdog(pid: number): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  const watchdog = spawn(
    '/bin/sh',
    ['-c', 'read -r _; kill -TERM "$1" 2>/dev/null', 'keyward-test-db-watchdog', String(pid)],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  watchdog.on('error', () => {});
  watchdog.stdin?.on('error', () => {});
  (watchdog.stdin as Socket | null)?.unref();
  watchdog.unref();
  return watchdog;
}

/**
 * Makes sure `child` gets SIGTERM when this process exits: from an 'exit' handler, and from a watchdog
 * process when this one is killed outright. Returns a function that forgets the child (called automatically when it exits).
 */
export function ownChildProcess(child: ChildProcess): () => void {
  if (!exitHookInstalled) {
    process.on('exit', terminateOwned);
    exitHookInstalled = true;
  }
  owned.add(child);
  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid);
  const release = (): void => {
    owned.delete(child);
    if (watchdog && watchdog.exitCode === null) watchdog.kill('SIGKILL');
  };
  child.once('exit', release);
  return release;
}

/**
 * Removes `dir` when this process exits without having called the returned function (which forgets `dir`;
 * call it once the directory is removed or handed over).
 */
export function removeOnExit(dir: string): () => void {
  const remove = (): void => {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort while exiting
    }
  };
  process.on('exit', remove);
  return () => {
    process.off('exit', remove);
  };
}
