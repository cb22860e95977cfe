import createDebug from 'debug';

/**
 * The admin router's debug output; turn it on with `DEBUG=keyward:admin`. Never pass tokens or hashes.
 *
 * @example
 * log('authorize refused: %s', 'no organization');
 */
export const log = createDebug('keyward:admin');
