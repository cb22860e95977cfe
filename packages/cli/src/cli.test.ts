import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { generateToken, tokenPattern } from '@keyward/core/store';
import { useTestDatabase } from '@keyward/test-db';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, createArgs, runCliHere, spawnCli } from './test-run.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const PEPPER = 'cli-test-pepper-not-a-secret';
const TOKEN = new RegExp(`^${tokenPattern().source}$`);

const db = useTestDatabase('cli');

type RunOptions = { env?: NodeJS.ProcessEnv; stdin?: string };

function cliEnv(options: RunOptions): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    MONGO_URL: db.uri,
    KEYWARD_PEPPER: PEPPER,
    KEYWARD_SCOPES: 'snippets:read,snippets:write',
    KEYWARD_PUBLIC_SCOPES: 'snippets:read',
    ...options.env,
  };
}

/** The CLI's program in this process (see `runCliHere`); `binary` runs the built `keyward` as a process. */
function keyward(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return runCliHere(args, cliEnv(options), options.stdin);
}

function binary(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return spawnCli(CLI, args, cliEnv(options), options.stdin);
}

let orgCounter = 0;
const newOrg = (): string => `org_cli_${Date.now().toString(36)}_${++orgCounter}`;

async function createSecret(org: string, extra: string[] = []): Promise<{ token: string; id: string }> {
  const created = await keyward(createArgs(org, 'CI', 'secret', ...extra));
  expect(created.code, created.stderr).toBe(0);
  const token = created.stdout.trim();
  const id = /key (key_\S+|\S+) \("/.exec(created.stderr)?.[1];
  if (!id) throw new Error(`no key id in: ${created.stderr}`);
  return { token, id };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm build\` (turbo's test task does)`);
});

