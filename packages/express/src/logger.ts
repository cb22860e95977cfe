import createDebug from 'debug';

/** Debug output of this package; turn it on with `DEBUG=keyward:express`. Never pass tokens. */
export const log = createDebug('keyward:express');
