import { describe, expect, it } from 'vitest';
import { createKeyward } from '../keyward.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import { TEST_PEPPER } from '../testing/index.js';
import type { LifetimeOptions } from './lifetime.js';

const START = Date.parse('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function service(lifetime: LifetimeOptions | undefined, store = new MemoryKeyStore()) {
  let now = START;
  const keyward = createKeyward({
    store,
    scopes: ['a'],
    publicScopes: ['a'],
    pepper: TEST_PEPPER,
    clock: () => now,
    ...(lifetime && { lifetime }),
  });
  return { keyward, store, advance: (ms: number) => (now += ms) };
}

const refused = { code: 'validation_error', status: 400 };

describe('lifetime policy per key type (docs/reference.md §11)', () => {
  const policy: LifetimeOptions = { secret: { max: 90, default: 30, required: true } };

  it('create: the default applies without an expiry; beyond max or never is 400', async () => {
    const { keyward } = service(policy);
    const { key } = await keyward.createKey('org', { name: 'K', type: 'secret' });
    expect(key.expiresAt).toEqual(new Date(START + 30 * DAY));
    await expect(
      keyward.createKey('org', { name: 'K', type: 'secret', expiresAt: iso(START + 91 * DAY) }),
    ).rejects.toMatchObject({ ...refused, details: [{ path: 'expiresAt', message: expect.any(String) }] });
    await expect(
      keyward.createKey('org', { name: 'K', type: 'secret', expiresAt: null }),
    ).rejects.toMatchObject(refused);
    const ok = await keyward.createKey('org', {
      name: 'K',
      type: 'secret',
      expiresAt: iso(START + 90 * DAY),
    });
    expect(ok.key.expiresAt).toEqual(new Date(START + 90 * DAY));
    // Public keys have no policy here: never is fine.
    expect((await keyward.createKey('org', { name: 'P', type: 'public' })).key.expiresAt).toBeNull();
  });

  it('PATCH: an expiry beyond max, or removing it, is 400 and changes nothing', async () => {
    const { keyward } = service(policy);
    const { key } = await keyward.createKey('org', { name: 'K', type: 'secret' });
    await expect(keyward.updateKey('org', key.id, { expiresAt: null })).rejects.toMatchObject(refused);
    await expect(
      keyward.updateKey('org', key.id, { expiresAt: iso(START + 100 * DAY) }),
    ).rejects.toMatchObject(refused);
    expect((await keyward.getKey('org', key.id))?.expiresAt).toEqual(new Date(START + 30 * DAY));
    // Other fields of a key are judged by their own rules only.
    expect((await keyward.updateKey('org', key.id, { name: 'L' })).name).toBe('L');
  });

  it('import: the default applies and max holds', async () => {
    const { keyward } = service(policy);
    const imported = await keyward.importKey('org', {
      token: 'legacy_0123456789abcdef0123456789abcdef',
      name: 'Old',
      type: 'secret',
    });
    expect(imported.expiresAt).toEqual(new Date(START + 30 * DAY));
    await expect(
      keyward.importKey('org', {
        token: 'legacy_1123456789abcdef0123456789abcdef',
        name: 'Old',
        type: 'secret',
        expiresAt: iso(START + 365 * DAY),
      }),
    ).rejects.toMatchObject(refused);
  });

  it('keys made before a tighter policy are listed by nonCompliantKeys, and cannot be rolled until fixed', async () => {
    const store = new MemoryKeyStore();
    const before = service(undefined, store);
    const never = await before.keyward.createKey('org', { name: 'Never', type: 'secret' });
    before.advance(1000);
    const long = await before.keyward.createKey('org', {
      name: 'Long',
      type: 'secret',
      expiresAt: iso(START + 365 * DAY),
    });
    const fine = await before.keyward.createKey('org', {
      name: 'Fine',
      type: 'secret',
      expiresAt: iso(START + 10 * DAY),
    });
    const pub = await before.keyward.createKey('org', { name: 'Pub', type: 'public' });

    const { keyward, advance } = service(policy, store);
    advance(2000);
    const listed = await keyward.nonCompliantKeys('org');
    expect(listed.map((k) => k.name)).toEqual(['Never', 'Long']);
    expect(listed.map((k) => k.id)).not.toContain(fine.key.id);
    expect(listed.map((k) => k.id)).not.toContain(pub.key.id);

    await expect(keyward.rollKey('org', never.key.id)).rejects.toMatchObject(refused);
    await keyward.updateKey('org', long.key.id, { expiresAt: iso(START + 60 * DAY) });
    expect((await keyward.nonCompliantKeys('org')).map((k) => k.name)).toEqual(['Never']);
    expect((await keyward.rollKey('org', long.key.id)).key.expiresAt).toEqual(new Date(START + 60 * DAY));
  });

  it('max counts from now (injected clock): an expiry compliant today is not in 80 days', async () => {
    const { keyward, advance } = service({ secret: { max: 90 } });
    const { key } = await keyward.createKey('org', {
      name: 'K',
      type: 'secret',
      expiresAt: iso(START + 89 * DAY),
    });
    expect(await keyward.nonCompliantKeys('org')).toEqual([]);
    advance(80 * DAY);
    await expect(
      keyward.updateKey('org', key.id, { expiresAt: iso(START + 171 * DAY) }),
    ).rejects.toMatchObject(refused);
    expect((await keyward.updateKey('org', key.id, { expiresAt: iso(START + 170 * DAY) })).expiresAt).toEqual(
      new Date(START + 170 * DAY),
    );
  });

  it("sign-up's default key is inside the public policy: its default, else its max, else a year when required", async () => {
    const cases: [LifetimeOptions, number | null][] = [
      [{ public: { max: 60, default: 20 } }, 20],
      [{ public: { max: 60 } }, 60],
      [{ public: { required: true } }, 365],
      [{ secret: { max: 10 } }, null],
    ];
    for (const [lifetime, days] of cases) {
      const { keyward } = service(lifetime);
      const { key } = await keyward.provisionOrganization('org');
      expect(key?.expiresAt ?? null).toEqual(days === null ? null : new Date(START + days * DAY));
      expect(await keyward.nonCompliantKeys('org')).toEqual([]);
    }
  });

  it('refuses a wrong option at start-up', () => {
    for (const lifetime of [
      { secret: { max: 0 } },
      { secret: { max: 1.5 } },
      { public: { default: 100, max: 30 } },
      { secret: { required: 'yes' } },
    ]) {
      expect(() => service(lifetime as LifetimeOptions)).toThrow(TypeError);
    }
  });
});
