import { describe, expect, it } from 'vitest';
import { newKeyId } from './format/ids.js';
import { parseToken } from './format/key-format.js';
import { KeywardError } from './shared/errors.js';
import { testKeyward } from './testing/fixtures.js';

const ORG = 'org_lifecycle';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof KeywardError)) throw new Error(`expected a KeywardError, got ${String(error)}`);
  return error.code;
}

describe('creating keys', () => {
  it('gives public keys the public ceiling and secret keys the whole catalog by default', async () => {
    const { keyward } = testKeyward();
    const pub = await keyward.createKey(ORG, { name: 'Web', type: 'public' });
    const sec = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    expect(pub.key.scopes).toEqual(['snippets:read']);
    expect(sec.key.scopes).toEqual(['snippets:read', 'snippets:write']);
    expect(parseToken(pub.token)?.type).toBe('public');
    expect(parseToken(sec.token)?.type).toBe('secret');
  });

  it('returns a secret token once and never again, and keeps a public token readable', async () => {
    const { keyward, store } = testKeyward();
    const sec = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    const pub = await keyward.createKey(ORG, { name: 'Web', type: 'public' });
    expect(sec.key.token).toBeUndefined();
    expect(JSON.stringify((await keyward.listKeys(ORG)).keys)).not.toContain(sec.token);
    expect(JSON.stringify(await store.list(ORG))).not.toContain(sec.token);
    expect((await keyward.getKey(ORG, pub.key.id))?.token).toBe(pub.token);
  });

  it('trims names and shows a redacted form', async () => {
    const { keyward } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: '  CI  ', type: 'secret' });
    expect(key.name).toBe('CI');
    expect(key.redactedKey).toBe(`kw_sk_…${token.slice(-4)}`);
    expect(key).toMatchObject({
      status: 'active',
      disabled: false,
      isDefault: false,
      expiresAt: null,
      lastUsedAt: null,
    });
  });

  it('refuses the shape first, then scopes and expiry with every detail at once', async () => {
    const { keyward, clock } = testKeyward();
    const shape = await keyward
      .createKey(ORG, { name: ' ', type: 'public', extra: 1 } as never)
      .catch((e: KeywardError) => e);
    expect((shape as KeywardError).details?.map((d) => d.path)).toEqual(['name', 'extra']);
    const error = await keyward
      .createKey(ORG, {
        name: 'Web',
        type: 'public',
        scopes: ['snippets:write', 'nope'],
        expiresAt: new Date(clock.now()),
      })
      .catch((e: KeywardError) => e);
    expect(error).toBeInstanceOf(KeywardError);
    expect((error as KeywardError).details?.map((d) => d.path)).toEqual([
      'scopes.0',
      'scopes.1',
      'expiresAt',
    ]);
    expect(await codeOf(keyward.createKey(ORG, { name: 'x'.repeat(101), type: 'secret' }))).toBe(
      'validation_error',
    );
    expect(await codeOf(keyward.createKey(ORG, { name: 'x', type: 'admin' as never }))).toBe(
      'validation_error',
    );
    expect(await codeOf(keyward.createKey(ORG, { name: 'x', type: 'secret', expiresAt: 'tomorrow' }))).toBe(
      'validation_error',
    );
  });

  it('accepts a name of exactly 100 characters and an expiry one millisecond ahead', async () => {
    const { keyward, clock } = testKeyward();
    const { key } = await keyward.createKey(ORG, {
      name: 'x'.repeat(100),
      type: 'secret',
      expiresAt: new Date(clock.now() + 1),
    });
    expect(key.name).toHaveLength(100);
  });
});

