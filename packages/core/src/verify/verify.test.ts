import { describe, expect, it } from 'vitest';
import { generateToken } from '../format/key-format.js';
import { switchableStore, testKeyward } from '../testing/fixtures.js';

const ORG = 'org_verify';

describe('verify', () => {
  it('accepts an active key and returns what a request may know', async () => {
    const { keyward } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    const result = await keyward.verify(token);
    expect(result).toEqual({
      valid: true,
      key: {
        id: key.id,
        organizationId: ORG,
        name: 'Server',
        type: 'secret',
        scopes: ['snippets:read', 'snippets:write'],
        meta: null,
      },
      sunsetAt: null,
      deprecatedAt: null,
      policy: null,
    });
    expect(JSON.stringify(result)).not.toContain(token);
  });

  it('answers missing_api_key when there is no token', async () => {
    const { keyward } = testKeyward();
    for (const token of [undefined, null, ''])
      expect(await keyward.verify(token)).toEqual({ valid: false, code: 'missing_api_key' });
  });

  it('answers invalid_api_key for a malformed token without touching the store', async () => {
    const { store, state: calls } = switchableStore();
    const { keyward } = testKeyward({ store });
    const good = generateToken('kw', 'secret');
    // The last checksum character changed: always a different character, so never a well-formed token.
    const badChecksum = `${good.slice(0, -1)}${good.endsWith('x') ? 'y' : 'x'}`;
    for (const token of ['nope', badChecksum, generateToken('other', 'secret'), 42, {}]) {
      expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    }
    expect(calls.lookups).toBe(0);
  });

  it('answers invalid_api_key for a well-formed unknown token', async () => {
    const { keyward } = testKeyward();
    expect(await keyward.verify(generateToken('kw', 'secret'))).toEqual({
      valid: false,
      code: 'invalid_api_key',
    });
  });

  it('answers invalid_api_key for a deleted key', async () => {
    const { keyward } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: 'Gone', type: 'secret' });
    await keyward.deleteKey(ORG, key.id);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
  });

  it('answers invalid_api_key when the pepper differs from the one the key was made with', async () => {
    const { keyward, store } = testKeyward({ pepper: 'a'.repeat(32) });
    const { token } = await keyward.createKey(ORG, { name: 'Peppered', type: 'secret' });
    const other = testKeyward({ store, pepper: 'b'.repeat(32) }).keyward;
    expect(await other.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
  });

  it('answers expired_api_key once the expiry is reached, exactly', async () => {
    const { keyward, clock } = testKeyward({ cache: false });
    const expiresAt = clock.now() + 60_000;
    const { token } = await keyward.createKey(ORG, {
      name: 'Short',
      type: 'secret',
      expiresAt: new Date(expiresAt),
    });
    clock.set(expiresAt - 1);
    expect((await keyward.verify(token)).valid).toBe(true);
    clock.set(expiresAt);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'expired_api_key' });
  });

  it('answers disabled_api_key for a disabled key', async () => {
    const { keyward } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: 'Off', type: 'secret' });
    await keyward.updateKey(ORG, key.id, { disabled: true });
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
  });

  it('answers expired before disabled when both apply', async () => {
    const { keyward, clock } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, {
      name: 'Both',
      type: 'secret',
      expiresAt: new Date(clock.now() + 1000),
    });
    await keyward.updateKey(ORG, key.id, { disabled: true });
    clock.advance(1000);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'expired_api_key' });
  });

  it('answers secret_key_required for a public key where a secret key is required', async () => {
    const { keyward } = testKeyward();
    const { token } = await keyward.createKey(ORG, { name: 'Browser', type: 'public' });
    expect(await keyward.verify(token, { type: 'secret' })).toEqual({
      valid: false,
      code: 'secret_key_required',
    });
    expect((await keyward.verify(token, { type: 'public' })).valid).toBe(true);
  });

  it('answers insufficient_scope with the required scopes', async () => {
    const { keyward } = testKeyward();
    const { token } = await keyward.createKey(ORG, {
      name: 'Reader',
      type: 'secret',
      scopes: ['snippets:read'],
    });
    expect(await keyward.verify(token, { scopes: ['snippets:read', 'snippets:write'] })).toEqual({
      valid: false,
      code: 'insufficient_scope',
      required: ['snippets:read', 'snippets:write'],
    });
    expect((await keyward.verify(token, { scopes: ['snippets:read'] })).valid).toBe(true);
  });

  it('answers key_store_unavailable when the store fails and the key is not cached', async () => {
    const { store, state: calls } = switchableStore();
    const { keyward } = testKeyward({ store });
    const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    calls.fail = true;
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'key_store_unavailable' });
  });

  it('keeps answering for a cached key while the store is down', async () => {
    const { store, state: calls } = switchableStore();
    const { keyward } = testKeyward({ store });
    const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    expect((await keyward.verify(token)).valid).toBe(true);
    calls.fail = true;
    expect((await keyward.verify(token)).valid).toBe(true);
  });

  it('drops scopes a public key holds above a ceiling the app has since lowered', async () => {
    const { keyward, store } = testKeyward({ publicScopes: ['snippets:read', 'snippets:write'] });
    const { token } = await keyward.createKey(ORG, { name: 'Wide', type: 'public' });
    const lowered = testKeyward({ store, publicScopes: ['snippets:read'] }).keyward;
    const result = await lowered.verify(token, { scopes: ['snippets:write'] });
    expect(result).toMatchObject({ valid: false, code: 'insufficient_scope' });
  });

  it('keeps a rolled key valid until one millisecond before its grace period ends, with a sunset and the roll as its deprecation', async () => {
    const { keyward, clock } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: 'Old', type: 'secret' });
    const rolledAt = clock.now();
    await keyward.rollKey(ORG, key.id, { gracePeriodSeconds: 3600 });
    const end = rolledAt + 3_600_000;
    clock.set(end - 1);
    expect(await keyward.verify(token)).toMatchObject({
      valid: true,
      sunsetAt: new Date(end),
      deprecatedAt: new Date(rolledAt),
    });
    clock.set(end);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'expired_api_key' });
  });
});

