// The root README's quick start, run: the block is compiled as a CommonJS app (`.cjs`, what `tsc` makes
// for most TypeScript starters) and as an ES module (`.mjs`), each started with node against a real
// MongoDB-wire server (the test database: FerretDB here), on a free port; then its routes are called: the
// key-protected route refuses without a key and answers with one, the admin API creates a key, and the
// audit log names the person `authorize` returned as `actor`. Type-checking alone let a top-level `await`
// through that crashes CommonJS builds.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestDatabase, type TestDatabase } from '@keyward/test-db';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
// Inside this package's node_modules (ignored by git), so express, mongoose and @keyward/* resolve to the
// workspace's copies from the compiled files; removed after the run.
const WORK = fileURLToPath(new URL(`../node_modules/.cache/quick-start-${process.pid}/`, import.meta.url));

/** The first `ts` block after `## Quick start` in the root README. */
async function quickStart(): Promise<string> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Quick start\n'));
  const match = /```ts\n([\s\S]*?)\n```/.exec(section);
  if (!match?.[1]) throw new Error('README.md has no ts block under "## Quick start"');
  return match[1];
}

/** The block as `tsc` would emit it for a CommonJS or an ESM project (types erased, nothing else changed). */
function compile(code: string, module: 'commonjs' | 'esm'): string {
  const { outputText, diagnostics } = ts.transpileModule(code, {
    reportDiagnostics: true,
    compilerOptions: {
      module: module === 'commonjs' ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  });
  expect(diagnostics ?? []).toEqual([]);
  return outputText;
}

/**
 * The reader's own sign-in, which the block declares (`declare function signedInUser`): loaded before the
 * app with `--require`, it reads the caller from `x-user` / `x-org` headers.
 */
const SIGN_IN = `globalThis.signedInUser = (req) =>
  req.get('x-user') ? { id: req.get('x-user'), orgId: req.get('x-org') } : null;
`;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** `fetch` until the app answers (it connects to the database first); the bound is generous, not timed. */
async function whenUp(base: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null)
      throw new Error(`the quick start exited with ${child.exitCode}:\n${output()}`);
    try {
      await fetch(`${base}/v1/snippets`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`the quick start did not answer:\n${output()}`);
}

let db: TestDatabase;

beforeAll(async () => {
  db = await startTestDatabase();
  await mkdir(WORK, { recursive: true });
  await writeFile(join(WORK, 'sign-in.cjs'), SIGN_IN);
}, 300_000);

afterAll(async () => {
  await db?.stop();
  await rm(WORK, { recursive: true, force: true });
});

describe('the root README quick start', () => {
  it('uses no top-level await (CommonJS apps copy it) and names an actor in authorize', async () => {
    const code = await quickStart();
    const source = ts.createSourceFile('quick-start.ts', code, ts.ScriptTarget.ES2022);
    for (const statement of source.statements) {
      let found = false;
      const visit = (node: ts.Node): void => {
        if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier)) found = true;
        // A function body may await; only what runs at the top level matters.
        if (!ts.isFunctionLike(node)) ts.forEachChild(node, visit);
      };
      visit(statement);
      expect(found, statement.getText(source)).toBe(false);
    }
    expect(code).toMatch(/actor: \{ type: 'user', id: user\.id \}/);
  });

  it.each(['commonjs', 'esm'] as const)(
    'runs when built as %s: 401 without a key, 200 with one made through the admin API, events name the user',
    async (module) => {
      const file = join(WORK, module === 'commonjs' ? 'quick-start.cjs' : 'quick-start.mjs');
      await writeFile(file, compile(await quickStart(), module));
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const child = spawn(process.execPath, ['--require', join(WORK, 'sign-in.cjs'), file], {
        cwd: WORK,
        env: {
          ...process.env,
          MONGO_URL: db.uriFor(`docs_quick_start_${module}_${process.pid}`),
          KEYWARD_PEPPER: 'docs-test-pepper-0123456789abcdefghijklmnop',
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr?.on('data', (chunk) => {
        output += chunk;
      });
      try {
        await whenUp(base, child, () => output);
        const org = `org_${module}`;
        const member = { 'x-user': 'u_ada', 'x-org': org };

        const refused = await fetch(`${base}/v1/snippets`);
        expect(refused.status).toBe(401);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('missing_api_key');

        const created = await fetch(`${base}/api/keys`, {
          method: 'POST',
          headers: { ...member, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Docs', type: 'public' }),
        });
        expect(created.status, output).toBe(201);
        const { token } = (await created.json()) as { token: string };

        const allowed = await fetch(`${base}/v1/snippets`, { headers: { authorization: `Bearer ${token}` } });
        expect(allowed.status).toBe(200);
        expect(await allowed.json()).toEqual({ organization: org });

        const events = await fetch(`${base}/api/keys/events`, { headers: member });
        expect(events.status).toBe(200);
        const [event] = ((await events.json()) as { data: Array<{ type: string; actor: unknown }> }).data;
        expect(event).toMatchObject({ type: 'key.created', actor: { type: 'user', id: 'u_ada' } });

        expect((await fetch(`${base}/api/keys`)).status).toBe(401); // nobody signed in
        expect((await fetch(`${base}/dashboard/api-keys/`)).status).toBe(200);
      } finally {
        child.kill('SIGTERM');
        if (child.exitCode === null) await once(child, 'exit');
      }
    },
    120_000,
  );
});
