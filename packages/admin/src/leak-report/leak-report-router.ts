import { isKeyward, type Keyward, KeywardError } from '@keyward/core';
import { LEAK_ACTIONS, type LeakAction } from '@keyward/core/schemas';
import type { Request, RequestHandler, Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { createErrorHandler } from '../error-handler.js';
import { log } from '../logger.js';
import { GITHUB_SECRET_SCANNING_KEYS_URL, SigningKeys } from './signing-keys.js';

/** The most tokens one report may carry. */
export const MAX_LEAK_REPORT_ENTRIES = 1000;
/** Reports handled at once per request (store reads in flight). */
const CONCURRENCY = 8;

/**
 * Options of `createLeakReportRouter`.
 *
 * @example
 * const options: LeakReportRouterOptions = { keyward, onLeak: 'revoke' };
 */
export interface LeakReportRouterOptions {
  /** The Keyward service whose keys the reports are about. */
  keyward: Keyward;
  /**
   * What to do with a reported secret key: `revoke` (delete it: it stops working at once), `disable`
   * (reversible), or `report` (record `key.leaked` only). Public keys are only ever reported. Required.
   */
  onLeak: LeakAction;
  /** Where the signing keys are published. @default "https://api.github.com/meta/public_keys/secret_scanning" */
  keysUrl?: string;
  /** The `fetch` the keys are fetched with (e.g. one that adds a GitHub token). @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** How long fetched keys are trusted before they are fetched again. @default 3600000 (an hour) */
  cacheTtlMs?: number;
  /**
   * The least time between two fetches caused by a report signed with a key id not held (a rotation): a
   * stream of made-up ids costs one fetch per interval, not one per request. @default 60000
   */
  refetchIntervalMs?: number;
  /** The largest report body, in bytes; larger ones are refused with 413. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /** The clock of the key cache, in ms since the epoch (tests pin it). @default Date.now */
  clock?: () => number;
}

/** One entry of GitHub's answer: whether the token named a key of this service. */
export interface LeakFeedback {
  token_raw: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
}

/** One reported token, as GitHub sends it (other fields are ignored). */
const entrySchema = z.object({
  token: z.string({ error: 'Must be a string.' }).min(1, 'Must not be empty.').max(1000),
  type: z.string({ error: 'Must be a string.' }).max(200),
  url: z.string({ error: 'Must be a string.' }).max(4096).optional(),
  source: z.string({ error: 'Must be a string.' }).max(200).optional(),
});
const reportSchema = z
  .array(entrySchema, { error: 'Must be an array of { token, type, url, source }.' })
  .max(MAX_LEAK_REPORT_ENTRIES, `At most ${MAX_LEAK_REPORT_ENTRIES} tokens per report.`);

/**
 * GitHub's secret-scanning partner endpoint (docs/reference.md §11), as an Express router to mount at a path of its
 * own, before any body parser, e.g. `app.use('/security/leaks/github', createLeakReportRouter(...))`.
 * `POST /` reads the raw body (at most `maxBodyBytes`: 413), checks `Github-Public-Key-Signature` (base64
 * ASN.1 DER, ECDSA P-256 / SHA-256 over the raw body) with the key named by `Github-Public-Key-Identifier`
 * among those published at `keysUrl` (cached), and only then parses `[{ token, type, url, source }]` (at
 * most 1,000; 400 `validation_error` otherwise). Each token goes to `keyward.reportLeak` with `onLeak` and
 * `source: "github:<source>"`: a secret key is revoked, disabled or only reported; `key.leaked` is
 * recorded and handed to `onEvent`. The answer is GitHub's feedback, `[{ token_raw, token_type, label }]`,
 * `true_positive` for a token of a key of this service. A missing or bad signature, or a key id not
 * published, is 401 `unauthorized` and nothing is acted on; no keys to check with (the URL unreachable on
 * first use) is 503.
 *
 * @example
 * import { createLeakReportRouter } from '@keyward/admin';
 *
 * app.use('/security/leaks/github', createLeakReportRouter({ keyward, onLeak: 'revoke' }));
 */
export function createLeakReportRouter(options: LeakReportRouterOptions): Router {
  const resolved = resolveLeakReportOptions(options);
  const keys = new SigningKeys({
    url: resolved.keysUrl,
    fetch: resolved.fetch,
    ttlMs: resolved.cacheTtlMs,
    refetchIntervalMs: resolved.refetchIntervalMs,
    clock: resolved.clock,
  });
  const readBody = express.raw({ type: () => true, limit: resolved.maxBodyBytes, inflate: false });
  const router = express.Router();
  router.post('/', readBody, leakReportHandler(resolved, keys));
  router.use(createErrorHandler());
  return router;
}

function leakReportHandler(options: ResolvedLeakReportOptions, keys: SigningKeys): RequestHandler {
  const { keyward, onLeak } = options;
  return function keywardLeakReport(req, res, next) {
    res.set('Cache-Control', 'no-store');
    const run = async () => {
      const body = rawBody(req);
      const keyId = req.get('github-public-key-identifier');
      const signature = req.get('github-public-key-signature');
      if (!keyId || !signature || keyId.length > 512 || signature.length > 512) throw unsigned();
      const check = await keys.check(keyId, signature, body);
      if (check === 'unavailable') {
        throw new KeywardError('key_store_unavailable', {
          message: 'The keys that sign leak reports cannot be fetched right now. Try again shortly.',
        });
      }
      if (check !== 'valid') {
        log('leak report refused: %s', check === 'unknown_key' ? 'unknown key id' : 'bad signature');
        throw unsigned();
      }
      const entries = parseReport(body);
      const feedback = await mapLimit(entries, CONCURRENCY, async (entry): Promise<LeakFeedback> => {
        const result = await keyward.reportLeak(entry.token, {
          onLeak,
          source: `github:${entry.source ?? 'unknown'}`,
          url: entry.url ?? '',
        });
        return {
          token_raw: entry.token,
          token_type: entry.type,
          label: result.found ? 'true_positive' : 'false_positive',
        };
      });
      log('leak report: %d token(s), %d of this service', entries.length, count(feedback));
      res.status(200).json(feedback);
    };
    run().catch(next);
  };
}

function rawBody(req: Request): Buffer {
  if (Buffer.isBuffer(req.body)) return req.body;
  // No body at all (neither Content-Length nor Transfer-Encoding: the raw parser leaves `req.body` alone).
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    return Buffer.alloc(0);
  }
  // A body parser mounted before the router consumed the body: the signature cannot be checked.
  log('leak report body was parsed before the router: mount it before express.json()');
  throw new KeywardError('internal_error', {
    cause: new Error('createLeakReportRouter needs the raw body: mount it before any body parser'),
  });
}

