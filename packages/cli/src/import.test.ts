import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { useTestDatabase } from '@keyward/test-db';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { createArgs, runCliHere } from './test-run.js';

const PEPPER = 'cli-import-test-pepper-not-secret';
const PATTERN = '^sk_live_[0-9a-f]{32}$';
const db = useTestDatabase('cli-import');
const folder = mkdtempSync(join(tmpdir(), 'keyward-import-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const env = () => ({
  PATH: process.env.PATH,
  DEBUG: process.env.DEBUG,
  MONGO_URL: db.uri,
  KEYWARD_PEPPER: PEPPER,
  KEYWARD_SCOPES: 'snippets:read,snippets:write',
  KEYWARD_PUBLIC_SCOPES: 'snippets:read',
  KEYWARD_LEGACY_PATTERN: PATTERN,
  KEYWARD_PLANS: 'free,pro',
});

const keyward = (args: string[]) => runCliHere(args, env());

let files = 0;
function csv(text: string): string {
  const path = join(folder, `keys-${++files}.csv`);
  writeFileSync(path, text);
  return path;
}

const legacyToken = () => `sk_live_${randomBytes(16).toString('hex')}`;
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');
const newOrg = () => `org_import_${randomBytes(4).toString('hex')}`;

describe('keyward import, against the database', () => {
  it('imports the owner, meta and plan columns, and refuses an unknown plan or a meta that is not JSON', async () => {
    const org = newOrg();
    const file = csv(
      'name,type,token,owner,meta,plan\n' +
        `Billing,secret,${legacyToken()},service:billing,"{""customerId"":""cus_1""}",pro\n` +
        `Plain,secret,${legacyToken()},,,\n` +
        `Gold,secret,${legacyToken()},,,gold\n` +
        `Broken,secret,${legacyToken()},,{nope,\n`,
    );
    const run = await keyward(['import', file, '--org', org, '--json']);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report, JSON.stringify(report)).toMatchObject({ imported: 2, existing: 0 });
    expect(report.refused).toEqual([
      { line: 4, problems: ['plan: Unknown plan.'] },
      { line: 5, problems: ['meta: Must be a JSON object.'] },
    ]);
    const listed = await keyward(['keys', 'list', '--org', org, '--json']);
    const keys = JSON.parse(listed.stdout) as Array<{
      name: string;
      owner: unknown;
      meta: unknown;
      plan: unknown;
    }>;
    expect(keys.map((k) => [k.name, k.owner, k.meta, k.plan]).sort()).toEqual([
      ['Billing', { type: 'service', id: 'billing' }, { customerId: 'cus_1' }, 'pro'],
      ['Plain', null, null, null],
    ]);
  });

  it('creates a key on a plan, moves it to another and back, sets its credits, and puts an organization on a plan', async () => {
    const org = newOrg();
    const created = await keyward(createArgs(org, 'P', 'secret', '--plan', 'free', '--json'));
    expect(created.code, created.stderr).toBe(0);
    const { key } = JSON.parse(created.stdout);
    expect(key.plan).toBe('free');
    const moved = await keyward(['keys', 'plan', key.id, 'pro', '--org', org, '--json']);
    expect(JSON.parse(moved.stdout).plan).toBe('pro');
    const back = await keyward(['keys', 'plan', key.id, 'none', '--org', org]);
    expect(back.stderr).toContain("is on its organization's plan");
    const listed = await keyward(['keys', 'list', '--org', org]);
    expect(listed.stdout.split('\n')[0]).toMatch(/PLAN$/);
    const unknown = await keyward(['keys', 'plan', key.id, 'gold', '--org', org]);
    expect(unknown.code).not.toBe(0);
    const none = await keyward(['keys', 'credits', key.id, '--org', org]);
    expect(none.stderr).toContain('has no credits');
    const set = await keyward([
      'keys',
      'credits',
      key.id,
      '--org',
      org,
      '--set',
      '100',
      '--refill',
      '100',
      '--every',
      '86400',
      '--json',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      remaining: 100,
      refill: { amount: 100, intervalSeconds: 86400 },
      source: 'key',
    });
    const bad = await keyward(['keys', 'credits', key.id, '--org', org, '--set', '-5']);
    expect(bad.code).not.toBe(0);
    const removed = await keyward(['keys', 'credits', key.id, '--org', org, '--remove']);
    expect(removed.stderr).toContain('has no credits');
    const orgPlan = await keyward(['org-plan', 'pro', '--org', org]);
    expect(orgPlan.code, orgPlan.stderr).toBe(0);
    expect(orgPlan.stderr).toContain(`Organization ${org} is on plan pro.`);
  });

  it('imports plaintext and SHA-256 rows that then verify; a re-run imports nothing (exit 0 both times)', async () => {
    const org = newOrg();
    const [a, b] = [legacyToken(), legacyToken()];
    const file = csv(
      'name,type,token,sha256,scopes,expiresAt\n' +
        `Old CI,secret,${a},,snippets:read snippets:write,2099-01-01T00:00:00Z\n` +
        `"Web, old",public,,${sha256(b)},,\n`,
    );
    const first = await keyward(['import', file, '--org', org]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('Imported 2 keys');
    expect(first.stderr).toContain('0 were there already');
    expect(first.stdout).toBe('');
    for (const output of [first.stdout, first.stderr]) {
      for (const secret of [a, b, sha256(b), PEPPER]) expect(output).not.toContain(secret);
    }
    for (const token of [a, b]) {
      const verified = await keyward(['verify', token]);
      expect(verified.code, verified.stderr).toBe(0);
    }
    const listed = await keyward(['keys', 'list', '--org', org, '--json']);
    const keys = JSON.parse(listed.stdout) as Array<{ name: string; legacy: boolean; scopes: string[] }>;
    expect(keys.map((k) => [k.name, k.legacy]).sort()).toEqual([
      ['Old CI', true],
      ['Web, old', true],
    ]);
    const again = await keyward(['import', file, '--org', org, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ imported: 0, existing: 2, disabled: 0, refused: [] });
  });

  it('imports the good rows, reports each refused row with its line number, and exits 1', async () => {
    const org = newOrg();
    const file = csv(
      'name,type,token,sha256\n' +
        `Good,secret,${legacyToken()},\n` +
        `,secret,${legacyToken()},\n` +
        '\n' +
        `Both,secret,${legacyToken()},${sha256('x')}\n` +
        'Neither,secret,,\n' +
        `Bad type,admin,${legacyToken()},\n` +
        `Good too,public,,${sha256(legacyToken())}\n`,
    );
    const result = await keyward(['import', file, '--org', org]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('Imported 2 keys');
    expect(result.stderr).toContain('4 refused');
    expect(result.stderr).toMatch(/line 3: refused: name: /);
    expect(result.stderr).toMatch(/line 5: refused: token: Give exactly one of token and sha256/);
    expect(result.stderr).toMatch(/line 6: refused: token: /);
    expect(result.stderr).toMatch(/line 7: refused: type: /);
    const json = await keyward(['import', file, '--org', org, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      imported: number;
      existing: number;
      refused: { line: number }[];
    };
    expect(report).toMatchObject({ imported: 0, existing: 2 });
    expect(report.refused.map((r) => r.line)).toEqual([3, 5, 6, 7]);
  });

  it('exits 2 for a missing file, a header it cannot use, or a file that is not CSV, without echoing values', async () => {
    const org = newOrg();
    const secret = legacyToken();
    // Independent runs, started together (each is a process start of its own).
    const [missing, header, noToken, broken, noOrg] = await Promise.all([
      keyward(['import', join(folder, 'nothing.csv'), '--org', org]),
      keyward(['import', csv(`name,kind,token\nA,secret,${secret}\n`), '--org', org]),
      keyward(['import', csv('name,type\nA,secret\n'), '--org', org]),
      keyward(['import', csv(`name,type,token\nA,secret,"${secret}\nB,secret\n`), '--org', org]),
      keyward(['import', csv('name,type,token\n')]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read');
    expect(header.code).toBe(2);
    expect(header.stderr).toContain('unknown: kind');
    expect(noToken.code).toBe(2);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not valid CSV near line \d+ \(CSV_/);
    expect(broken.stderr).not.toContain(secret);
    expect(noOrg.code).toBe(2);
    expect(noOrg.stderr).toContain('Give --org, or an organization column');
  });

  it('imports rows of several organizations from one file, --org for rows without one, and stores rows marked disabled disabled in one write', async () => {
    const [orgA, orgB, fallback] = [newOrg(), newOrg(), newOrg()];
    const [a, b, c, d] = [legacyToken(), legacyToken(), legacyToken(), legacyToken()];
    const file = csv(
      'organization,name,type,token,disabled\n' +
        `${orgA},A live,secret,${a},false\n` +
        `${orgB},B off,secret,${b},TRUE\n` +
        `,Fallback,secret,${c},\n` +
        `${orgA},A bad flag,secret,${d},maybe\n`,
    );
    const result = await keyward(['import', file, '--org', fallback, '--json']);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toEqual({
      imported: 3,
      existing: 0,
      disabled: 1,
      refused: [{ line: 5, problems: ['disabled: Must be true or false (or empty).'] }],
    });
    const names = async (org: string) =>
      (
        JSON.parse((await keyward(['keys', 'list', '--org', org, '--json'])).stdout) as { name: string }[]
      ).map((k) => k.name);
    expect(await names(orgA)).toEqual(['A live']);
    expect(await names(orgB)).toEqual(['B off']);
    expect(await names(fallback)).toEqual(['Fallback']);
    expect((await keyward(['verify', a])).code).toBe(0);
    const off = await keyward(['verify', b]);
    expect(off.code).toBe(1);
    expect(off.stderr).toContain('refused: disabled_api_key');
    // Stored disabled in the import's one write: one event, no `key.updated` after a moment of being live.
    const offEvents = JSON.parse((await keyward(['events', '--org', orgB, '--json'])).stdout) as Array<{
      type: string;
    }>;
    expect(offEvents.map((e) => e.type)).toEqual(['key.imported']);
    // Without --org, a row without an organization is refused, the others imported.
    const e = legacyToken();
    const noDefault = await keyward([
      'import',
      csv(`organization,name,type,token\n,Orphan,secret,${legacyToken()}\n${orgA},Owned,secret,${e}\n`),
      '--json',
    ]);
    expect(JSON.parse(noDefault.stdout)).toMatchObject({
      imported: 1,
      refused: [{ line: 2, problems: [expect.stringContaining('organization: Required')] }],
    });
  });

  it('refuses tokens under 16 characters, a repeated column and an over-long cell, never printing a value', async () => {
    const org = newOrg();
    const short = 'abc123DEF456ghi'; // 15 characters
    const token = legacyToken();
    const huge = 'A'.repeat(100_000);
    // Independent runs, started together (each is a process start of its own); the list comes after all.
    const [shortRun, repeated, big, headless] = await Promise.all([
      keyward(['import', csv(`name,type,token\nShort,secret,${short}\n`), '--org', org]),
      keyward(['import', csv(`name,type,token,token\nTwice,secret,${token},x\n`), '--org', org]),
      keyward(['import', csv(`name,type,token\nBig,secret,${huge}\n`), '--org', org]),
      // A file without a header row: its first row is taken as the header, and its token is not echoed.
      keyward(['import', csv(`Old,secret,${token}\n`), '--org', org]),
    ]);
    expect(shortRun.code).toBe(1);
    expect(shortRun.stderr).toContain('line 2: refused: token: Must be at least 16 characters.');
    expect(shortRun.stderr).not.toContain(short);

    expect(repeated.code).toBe(2);
    expect(repeated.stderr).toContain('names the column token more than once');
    expect(repeated.stderr).not.toContain(token);

    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/not valid CSV near line \d+ \(CSV_MAX_RECORD_SIZE\)/);
    expect(big.stderr).not.toContain('AAAAAAAAAAAAAAAA');

    expect(headless.code).toBe(2);
    expect(headless.stderr).toContain('unknown: Old, secret, column 3');
    expect(headless.stderr).not.toContain(token);
    const listed = await keyward(['keys', 'list', '--org', org, '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });

  it('does not echo a token that landed in the scopes column in the unknown-scope error', async () => {
    const org = newOrg();
    const token = legacyToken();
    const result = await keyward([
      'import',
      csv(`name,type,scopes,token\nMixed up,secret,${token},${legacyToken()}\n`),
      '--org',
      org,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 2: refused: scopes\.0: Unknown scope \(value not shown\)/);
    expect(result.stderr).not.toContain(token);
  });

  it('draws a progress bar only on a terminal and not with --quiet', async () => {
    const org = newOrg();
    const file = csv(`name,type,token\nA,secret,${legacyToken()}\nB,secret,${legacyToken()}\n`);
    const run = async (args: string[], isTTY: boolean) => {
      const stream = Object.assign(new PassThrough(), {
        isTTY,
        columns: 100,
        cursorTo: () => true,
        clearLine: () => true,
      });
      let drawn = '';
      stream.on('data', (chunk: Buffer) => {
        drawn += chunk.toString();
      });
      let stderr = '';
      const code = await runCli(args, {
        stdout: () => {},
        stderr: (text) => {
          stderr += text;
        },
        stdin: new PassThrough(),
        env: env(),
        progress: { stream, isTTY },
      });
      return { code, drawn, stderr };
    };
    const shown = await run(['import', file, '--org', org], true);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.drawn).toMatch(/100% \| 2 imported, 0 already there, 0 refused/);
    const quiet = await run(['import', file, '--org', org, '--quiet'], true);
    expect(quiet.code).toBe(0);
    expect(quiet.drawn).toBe('');
    const piped = await run(['import', file, '--org', org], false);
    expect(piped.drawn).toBe('');
    expect(piped.stderr).toContain('2 were there already');
  });

  // A measurement as much as a check: 100,000 rows take about 1.5 to 2.5 minutes (import and re-run) on
  // FerretDB on a shared machine, 10,000 about 20 s. The default suite imports 2,500 rows (three batches of
  // the store's 1,000, a re-run, the counts); KEYWARD_SLOW=1 imports 10,000, KEYWARD_IMPORT_ROWS any number.
  const ROWS = Number(process.env.KEYWARD_IMPORT_ROWS ?? (process.env.KEYWARD_SLOW === '1' ? 10_000 : 2_500));
  it(`imports ${ROWS} rows, then a re-run imports nothing (time printed)`, { timeout: 600_000 }, async () => {
    const org = newOrg();
    const lines = ['name,type,token,sha256'];
    for (let i = 0; i < ROWS; i++) {
      const token = legacyToken();
      lines.push(i % 2 === 0 ? `Key ${i},secret,${token},` : `Key ${i},secret,,${sha256(token)}`);
    }
    const file = csv(`${lines.join('\n')}\n`);
    let start = performance.now();
    const first = await keyward(['import', file, '--org', org, '--json', '--quiet']);
    const importMs = performance.now() - start;
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ imported: ROWS, existing: 0, disabled: 0, refused: [] });
    start = performance.now();
    const again = await keyward(['import', file, '--org', org, '--json', '--quiet']);
    const rerunMs = performance.now() - start;
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ imported: 0, existing: ROWS, disabled: 0, refused: [] });
    console.log(
      `[cli import] ${ROWS} rows: import ${(importMs / 1000).toFixed(1)} s, re-run ${(rerunMs / 1000).toFixed(1)} s`,
    );
  });
});
