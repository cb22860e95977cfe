import { describe, expect, it } from 'vitest';
import type { KeyEvent } from '../events/events.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import { testKeyward } from '../testing/fixtures.js';
import { delegatingStore } from '../testing/index.js';

const ORG = 'org_leak';
const REPORT = { source: 'github:content', url: 'https://github.com/octo/repo/blob/abc/config.js' };

function leakKeyward() {
  const events: KeyEvent[] = [];
  const inner = new MemoryKeyStore();
  const reads = { byHash: 0 };
  const store = delegatingStore(inner, {
    findByHash: (hash) => {
      reads.byHash++;
      return inner.findByHash(hash);
    },
  });
  const { keyward } = testKeyward({ store, onEvent: (event) => void events.push(event) });
  return { keyward, events, reads };
}

describe('keyward.reportLeak', () => {
  it('revokes a leaked secret key by default, with key.leaked (source and url, never the token) and key.deleted', async () => {
    const { keyward, events } = leakKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: 'CI', type: 'secret' });

    const result = await keyward.reportLeak(token, REPORT);

    expect(result).toEqual({
      found: true,
      action: 'revoked',
      key: { id: key.id, organizationId: ORG, name: 'CI', type: 'secret' },
    });
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    expect(await keyward.getKey(ORG, key.id)).toBeNull();
    const leaked = events.find((e) => e.type === 'key.leaked');
    expect(leaked).toMatchObject({
      type: 'key.leaked',
      keyId: key.id,
      organizationId: ORG,
      actor: { type: 'system', id: 'leak-report' },
      ...REPORT,
    });
    expect(events.map((e) => e.type)).toEqual(['key.created', 'key.leaked', 'key.deleted']);
    const { events: logged } = await keyward.listEvents(ORG, { type: 'key.leaked' });
    expect(logged).toEqual([leaked]);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it('disables the key with onLeak: disable, and only records the report with onLeak: report', async () => {
    const { keyward, events } = leakKeyward();
    const disabled = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    const reported = await keyward.createKey(ORG, { name: 'B', type: 'secret' });

    expect(await keyward.reportLeak(disabled.token, { ...REPORT, onLeak: 'disable' })).toMatchObject({
      found: true,
      action: 'disabled',
    });
    expect(await keyward.reportLeak(reported.token, { ...REPORT, onLeak: 'report' })).toMatchObject({
      found: true,
      action: 'reported',
    });

    expect(await keyward.verify(disabled.token)).toEqual({ valid: false, code: 'disabled_api_key' });
    expect(await keyward.verify(reported.token)).toMatchObject({ valid: true });
    expect(events.filter((e) => e.keyId === disabled.key.id).map((e) => e.type)).toEqual([
      'key.created',
      'key.leaked',
      'key.disabled',
    ]);
    expect(events.filter((e) => e.keyId === reported.key.id).map((e) => e.type)).toEqual([
      'key.created',
      'key.leaked',
    ]);
  });

  it('only reports a public key, whatever onLeak says', async () => {
    const { keyward } = leakKeyward();
    const { token } = await keyward.createKey(ORG, { name: 'Web', type: 'public' });
    expect(await keyward.reportLeak(token, { ...REPORT, onLeak: 'revoke' })).toMatchObject({
      found: true,
      action: 'reported',
      key: { type: 'public' },
    });
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
  });

  it('answers found: false for tokens of other formats without a store read, and for unknown Keyward tokens', async () => {
    const { keyward, reads } = leakKeyward();
    const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    for (const other of ['ghp_0123456789abcdefghijklmnopqrstuvwxyz', `${token}x`, '', 42, null]) {
      expect(await keyward.reportLeak(other, REPORT)).toEqual({ found: false, action: 'none', key: null });
    }
    expect(reads.byHash).toBe(0);
    const unknown = `${token.slice(0, 10)}${token.slice(10).split('').reverse().join('')}`;
    expect((await keyward.reportLeak(unknown, REPORT)).found).toBe(false);
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
  });

  it('keeps one key.leaked event in the log when the same report is delivered twice', async () => {
    const { keyward } = leakKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    await keyward.reportLeak(token, { ...REPORT, onLeak: 'report' });
    await keyward.reportLeak(token, { ...REPORT, onLeak: 'report' });
    const { events } = await keyward.listEvents(ORG, { keyId: key.id, type: 'key.leaked' });
    expect(events).toHaveLength(1);
  });

  it('answers a key revoked already as found, and does nothing more', async () => {
    const { keyward } = leakKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    await keyward.deleteKey(ORG, key.id);
    expect(await keyward.reportLeak(token, REPORT)).toMatchObject({ found: true, action: 'none' });
  });

  it('throws a TypeError for a wrong onLeak, source or url', async () => {
    const { keyward } = leakKeyward();
    const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    await expect(keyward.reportLeak(token, { onLeak: 'delete' as never })).rejects.toThrow(TypeError);
    await expect(keyward.reportLeak(token, { source: 1 as never })).rejects.toThrow(TypeError);
    await expect(keyward.reportLeak(token, null as never)).rejects.toThrow(TypeError);
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
  });
});