describe('the default key', () => {
  it('provisions one public Default API Key per organization, idempotently', async () => {
    const { keyward } = testKeyward();
    const first = await keyward.provisionOrganization(ORG);
    const second = await keyward.provisionOrganization(ORG);
    expect(first).toMatchObject({
      created: true,
      key: { name: 'Default API Key', type: 'public', isDefault: true },
    });
    expect(first.key?.token).toMatch(/^kw_pk_/);
    expect(second).toEqual({ created: false, key: first.key });
  });

  it('creates one key when provisioning is called 20 times concurrently', async () => {
    const { keyward } = testKeyward();
    const results = await Promise.all(Array.from({ length: 20 }, () => keyward.provisionOrganization(ORG)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await keyward.listKeys(ORG)).keys).toHaveLength(1);
  });

  it('answers with the key that replaced a rolled default', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.provisionOrganization(ORG);
    const rolled = await keyward.rollKey(ORG, key?.id ?? '');
    expect((await keyward.provisionOrganization(ORG)).key?.id).toBe(rolled.key.id);
  });

  it('marks only the replacement as the Default key after a roll', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.provisionOrganization(ORG);
    const rolled = await keyward.rollKey(ORG, key?.id ?? '');
    expect([rolled.key.isDefault, rolled.previous.isDefault]).toEqual([true, false]);
    const { keys } = await keyward.listKeys(ORG);
    expect(keys.filter((k) => k.isDefault).map((k) => k.id)).toEqual([rolled.key.id]);
  });
});

describe('listing and reading keys', () => {
  it('lists an organization keys newest first and only theirs', async () => {
    const { keyward, clock } = testKeyward();
    const a = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    clock.advance(1);
    const b = await keyward.createKey(ORG, { name: 'B', type: 'secret' });
    await keyward.createKey('org_other', { name: 'C', type: 'secret' });
    expect((await keyward.listKeys(ORG)).keys.map((k) => k.id)).toEqual([b.key.id, a.key.id]);
  });

  it('returns null for unknown, malformed and other organizations ids', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    expect(await keyward.getKey(ORG, newKeyId())).toBeNull();
    expect(await keyward.getKey(ORG, '../../etc')).toBeNull();
    expect(await keyward.getKey('org_other', key.id)).toBeNull();
  });
});

describe('updating keys', () => {
  it('changes name, scopes, expiry and disabled', async () => {
    const { keyward, clock } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    clock.advance(5);
    const expiresAt = new Date(clock.now() + 60_000);
    const updated = await keyward.updateKey(ORG, key.id, {
      name: 'B',
      scopes: ['snippets:read'],
      expiresAt,
      disabled: true,
    });
    expect(updated).toMatchObject({
      name: 'B',
      scopes: ['snippets:read'],
      expiresAt,
      disabled: true,
      status: 'disabled',
    });
    expect(updated.updatedAt.getTime()).toBe(clock.now());
    expect((await keyward.updateKey(ORG, key.id, { expiresAt: null, disabled: false })).status).toBe(
      'active',
    );
  });

  it('refuses public scopes over the ceiling and unknown scopes', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: 'Web', type: 'public' });
    expect(await codeOf(keyward.updateKey(ORG, key.id, { scopes: ['snippets:write'] }))).toBe(
      'validation_error',
    );
    expect(await codeOf(keyward.updateKey(ORG, key.id, { scopes: ['admin'] }))).toBe('validation_error');
  });

  it('answers not_found for another organization key and leaves it unchanged', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: 'Mine', type: 'secret' });
    expect(await codeOf(keyward.updateKey('org_other', key.id, { name: 'Theirs' }))).toBe('not_found');
    expect(await codeOf(keyward.deleteKey('org_other', key.id))).toBe('not_found');
    expect(await codeOf(keyward.rollKey('org_other', key.id))).toBe('not_found');
    expect((await keyward.getKey(ORG, key.id))?.name).toBe('Mine');
  });
});

