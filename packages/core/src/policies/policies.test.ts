import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeyInputSchema, keySchema, updateKeyInputSchema } from '../schemas/schemas.js';
import { serializeKey } from '../schemas/serialize.js';
import { KeywardError } from '../shared/errors.js';
import { testKeyward } from '../testing/fixtures.js';
import { makeStoredKey } from '../testing/index.js';
import { compileKeyPolicy } from './key-policy.js';
import {
  allowedIpsSchema,
  allowedOriginsSchema,
  limitsSchema,
  MAX_LIMIT,
  MAX_WINDOW_SECONDS,
} from './policy-schemas.js';

const ORG = 'org_policies';

async function refusal(run: () => Promise<unknown>): Promise<KeywardError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeywardError);
    return error as KeywardError;
  }
  throw new Error('expected a refusal');
}

describe('validation of the policy fields (fast-check)', () => {
  it('accepts exactly the limit lists of at most 3 in-range entries with distinct windows', () => {
    const entry = fc.record({
      limit: fc.oneof(
        fc.integer({ min: -5, max: 20 }),
        fc.integer({ min: MAX_LIMIT - 5, max: MAX_LIMIT + 5 }),
      ),
      windowSeconds: fc.oneof(
        fc.integer({ min: -2, max: 5 }),
        fc.integer({ min: MAX_WINDOW_SECONDS - 2, max: MAX_WINDOW_SECONDS + 2 }),
      ),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (limits) => {
        const valid =
          limits.length <= 3 &&
          limits.every((l) => l.limit >= 1 && l.limit <= MAX_LIMIT) &&
          limits.every((l) => l.windowSeconds >= 1 && l.windowSeconds <= MAX_WINDOW_SECONDS) &&
          new Set(limits.map((l) => l.windowSeconds)).size === limits.length;
        expect(limitsSchema.safeParse(limits).success).toBe(valid);
        expect(updateKeyInputSchema.safeParse({ limits }).success).toBe(valid);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses fractional, non-numeric and extra members of a limit, and any other value, without throwing', () => {
    for (const bad of [
      [{ limit: 1.5, windowSeconds: 1 }],
      [{ limit: 1, windowSeconds: 0.5 }],
      [{ limit: '10', windowSeconds: 1 }],
      [{ limit: 10, windowSeconds: 1, burst: 5 }],
      [{ limit: 10 }],
      [null],
      { limit: 10, windowSeconds: 1 },
    ]) {
      expect(limitsSchema.safeParse(bad).success).toBe(false);
    }
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const parsed = createKeyInputSchema.safeParse({
          name: 'k',
          type: 'public',
          limits: value,
          allowedOrigins: value,
          allowedIps: value,
        });
        // Only an empty array (or leaving them out) is valid for all three at once.
        expect(parsed.success).toBe(value === undefined || (Array.isArray(value) && value.length === 0));
      }),
      { numRuns: 300 },
    );
  });

  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
  const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
  const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
  const scheme = fc.constantFrom('https', 'http', 'capacitor', 'chrome-extension');
  const origin = fc
    .tuple(scheme, host, port)
    .map(([s, h, p]) => `${s}://${h}${p === undefined ? '' : `:${p}`}`);

  it('accepts every origin scheme://host[:port] and wildcard scheme://*.a.b, and refuses their variants', () => {
    fc.assert(
      fc.property(origin, label, label, (value, a, b) => {
        expect(allowedOriginsSchema.safeParse([value]).success).toBe(true);
        const wildcard = value.replace('://', `://*.${a}.`).replace(/\.[^.:/]+(:\d+)?$/, `.${b}$1`);
        expect(allowedOriginsSchema.safeParse([wildcard]).success).toBe(true);
        // A path, a trailing slash, upper case, user info, a port out of range or a bare wildcard: refused.
        for (const bad of [
          `${value}/`,
          `${value}/path`,
          value.toUpperCase(),
          value.replace('://', '://user@'),
          `${value.replace(/:\d+$/, '')}:65536`,
          value.replace(/:\/\/.*/, '://*'),
          value.replace(/:\/\/.*/, `://*.${a}`),
        ]) {
          expect(allowedOriginsSchema.safeParse([bad]).success, bad).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
    expect(allowedOriginsSchema.safeParse(Array(21).fill('https://a.example')).success).toBe(false);
    expect(allowedOriginsSchema.safeParse(Array(20).fill('https://a.example')).success).toBe(true);
  });

  it('accepts IPv4 and IPv6 addresses and CIDR ranges with a fitting prefix, and nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 40 })).map(([ip, n]) => ({ ip, n, max: 32 })),
          fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 140 })).map(([ip, n]) => ({ ip, n, max: 128 })),
        ),
        ({ ip, n, max }) => {
          expect(allowedIpsSchema.safeParse([ip]).success).toBe(true);
          expect(allowedIpsSchema.safeParse([`${ip}/${n}`]).success).toBe(n <= max);
          expect(allowedIpsSchema.safeParse([`${ip}/`]).success).toBe(false);
          expect(allowedIpsSchema.safeParse([`${ip}/0${n}`]).success).toBe(false);
          expect(allowedIpsSchema.safeParse([` ${ip}`]).success).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
    for (const bad of ['256.0.0.1', '1.2.3', 'example.com', '10.0.0.0/8/8', '::g', '', '1.2.3.4/-1']) {
      expect(allowedIpsSchema.safeParse([bad]).success, bad).toBe(false);
    }
    expect(allowedIpsSchema.safeParse(Array(51).fill('::1')).success).toBe(false);
  });
});