describe('the built binary (dist/cli.js, as `keyward` runs it)', () => {
  it('exits 0 with the answer on stdout, 1 on a refusal, 2 on a usage error, and reads a token from stdin', async () => {
    const org = newOrg();
    const created = await binary(createArgs(org, 'Bin', 'secret'));
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(TOKEN);
    expect(created.stderr).not.toContain(token);
    const [fromStdin, refused, usage, version] = await Promise.all([
      binary(['verify', '-', '--json'], { stdin: `${token}\n` }),
      binary(['verify', 'kw_sk_not-a-token']),
      binary(['keys', 'list']),
      binary(['--version']),
    ]);
    expect(fromStdin.code).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ valid: true, key: { organizationId: org } });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('refused: invalid_api_key');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--org <id>'");
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('keyward pepper', () => {
  it('prints a new 32-byte base64url pepper each time, without touching a database', async () => {
    const env = { MONGO_URL: '', KEYWARD_PEPPER: '' };
    const [a, b] = await Promise.all([keyward(['pepper'], { env }), keyward(['pepper'], { env })]);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(Buffer.from(a.stdout.trim(), 'base64url')).toHaveLength(32);
    expect(a.stdout).not.toBe(b.stdout);
  });
});

describe('keyward keys, against the database', () => {
  it('create prints the secret token once, on stdout only; list and its JSON never show it', async () => {
    const org = newOrg();
    const created = await keyward(createArgs(org, 'CI', 'secret', '--scopes', 'snippets:write'));
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(TOKEN);
    expect(created.stdout).toBe(`${token}\n`);
    expect(created.stderr).not.toContain(token);
    expect(created.stderr).toContain('shown once');

    const list = await keyward(['keys', 'list', '--org', org]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('CI');
    expect(list.stdout).toContain('snippets:write');
    expect(list.stdout).not.toContain(token);
    const json = await keyward(['keys', 'list', '--org', org, '--json']);
    const keys = JSON.parse(json.stdout) as { name: string; type: string; status: string }[];
    expect(keys).toMatchObject([{ name: 'CI', type: 'secret', status: 'active' }]);
    expect(json.stdout).not.toContain(token);
    expect(json.stdout + json.stderr + list.stderr).not.toContain(token.slice(6));
  });

  it("create takes --owner and --meta, and refuses a malformed one with the service's message", async () => {
    const org = newOrg();
    const created = await keyward(
      createArgs(
        org,
        'Billing',
        'secret',
        '--owner',
        'service:billing',
        '--meta',
        '{"customerId":"cus_1"}',
        '--json',
      ),
    );
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).key).toMatchObject({
      owner: { type: 'service', id: 'billing' },
      meta: { customerId: 'cus_1' },
    });
    const bad = await keyward(createArgs(org, 'X', 'secret', '--meta', '[1]'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('meta');
  });

  it('list shows only the organization asked for', async () => {
    const [a, b] = [newOrg(), newOrg()];
    await createSecret(a);
    const list = await keyward(['keys', 'list', '--org', b, '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('verify accepts a live token (exit 0), from the argument or stdin, and refuses others (exit 1)', async () => {
    const org = newOrg();
    const { token, id } = await createSecret(org);
    const ok = await keyward(['verify', token]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(id);
    expect(ok.stdout).toContain(org);
    const fromStdin = await keyward(['verify', '-', '--json'], { stdin: `${token}\n` });
    expect(fromStdin.code).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ valid: true, key: { id, organizationId: org } });

    const garbage = await keyward(['verify', 'kw_sk_not-a-token']);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toContain('refused: invalid_api_key');
    const otherPepper = await keyward(['verify', token], {
      env: { KEYWARD_PEPPER: 'another-pepper-of-enough-length' },
    });
    expect(otherPepper.code).toBe(1);
  });

  it('disable refuses the key at once, enable brings it back', async () => {
    const org = newOrg();
    const { token, id } = await createSecret(org);
    const disabled = await keyward(['keys', 'disable', id, '--org', org]);
    expect(disabled.code).toBe(0);
    expect(disabled.stderr).toContain('disabled');
    expect((await keyward(['verify', token])).stderr).toContain('refused: disabled_api_key');
    expect((await keyward(['keys', 'enable', id, '--org', org])).code).toBe(0);
    expect((await keyward(['verify', token])).code).toBe(0);
  });

  it('roll prints the new token once; with --grace 0 the old one stops at once', async () => {
    const org = newOrg();
    const { token: old, id } = await createSecret(org);
    const rolled = await keyward(['keys', 'roll', id, '--org', org, '--grace', '0']);
    expect(rolled.code, rolled.stderr).toBe(0);
    const token = rolled.stdout.trim();
    expect(token).toMatch(TOKEN);
    expect(token).not.toBe(old);
    expect(rolled.stderr).not.toContain(token);
    expect((await keyward(['verify', token])).code).toBe(0);
    const previous = await keyward(['verify', old]);
    expect(previous.code).toBe(1);
    expect(previous.stderr).toMatch(/refused: (expired|invalid)_api_key/);
  });

  it('delete revokes the key; deleting it again is refused (exit 1)', async () => {
    const org = newOrg();
    const { token, id } = await createSecret(org);
    expect((await keyward(['keys', 'delete', id, '--org', org])).code).toBe(0);
    expect((await keyward(['verify', token])).code).toBe(1);
    const again = await keyward(['keys', 'delete', id, '--org', org]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not_found');
  });

  it('refuses input the service refuses (exit 1): a scope outside the catalog, a past expiry', async () => {
    const org = newOrg();
    const scope = await keyward(createArgs(org, 'x', 'secret', '--scopes', 'nope:read'));
    expect(scope.code).toBe(1);
    expect(scope.stderr).toContain('validation_error');
    expect(scope.stdout).toBe('');
    const past = await keyward(createArgs(org, 'x', 'secret', '--expires', '2000-01-01T00:00:00Z'));
    expect(past.code).toBe(1);
    expect(past.stdout).toBe('');
    const publicOverCeiling = await keyward(createArgs(org, 'x', 'public', '--scopes', 'snippets:write'));
    expect(publicOverCeiling.code).toBe(1);
  });
});

describe('keyward --version and the repository script', () => {
  it("prints the package's version and exits 0, without a database", async () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const run = await keyward([flag], { env: { MONGO_URL: '' } });
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`${manifest.version}\n`);
    }
  });

  it("runs from the repository as `pnpm keyward`: the root script runs this package's bin", () => {
    const root = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const bin = String(manifest.bin.keyward).replace(/^\.\//, '');
    expect(root.scripts.keyward).toBe(`node packages/cli/${bin}`);
  });
});

describe('a missing scope catalog', () => {
  it.each([
    ['keys create', ['keys', 'create', '--org', 'o', '--name', 'CI', '--type', 'secret']],
    ['import', ['import', 'keys.csv', '--org', 'o']],
  ])(
    'stops %s with exit 2 and a message naming KEYWARD_SCOPES, before any key is made',
    async (_what, args) => {
      const run = await keyward(args, { env: { KEYWARD_SCOPES: '' } });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('KEYWARD_SCOPES is not set');
      expect(run.stdout).toBe('');
    },
  );

  it('takes --scope-catalog instead of KEYWARD_SCOPES', async () => {
    const org = newOrg();
    const run = await keyward(['--scope-catalog', 'snippets:read', ...createArgs(org, 'CI', 'secret')], {
      env: { KEYWARD_SCOPES: '', KEYWARD_PUBLIC_SCOPES: '' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toMatch(TOKEN);
  });
});

describe('keyward verify hints', () => {
  it("says when a token outside Keyward's format meets no KEYWARD_LEGACY_PATTERN, without quoting it", async () => {
    const legacy = 'sk_live_0123456789abcdef0123456789abcdef';
    const run = await keyward(['verify', legacy]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('refused: invalid_api_key');
    expect(run.stderr).toMatch(/hint: .*KEYWARD_LEGACY_PATTERN is not set/);
    expect(run.stderr).not.toContain(legacy);
    const json = await keyward(['verify', legacy, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      valid: false,
      code: 'invalid_api_key',
      hint: expect.stringContaining('KEYWARD_LEGACY_PATTERN'),
    });
  });

  it('points at the pepper when a well-formed token is not found', async () => {
    const org = newOrg();
    const { token } = await createSecret(org);
    const run = await keyward(['verify', token], {
      env: { KEYWARD_PEPPER: 'another-pepper-of-enough-length' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/hint: the token is well-formed but no key has it .*KEYWARD_PEPPER/);
    expect(run.stderr).not.toContain(token);
  });

  it("points at KEYWARD_PREFIX when the token's prefix is another one", async () => {
    const run = await keyward(['verify', generateToken('acme', 'secret')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/hint: the token's prefix is acme, the CLI expects kw: set KEYWARD_PREFIX/);
  });
});

describe('usage and connection errors exit 2', () => {
  it('an unknown command, a missing required option, a bad --type', async () => {
    const [unknown, noOrg, badType, help] = await Promise.all([
      keyward(['nope']),
      keyward(['keys', 'list']),
      keyward(['keys', 'create', '--org', 'o', '--name', 'n', '--type', 'root']),
      keyward(['--help']),
    ]);
    expect(unknown.code).toBe(2);
    expect(noOrg.stderr).toContain("required option '--org <id>'");
    expect(noOrg.code).toBe(2);
    expect(badType.code).toBe(2);
    expect(help.code).toBe(0);
  });

  it('a missing MONGO_URL or KEYWARD_PEPPER, with what to set', async () => {
    const [noUrl, noPepper] = await Promise.all([
      keyward(['keys', 'list', '--org', 'o'], { env: { MONGO_URL: '' } }),
      keyward(['keys', 'list', '--org', 'o'], { env: { KEYWARD_PEPPER: '' } }),
    ]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('MONGO_URL is not set');
    expect(noPepper.code).toBe(2);
    expect(noPepper.stderr).toContain('KEYWARD_PEPPER is not set');
  });

  it('a MONGO_URL nobody answers: a message naming serverSelectionTimeoutMS, password redacted', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const result = await keyward(['keys', 'list', '--org', 'o', '--timeout', '1'], {
      env: { MONGO_URL: `mongodb://ops:hunter2@127.0.0.1:${port}/app` },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Cannot connect to MONGO_URL=mongodb://<credentials>@127.0.0.1');
    expect(result.stderr).toContain('serverSelectionTimeoutMS');
    expect(result.stderr).not.toContain('hunter2');
  });
});

describe('keyward events', () => {
  it('lists every change made through the CLI, newest first, with no token in the output', async () => {
    const org = newOrg();
    const { token, id } = await createSecret(org);
    expect((await keyward(['keys', 'disable', id, '--org', org])).code).toBe(0);
    expect((await keyward(['keys', 'enable', id, '--org', org])).code).toBe(0);
    const rolled = await keyward(['keys', 'roll', id, '--org', org, '--json']);
    expect(rolled.code, rolled.stderr).toBe(0);
    const successor = JSON.parse(rolled.stdout) as { token: string; key: { id: string } };
    expect((await keyward(['keys', 'delete', successor.key.id, '--org', org])).code).toBe(0);

    const listed = await keyward(['events', '--org', org, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const events = JSON.parse(listed.stdout) as Array<{ type: string; keyId: string; actor: unknown }>;
    expect(events.map((e) => [e.type, e.keyId])).toEqual([
      ['key.deleted', successor.key.id],
      ['key.rolled', id],
      ['key.created', successor.key.id],
      ['key.enabled', id],
      ['key.disabled', id],
      ['key.created', id],
    ]);
    for (const e of events) expect(e.actor).toEqual({ type: 'system', id: 'keyward' });

    const table = await keyward(['events', '--org', org, '--key', id, '--type', 'key.rolled']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^AT\s+TYPE\s+KEY/);
    expect(table.stdout.trim().split('\n')).toHaveLength(2);

    // The new key's history with --chain: its own events and those of the key it replaced.
    const chain = await keyward(['events', '--org', org, '--key', successor.key.id, '--chain', '--json']);
    expect(chain.code, chain.stderr).toBe(0);
    const chained = JSON.parse(chain.stdout) as Array<{ type: string; keyId: string; rolledFrom?: string }>;
    expect(chained.map((e) => [e.type, e.keyId])).toEqual(events.map((e) => [e.type, e.keyId]));
    expect(chained[2]).toMatchObject({ type: 'key.created', rolledFrom: id });
    expect((await keyward(['events', '--org', org, '--chain'])).code).toBe(2);
    for (const output of [listed, table, chain]) {
      for (const secret of [token, successor.token, PEPPER]) {
        expect(output.stdout + output.stderr).not.toContain(secret);
      }
    }
  });

  it('shows another organization nothing, and refuses a bad --limit (exit 2) or --type (exit 1)', async () => {
    const org = newOrg();
    await createSecret(org);
    const other = await keyward(['events', '--org', newOrg()]);
    expect(other.code).toBe(0);
    expect(other.stdout).toBe('');
    expect(other.stderr).toMatch(/No events/);
    expect((await keyward(['events', '--org', org, '--limit', '0'])).code).toBe(2);
    expect((await keyward(['events'])).code).toBe(2);
    const badType = await keyward(['events', '--org', org, '--type', 'key.exploded']);
    expect(badType.code).toBe(1);
    expect(badType.stderr).toMatch(/validation_error/);
  });
});
