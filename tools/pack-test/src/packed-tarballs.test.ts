import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

/** Every published package and what each of its entry points must export at run time. */
export const PUBLISHED: Record<string, { dir: string; entries: Record<string, string[]> }> = {
  '@keyward/core': {
    dir: 'packages/core',
    entries: {
      '@keyward/core': ['createKeyward', 'MemoryKeyStore', 'parseToken', 'isKeywardError'],
      '@keyward/core/store': ['newStoredKey', 'tokenPattern', 'DuplicateKeyError'],
      '@keyward/core/schemas': ['keySchema', 'serializeKey', 'createKeyInputSchema'],
      '@keyward/core/testing': ['runKeyStoreConformance', 'TEST_PEPPER'],
    },
  },
  '@keyward/mongo': { dir: 'packages/mongo', entries: { '@keyward/mongo': ['MongoKeyStore'] } },
  '@keyward/express': {
    dir: 'packages/express',
    entries: {
      '@keyward/express': ['apiKeyAuth', 'requireScopes', 'requireSecretKey', 'keywardErrorHandler'],
      '@keyward/express/passport': ['createPassportStrategy'],
    },
  },
  '@keyward/admin': {
    dir: 'packages/admin',
    entries: { '@keyward/admin': ['createAdminRouter', 'createDashboardRouter'] },
  },
  // A command, no importable entry point: checked by running its bin below.
  '@keyward/cli': { dir: 'packages/cli', entries: {} },
};

// The real peers an app brings, at the versions the workspace tests with.
const APP_DEPENDENCIES = {
  express: '^5.1.0',
  mongoose: '^9.0.0',
  passport: '^0.7.0',
  'passport-headerapikey': '^1.2.2',
  vitest: '4.1.12',
  '@types/express': '^5.0.3',
  '@types/node': '^20.19.0',
  '@types/passport': '^1.0.17',
};

// The oldest versions the peer ranges claim (`express ^4.17.0`, `passport >=0.4.0`, `mongoose ^6.13.0`):
// an app pinned there must `npm install` the tarballs as it is (no --legacy-peer-deps) and run.
const OLDEST_DEPENDENCIES = {
  express: '~4.17.0',
  passport: '~0.4.0',
  'passport-headerapikey': '^1.2.2',
  mongoose: '~6.13.0',
};

// A CommonJS app on the oldest peers: a key-protected route (apiKeyAuth and the Passport strategy) and the
// admin API, started on a free port and called with fetch. Prints one JSON line with what it saw.
const OLDEST_APP = `const { once } = require('node:events');
const { randomBytes } = require('node:crypto');
const express = require('express');
const passport = require('passport');
const { createKeyward, MemoryKeyStore } = require('@keyward/core');
const { apiKeyAuth, keywardErrorHandler } = require('@keyward/express');
const { createPassportStrategy } = require('@keyward/express/passport');
const { createAdminRouter } = require('@keyward/admin');
const { MongoKeyStore } = require('@keyward/mongo');

async function main() {
  const keyward = createKeyward({
    store: new MemoryKeyStore(),
    scopes: ['things:read'],
    pepper: randomBytes(32).toString('base64url'),
  });
  const app = express();
  app.use(passport.initialize());
  passport.use(createPassportStrategy(keyward));
  app.use('/api/keys', createAdminRouter({
    keyward,
    authorize: (req) => (req.get('x-org') ? { organizationId: req.get('x-org'), actor: { type: 'user', id: 'u_1' } } : null),
  }));
  app.get('/v1/things', apiKeyAuth(keyward, { scopes: ['things:read'] }), (req, res) => {
    res.json({ organization: req.apiKey.organizationId });
  });
  app.get('/v1/passport', passport.authenticate('keyward', { session: false }), (req, res) => {
    res.json({ key: req.user.id });
  });
  app.use(keywardErrorHandler());
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = 'http://127.0.0.1:' + server.address().port;
  try {
    const created = await fetch(base + '/api/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-org': 'org_1' },
      body: JSON.stringify({ name: 'CI', type: 'secret' }),
    });
    const { data, token } = await created.json();
    const bearer = { authorization: 'Bearer ' + token };
    const withKey = await fetch(base + '/v1/things', { headers: bearer });
    const withoutKey = await fetch(base + '/v1/things');
    const viaPassport = await fetch(base + '/v1/passport', { headers: { 'x-api-key': token } });
    const list = await fetch(base + '/api/keys', { headers: { 'x-org': 'org_1' } });
    const events = await fetch(base + '/api/keys/events', { headers: { 'x-org': 'org_1' } });
    console.log(JSON.stringify({
      express: require('express/package.json').version,
      passport: require('passport/package.json').version,
      mongoStore: typeof MongoKeyStore,
      created: created.status,
      withKey: [withKey.status, await withKey.json()],
      withoutKey: [withoutKey.status, (await withoutKey.json()).error.code],
      viaPassport: [viaPassport.status, (await viaPassport.json()).key === data.id],
      listed: [list.status, (await list.json()).data.length],
      actor: (await events.json()).data[0].actor,
    }));
  } finally {
    server.close();
  }
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

// Uses every entry point's types, so a type that does not resolve fails `tsc`.
const CONSUMER_TS = `import express from 'express';
import { createKeyward, MemoryKeyStore, type KeywardOptions } from '@keyward/core';
import { TEST_PEPPER, runKeyStoreConformance } from '@keyward/core/testing';
import { newStoredKey, type StoredKey } from '@keyward/core/store';
import { keySchema, type KeyJSON } from '@keyward/core/schemas';
import { MongoKeyStore } from '@keyward/mongo';
import { apiKeyAuth, keywardErrorHandler } from '@keyward/express';
import { createPassportStrategy, type KeywardStrategy } from '@keyward/express/passport';
import { createAdminRouter, createDashboardRouter } from '@keyward/admin';

