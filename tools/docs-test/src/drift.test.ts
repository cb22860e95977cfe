// Checks that the prose of the Markdown files says what the code does, wherever that can be checked: the
// error tables against ERROR_CODES, the option tables against the options types and the option checks,
// the published-package count against packages/, and every relative link against the files it names.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKeyward, ERROR_CODES, MemoryKeyStore } from '@keyward/core';
import { apiKeyAuth, apiKeyCors } from '@keyward/express';
import { createPassportStrategy } from '@keyward/express/passport';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/** The repository root, with a trailing slash. */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Reads a file of the repository by its path from the root. */
function readRepoFile(path: string): string {
  return readFileSync(join(REPO, path), 'utf8');
}

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git', 'dist', '.turbo', 'coverage']);

/**
 * Every Markdown file of the repository (paths from the root): the files git tracks or would track (so
 * ignored build output is left out), or, outside a git checkout, every `.md` file outside `node_modules`,
 * `dist` and `.git`.
 */
function markdownFiles(): string[] {
  try {
    const out = execFileSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'],
      {
        cwd: REPO,
        encoding: 'utf8',
      },
    );
    return out
      .split('\0')
      .filter((path) => path !== '' && existsSync(join(REPO, path)))
      .sort();
  } catch {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRECTORIES.has(entry.name)) walk(join(dir, entry.name));
        } else if (entry.name.endsWith('.md')) found.push(relative(REPO, join(dir, entry.name)));
      }
    };
    walk(REPO);
    return found.sort();
  }
}

/** `text` with fenced code blocks blanked out (line numbers kept), so nothing inside them is read as prose. */
function withoutCodeBlocks(text: string): string {
  let fence: string | null = null;
  return text
    .split('\n')
    .map((line) => {
      const marker = /^\s*(```+|~~~+)/.exec(line)?.[1];
      if (fence === null && marker) {
        fence = marker[0] as string;
        return '';
      }
      if (fence !== null) {
        if (marker?.startsWith(fence)) fence = null;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** One Markdown table: its header cells and rows of cells (trimmed), and the line it starts on (1-based). */
interface MarkdownTable {
  header: string[];
  rows: string[][];
  line: number;
}

/** Splits a table line into cells on `|` that is not escaped (`\|` stays inside a cell, unescaped). */
function cells(line: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === '\\' && line[i + 1] === '|') {
      current += '|';
      i++;
    } else if (char === '|') {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  // A table line starts and ends with `|`: drop the empty cells outside them.
  return parts.slice(1, line.trimEnd().endsWith('|') ? -1 : undefined).map((cell) => cell.trim());
}

/** Every pipe table outside code blocks. */
function tables(text: string): MarkdownTable[] {
  const lines = withoutCodeBlocks(text).split('\n');
  const found: MarkdownTable[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    const head = lines[i] as string;
    const separator = lines[i + 1] as string;
    if (!head.startsWith('|') || !/^\|(\s*:?-+:?\s*\|)+\s*$/.test(separator)) continue;
    const table: MarkdownTable = { header: cells(head), rows: [], line: i + 1 };
    let j = i + 2;
    for (; j < lines.length && (lines[j] as string).startsWith('|'); j++)
      table.rows.push(cells(lines[j] as string));
    found.push(table);
    i = j - 1;
  }
  return found;
}

/** The code spans of a cell, in order: "`a` or `b`" → ["a", "b"]. */
function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
}

/**
 * GitHub's anchor of a heading: lower case, Markdown link and code syntax dropped, every character that is
 * not a letter, digit, mark, space, `-` or `_` removed, spaces turned into `-`.
 */
function githubSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown file offers: one per heading (`-1`, `-2`… for repeats) and explicit HTML ids. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCodeBlocks(text).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1] as string);
  }
  return anchors;
}

/** The link targets of a Markdown file outside code: `[text](target)` and `![alt](target)`, with lines. */
function linksOf(text: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  withoutCodeBlocks(text)
    .split('\n')
    .forEach((line, index) => {
      const prose = line.replace(/`[^`]*`/g, '``');
      for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        links.push({ target: match[1] as string, line: index + 1 });
      }
    });
  return links;
}