describe('policies in the service', () => {
  it('stores limits, origins and addresses given on create and shows them in the Key object', async () => {
    const { keyward } = testKeyward();
    const input = {
      name: 'Browser',
      type: 'public' as const,
      limits: [
        { limit: 20, windowSeconds: 1 },
        { limit: 100_000, windowSeconds: 2_592_000 },
      ],
      allowedOrigins: ['https://app.example.com', 'https://*.example.org'],
      allowedIps: ['203.0.113.0/24', '2001:db8::/32'],
    };
    const { key } = await keyward.createKey(ORG, input);
    const wire = serializeKey(key);
    expect(keySchema.parse(wire)).toEqual(wire);
    expect(wire).toMatchObject({
      limits: input.limits,
      allowedOrigins: input.allowedOrigins,
      allowedIps: input.allowedIps,
    });
    expect(await keyward.getKey(ORG, key.id)).toMatchObject({ limits: input.limits });
  });

  it('gives keys without policies empty lists and no compiled policy', async () => {
    const { keyward } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, { name: 'Plain', type: 'secret' });
    expect(serializeKey(key)).toMatchObject({ limits: [], allowedOrigins: [], allowedIps: [] });
    expect(await keyward.verify(token)).toMatchObject({ valid: true, policy: null });
  });

  it('refuses allowedOrigins on a secret key, on create and on PATCH', async () => {
    const { keyward } = testKeyward();
    const create = await refusal(() =>
      keyward.createKey(ORG, { name: 'S', type: 'secret', allowedOrigins: ['https://a.example'] }),
    );
    expect(create.code).toBe('validation_error');
    expect(create.details).toEqual([{ path: 'allowedOrigins', message: expect.stringContaining('public') }]);
    const { key } = await keyward.createKey(ORG, { name: 'S', type: 'secret' });
    const patch = await refusal(() =>
      keyward.updateKey(ORG, key.id, { allowedOrigins: ['https://a.example'] }),
    );
    expect(patch.details?.[0]?.path).toBe('allowedOrigins');
    expect(await keyward.updateKey(ORG, key.id, { allowedOrigins: [] })).toMatchObject({
      allowedOrigins: [],
    });
  });

  it('replaces each list on PATCH and leaves the others alone', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.createKey(ORG, {
      name: 'P',
      type: 'public',
      limits: [{ limit: 5, windowSeconds: 1 }],
      allowedIps: ['10.0.0.0/8'],
    });
    const updated = await keyward.updateKey(ORG, key.id, {
      limits: [{ limit: 1000, windowSeconds: 86_400 }],
      allowedOrigins: ['https://x.example', 'https://x.example'],
    });
    expect(updated).toMatchObject({
      limits: [{ limit: 1000, windowSeconds: 86_400 }],
      allowedOrigins: ['https://x.example'],
      allowedIps: ['10.0.0.0/8'],
    });
    expect(await keyward.updateKey(ORG, key.id, { limits: [] })).toMatchObject({ limits: [] });
  });

  it('gives new keys the app default limits of their type (the Default key too), unless the input names some', async () => {
    const perSecond = { limit: 10, windowSeconds: 1 };
    const perDay = { limit: 10_000, windowSeconds: 86_400 };
    const { keyward } = testKeyward({ limits: { defaults: { public: [perSecond, perDay] } } });
    const { key: pub } = await keyward.createKey(ORG, { name: 'P', type: 'public' });
    const { key: sec } = await keyward.createKey(ORG, { name: 'S', type: 'secret' });
    const { key: own } = await keyward.createKey(ORG, { name: 'O', type: 'public', limits: [] });
    const { key: def } = await keyward.provisionOrganization('org_defaults');
    expect(pub.limits).toEqual([perSecond, perDay]);
    expect(sec.limits).toEqual([]);
    expect(own.limits).toEqual([]);
    expect(def?.limits).toEqual([perSecond, perDay]);
  });

  it('refuses limits over the app maximum with one detail per entry, and a key without any limit', async () => {
    const { keyward } = testKeyward({
      limits: {
        defaults: { public: [{ limit: 10, windowSeconds: 1 }] },
        max: { public: { limit: 100, windowSeconds: 1 } },
      },
    });
    const over = await refusal(() =>
      keyward.createKey(ORG, {
        name: 'P',
        type: 'public',
        limits: [
          { limit: 101, windowSeconds: 1 },
          { limit: 6000, windowSeconds: 60 },
          { limit: 8_640_001, windowSeconds: 86_400 },
        ],
      }),
    );
    expect(over.status).toBe(400);
    expect(over.details?.map((d) => d.path)).toEqual(['limits.0', 'limits.2']);
    const none = await refusal(() => keyward.createKey(ORG, { name: 'P', type: 'public', limits: [] }));
    expect(none.details?.[0]?.path).toBe('limits');
    const { key } = await keyward.createKey(ORG, { name: 'P', type: 'public' });
    expect(key.limits).toEqual([{ limit: 10, windowSeconds: 1 }]);
    const patch = await refusal(() =>
      keyward.updateKey(ORG, key.id, { limits: [{ limit: 200, windowSeconds: 1 }] }),
    );
    expect(patch.code).toBe('validation_error');
    expect(
      await keyward.updateKey(ORG, key.id, { limits: [{ limit: 100, windowSeconds: 1 }] }),
    ).toMatchObject({ limits: [{ limit: 100, windowSeconds: 1 }] });
    // No maximum for secret keys: any limit, or none.
    const { key: secret } = await keyward.createKey(ORG, {
      name: 'S',
      type: 'secret',
      limits: [{ limit: MAX_LIMIT, windowSeconds: 1 }],
    });
    expect(await keyward.updateKey(ORG, secret.id, { limits: [] })).toMatchObject({ limits: [] });
  });

  it('throws a TypeError at start-up for bad limit options, including defaults over the maximum', () => {
    for (const limits of [
      'fast',
      { max: { public: { limit: 0, windowSeconds: 1 } } },
      { max: { limit: 10, windowSeconds: 1 } },
      {
        defaults: {
          public: [
            { limit: 1, windowSeconds: 1 },
            { limit: 2, windowSeconds: 1 },
          ],
        },
      },
      {
        defaults: { secret: [{ limit: 20, windowSeconds: 1 }] },
        max: { secret: { limit: 10, windowSeconds: 1 } },
      },
      { defaults: { public: [] }, max: { public: { limit: 10, windowSeconds: 1 } } },
    ]) {
      expect(() => testKeyward({ limits: limits as never }), JSON.stringify(limits)).toThrow(TypeError);
    }
  });

  it('copies the policies on roll, and the successor shares the rolled key lineage (its counters)', async () => {
    const { keyward } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, {
      name: 'R',
      type: 'public',
      limits: [{ limit: 3, windowSeconds: 60 }],
      allowedOrigins: ['https://a.example'],
      allowedIps: ['::1'],
    });
    const first = await keyward.rollKey(ORG, key.id);
    const second = await keyward.rollKey(ORG, first.key.id);
    expect(second.key).toMatchObject({
      limits: [{ limit: 3, windowSeconds: 60 }],
      allowedOrigins: ['https://a.example'],
      allowedIps: ['::1'],
    });
    const lineage = async (t: string) => {
      const result = await keyward.verify(t);
      if (!result.valid) throw new Error(result.code);
      return result.policy?.lineageId;
    };
    expect(await lineage(token)).toBe(key.id);
    expect(await lineage(first.token)).toBe(key.id);
    expect(await lineage(second.token)).toBe(key.id);
    const other = await keyward.createKey(ORG, { name: 'O', type: 'public', allowedIps: ['::1'] });
    expect(await lineage(other.token)).toBe(other.key.id);
  });

  it('hands every request of a cached key the same frozen policy', async () => {
    const { keyward } = testKeyward();
    const { token } = await keyward.createKey(ORG, { name: 'F', type: 'public', allowedIps: ['10.0.0.0/8'] });
    const a = await keyward.verify(token);
    const b = keyward.verifyCached(token);
    if (!a.valid || !b?.valid) throw new Error('expected valid');
    expect(b.policy).toBe(a.policy);
    expect(Object.isFrozen(a.policy)).toBe(true);
    expect(Object.isFrozen(a.policy?.allowedIps)).toBe(true);
  });
});

