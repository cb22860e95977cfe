/**
 * `options` (a plain object) holds only `allowed` names, else `TypeError` naming the first unknown one: an
 * unknown option is most likely a typo (`scope` for `scopes`) that would otherwise be ignored silently.
 *
 * @example
 * checkOptionNames('Keyward: cache', { ttl: 5 }, ['max', 'ttlMs']); // TypeError: Keyward: cache: unknown option "ttl"
 */
export function checkOptionNames(where: string, options: object, allowed: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name)) throw new TypeError(`${where}: unknown option "${name}"`);
  }
}