// ---------------------------------------------------------------------------------------------------------
// (a) Error tables

/** The rows of every table with a `status` and an `error.code` column, one per code the row names. */
function errorRows(path: string): { code: string; status: string; line: number }[] {
  const rows: { code: string; status: string; line: number }[] = [];
  for (const table of tables(readRepoFile(path))) {
    const status = table.header.indexOf('status');
    const code = table.header.indexOf('`error.code`');
    if (status < 0 || code < 0) continue;
    table.rows.forEach((row, index) => {
      // A row may pair codes with statuses: "401 / 403 | `unauthorized` / `forbidden`".
      const names = codeSpans(row[code] ?? '').filter((span) => /^[a-z_]+$/.test(span));
      const statuses = (row[status] ?? '').split('/').map((s) => s.trim());
      const paired = names.length > 1 && statuses.length === names.length;
      names.slice(0, paired ? names.length : 1).forEach((name, i) => {
        rows.push({
          code: name,
          status: paired ? (statuses[i] as string) : (row[status] ?? ''),
          line: table.line + 2 + index,
        });
      });
    });
  }
  return rows;
}

/** Problems of one file's error tables: a code missing (when `complete`), unknown, or with a wrong status. */
function errorTableProblems(path: string, complete: boolean): string[] {
  const rows = errorRows(path);
  const problems: string[] = [];
  const codes = ERROR_CODES as Readonly<Record<string, { status: number }>>;
  for (const row of rows) {
    const info = Object.hasOwn(codes, row.code) ? codes[row.code] : undefined;
    if (info === undefined)
      problems.push(`${path}:${row.line}: \`${row.code}\` is not a code of ERROR_CODES`);
    else if (row.status !== String(info.status)) {
      problems.push(
        `${path}:${row.line}: \`${row.code}\` says status ${row.status}, ERROR_CODES says ${info.status}`,
      );
    }
  }
  if (complete) {
    const named = new Set(rows.map((r) => r.code));
    for (const code of Object.keys(codes)) {
      if (!named.has(code))
        problems.push(`${path}: no error table row for \`${code}\` (${codes[code]?.status})`);
    }
  }
  return problems;
}

