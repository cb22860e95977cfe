// `pnpm lint:openapi`: lints the generated OpenAPI document with Redocly's `recommended` rules. The
// document is written to a temporary folder (never into the tree) in two variants, without and with a
// scope catalog, and the command fails on any error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenApiDocument } from '../src/openapi.js';

const variants = {
  'plain.json': createOpenApiDocument(),
  'with-catalog.json': createOpenApiDocument({
    scopes: { scopes: ['snippets:read', 'snippets:write'], publicScopes: ['snippets:read'] },
    serverUrl: '/api/keys',
  }),
};

const folder = mkdtempSync(join(tmpdir(), 'keyward-openapi-'));
let status = 0;
try {
  const files = Object.entries(variants).map(([name, document]) => {
    const file = join(folder, name);
    writeFileSync(file, JSON.stringify(document, null, 2));
    return file;
  });
  const result = spawnSync('redocly', ['lint', '--extends', 'recommended', ...files], {
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  if (result.error) throw result.error;
  status = result.status ?? 1;
} finally {
  rmSync(folder, { recursive: true, force: true });
}
process.exit(status);