const options: KeywardOptions = { store: new MemoryKeyStore(), scopes: ['a:read'], pepper: TEST_PEPPER };
const keyward = createKeyward(options);
const app = express();
app.use('/api/keys', createAdminRouter({ keyward, authorize: () => ({ organizationId: 'org_1' }) }));
app.use('/dashboard', createDashboardRouter({ apiUrl: '/api/keys' }));
app.get('/v1', apiKeyAuth(keyward), (req, res) => {
  res.json({ organization: req.apiKey?.organizationId });
});
app.use(keywardErrorHandler());
const strategy: KeywardStrategy = createPassportStrategy(keyward);
const storeClass: typeof MongoKeyStore = MongoKeyStore;
const build: (fields: Parameters<typeof newStoredKey>[0]) => StoredKey = newStoredKey;
const parseKey: (value: unknown) => KeyJSON = (value) => keySchema.parse(value);
export { app, strategy, storeClass, runKeyStoreConformance, build, parseKey };
`;

let work = '';

async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, timeout: 300_000, maxBuffer: 32 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

async function writeJSON(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keyward-pack-test-'));
  const tarballs = join(work, 'tarballs');
  await mkdir(tarballs);
  for (const { dir } of Object.values(PUBLISHED)) {
    await sh('pnpm', ['pack', '--pack-destination', tarballs], join(REPO, dir));
  }
  const files = await readdir(tarballs);
  const dependencies: Record<string, string> = { ...APP_DEPENDENCIES };
  for (const name of Object.keys(PUBLISHED)) {
    const file = files.find((f) => f.startsWith(`${name.slice(1).replace('/', '-')}-`));
    if (!file) throw new Error(`no tarball for ${name} in ${files.join(', ')}`);
    dependencies[name] = `file:./tarballs/${file}`;
  }
  // One node_modules for both apps: they sit in sub-folders and resolve it from their parent.
  await writeJSON(join(work, 'package.json'), { name: 'scratch', private: true, dependencies });
  // The app on the oldest peers is a project of its own, next to it; without --legacy-peer-deps, so an
  // ERESOLVE (a peer range narrower than what it claims to support) fails the install.
  const oldest = join(work, 'oldest-app');
  await mkdir(oldest);
  const oldestDependencies: Record<string, string> = { ...OLDEST_DEPENDENCIES };
  for (const name of Object.keys(PUBLISHED)) {
    oldestDependencies[name] = (dependencies[name] as string).replace('file:./', 'file:../');
  }
  await writeJSON(join(oldest, 'package.json'), {
    name: 'oldest-app',
    private: true,
    type: 'commonjs',
    dependencies: oldestDependencies,
  });
  const install = ['install', '--no-audit', '--no-fund', '--loglevel=error'];
  // `--strict-peer-deps`: any peer of any package outside its range fails the install, not only ours.
  await Promise.all([sh('npm', install, work), sh('npm', [...install, '--strict-peer-deps'], oldest)]);
  await mkdir(join(work, 'cjs-app'));
  await mkdir(join(work, 'esm-app'));
  await writeJSON(join(work, 'cjs-app', 'package.json'), {
    name: 'cjs-app',
    private: true,
    type: 'commonjs',
  });
  await writeJSON(join(work, 'esm-app', 'package.json'), { name: 'esm-app', private: true, type: 'module' });
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const entries = Object.values(PUBLISHED).flatMap(({ entries }) => Object.entries(entries));

describe('the packed tarballs, installed with npm', () => {
  it('install without naming a private workspace package, and with no unmet peer of ours', async () => {
    // npm ls exits non-zero on a missing or invalid dependency; an unmet optional peer only prints UNMET
    // (vitest's and mongodb's own optional peers do; none may be ours or vitest itself).
    const ls = await sh('npm', ['ls', '--all'], work);
    expect(ls).toContain('@keyward/core@');
    expect(ls).not.toContain('@keyward/test-db');
    const unmet = ls.split('\n').filter((line) => line.includes('UNMET'));
    expect(unmet.filter((line) => /@keyward|DEPENDENCY vitest@/.test(line))).toEqual([]);
    const core = JSON.parse(await readFile(join(work, 'node_modules/@keyward/core/package.json'), 'utf8'));
    // `/testing` imports vitest: an optional peer, so an app without it installs cleanly.
    expect(core.peerDependencies?.vitest).toBeDefined();
    expect(core.peerDependenciesMeta?.vitest?.optional).toBe(true);
    const mongo = await readFile(join(work, 'node_modules/@keyward/mongo/package.json'), 'utf8');
    expect(mongo).not.toContain('@keyward/test-db');
  });

  const check = (module: string, spec: string, names: string[]): string =>
    `for (const n of ${JSON.stringify(names)}) if (${module}[n] === undefined) throw new Error(${JSON.stringify(`${spec} lacks `)} + n);`;

  it('load every entry point with require from a CommonJS app (/testing with import())', async () => {
    // vitest refuses require(), so @keyward/core/testing (which imports vitest) is for test files only; a
    // CommonJS project reaches it through vitest's own transform or import().
    const script = entries
      .map(([spec, names]) =>
        spec === '@keyward/core/testing'
          ? `import(${JSON.stringify(spec)}).then((m) => { ${check('m', spec, names)} console.log('testing ok'); });`
          : `{ const m = require(${JSON.stringify(spec)}); ${check('m', spec, names)} }`,
      )
      .join('\n');
    await writeFile(join(work, 'cjs-app', 'index.js'), `${script}\nconsole.log('cjs ok');\n`);
    const out = await sh(process.execPath, ['index.js'], join(work, 'cjs-app'));
    expect(out).toContain('cjs ok');
    expect(out).toContain('testing ok');
  });

  it('load every entry point with import from an ESM app', async () => {
    const script = entries
      .map(
        ([spec, names], i) =>
          `import * as m${i} from ${JSON.stringify(spec)};\nfor (const n of ${JSON.stringify(names)}) if (m${i}[n] === undefined) throw new Error(${JSON.stringify(spec)} + ' lacks ' + n);`,
      )
      .join('\n');
    await writeFile(join(work, 'esm-app', 'index.js'), `${script}\nconsole.log('esm ok');\n`);
    expect(await sh(process.execPath, ['index.js'], join(work, 'esm-app'))).toContain('esm ok');
  });

  it('run the keyward bin that npm linked', async () => {
    const bin = join(work, 'node_modules', '.bin', 'keyward');
    expect(await sh(bin, ['pepper'], join(work, 'cjs-app'))).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(await sh(bin, ['--help'], work)).toContain('keys');
  });

  describe('in an app pinned at the oldest supported peers (express 4.17, passport 0.4, mongoose 6.13)', () => {
    const oldest = () => join(work, 'oldest-app');

    it('installed them with npm, without --legacy-peer-deps, at those versions', async () => {
      const ls = JSON.parse(await sh('npm', ['ls', '--json', 'express', 'passport', 'mongoose'], oldest()));
      expect(ls.dependencies.express.version).toMatch(/^4\.17\./);
      expect(ls.dependencies.passport.version).toMatch(/^0\.4\./);
      expect(ls.dependencies.mongoose.version).toMatch(/^6\.13\./);
      // Every @keyward package took the app's own express and passport (no second copy of either).
      const all = await sh('npm', ['ls', '--all', '--parseable', '--long'], oldest());
      expect(all.split('\n').filter((line) => /node_modules\/express:express@/.test(line))).toHaveLength(1);
      expect(all.split('\n').filter((line) => /node_modules\/passport:passport@/.test(line))).toHaveLength(1);
    });

    it('runs a key-protected route (apiKeyAuth and the Passport strategy) and the admin API', async () => {
      await writeFile(join(oldest(), 'index.js'), OLDEST_APP);
      const out = JSON.parse(await sh(process.execPath, ['index.js'], oldest()));
      expect(out).toEqual({
        express: expect.stringMatching(/^4\.17\./),
        passport: expect.stringMatching(/^0\.4\./),
        mongoStore: 'function',
        created: 201,
        withKey: [200, { organization: 'org_1' }],
        withoutKey: [401, 'missing_api_key'],
        viaPassport: [200, true],
        listed: [200, 1],
        actor: { type: 'user', id: 'u_1' },
      });
    });

    it('runs the CLI that npm linked there', async () => {
      const bin = join(oldest(), 'node_modules', '.bin', 'keyward');
      const version = JSON.parse(await readFile(join(REPO, 'packages/cli/package.json'), 'utf8')).version;
      expect((await sh(bin, ['--version'], oldest())).trim()).toBe(version);
      expect(await sh(bin, ['pepper'], oldest())).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    });
  });

  async function typeCheck(appDir: string, file: string, module: 'commonjs' | 'nodenext'): Promise<void> {
    const app = join(work, appDir);
    // `/testing` is ESM-only (vitest refuses require()): a CommonJS module under nodenext reaches its types
    // in import mode, as a test file run by vitest would.
    const source =
      appDir === 'cjs-app' && module === 'nodenext'
        ? CONSUMER_TS.replace(
            "import { TEST_PEPPER, runKeyStoreConformance } from '@keyward/core/testing';",
            "type Testing = typeof import('@keyward/core/testing', { with: { 'resolution-mode': 'import' } });\n" +
              "declare const TEST_PEPPER: Testing['TEST_PEPPER'];\n" +
              "declare const runKeyStoreConformance: Testing['runKeyStoreConformance'];",
          )
        : CONSUMER_TS;
    await writeFile(join(app, `${file}.ts`), source);
    await writeJSON(join(app, `${file}.tsconfig.json`), {
      compilerOptions: {
        module,
        moduleResolution: module === 'commonjs' ? 'node' : 'nodenext',
        target: 'ES2022',
        strict: true,
        esModuleInterop: true,
        noEmit: true,
        // Resolution errors (TS2307) are still reported; skipping the .d.ts bodies keeps each run short.
        skipLibCheck: true,
        types: ['node'],
      },
      files: [`${file}.ts`],
    });
    await sh(process.execPath, [TSC, '-p', `${file}.tsconfig.json`], app);
  }

  it('type-check a consumer under classic "module": "commonjs" ("moduleResolution": "node")', async () => {
    await typeCheck('cjs-app', 'classic', 'commonjs');
  });

  it('type-check a consumer under "module": "nodenext" in a CommonJS app', async () => {
    await typeCheck('cjs-app', 'nodenext', 'nodenext');
  });

  it('type-check a consumer under "module": "nodenext" in an ESM app', async () => {
    await typeCheck('esm-app', 'nodenext', 'nodenext');
  });
});