describe('error tables', () => {
  it.each(['README.md', 'docs/reference.md'])(
    '%s names every code of ERROR_CODES with its status, and no other code',
    (path) => {
      expect(errorTableProblems(path, true)).toEqual([]);
    },
  );

  it.each(['packages/express/README.md', 'packages/admin/README.md'])(
    '%s names only codes of ERROR_CODES, each with its status',
    (path) => {
      expect(errorRows(path).length).toBeGreaterThan(0);
      expect(errorTableProblems(path, false)).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------------------
// (b) Option tables

const WORK = fileURLToPath(new URL(`../node_modules/.cache/drift-test-${process.pid}/`, import.meta.url));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

let checker: { program: ts.Program; file: ts.SourceFile } | undefined;

/** The property names of exported option types, read by TypeScript from the packages' built declarations. */
function typeProperties(type: string): string[] {
  if (checker === undefined) {
    const imports: Record<string, string[]> = {
      '@keyward/core': ['KeywardOptions'],
      '@keyward/express': ['ApiKeyAuthOptions', 'ApiKeyCorsOptions', 'KeyLimiterOptions'],
      '@keyward/express/passport': ['KeywardStrategyOptions'],
      '@keyward/mongo': ['MongoKeyStoreOptions'],
    };
    const lines = Object.entries(imports).map(
      ([from, names]) => `import type { ${names.join(', ')} } from '${from}';`,
    );
    for (const names of Object.values(imports))
      for (const name of names) lines.push(`export declare const ${name}Value: ${name};`);
    mkdirSync(WORK, { recursive: true });
    const path = join(WORK, 'options.ts');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const program = ts.createProgram([path], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    });
    const file = program.getSourceFile(path);
    if (file === undefined) throw new Error('the probe file was not read');
    const errors = ts
      .getPreEmitDiagnostics(program, file)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(errors, 'the options types must resolve from the built packages').toEqual([]);
    checker = { program, file };
  }
  const { program, file } = checker;
  const typeChecker = program.getTypeChecker();
  const symbol = typeChecker.getSymbolAtLocation(file);
  const exported = symbol ? typeChecker.getExportsOfModule(symbol) : [];
  const value = exported.find((s) => s.name === `${type}Value`);
  if (value === undefined) throw new Error(`no probe for ${type}`);
  const declared = typeChecker.getTypeOfSymbolAtLocation(value, file);
  return typeChecker
    .getPropertiesOfType(declared)
    .map((p) => p.name)
    .sort();
}

/** The option names of the table whose first header cell is `firstHeader`, under `## section` when given. */
function optionTable(path: string, firstHeader: string): { name: string; only: string | null }[] {
  const found = tables(readRepoFile(path)).filter((t) => t.header[0] === firstHeader);
  expect(found, `${path}: one table headed "${firstHeader}"`).toHaveLength(1);
  return (found[0] as MarkdownTable).rows.map((row) => {
    const cell = row[0] ?? '';
    const name = codeSpans(cell)[0] ?? cell;
    const only = /\(`?([\w ]+?)`? only\)/.exec(cell)?.[1] ?? null;
    return { name, only };
  });
}

const keyward = createKeyward({
  store: new MemoryKeyStore(),
  scopes: ['snippets:read'],
  pepper: 'a-pepper-of-16-chars+',
});

/** The names among `names` that `make({ [name]: undefined })` refuses as unknown options. */
function refusedAsUnknown(names: string[], make: (options: Record<string, unknown>) => unknown): string[] {
  return names.filter((name) => {
    try {
      make({ [name]: undefined });
      return false;
    } catch (error) {
      return error instanceof TypeError && /unknown option/.test(error.message);
    }
  });
}

describe('option tables', () => {
  const EXPRESS = 'packages/express/README.md';

  it('the Options table of the express README lists exactly what apiKeyAuth accepts', () => {
    const rows = optionTable(EXPRESS, 'option').filter((r) => r.only === null || r.only === 'apiKeyAuth');
    const names = rows.map((r) => r.name).sort();
    expect(names, `${EXPRESS} Options table vs ApiKeyAuthOptions`).toEqual(
      typeProperties('ApiKeyAuthOptions'),
    );
    // The option check itself: every documented option is accepted, and it does refuse an unknown one.
    expect(
      refusedAsUnknown(names, (o) => apiKeyAuth(keyward, o)),
      'documented, but apiKeyAuth refuses it',
    ).toEqual([]);
    expect(refusedAsUnknown(['scope'], (o) => apiKeyAuth(keyward, o))).toEqual(['scope']);
  });

  it('the Options table of the express README lists exactly what the Passport strategy accepts', () => {
    const rows = optionTable(EXPRESS, 'option').filter((r) => r.only === null || r.only === 'strategy');
    const names = rows.map((r) => r.name).sort();
    expect(names, `${EXPRESS} Options table vs KeywardStrategyOptions`).toEqual(
      typeProperties('KeywardStrategyOptions'),
    );
    const make = (o: Record<string, unknown>) => createPassportStrategy(keyward, o);
    expect(refusedAsUnknown(names, make), 'documented, but createPassportStrategy refuses it').toEqual([]);
    expect(refusedAsUnknown(['scope'], make)).toEqual(['scope']);
  });

  it('the apiKeyCors and createKeyLimiter tables of the express README list exactly their options', () => {
    const cors = optionTable(EXPRESS, '`apiKeyCors` option')
      .map((r) => r.name)
      .sort();
    expect(cors).toEqual(typeProperties('ApiKeyCorsOptions'));
    expect(refusedAsUnknown(cors, (o) => apiKeyCors(o))).toEqual([]);
    const limiter = optionTable(EXPRESS, '`createKeyLimiter` option')
      .map((r) => r.name)
      .sort();
    expect(limiter).toEqual(typeProperties('KeyLimiterOptions'));
  });

  it('the Options table of the core README lists exactly the options of createKeyward', () => {
    const names = optionTable('packages/core/README.md', 'option')
      .map((r) => r.name)
      .sort();
    expect(names, 'packages/core/README.md Options table vs KeywardOptions').toEqual(
      typeProperties('KeywardOptions'),
    );
  });

  it('the Options table of the mongo README lists exactly the options of MongoKeyStore', () => {
    const names = optionTable('packages/mongo/README.md', 'option')
      .map((r) => r.name)
      .sort();
    expect(names, 'packages/mongo/README.md Options table vs MongoKeyStoreOptions').toEqual(
      typeProperties('MongoKeyStoreOptions'),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// (c) The published packages

const NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

function publishedPackages(): { name: string; dir: string }[] {
  return readdirSync(join(REPO, 'packages'))
    .filter((dir) => existsSync(join(REPO, 'packages', dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readRepoFile(`packages/${dir}/package.json`)) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name as string, dir }));
}

describe('published packages', () => {
  it('the root README states how many packages are published, and that is the number of non-private packages', () => {
    const published = publishedPackages();
    const stated = [...readRepoFile('README.md').matchAll(/\b(\w+) published packages\b/gi)].map((m) =>
      (m[1] as string).toLowerCase(),
    );
    expect(stated.length, 'README.md states the count ("The N published packages")').toBeGreaterThan(0);
    for (const word of stated) {
      const count = /^\d+$/.test(word) ? Number(word) : NUMBERS.indexOf(word);
      expect(
        count,
        `README.md says "${word} published packages"; packages/ has ${published.length} non-private ones (${published.map((p) => p.name).join(', ')})`,
      ).toBe(published.length);
    }
  });

  it('the root README links to the README of each published package', () => {
    const readme = readRepoFile('README.md');
    const missing = publishedPackages().filter(({ dir }) => !readme.includes(`](packages/${dir}/README.md)`));
    expect(missing.map((p) => p.name)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// (d) Links

const OWN_REPOSITORY =
  /^https:\/\/github\.com\/keyward\/keyward\/(?:blob|tree)\/main\/([^#?]*)(?:[?][^#]*)?(?:#(.*))?$/;

/** The broken links of one Markdown file: a missing file, or an anchor its target does not have. */
function brokenLinks(path: string): string[] {
  const broken: string[] = [];
  const text = readRepoFile(path);
  for (const { target, line } of linksOf(text)) {
    let file: string;
    let anchor: string | undefined;
    const own = OWN_REPOSITORY.exec(target);
    if (own) {
      // Package READMEs link to the repository's files by absolute URL (npm shows them): check those too.
      file = own[1] ?? '';
      anchor = own[2];
    } else if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    else {
      const [beforeAnchor, after] = target.split('#', 2) as [string, string | undefined];
      const pathPart = (beforeAnchor.split('?')[0] ?? '').replace(/%20/g, ' ');
      file = pathPart === '' ? path : relative(REPO, join(REPO, dirname(path), decodeURIComponent(pathPart)));
      anchor = after;
    }
    const where = `${path}:${line}: ${target}`;
    const full = join(REPO, file);
    if (file.startsWith('..') || !existsSync(full)) {
      broken.push(`${where} (no file ${file})`);
      continue;
    }
    if (anchor && file.endsWith('.md') && statSync(full).isFile()) {
      if (!anchorsOf(readFileSync(full, 'utf8')).has(decodeURIComponent(anchor))) {
        broken.push(`${where} (no heading #${anchor} in ${file})`);
      }
    }
  }
  return broken;
}

describe('links', () => {
  const files = markdownFiles();

  it('finds the Markdown files of the repository, and their links', () => {
    expect(files).toEqual(
      expect.arrayContaining(['README.md', 'docs/reference.md', 'packages/core/README.md']),
    );
    expect(linksOf(readRepoFile('README.md')).length).toBeGreaterThan(20);
  });

  it('every relative link of every Markdown file resolves to a file, and its anchor to a heading', () => {
    expect(files.flatMap(brokenLinks)).toEqual([]);
  });

  it('computes GitHub anchors as GitHub does', () => {
    expect(githubSlug("`req.user`: the key, or your app's own user")).toBe(
      'requser-the-key-or-your-apps-own-user',
    );
    expect(githubSlug('8. Import, pepper rotation, CLI')).toBe('8-import-pepper-rotation-cli');
    expect([...anchorsOf('# A\n## A\n```\n# not a heading\n```\n')]).toEqual(['a', 'a-1']);
  });
});
