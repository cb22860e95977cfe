import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IP_OR_CIDR_PATTERN, isIpOrCidr } from '../policies/policy-schemas.js';
import { KeywardError } from '../shared/errors.js';
import { testKeyward } from '../testing/fixtures.js';
import {
  createKeyInputSchema,
  DATE_TIME_PATTERN,
  MAX_NAME_INPUT_LENGTH,
  NAME_PATTERN,
  NAME_PORTABLE_PATTERN,
} from './schemas.js';

const ORG = 'org_schemas';

async function nameError(name: unknown): Promise<string | undefined> {
  const { keyward } = testKeyward();
  try {
    await keyward.createKey(ORG, { name, type: 'secret' } as never);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(KeywardError);
    return (error as KeywardError).details?.[0]?.message;
  }
}

describe('key names', () => {
  it.each([
    ['NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['U+202E (right-to-left override)', 'evil\u202Etxt.exe'],
    ['U+2066 (left-to-right isolate)', 'a\u2066b'],
    ['only zero-width spaces', '\u200B\u200B'],
    ['only a zero-width joiner and spaces', ' \u200D '],
    ['only a combining mark', '\u0301'],
    ['a lone high surrogate', 'a\uD800b'],
    ['a lone low surrogate', '\uDC00'],
    ['only spaces', '   '],
    ['nothing', ''],
    ['101 characters', 'x'.repeat(101)],
  ])('refuses a name with %s', async (_what, name) => {
    expect(await nameError(name)).toBeDefined();
    expect(NAME_PATTERN.test(name)).toBe(false);
  });

  it.each([
    ['100 emoji (200 UTF-16 units, 100 code points)', '😀'.repeat(100)],
    ['100 characters with spaces around', `  ${'x'.repeat(100)}  `],
    ['a tab and newline around (trimmed away)', '\tProduction\n'],
    ['a zero-width joiner inside an emoji sequence', '👩\u200D💻 laptop'],
    ['accents and other scripts', 'Zürich – 東京 – عربي'],
  ])('accepts a name with %s', async (_what, name) => {
    expect(await nameError(name)).toBeUndefined();
    expect(NAME_PATTERN.test(name)).toBe(true);
  });

  it('stores the name trimmed and NFC-normalized', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: '  Cafe\u0301  ', type: 'secret' });
    expect(key.name).toBe('Caf\u00e9');
  });

  it('counts the length after NFC normalization, as the name is stored', async () => {
    // 100 x "e" + U+0301 is 200 code points as sent and 100 (x "é") once composed.
    expect(await nameError('e\u0301'.repeat(100))).toBeUndefined();
    expect(await nameError('e\u0301'.repeat(101))).toBe('Must be at most 100 characters.');
    // U+0958 is a composition exclusion: NFC writes it as two code points, so 51 of them are 102.
    expect(await nameError('\u0958'.repeat(50))).toBeUndefined();
    expect(await nameError('\u0958'.repeat(51))).toBe('Must be at most 100 characters.');
  });

  it('says what is wrong with a name', async () => {
    expect(await nameError('   ')).toBe('Must not be empty.');
    expect(await nameError('x'.repeat(101))).toBe('Must be at most 100 characters.');
    expect(await nameError('a\u202Eb')).toMatch(/control/);
    expect(await nameError('\u200B')).toBe('Must contain a visible character.');
    expect(await nameError(42)).toBe('Must be a string.');
  });
});