describe('verifyCached', () => {
  it('answers without waiting once the key is cached, and undefined before', async () => {
    const { store, state } = switchableStore();
    const { keyward } = testKeyward({ store });
    const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    expect(keyward.verifyCached(token)).toBeUndefined();
    expect(keyward.verifyCached('garbage')).toEqual({ valid: false, code: 'invalid_api_key' });
    expect(keyward.verifyCached(undefined)).toEqual({ valid: false, code: 'missing_api_key' });
    const slow = await keyward.verify(token, { scopes: ['snippets:write'] });
    const lookups = state.lookups;
    expect(keyward.verifyCached(token, { scopes: ['snippets:write'] })).toEqual(slow);
    expect(keyward.verifyCached(token, { type: 'secret', scopes: ['nope'] })).toEqual({
      valid: false,
      code: 'insufficient_scope',
      required: ['nope'],
    });
    expect(state.lookups).toBe(lookups);
  });
});

describe('what verify hands out', () => {
  it('hands out a frozen key, so a handler cannot change the cached key or its scopes', async () => {
    const { keyward } = testKeyward();
    const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret', scopes: ['snippets:read'] });
    const first = await keyward.verify(token);
    if (!first.valid) throw new Error('expected a valid key');
    expect(() => first.key.scopes.push('snippets:write')).toThrow(TypeError);
    expect(() => {
      (first.key as { type: string }).type = 'public';
    }).toThrow(TypeError);
    expect(await keyward.verify(token, { scopes: ['snippets:write'] })).toMatchObject({
      code: 'insufficient_scope',
    });
  });
});
