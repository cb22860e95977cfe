import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { runCli } from './program.js';

/** What a run of the CLI printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI at `cli` as its own process with exactly `env`, feeding it `stdin`; for the tests.
 *
 * @example
 * const { code, stdout } = await spawnCli(CLI, ['keys', 'list', '--org', 'org_1'], { MONGO_URL });
 */
export function spawnCli(cli: string, args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/**
 * Runs the CLI's program in this process, as `cli.ts` does, with exactly `env` and `stdin`; for the tests.
 * The same commands against the same database as `spawnCli`, without a Node.js start and a module load
 * per command (about half a second of CPU each). The built binary keeps tests of its own (exit codes,
 * streams).
 *
 * @example
 * const { code, stdout } = await runCliHere(['keys', 'list', '--org', 'org_1'], { MONGO_URL });
 */
export async function runCliHere(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    stdin: Readable.from([stdin]),
    env,
    progress: { stream: discard, isTTY: false },
  });
  return { code, stdout, stderr };
}

/**
 * The arguments of `keyward keys create` for a key named `name` of `type` in `org`, then `extra` flags.
 *
 * @example
 * await spawnCli(CLI, createArgs(org, 'CI', 'secret', '--scopes', 'snippets:write'), env);
 */
export function createArgs(
  org: string,
  name: string,
  type: 'secret' | 'public',
  ...extra: string[]
): string[] {
  return ['keys', 'create', '--org', org, '--name', name, '--type', type, ...extra];
}
