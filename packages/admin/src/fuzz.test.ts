// Fuzzing the admin router over HTTP: method, path, Content-Type, Content-Encoding, Content-Length,
// Origin, Sec-Fetch-Site and body vary together. Nothing a client sends may make the server answer a 5xx,
// and every request must finish (a request still unanswered after the per-request timeout is a hang).
// `pnpm test` runs a small number of cases; KEYWARD_FUZZ_RUNS=50000 runs the big one.
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { MOUNT, setup } from './test-app.js';

const RUNS = Number(process.env.KEYWARD_FUZZ_RUNS ?? 2000);
/** Per request: a request unanswered this long counts as a hang. A limit, not a timed assertion. */
const REQUEST_TIMEOUT_MS = 5_000;

type Context = ReturnType<typeof setup>;
type Ids = { secret: string; pub: string; other: string };

const pick = <T>(...values: T[]) => fc.constantFrom(...values);
/** Mostly `usual` (so that requests get past one check to the next), else any of `values`. */
const mostly = <T>(usual: T, values: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(usual) }, { weight: 2, arbitrary: values });

const method = pick('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS');

/** A path below the mount, given the ids of a key of the caller, and of another organization. */
const path = fc.oneof(
  { weight: 3, arbitrary: pick('', '/{secret}', '/{pub}', '/{secret}/roll', '/{pub}/roll') },
  pick(
    '',
    '/',
    '//',
    '/scopes',
    '/openapi.json',
    '/{secret}',
    '/{pub}',
    '/{other}',
    '/{secret}/roll',
    '/{pub}/roll',
    '/{other}/roll',
    '//{secret}',
    '/{secret}//roll',
    '/{secret}/',
    '/key_0123456789ABCDEFGHIJ',
    '/%E0%A4%A',
    '/%ZZ',
    '/%00',
    '/%2F%2E%2E',
    '/..%2F..%2Fetc%2Fpasswd',
    '/{secret}%2Froll',
    '/__proto__',
    '/constructor/roll',
  ),
  fc.integer({ min: 100, max: 9000 }).map((n) => `/${'k'.repeat(n)}`),
  fc.string({ maxLength: 40 }).map((s) => `/${encodeURIComponent(s)}`),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => `/${encodeURIComponent(s)}/roll`),
);

const contentType = mostly<string | undefined>(
  'application/json',
  pick(
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=UTF-16',
    'application/json; charset=latin1',
    'APPLICATION/JSON',
    'application/merge-patch+json',
    'application/x-www-form-urlencoded',
    'text/plain',
    'text/json',
    'multipart/form-data; boundary=xyz',
    'application/',
    '}{',
    ';;;',
    'application/json; charset',
  ),
);

const contentEncoding = pick<string | undefined>(
  undefined,
  'gzip',
  'deflate',
  'br',
  'identity',
  'x-garbage',
  'gzip, gzip',
);

/** How the body's length is announced: as it is, none (chunked), 0, shorter than the body, or huge. */
const contentLength = mostly('exact', pick('exact', 'chunked', 'zero', 'short', 'huge'));

const origin = mostly<string | undefined>(
  undefined,
  pick<string | undefined>(
    'null',
    'https://evil.example',
    'http://127.0.0.1',
    'https://app.example.com',
    '',
    'garbage',
  ),
);
const secFetchSite = mostly<string | undefined>(
  undefined,
  pick<string | undefined>('same-origin', 'same-site', 'cross-site', 'none', 'bogus'),
);

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Body text: valid and hostile JSON, non-JSON, big. */
const bodyText = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? '') },
  {
    weight: 3,
    arbitrary: pick(
      '{"name":"Fuzz","type":"secret"}',
      '{"name":"Fuzz","type":"public"}',
      '{"gracePeriodSeconds":60}',
      '{"name":"Renamed","scopes":["snippets:read"]}',
    ),
  },
  pick(
    '',
    '{}',
    'null',
    '{"name":"Fuzz","type":"secret"}',
    '{"name":"Fuzz","type":"public","scopes":["snippets:read"],"expiresAt":"2031-01-01T00:00:00Z"}',
    '{"gracePeriodSeconds":0}',
    '{"disabled":true}',
    '{"__proto__":{"isDefault":true},"name":"x","type":"secret"}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '{"name":"a","name":"b","type":"secret"}',
    `{"name":${nested(3000)},"type":"secret"}`,
    nested(8000),
    '{"scopes":[1e400,-0,1e-400]}',
    '\uFEFF{"name":"BOM","type":"secret"}',
    '{"name":"\\ud800","type":"secret"}',
    'name=Fuzz&type=secret',
    '--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nFuzz\r\n--xyz--',
    '{"name":',
    '\u0000\u0001\u0002',
  ),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .integer({ min: 15_000, max: 40_000 })
    .map((n) => JSON.stringify({ name: 'x'.repeat(n), type: 'secret' })),
);

const exchange = fc.record({
  method,
  path,
  contentType,
  contentEncoding,
  /** Whether the body is really compressed as announced (false: a lie). */
  compressed: fc.boolean(),
  contentLength,
  origin,
  secFetchSite,
  body: fc.option(bodyText, { nil: undefined, freq: 5 }),
});
type Exchange = typeof exchange extends fc.Arbitrary<infer T> ? T : never;

