// The server side of the middleware benchmark, in its own process so the load generator does not share
// its event loop. Prints one JSON line { port, tokens } once listening on loopback.
import { createHash } from 'node:crypto';
import { createKeyward, MemoryKeyStore } from '@keyward/core';
import { apiKeyAuth } from '@keyward/express';
import express from 'express';
import passport from 'passport';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';

const scopes = { scopes: ['snippets:read', 'snippets:write'], publicScopes: ['snippets:read'] };
const cached = createKeyward({ store: new MemoryKeyStore(), ...scopes, pepper: 'bench-pepper-0123456789' });
const uncached = createKeyward({
  store: new MemoryKeyStore(),
  ...scopes,
  pepper: 'bench-pepper-0123456789',
  cache: false,
});
const org = 'org_bench';
const cachedToken = (await cached.createKey(org, { name: 'bench', type: 'secret' })).token;
const uncachedToken = (await uncached.createKey(org, { name: 'bench', type: 'secret' })).token;

// What teams write by hand with passport-headerapikey: SHA-256 of the header, a Map lookup.
const handRolledToken = 'hand-rolled-0123456789abcdef0123456789abcdef';
const handRolledKeys = new Map([[sha256(handRolledToken), { id: 'k1', organizationId: org }]]);
passport.use(
  new HeaderAPIKeyStrategy({ header: 'Authorization', prefix: 'Bearer ' }, false, (apiKey, done) => {
    done(null, handRolledKeys.get(sha256(apiKey)) ?? false);
  }),
);

const app = express();
app.disable('x-powered-by');
const ok = (_req: express.Request, res: express.Response) => {
  res.json({ ok: true });
};
app.get('/baseline', ok);
app.get('/hand-rolled', passport.authenticate('headerapikey', { session: false }), ok);
app.get('/keyward', apiKeyAuth(cached, { scopes: ['snippets:read'] }), ok);
app.get('/keyward-no-cache', apiKeyAuth(uncached, { scopes: ['snippets:read'] }), ok);
app.get('/keyward-invalid', apiKeyAuth(cached), ok);

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(
    `${JSON.stringify({ port, tokens: { cachedToken, uncachedToken, handRolledToken } })}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// Never outlive the benchmark that started us.
setTimeout(() => process.exit(0), 5 * 60_000).unref();

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
