import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DryMongoBinary, MongoMemoryReplSet, MongoMemoryServer } from 'mongodb-memory-server';

/** One HEAD request to the download host decides; about 30 ms when DNS fails (offline). */
const PROBE_TIMEOUT_MS = 5_000;
/** Bound on starting mongod from a binary already on disk. */
const START_TIMEOUT_MS = 60_000;
/** Bound on a first start that downloads the binary (about 100 MB) first. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/** A server started by mongodb-memory-server. */
export type MemoryServer = MongoMemoryServer | MongoMemoryReplSet;

/** Options of {@link startMemoryServer}. */
export interface MemoryServerOptions {
  /** A single-node replica set instead of a standalone server. */
  replicaSet?: boolean;
  /** A data directory to keep across stop/start (standalone only); default: a temp dir MMS removes. */
  dbPath?: string;
  /** Hears one line when the binary must be downloaded first. */
  notice?: (line: string) => void;
}

/**
 * Starts mongod through mongodb-memory-server, failing fast when its binary is not on disk and cannot be
 * downloaded (mongodb-memory-server itself retries for about 7 s); every start is bounded in time.
 *
 * @example
 * const server = await startMemoryServer({ replicaSet: true });
 * server.getUri('app');
 */
export async function startMemoryServer(options: MemoryServerOptions = {}): Promise<MemoryServer> {
  const binary = await DryMongoBinary.locateBinary(await DryMongoBinary.generateOptions());
  if (!binary) {
    if (!usesProxy()) await checkDownloadHost(downloadOrigin());
    options.notice?.('downloading MongoDB for mongodb-memory-server (about 100 MB, once)…');
  }
  const start: Promise<MemoryServer> = options.replicaSet
    ? MongoMemoryReplSet.create({ replSet: { count: 1, storageEngine: 'wiredTiger' } })
    : MongoMemoryServer.create({
        instance: {
          ip: '127.0.0.1',
          ...(options.dbPath ? { dbPath: options.dbPath, storageEngine: 'wiredTiger' as const } : {}),
        },
      });
  return withDeadline(start, binary ? START_TIMEOUT_MS : DOWNLOAD_TIMEOUT_MS);
}

/**
 * One HEAD request to `origin`: resolves on any HTTP answer (a download can start), rejects with one
 * clear line on a DNS failure, a refused connection or no answer in time.
 *
 * @example
 * await checkDownloadHost('https://fastdl.mongodb.org'); // offline: rejects in about 30 ms
 */
export function checkDownloadHost(origin: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = (origin.startsWith('http:') ? httpRequest : httpsRequest)(origin, {
      method: 'HEAD',
      timeout: PROBE_TIMEOUT_MS,
    });
    request.on('response', (response) => {
      response.resume();
      resolve();
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`cannot download a MongoDB binary from ${origin} (${error.code ?? error.message})`)),
    );
    request.end();
  });
}

function downloadOrigin(): string {
  const explicit = process.env.MONGOMS_DOWNLOAD_URL || process.env.MONGOMS_DOWNLOAD_MIRROR;
  if (explicit) return new URL(explicit).origin;
  const useHttp = /^(1|on|yes|true)$/i.test(process.env.MONGOMS_USE_HTTP ?? '');
  return `${useHttp ? 'http' : 'https'}://fastdl.mongodb.org`;
}

// Behind a proxy the HEAD request would say nothing about the download: leave it to mongodb-memory-server.
function usesProxy(): boolean {
  return ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'].some(
    (name) => !!process.env[name],
  );
}

/** Resolves with the started server, or rejects after `ms`; a server that starts after that is stopped. */
async function withDeadline(start: Promise<MemoryServer>, ms: number): Promise<MemoryServer> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`mongodb-memory-server did not start within ${ms / 1000} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([start, deadline]);
  } catch (error) {
    start.then((late) => late.stop({ doCleanup: true, force: false })).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