describe('expiresAt', () => {
  const future = (value: unknown) =>
    createKeyInputSchema.safeParse({ name: 'A', type: 'secret', expiresAt: value });

  it.each([
    '2031-01-01T00:00', // no zone: was stored in the server's local time zone
    '2031-01-01T00:00:00', // no zone
    '2031-01-01', // a date only
    '9999-12-31T23:59:59-23:59', // stored as +010000-01-01T23:58:59.000Z before
    '9999-01-01T00:00:00Z', // a five-digit UTC year is one offset away
    '2031-01-01T00:00:00.1234567890Z', // ten fractional digits
    '2031-02-29T00:00:00Z', // not a leap year
    '2031-04-31T00:00:00Z',
    '2031-01-01T24:00:00Z',
    '2031-01-01T23:59:60Z',
    '2031-01-01t00:00:00z',
    '2031-01-01 00:00:00Z',
    '+002031-01-01T00:00:00Z',
    'tomorrow',
    1_900_000_000_000,
    new Date(Number.NaN),
    new Date(Date.UTC(10000, 0, 1)),
  ])('refuses %s', (value) => {
    expect(future(value).success).toBe(false);
  });

  it.each([
    '2031-01-01T00:00:00Z',
    '2031-01-01T00:00:00+14:00',
    '2031-01-01T00:00:00-23:59',
    '2032-02-29T12:00:00.123456789+05:30',
    '9998-12-31T23:59:59-23:59',
  ])('accepts %s', (value) => {
    const parsed = future(value);
    expect(parsed.success).toBe(true);
    expect(DATE_TIME_PATTERN.test(value)).toBe(true);
    // The instant is always a four-digit UTC year, so every client can read the stored ISO string back.
    expect(parsed.data?.expiresAt?.toISOString()).toMatch(/^\d{4}-/);
  });

  it('accepts a Date from JavaScript callers and refuses a zone-less string from them too', async () => {
    const { keyward, clock } = testKeyward();
    const at = new Date(clock.now() + 86_400_000);
    const { key } = await keyward.createKey(ORG, { name: 'A', type: 'secret', expiresAt: at });
    expect(key.expiresAt).toEqual(at);
    await expect(
      keyward.createKey(ORG, { name: 'B', type: 'secret', expiresAt: '2031-01-01T00:00' }),
    ).rejects.toMatchObject({ code: 'validation_error' });
  });
});

describe('error size', () => {
  it('lists at most 20 details however many problems a body has', async () => {
    const { keyward } = testKeyward();
    const error = await keyward
      .createKey(ORG, {
        name: 'A',
        type: 'secret',
        scopes: Array.from({ length: 5_400 }, (_, i) => `nope:${i}`),
      })
      .catch((e: KeywardError) => e);
    expect(error).toMatchObject({ code: 'validation_error' });
    expect((error as KeywardError).details).toHaveLength(20);
    expect(JSON.stringify((error as KeywardError).toJSON()).length).toBeLessThan(4_000);
  });
});

describe('the portable forms of the rules, for the OpenAPI document', () => {
  const nameChar = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...'aZ09 -_.') },
    fc.constantFrom('\t', '\n', '\u00A0', '\u3000', '\uFEFF', '\u200B', '\u0301', 'é', '名', '😀', '\u202E'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  const names = fc.array(nameChar, { maxLength: 12 }).map((chars) => chars.join(''));

  it('NAME_PORTABLE_PATTERN accepts every name the exact rule accepts (after NFC, as the server reads it)', () => {
    fc.assert(
      fc.property(names, (name) => {
        if (NAME_PATTERN.test(name.normalize('NFC'))) expect(NAME_PORTABLE_PATTERN.test(name)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('NAME_PORTABLE_PATTERN refuses controls, bidi controls and blank names', () => {
    for (const name of ['a\u0000b', 'a\u0085b', 'evil\u202Etxt', 'a\u2066b', '', '   ', '\t\n']) {
      expect(NAME_PORTABLE_PATTERN.test(name)).toBe(false);
    }
    expect(NAME_PORTABLE_PATTERN.flags).toBe('');
  });

  it(`refuses a name over ${MAX_NAME_INPUT_LENGTH} code points as sent, even when it trims to less`, async () => {
    expect(await nameError(`${' '.repeat(MAX_NAME_INPUT_LENGTH)}a`)).toBe('Must be at most 100 characters.');
    expect(await nameError(`${' '.repeat(MAX_NAME_INPUT_LENGTH - 1)}a`)).toBeUndefined();
    // A decomposed name of 100 characters (e + U+0301, 200 code points as sent) is 100 after NFC.
    expect(await nameError('e\u0301'.repeat(100))).toBeUndefined();
  });

  it('IP_OR_CIDR_PATTERN matches every entry isIpOrCidr accepts', () => {
    const entries = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 200 })).map(([a, n]) => `${a}/${n}`),
      fc.constantFrom('fe80::1%eth0', '::ffff:192.0.2.1', 'FE80::1', '10.0.0.0/08', '1.2.3.4/'),
      fc.string({ maxLength: 10 }),
    );
    fc.assert(
      fc.property(entries, (entry) => {
        if (isIpOrCidr(entry)) expect(IP_OR_CIDR_PATTERN.test(entry)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(IP_OR_CIDR_PATTERN.flags).toBe('');
  });

  it('the patterns compile without flags and avoid what Python and RE2 lack (\\p, lookaround)', () => {
    for (const pattern of [NAME_PORTABLE_PATTERN, DATE_TIME_PATTERN, IP_OR_CIDR_PATTERN]) {
      expect(pattern.flags).toBe('');
      expect(pattern.source).not.toMatch(/\\[pP]\{|\(\?<?[=!]|\\u/);
    }
  });
});