function parseReport(body: Buffer): z.output<typeof reportSchema> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KeywardError('validation_error', {
      details: [{ path: '', message: 'Must be JSON: an array of { token, type, url, source }.' }],
    });
  }
  const parsed = reportSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new KeywardError('validation_error', {
    details: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}

function unsigned(): KeywardError {
  return new KeywardError('unauthorized', {
    message: 'The report is not signed by a published secret-scanning key.',
  });
}

/** `map` with at most `limit` calls in flight, results in input order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  call: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await call(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function count(feedback: readonly LeakFeedback[]): number {
  return feedback.filter((f) => f.label === 'true_positive').length;
}

interface ResolvedLeakReportOptions {
  keyward: Keyward;
  onLeak: LeakAction;
  keysUrl: string;
  fetch: typeof globalThis.fetch;
  cacheTtlMs: number;
  refetchIntervalMs: number;
  maxBodyBytes: number;
  clock: () => number;
}

function resolveLeakReportOptions(options: LeakReportRouterOptions): ResolvedLeakReportOptions {
  const where = 'Keyward createLeakReportRouter';
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options { keyward, onLeak } are required`);
  }
  const { keyward, onLeak } = options;
  if (!isKeyward(keyward)) {
    throw new TypeError(`${where}: options.keyward must be a Keyward service (createKeyward(...))`);
  }
  if (!LEAK_ACTIONS.includes(onLeak)) {
    throw new TypeError(`${where}: options.onLeak must be "revoke", "disable" or "report"`);
  }
  const keysUrl = options.keysUrl ?? GITHUB_SECRET_SCANNING_KEYS_URL;
  if (typeof keysUrl !== 'string' || !/^https?:\/\//.test(keysUrl) || !URL.canParse(keysUrl)) {
    throw new TypeError(`${where}: options.keysUrl must be an http(s) URL`);
  }
  const fetch = options.fetch ?? globalThis.fetch;
  if (typeof fetch !== 'function') throw new TypeError(`${where}: options.fetch must be a function`);
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new TypeError(`${where}: options.clock must be a function`);
  return {
    keyward,
    onLeak,
    keysUrl,
    fetch,
    clock,
    cacheTtlMs: positive(options.cacheTtlMs, 3_600_000, 'cacheTtlMs'),
    refetchIntervalMs: positive(options.refetchIntervalMs, 60_000, 'refetchIntervalMs'),
    maxBodyBytes: positive(options.maxBodyBytes, 1024 * 1024, 'maxBodyBytes'),
  };

  function positive(value: unknown, fallback: number, name: string): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`${where}: options.${name} must be a positive integer`);
    }
    return value;
  }
}
