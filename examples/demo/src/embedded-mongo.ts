import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A MongoDB server this process started. */
export interface EmbeddedMongo {
  uri: string;
  stop(): Promise<void>;
}

/** One HEAD request to the download host; about 30 ms when DNS fails (offline), at most this long. */
const PROBE_TIMEOUT_MS = 3_000;
const START_TIMEOUT_MS = 60_000;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/**
 * Starts `mongod` through mongodb-memory-server, and fails fast when it cannot: if the binary is not on
 * disk, one HEAD request to the download host decides (mongodb-memory-server itself would retry for
 * about 7 s before giving up). The same probe as `tools/test-db` (`memory-server.ts`), which is test
 * tooling and not a dependency of the demo. `notice` hears about a first-time download.
 *
 * @example
 * const mongo = await startEmbeddedMongo((line) => console.log(line));
 * // mongo.uri: 'mongodb://127.0.0.1:40123/keyward_demo'
 */
export async function startEmbeddedMongo(notice: (line: string) => void = () => {}): Promise<EmbeddedMongo> {
  const { DryMongoBinary, MongoMemoryServer } = await import('mongodb-memory-server');
  const binary = await DryMongoBinary.locateBinary(await DryMongoBinary.generateOptions());
  if (!binary) {
    if (!usesProxy()) await checkDownloadHost(downloadOrigin());
    notice('[demo] downloading MongoDB for mongodb-memory-server (about 100 MB, once)…');
  }
  const start = MongoMemoryServer.create({ instance: { ip: '127.0.0.1' } });
  const server = await withDeadline(start, binary ? START_TIMEOUT_MS : DOWNLOAD_TIMEOUT_MS);
  return { uri: server.getUri('keyward_demo'), stop: async () => void (await server.stop()) };
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

/**
 * One HEAD request to `origin`: resolves on any HTTP answer (a download can start), rejects with one
 * clear line on a DNS failure, a refused connection or no answer within 3 s.
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

async function withDeadline<T extends { stop(): Promise<unknown> }>(
  start: Promise<T>,
  ms: number,
): Promise<T> {
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
    start.then((late) => late.stop()).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
