// Shared settings and token generators of the benchmarks.
import { randomBytes } from 'node:crypto';
import { BASE62, BODY_LENGTH, checksum } from '@keyward/core/store';

export const BENCH_PEPPER = 'bench-pepper-0123456789abcdef';
export const BENCH_SCOPES = { scopes: ['snippets:read', 'snippets:write'], publicScopes: ['snippets:read'] };
export const ORG = 'org_bench';

/** The token with its checksum changed: well-formed, refused before any hash or lookup. */
export function badChecksumToken(token: string): string {
  const last = token.at(-1) === '0' ? '1' : '0';
  return token.slice(0, -1) + last;
}

/**
 * A source of distinct, checksum-valid secret tokens that no store holds: a random run id followed by a
 * counter in base62, so a million of them cost a million small strings, not a million CSPRNG calls.
 */
export function unknownTokens(prefix = 'kw'): () => string {
  const run = Array.from(randomBytes(10), (b) => BASE62[b % 62]).join('');
  const width = BODY_LENGTH - run.length;
  let n = 0;
  return () => {
    let counter = '';
    for (let rest = n++; counter.length < width; rest = Math.floor(rest / 62))
      counter = BASE62[rest % 62] + counter;
    const head = `${prefix}_sk_${run}${counter}`;
    return head + checksum(head);
  };
}
