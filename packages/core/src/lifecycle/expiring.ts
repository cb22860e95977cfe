/** The query of `keyward.expiringKeys`. */
export interface ExpiringKeysQuery {
  /** The window in ms from now: keys with `now < expiresAt <= now + within` are listed. */
  within: number;
  /** Only this organization's keys; every organization's without it. */
  organizationId?: string;
  /** At most this many keys, soonest first. @default 1000 */
  limit?: number;
}

/** The longest window `expiringKeys` accepts: 10 years. */
const MAX_WITHIN_MS = 10 * 366 * 86_400_000;

/**
 * Checks the query of `expiringKeys` (`TypeError` when wrong: it is the app's call, not a client's input).
 *
 * @example
 * parseExpiringQuery({ within: 86_400_000 }); // { within: 86400000, limit: 1000 }
 */
export function parseExpiringQuery(
  query: ExpiringKeysQuery,
): Required<Omit<ExpiringKeysQuery, 'organizationId'>> & Pick<ExpiringKeysQuery, 'organizationId'> {
  if (typeof query !== 'object' || query === null)
    throw new TypeError('Keyward: expiringKeys needs { within }');
  const { within, organizationId, limit = 1000 } = query;
  if (!Number.isInteger(within) || within < 0 || within > MAX_WITHIN_MS) {
    throw new TypeError('Keyward: expiringKeys within must be a whole number of ms from 0 to 10 years');
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new TypeError('Keyward: expiringKeys limit must be an integer from 1 to 10000');
  }
  return { within, limit, ...(organizationId !== undefined && { organizationId }) };
}