describe('compileKeyPolicy', () => {
  const policyOf = (fields: Parameters<typeof makeStoredKey>[0]) => {
    const policy = compileKeyPolicy(makeStoredKey(fields));
    if (!policy) throw new Error('expected a policy');
    return policy;
  };

  it('is null for a key without limits, origins and addresses', () => {
    expect(compileKeyPolicy(makeStoredKey())).toBeNull();
  });

  it('matches exact origins and wildcard subdomains, never the bare domain or look-alikes', () => {
    const policy = policyOf({
      type: 'public',
      allowedOrigins: ['https://app.example.com', 'https://*.example.org', 'http://localhost:3000'],
    });
    for (const yes of [
      'https://app.example.com',
      'HTTPS://APP.EXAMPLE.COM',
      'https://a.example.org',
      'https://a.b.example.org',
      'http://localhost:3000',
    ]) {
      expect(policy.allowsOrigin(yes), yes).toBe(true);
    }
    for (const no of [
      'https://example.org',
      'https://.example.org',
      'http://a.example.org',
      'https://a.example.org:8443',
      'https://evilexample.org',
      'https://a.example.org.evil.com',
      'https://evil.com/.example.org',
      'https://user@a.example.org',
      'https://app.example.com.evil.com',
      'http://localhost:3001',
      'null',
      '',
      `https://${'a.'.repeat(200)}example.org`,
    ]) {
      expect(policy.allowsOrigin(no), no).toBe(false);
    }
  });

  it('checks IPv4 and IPv6 addresses and CIDR ranges at their edges, IPv4-mapped IPv6 as IPv4', () => {
    const policy = policyOf({ allowedIps: ['203.0.113.7', '10.1.0.0/16', '2001:db8::/32', '::1'] });
    for (const yes of [
      '203.0.113.7',
      '10.1.0.0',
      '10.1.255.255',
      '2001:db8::',
      '2001:db8:ffff:ffff::1',
      '::1',
    ]) {
      expect(policy.allowsIp(yes), yes).toBe(true);
    }
    expect(policy.allowsIp('::ffff:10.1.2.3')).toBe(true);
    for (const no of [
      '203.0.113.8',
      '10.0.255.255',
      '10.2.0.0',
      '2001:db9::',
      '2001:db7:ffff::',
      '::2',
      'x',
      '',
    ]) {
      expect(policy.allowsIp(no), no).toBe(false);
    }
  });
});
