import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { loadDashboardAssets, sourceDigest } from './dashboard-assets.js';
import { createDashboardRouter, dashboardRouterServing } from './dashboard-router.js';

const PACKAGE = new URL('../', import.meta.url);
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SOURCES = new URL('dashboard/', PACKAGE);

/**
 * An app with the dashboard at `mount`, serving its sources (whether or not `pnpm build` made a bundle);
 * unmatched requests answer 404 `host`.
 */
function appWith(
  mount: string,
  options: Parameters<typeof createDashboardRouter>[0] = { apiUrl: '/api/keys' },
  assets = loadDashboardAssets(SOURCES, null),
) {
  const app = express();
  app.use(mount, dashboardRouterServing(options, assets));
  app.use((_req, res) => {
    res.status(404).send('host');
  });
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).send('host error');
  });
  return app;
}

/** The `src` and `href` URLs of the page. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);
}

const MOUNTS = ['/dashboard/api-keys', '/settings/orgs/acme/keys'];
const files = readdirSync(new URL('dashboard/', PACKAGE));

describe('the dashboard page', () => {
  it.each(MOUNTS)('is served at its mount path %s with a strict Content-Security-Policy', async (mount) => {
    const res = await request(appWith(mount)).get(mount);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toMatch(/^<!doctype html>/);
    expect(res.text).toContain('<h1 class="kw-title">API keys</h1>');
    expect(res.text).toContain('data-api-url="/api/keys"');
  });

  it.each(MOUNTS)(
    'at %s links only its own files, under the mount path, and they are all served',
    async (mount) => {
      const app = appWith(mount);
      const page = await request(app).get(`${mount}/`);
      expect(page.status).toBe(200);
      const urls = referencedUrls(page.text);
      expect(urls.map((url) => url.replace(/\.[\w-]{12}\.(js|css|svg)$/, '.$1')).sort()).toEqual(
        [`${mount}/assets/dashboard.css`, `${mount}/assets/icon.svg`, `${mount}/assets/main.js`].sort(),
      );
      for (const url of urls) expect((await request(app).get(url)).status).toBe(200);
    },
  );

  it('has no inline script, inline style, event handler attribute or external resource', async () => {
    const { text } = await request(appWith('/keys')).get('/keys');
    const scripts = [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    for (const [tag, body] of scripts) {
      expect(tag).toMatch(/\ssrc="[^"]+"/);
      expect(body).toBe('');
    }
    expect(text).not.toMatch(/<style\b/i);
    expect(text).not.toMatch(/\sstyle=/i);
    expect(text).not.toMatch(/\son[a-z]+=/i);
    expect(text).not.toMatch(/javascript:/i);
    expect(text).not.toMatch(/https?:\/\//i);
  });

  it('is the page frame only: the script builds the toolbar, the table and the dialogs itself', async () => {
    const { text } = await request(appWith('/keys')).get('/keys');
    const ids = new Set([...text.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
    expect([...ids]).toEqual(['kw-dashboard']);
    expect(text).not.toMatch(/<(dialog|form|table|button|input|select)\b/);
    // The scripts look up no element of the page by id but the frame's root.
    const used = files
      .filter((name) => name.endsWith('.js'))
      .flatMap((name) => {
        const script = readFileSync(new URL(`dashboard/${name}`, PACKAGE), 'utf8');
        return [...script.matchAll(/(?:byId|getElementById)\(\s*'([^']+)'/g)].map((m) => m[1]);
      });
    expect(used).toEqual(['kw-dashboard']);
  });

  it('drops trailing slashes of apiUrl and HTML-escapes the title', async () => {
    const res = await request(appWith('/keys', { apiUrl: '/api/keys/', title: 'Keys of <Acme> & "Co"' })).get(
      '/keys',
    );
    expect(res.text).toContain('data-api-url="/api/keys"');
    expect(res.text).toContain('<title>Keys of &lt;Acme&gt; &amp; &quot;Co&quot;</title>');
    expect(res.text).not.toContain('<Acme>');
  });

  it('gives the root path as an empty apiUrl, so the page calls /, /scopes and /:id', async () => {
    const res = await request(appWith('/keys', { apiUrl: '/' })).get('/keys');
    expect(res.text).toContain('data-api-url=""');
  });

  it('asks a function apiUrl for each request, with the parameters of the mount path', async () => {
    const app = express();
    app.use(
      '/orgs/:org/keys',
      createDashboardRouter({ apiUrl: (req) => `/api/orgs/${req.params.org}/keys` }),
    );
    const res = await request(app).get('/orgs/acme/keys');
    expect(res.text).toContain('data-api-url="/api/orgs/acme/keys"');
    expect(referencedUrls(res.text).map((url) => url.replace(/\.[\w-]{12}\.js$/, '.js'))).toContain(
      '/orgs/acme/keys/assets/main.js',
    );
  });

  it('hands a bad apiUrl(req) answer to the host as an error, without serving the page', async () => {
    const res = await request(appWith('/keys', { apiUrl: () => 'https://evil.example/keys' })).get('/keys');
    expect(res.status).toBe(500);
    expect(res.text).toBe('host error');
  });

  it('answers HEAD and leaves other methods to the host app', async () => {
    const app = appWith('/keys');
    expect((await request(app).head('/keys')).status).toBe(200);
    const post = await request(app).post('/keys').send({});
    expect(post.status).toBe(404);
    expect(post.text).toBe('host');
  });
});

describe('the dashboard files', () => {
  it.each([
    ['main.js', 'text/javascript; charset=utf-8'],
    ['api.js', 'text/javascript; charset=utf-8'],
    ['dashboard.css', 'text/css; charset=utf-8'],
    ['icon.svg', 'image/svg+xml'],
  ])('serves %s as %s, with the CSP and nosniff', async (name, type) => {
    const res = await request(appWith('/keys')).get(`/keys/assets/${name}`).responseType('blob');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toEqual(readFileSync(new URL(`dashboard/${name}`, PACKAGE)));
  });

  it('serves every file of the folder and the page, and the modules import only served files', async () => {
    const app = appWith('/keys');
    for (const name of files) {
      const res = await request(app).get(`/keys/assets/${name}`);
      expect(res.status, name).toBe(200);
      if (!name.endsWith('.js')) continue;
      for (const [, imported] of res.text.matchAll(/^\s*import\s[^'"]*['"]\.\/([^'"]+)['"]/gm)) {
        expect(files, `${name} imports ${imported}`).toContain(imported);
      }
    }
  });

  it('sends brotli or gzip to browsers that take it, with its own ETag, and the same bytes once decoded', async () => {
    const app = appWith('/keys');
    const plain = readFileSync(new URL('dashboard/dashboard-app.js', PACKAGE));
    for (const [accept, encoding] of [
      ['br;q=1, gzip;q=0.8', 'br'],
      ['gzip', 'gzip'],
    ] as const) {
      const res = await request(app)
        .get('/keys/assets/dashboard-app.js')
        .set('Accept-Encoding', accept)
        .buffer(true)
        .parse((response, done) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect(res.headers.vary).toBe('Accept-Encoding');
      expect(res.headers.etag).toMatch(new RegExp(`^"[\\w-]+-${encoding}"$`));
      expect(res.headers['content-security-policy']).toBe(CSP);
      // supertest decodes both: what arrives is the file.
      expect(Buffer.compare(res.body as Buffer, plain)).toBe(0);
      const again = await request(app)
        .get('/keys/assets/dashboard-app.js')
        .set('Accept-Encoding', accept)
        .set('If-None-Match', String(res.headers.etag));
      expect(again.status).toBe(304);
    }
    const identity = await request(app)
      .get('/keys/assets/dashboard-app.js')
      .set('Accept-Encoding', 'identity');
    expect(identity.headers['content-encoding']).toBeUndefined();
  });

  it('caches a file for a year at the hashed name the page links, and revalidates it elsewhere', async () => {
    const app = appWith('/keys');
    const page = await request(app).get('/keys');
    const main =
      referencedUrls(page.text).find((url) => /^\/keys\/assets\/main\.[\w-]{12}\.js$/.test(url)) ?? '';
    const versioned = await request(app).get(main);
    expect(versioned.status).toBe(200);
    expect(versioned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(versioned.text).toBe(readFileSync(new URL('main.js', SOURCES), 'utf8'));
    const version = main.split('.').at(-2);
    const query = await request(app).get(`/keys/assets/main.js?v=${version}`);
    expect(query.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const stale = await request(app).get('/keys/assets/main.js?v=000000000000');
    expect(stale.headers['cache-control']).toBe('no-cache');
    expect((await request(app).get('/keys/assets/main.000000000000.js')).status).toBe(404);
  });

  it('answers 304 to a request for a file the browser has', async () => {
    const app = appWith('/keys');
    const first = await request(app).get('/keys/assets/main.js');
    expect(first.headers.etag).toMatch(/^"[\w-]+"$/);
    const again = await request(app)
      .get('/keys/assets/main.js')
      .set('If-None-Match', String(first.headers.etag));
    expect(again.status).toBe(304);
  });

  it.each([
    '/keys/assets/nope.js',
    '/keys/assets/main.js.map',
    '/keys/assets/..%2Fpackage.json',
    '/keys/assets/%2e%2e%2fpackage.json',
    '/keys/assets/..%5Cpackage.json',
    '/keys/assets/',
    '/keys/assets/MAIN.JS',
    '/keys/main.js',
  ])('leaves %s to the host app (no such file)', async (path) => {
    const res = await request(appWith('/keys')).get(path);
    expect(res.status).toBe(404);
    expect(res.text).toBe('host');
  });

  it('ships in the package: the folder is listed in package.json "files"', () => {
    const manifest = JSON.parse(readFileSync(new URL('package.json', PACKAGE), 'utf8'));
    expect(manifest.files).toContain('dashboard');
  });

  it('uses nothing a strict CSP forbids, nor HTML built from strings, nor another origin', () => {
    for (const name of files) {
      const text = readFileSync(new URL(`dashboard/${name}`, PACKAGE), 'utf8');
      expect(text, name).not.toMatch(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
      );
      expect(text, name).not.toMatch(/setAttribute\(\s*['"]style|cssText|@import|url\(\s*['"]?https?:/);
      // Example origins in help text (RFC 2606 example.com names) are words, not resources.
      const withoutExamples = text
        .replaceAll('http://www.w3.org/2000/svg', '')
        .replace(/https?:\/\/(?:\*\.)?(?:[a-z0-9-]+\.)*example\.com\b/g, '');
      expect(withoutExamples, name).not.toMatch(/https?:\/\//);
    }
  });
});

describe('the bundle', () => {
  /** A bundle folder as `pnpm build` makes it, built from `digest`'s sources. */
  function bundleFor(digest: string) {
    const folder = mkdtempSync(join(tmpdir(), 'kw-bundle-'));
    writeFileSync(join(folder, 'main.js'), 'console.log("bundled main");\n');
    writeFileSync(join(folder, 'element.js'), 'console.log("bundled element");\n');
    writeFileSync(join(folder, 'dashboard.css'), '.kw-body{color:red}\n');
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ sources: digest }));
    return { url: pathToFileURL(`${folder}/`), remove: () => rmSync(folder, { recursive: true }) };
  }

  it('serves the bundled module, element and stylesheet when built from these sources, and the page links them', async () => {
    const bundle = bundleFor(sourceDigest(SOURCES));
    try {
      const app = appWith('/keys', { apiUrl: '/api/keys' }, loadDashboardAssets(SOURCES, bundle.url));
      const page = await request(app).get('/keys');
      const scripts = [...page.text.matchAll(/<script\b[^>]*src="([^"]+)"/g)].map((m) => m[1] as string);
      expect(scripts).toHaveLength(1);
      expect((await request(app).get(scripts[0] as string)).text).toBe('console.log("bundled main");\n');
      expect((await request(app).get('/keys/assets/element.js')).text).toBe(
        'console.log("bundled element");\n',
      );
      expect((await request(app).get('/keys/assets/dashboard.css')).text).toBe('.kw-body{color:red}\n');
      // The modules of the sources stay served (a page loaded before an upgrade may still ask for them).
      expect((await request(app).get('/keys/assets/dashboard-app.js')).status).toBe(200);
    } finally {
      bundle.remove();
    }
  });

  it('serves the sources when the bundle was built from other sources (edited since), or is missing', async () => {
    const bundle = bundleFor('built-from-something-else');
    try {
      for (const assets of [loadDashboardAssets(SOURCES, bundle.url), loadDashboardAssets(SOURCES, null)]) {
        const app = appWith('/keys', { apiUrl: '/api/keys' }, assets);
        const main = await request(app).get('/keys/assets/main.js');
        expect(main.text).toBe(readFileSync(new URL('main.js', SOURCES), 'utf8'));
      }
    } finally {
      bundle.remove();
    }
  });
});