function encode(text: string, e: Exchange): Buffer {
  const raw = Buffer.from(text);
  if (!e.compressed) return raw;
  if (e.contentEncoding === 'gzip') return gzipSync(raw);
  if (e.contentEncoding === 'deflate') return deflateSync(raw);
  return raw;
}

function build(context: Context, ids: Ids, e: Exchange): supertest.Test {
  const url = MOUNT + e.path.replace(/\{(secret|pub|other)\}/g, (_m, name: keyof Ids) => ids[name]);
  const test = send(context.app, e.method, url).set('x-org', 'org_a');
  if (e.contentType !== undefined) test.set('Content-Type', e.contentType);
  if (e.contentEncoding !== undefined) test.set('Content-Encoding', e.contentEncoding);
  if (e.origin !== undefined) test.set('Origin', e.origin);
  if (e.secFetchSite !== undefined) test.set('Sec-Fetch-Site', e.secFetchSite);
  test.timeout({ response: REQUEST_TIMEOUT_MS, deadline: REQUEST_TIMEOUT_MS * 2 });
  if (e.body === undefined || e.method === 'GET' || e.method === 'HEAD') return test;
  const data = encode(e.body, e);
  switch (e.contentLength) {
    case 'chunked':
      // No Content-Length: the body goes in chunks.
      if (data.length > 0) test.write(data);
      return test;
    case 'zero':
      return test.set('Content-Length', '0').send(data);
    case 'short':
      // Announces fewer bytes than it sends; the server reads what was announced.
      return test.set('Content-Length', String(Math.floor(data.length / 2))).send(data);
    case 'huge':
      // Announces far more than the limit; refused before anything is read.
      return test.set('Content-Length', String(1e9)).send(data);
    default:
      return test.send(data);
  }
}

/** Keys that an earlier case deleted, rolled or disabled are replaced, so that later cases reach them. */
async function replaceSpentKeys(context: Context, ids: Ids): Promise<void> {
  for (const [name, type] of [
    ['secret', 'secret'],
    ['pub', 'public'],
  ] as const) {
    const key = await context.keyward.getKey('org_a', ids[name]);
    if (key?.status !== 'active') ids[name] = (await context.createKey('org_a', { name, type })).key.id;
  }
}

/** `supertest(app).<method>(url)` for a method chosen at run time. */
function send(app: Context['app'], method: string, url: string): supertest.Test {
  const agent = supertest(app) as unknown as Record<string, (url: string) => supertest.Test>;
  return (agent[method.toLowerCase()] as (url: string) => supertest.Test)(url);
}

describe('fuzzing the admin router over HTTP', () => {
  it(
    `answers every one of ${RUNS} generated requests, never with a 5xx, and never hangs`,
    async () => {
      const context = setup({ writesPerMinute: false }); // hundreds of writes: the cap has its own tests
      // The host app's own 404 for what the router leaves alone. (Express's default final handler waits
      // for the whole announced body before answering, so a lying Content-Length would hang there, in
      // the host app, not in the router.)
      context.app.use(function hostNotFound(_req, res) {
        res.status(404).set('Connection', 'close').end();
      });
      const ids: Ids = {
        secret: (await context.createKey('org_a', { name: 'Secret', type: 'secret' })).key.id,
        pub: (await context.createKey('org_a', { name: 'Public', type: 'public' })).key.id,
        other: (await context.createKey('org_b', { name: 'Other', type: 'secret' })).key.id,
      };
      const figures = { cases: 0, serverErrors: 0, hangs: 0, resets: 0, byStatus: new Map<number, number>() };
      await fc.assert(
        fc.asyncProperty(exchange, async (e) => {
          figures.cases++;
          await replaceSpentKeys(context, ids);
          let status: number;
          try {
            status = (await build(context, ids, e)).status;
          } catch (error) {
            const { timeout, status: errorStatus } = error as { timeout?: number; status?: number };
            if (timeout !== undefined) {
              figures.hangs++;
              throw new Error(`hang: ${JSON.stringify(e)}`);
            }
            // The server closed the connection without a status (e.g. the HTTP parser refused a
            // malformed request): it finished, with nothing to check.
            if (errorStatus === undefined) {
              figures.resets++;
              return;
            }
            status = errorStatus;
          }
          figures.byStatus.set(status, (figures.byStatus.get(status) ?? 0) + 1);
          if (status >= 500) figures.serverErrors++;
          expect(status, JSON.stringify(e)).toBeLessThan(500);
        }),
        { numRuns: RUNS },
      );
      if (process.env.KEYWARD_FUZZ_RUNS) {
        // The figures of a big run, for the report (only when asked for).
        console.info('fuzz figures', { ...figures, byStatus: Object.fromEntries(figures.byStatus) });
      }
      expect(figures).toMatchObject({ cases: RUNS, serverErrors: 0, hangs: 0 });
    },
    // A limit for the whole run (thousands of requests), not a timed assertion.
    Math.max(120_000, RUNS * 50),
  );
});
