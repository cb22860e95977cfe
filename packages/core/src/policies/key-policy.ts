import { BlockList, isIP } from 'node:net';
import type { CreditPolicy } from '../shared/credit-types.js';
import type { KeyLimit, KeyPolicy, StoredKey } from '../shared/types.js';
import { copyLimit } from './policy-schemas.js';

/**
 * The counter a limit of `key` counts on (docs/reference.md §10). Counts follow the customer: per-owner and
 * per-organization counters are named by the owner or organization, so deleting a key and creating
 * another does not start a fresh count, and every key of the customer shares it (across instances when
 * the counting store is shared, e.g. Redis). A per-key counter is named by the roll chain's first key.
 *
 * A per-key limit is named by its slot, not its window (docs/reference.md §6): its rank among the key's
 * per-key limits that no plan limit names, longest window first, so changing `windowSeconds` carries on
 * the count already used (until that count's window ends). Plan limits (and a key's own limit of the same
 * window and `per`, which tightens one) and per-owner or per-organization limits, which keys with different
 * limits share, keep their window in the name. `planned`: the plan's limits the key is held to.
 */
export function counterName(
  key: Pick<StoredKey, 'id' | 'organizationId' | 'lineageId' | 'owner' | 'limits'>,
  l: KeyLimit,
  planned: readonly KeyLimit[] = [],
): string {
  const per = l.per ?? 'key';
  const org = encodeURIComponent(key.organizationId);
  if (per === 'organization' || (per === 'owner' && !key.owner)) return `limit:org:${org}:${l.windowSeconds}`;
  if (per === 'owner' && key.owner) {
    return `limit:owner:${org}:${key.owner.type}:${encodeURIComponent(key.owner.id)}:${l.windowSeconds}`;
  }
  const lineage = key.lineageId ?? key.id;
  const isPerKey = (x: KeyLimit) => (x.per ?? 'key') === 'key';
  if (planned.some((p) => isPerKey(p) && p.windowSeconds === l.windowSeconds)) {
    return `limit:${lineage}:${l.windowSeconds}`;
  }
  const longer = (key.limits ?? []).filter(
    (x) =>
      isPerKey(x) &&
      x.windowSeconds > l.windowSeconds &&
      !planned.some((p) => isPerKey(p) && p.windowSeconds === x.windowSeconds),
  ).length;
  return `limit:${lineage}:slot${longer}`;
}

const ANY = (): boolean => true;

/**
 * A key's policies compiled once (when verify loads the key into its cache): the allowed addresses as one
 * `net.BlockList`, the allowed origins as a set of exact origins plus wildcard suffixes. Frozen: every
 * request authenticated with the key shares it. `null` when the key has no limits, origins or addresses,
 * so the middleware's hot path for such a key is one comparison. `planned`: the limits of the key's plan
 * (they name their counters by window, see `counterName`).
 *
 * @example
 * const policy = compileKeyPolicy(storedKey);
 * policy?.allowsIp('203.0.113.7'); // true when 203.0.113.7 is in the key's allowedIps (or they are empty)
 */
export function compileKeyPolicy(
  key: StoredKey,
  credits: CreditPolicy | null = null,
  planned: readonly KeyLimit[] = [],
): KeyPolicy | null {
  const limits = key.limits ?? [];
  const allowedOrigins = key.allowedOrigins ?? [];
  const allowedIps = key.allowedIps ?? [];
  if (limits.length === 0 && allowedOrigins.length === 0 && allowedIps.length === 0 && credits === null)
    return null;
  return Object.freeze({
    lineageId: key.lineageId ?? key.id,
    limits: Object.freeze(
      limits.map((l) => Object.freeze({ ...copyLimit(l), counter: counterName(key, l, planned) })),
    ),
    allowedOrigins: Object.freeze([...allowedOrigins]),
    allowedIps: Object.freeze([...allowedIps]),
    allowsOrigin: allowedOrigins.length === 0 ? ANY : originMatcher(allowedOrigins),
    allowsIp: allowedIps.length === 0 ? ANY : ipMatcher(allowedIps),
    credits,
  });
}

/** Exact origins in a set; `scheme://*.host[:port]` as (`scheme://`, `.host[:port]`) prefix/suffix pairs. */
function originMatcher(origins: readonly string[]): (origin: string) => boolean {
  const exact = new Set<string>();
  const wildcards: { head: string; tail: string }[] = [];
  for (const origin of origins) {
    const star = origin.indexOf('://*.');
    if (star === -1) exact.add(origin);
    else wildcards.push({ head: origin.slice(0, star + 3), tail: origin.slice(star + 4) });
  }
  return (origin) => {
    // Browsers send scheme and host in lower case; a client that does not is matched the same way.
    const value = origin.length <= 300 ? origin.toLowerCase() : '';
    if (exact.has(value)) return true;
    for (const { head, tail } of wildcards) {
      // At least one full label before the suffix: `https://a.example.com`, not `https://.example.com`
      // and never `https://example.com` itself; no port, path or user info can hide in between.
      if (
        value.length > head.length + tail.length &&
        value.startsWith(head) &&
        value.endsWith(tail) &&
        /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/.test(value.slice(head.length, value.length - tail.length))
      ) {
        return true;
      }
    }
    return false;
  };
}

/** One `net.BlockList` holding every allowed address and range (IPv4-mapped IPv6 addresses match IPv4 rules). */
function ipMatcher(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (slash === -1) list.addAddress(address, family);
    else list.addSubnet(address, Number(entry.slice(slash + 1)), family);
  }
  return (address) => {
    const family = isIP(address);
    if (family === 0) return false;
    return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}