describe('the options', () => {
  it.each([
    ['no options', undefined],
    ['no apiUrl', {}],
    ['an absolute URL', { apiUrl: 'https://evil.example/keys' }],
    ['a protocol-relative URL', { apiUrl: '//evil.example/keys' }],
    ['a backslash URL', { apiUrl: '/\\evil.example/keys' }],
    ['a relative path', { apiUrl: 'api/keys' }],
    ['a quote', { apiUrl: '/api/keys"><script>' }],
    ['a space', { apiUrl: '/api/my keys' }],
    ['a number', { apiUrl: 42 }],
    ['an empty title', { apiUrl: '/api/keys', title: '  ' }],
    ['a title that is not a string', { apiUrl: '/api/keys', title: 7 }],
    ['a sign-out URL on another origin', { apiUrl: '/api/keys', signOutUrl: 'https://evil.example/out' }],
    ['a sign-in URL with a quote', { apiUrl: '/api/keys', signInUrl: '/login"' }],
    ['an organizationName that is not a function', { apiUrl: '/api/keys', organizationName: 'Acme' }],
    ['a javascript: apiBaseUrl', { apiUrl: '/api/keys', apiBaseUrl: 'javascript:alert(1)' }],
    ['an apiKeyHeader with a space', { apiUrl: '/api/keys', apiKeyHeader: 'X API Key' }],
  ])('throws TypeError at start-up for %s', (_label, options) => {
    expect(() => createDashboardRouter(options as never)).toThrow(TypeError);
  });

  it('gives the page its extras as escaped data attributes: sign-in/out, organization, "Call the API"', async () => {
    const app = appWith('/keys', {
      apiUrl: '/api/keys',
      signInUrl: '/login?next=/keys',
      signOutUrl: '/signout',
      organizationName: (req) => `Acme <${req.query.who}> & "Co"`,
      apiBaseUrl: 'https://api.example.com/v1/',
      apiKeyHeader: 'X-API-Key',
      exampleRequestPath: '/whoami',
    });
    const { text } = await request(app).get('/keys?who=x');
    expect(text).toContain(
      'data-api-url="/api/keys" data-sign-in-url="/login?next=/keys" data-sign-out-url="/signout" ' +
        'data-organization-name="Acme &lt;x&gt; &amp; &quot;Co&quot;" data-api-base-url="https://api.example.com/v1" ' +
        'data-api-key-header="X-API-Key" data-example-request-path="/whoami">',
    );
    const plain = await request(appWith('/keys')).get('/keys');
    expect(plain.text).toContain('data-api-url="/api/keys">');
  });

  it('does not change the options object', () => {
    const options = Object.freeze({ apiUrl: '/api/keys/', title: ' Keys ' });
    createDashboardRouter(options);
    expect(options).toEqual({ apiUrl: '/api/keys/', title: ' Keys ' });
  });
});
