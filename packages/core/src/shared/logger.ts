import createDebug from 'debug';

/** Keyward's debug output; turn it on with `DEBUG=keyward:*`. Never pass tokens, hashes or peppers. */
export const log = createDebug('keyward:core');
