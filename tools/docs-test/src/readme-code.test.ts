import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
// Inside this package's node_modules (ignored by git), so @keyward/*, express and mongoose resolve to the
// workspace's own copies; removed after the run.
const WORK = fileURLToPath(new URL(`../node_modules/.cache/docs-test-${process.pid}/`, import.meta.url));

/** The READMEs a user reads (the root one, every package's and the demo's) and the migration guide. */
const READMES = [
  'README.md',
  'packages/core/README.md',
  'packages/mongo/README.md',
  'packages/express/README.md',
  'packages/admin/README.md',
  'examples/demo/README.md',
  'packages/cli/README.md',
  'docs/migrating.md',
];

/**
 * Names a block may use without defining them, because an earlier block on the same page (or the app
 * around the snippet) defines them. Each is typed as that earlier block or the prose makes it.
 */
const CONTEXT_DTS = `import type { Keyward, KeyStore } from '@keyward/core';
import type { Authorize } from '@keyward/admin';
import type { Express, RequestHandler } from 'express';

declare global {
  /** From the set-up block: createKeyward({ ... }). */
  const keyward: Keyward;
  /** From the set-up block: express(). */
  const app: Express;
  /** The app's own authorize function, as in the admin README's first block. */
  const authorize: Authorize;
  /** The app's own sign-in guard for pages. */
  const requireSignIn: RequestHandler;
  /** The app's own route handler. */
  const create: RequestHandler;
  /** A KeyStore the reader writes. */
  class MyStore implements KeyStore {
    insert: KeyStore['insert'];
    findByHash: KeyStore['findByHash'];
    findById: KeyStore['findById'];
    findBySlot: KeyStore['findBySlot'];
    list: KeyStore['list'];
    update: KeyStore['update'];
    close(): Promise<void>;
  }
}
export {};
`;

interface Block {
  readme: string;
  line: number;
  code: string;
}

async function extractBlocks(): Promise<Block[]> {
  const blocks: Block[] = [];
  for (const readme of READMES) {
    const lines = (await readFile(join(REPO, readme), 'utf8')).split('\n');
    for (let i = 0; i < lines.length; i++) {
      // Also blocks indented inside a list item; the indent is removed.
      const indent = /^( *)```ts\s*$/.exec(lines[i] ?? '')?.[1];
      if (indent === undefined) continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && !/^ *```\s*$/.test(lines[end] ?? '')) end++;
      const code = lines.slice(start, end).map((line) => line.slice(indent.length));
      blocks.push({ readme, line: start + 1, code: code.join('\n') });
      i = end;
    }
  }
  return blocks;
}

type Mode = 'nodenext' | 'commonjs';

/** Writes every block as its own module and runs tsc once; returns the errors as `README:line: message`. */
async function typeCheck(blocks: Block[], mode: Mode): Promise<string[]> {
  const dir = join(WORK, mode);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const ext = mode === 'nodenext' ? 'mts' : 'ts';
  const files = new Map<string, Block>();
  for (const [index, block] of blocks.entries()) {
    const file = `block-${index}.${ext}`;
    files.set(file, block);
    // `export {}` makes every block a module of its own, as a file in the reader's app would be.
    await writeFile(join(dir, file), `${block.code}\nexport {};\n`);
  }
  await writeFile(join(dir, 'context.d.ts'), CONTEXT_DTS);
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: mode,
        moduleResolution: mode === 'nodenext' ? 'nodenext' : 'node',
        target: 'ES2022',
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      },
      files: ['context.d.ts', ...files.keys()],
    }),
  );
  const output = await run(process.execPath, [TSC, '-p', 'tsconfig.json', '--pretty', 'false'], {
    cwd: dir,
    timeout: 110_000,
  }).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  );
  const errors: string[] = [];
  for (const line of output.split('\n')) {
    const match = /^(block-\d+\.m?ts)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
    if (!match) {
      if (line.trim()) errors.push(line);
      continue;
    }
    const [, file, row, , code, message] = match;
    // CommonJS has no top-level await; a CommonJS reader puts the block's body in an async function.
    if (mode === 'commonjs' && (code === 'TS1378' || code === 'TS1375')) continue;
    const block = files.get(file ?? '');
    errors.push(`${block?.readme}:${(block?.line ?? 0) + Number(row) - 1}: ${code} ${message}`);
  }
  return errors;
}

afterAll(async () => {
  await rm(WORK, { recursive: true, force: true });
});

describe('the ts code blocks of the READMEs', () => {
  it('are found in the root README and every package README', async () => {
    const blocks = await extractBlocks();
    expect(
      blocks.some((block) => block.code.startsWith("import { apiKeyAuth } from '@keyward/express';")),
    ).toBe(true); // the indented one in the admin README
    for (const readme of ['README.md', 'packages/core/README.md', 'packages/mongo/README.md']) {
      expect(blocks.some((block) => block.readme === readme)).toBe(true);
    }
    expect(relative(REPO, WORK)).toMatch(/^tools\/docs-test\/node_modules\//);
  });

  it.each<Mode>(['nodenext', 'commonjs'])('type-check under strict with "module": "%s"', async (mode) => {
    expect(await typeCheck(await extractBlocks(), mode)).toEqual([]);
  });
});
