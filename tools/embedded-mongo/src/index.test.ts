import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkDownloadHost } from './index.js';

describe('checkDownloadHost (the fast probe before mongodb-memory-server downloads)', () => {
  it('rejects at once, in one clear line, when nothing answers', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await expect(checkDownloadHost(`http://127.0.0.1:${port}`)).rejects.toThrow(
      `cannot download a MongoDB binary from http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
  });

  it('resolves on any HTTP answer, even an error status', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 403;
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await expect(
        checkDownloadHost(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      ).resolves.toBeUndefined();
    } finally {
      server.close();
    }
  });
});
