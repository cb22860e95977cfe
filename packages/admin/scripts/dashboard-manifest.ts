// Writes dist/dashboard/manifest.json after the dashboard's bundle is built (`pnpm build` runs it): the
// digest of the sources it was built from, so the router serves the bundle only while it matches them (see
// src/dashboard-assets.ts).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sourceDigest } from '../src/dashboard-assets.js';

const sources = new URL('../dashboard/', import.meta.url);
const manifest = new URL('../dist/dashboard/manifest.json', import.meta.url);
writeFileSync(fileURLToPath(manifest), `${JSON.stringify({ sources: sourceDigest(sources) })}\n`);