describe('rolling keys', () => {
  it('copies name, type, scopes and expiry into a new key with a new token', async () => {
    const { keyward, clock } = testKeyward();
    const expiresAt = new Date(clock.now() + 30 * 86_400_000);
    const old = await keyward.createKey(ORG, {
      name: 'Server',
      type: 'secret',
      scopes: ['snippets:read'],
      expiresAt,
    });
    const rolled = await keyward.rollKey(ORG, old.key.id);
    expect(rolled.key).toMatchObject({
      name: 'Server',
      type: 'secret',
      scopes: ['snippets:read'],
      expiresAt,
      status: 'active',
    });
    expect(rolled.key.id).not.toBe(old.key.id);
    expect(rolled.token).not.toBe(old.token);
    expect(rolled.previous).toMatchObject({ id: old.key.id, status: 'rolled', replacedBy: rolled.key.id });
    expect(rolled.previous.rolledAt?.getTime()).toBe(clock.now());
    expect(rolled.previous.expiresAt?.getTime()).toBe(clock.now() + 43_200_000);
    expect((await keyward.verify(rolled.token)).valid).toBe(true);
  });

  it('revokes the old key at once with a grace period of 0', async () => {
    const { keyward } = testKeyward();
    const old = await keyward.createKey(ORG, { name: 'Leaked', type: 'secret' });
    const rolled = await keyward.rollKey(ORG, old.key.id, { gracePeriodSeconds: 0 });
    expect(rolled.previous.status).toBe('expired');
    expect(await keyward.verify(old.token)).toEqual({ valid: false, code: 'expired_api_key' });
  });

  it('never extends the old key past its own expiry', async () => {
    const { keyward, clock } = testKeyward();
    const expiresAt = new Date(clock.now() + 3_600_000);
    const old = await keyward.createKey(ORG, { name: 'Soon', type: 'secret', expiresAt });
    const rolled = await keyward.rollKey(ORG, old.key.id, { gracePeriodSeconds: 604_800 });
    expect(rolled.previous.expiresAt).toEqual(expiresAt);
  });

  it('refuses grace periods that are negative, fractional or over seven days', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    for (const gracePeriodSeconds of [-1, 1.5, 604_801, Number.NaN]) {
      expect(await codeOf(keyward.rollKey(ORG, key.id, { gracePeriodSeconds }))).toBe('validation_error');
    }
    expect((await keyward.getKey(ORG, key.id))?.status).toBe('active');
  });

  it('refuses to roll a rolled, disabled or expired key', async () => {
    const { keyward, clock } = testKeyward();
    const a = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    await keyward.rollKey(ORG, a.key.id);
    expect(await codeOf(keyward.rollKey(ORG, a.key.id))).toBe('conflict');
    const b = await keyward.createKey(ORG, { name: 'B', type: 'secret' });
    await keyward.updateKey(ORG, b.key.id, { disabled: true });
    expect(await codeOf(keyward.rollKey(ORG, b.key.id))).toBe('conflict');
    const c = await keyward.createKey(ORG, {
      name: 'C',
      type: 'secret',
      expiresAt: new Date(clock.now() + 10),
    });
    clock.advance(10);
    expect(await codeOf(keyward.rollKey(ORG, c.key.id))).toBe('conflict');
    expect((await keyward.listKeys(ORG)).keys).toHaveLength(4);
  });

  it('rolls a key once when two rolls race, and leaves no stray key behind', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    const results = await Promise.allSettled([keyward.rollKey(ORG, key.id), keyward.rollKey(ORG, key.id)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await keyward.listKeys(ORG)).keys).toHaveLength(2);
  });

  it('lets a rolled key end its grace early but not be given more time', async () => {
    const { keyward, clock } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    await keyward.rollKey(ORG, key.id);
    expect(await codeOf(keyward.updateKey(ORG, key.id, { expiresAt: null }))).toBe('conflict');
    const sooner = new Date(clock.now() + 1000);
    expect((await keyward.updateKey(ORG, key.id, { expiresAt: sooner })).expiresAt).toEqual(sooner);
  });
});

describe('deleting keys', () => {
  it('revokes at once and never lists or returns the key again', async () => {
    const { keyward } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    expect((await keyward.verify(token)).valid).toBe(true);
    await keyward.deleteKey(ORG, key.id);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    expect(await keyward.getKey(ORG, key.id)).toBeNull();
    expect((await keyward.listKeys(ORG)).keys).toEqual([]);
    expect(await codeOf(keyward.deleteKey(ORG, key.id))).toBe('not_found');
  });
});
