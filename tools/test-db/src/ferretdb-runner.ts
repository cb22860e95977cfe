import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { ownChildProcess } from './child-cleanup.js';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** A running FerretDB runner process. */
export interface FerretDBProcess {
  /** What the runner printed, e.g. `mongodb://127.0.0.1:40123/`. */
  uri: string;
  /** The TCP port it listens on. */
  port: number;
  /**
   * SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves once the process has exited. FerretDB
   * stops accepting at once but serves open connections for up to 3 s more before it exits.
   */
  stop(graceMs?: number): Promise<void>;
}

/** Where and with what data a runner listens. */
export interface FerretDBRunOptions {
  /** Path of the runner binary (see `ensureFerretDBBinary`). */
  binary: string;
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  /** SQLite data directory (it must exist), kept when the runner stops; default: a temp dir it removes. */
  dir?: string;
  /**
   * Called when the runner exits after it started listening without `stop()` having been called (it
   * crashed or was killed), with the exit code or signal and the end of its stderr.
   */
  onUnexpectedExit?: (reason: string) => void;
}

/**
 * Starts the FerretDB runner and resolves once it listens. The process gets SIGTERM when this process exits.
 * @example
 * const server = await startFerretDB({ binary, listen: '127.0.0.1:0', dir });
 */
export function startFerretDB({
  binary,
  listen,
  dir,
  onUnexpectedExit,
}: FerretDBRunOptions): Promise<FerretDBProcess> {
  return new Promise((resolve, reject) => {
    const args = ['-listen', listen, ...(dir ? ['-dir', dir] : [])];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started = false;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));

    const fail = (message: string): void => {
      if (started) return;
      started = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${message}${stderr.trim() ? `:\n${stderr.trim()}` : ''}`));
    };
    const timer = setTimeout(
      () => fail(`FerretDB did not start within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    );

    child.on('error', (error) => fail(`Cannot run ${binary}: ${error.message}`));
    child.once('exit', (code, signal) =>
      fail(`FerretDB exited before listening (${signal ?? `exit ${code}`})`),
    );
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (started) return;
      stdout += chunk.toString();
      const match = /^(mongodb:\/\/[^\s]*:(\d+)\/\S*)\s*$/m.exec(stdout);
      if (!match?.[1] || !match[2]) return;
      started = true;
      clearTimeout(timer);
      ownChildProcess(child);
      // From here on, the server must not keep the test process alive.
      child.unref();
      (child.stdout as Socket).unref();
      (child.stderr as Socket).unref();
      let stopping = false;
      child.once('exit', (code, signal) => {
        if (stopping) return;
        const tail = stderr.trim().split('\n').slice(-20).join('\n');
        onUnexpectedExit?.(`${signal ?? `exit ${code}`}${tail ? `; its stderr ended with:\n${tail}` : ''}`);
      });
      const stop = async (graceMs = STOP_TIMEOUT_MS): Promise<void> => {
        stopping = true;
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(killer);
      };
      resolve({ uri: match[1], port: Number(match[2]), stop });
    });
  });
}
