import createDebug from 'debug';

/** The mongo package's debug output; turn it on with `DEBUG=keyward:*`. Never pass tokens or hashes. */
export const log = createDebug('keyward:mongo');
