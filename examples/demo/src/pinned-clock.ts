// One clock for the demo server and the pages of a browser test, pinned to a chosen instant and then
// running at the real rate. What the dashboard shows ("Jan 6, 11:50 AM in 30 days", the year only when it
// is not this year, "expires within 7 days") depends on today's date; with the server's Keyward service and
// Chromium's clock both on this clock (and the browser context on `UTC` and `en-US`), a test says which
// day it runs on instead of inheriting the calendar's.

import type { BrowserContext } from 'playwright-core';

/**
 * The instant browser tests run at unless they ask for another: mid-June, away from a year end, a month
 * end and any daylight-saving switch.
 */
export const PINNED_NOW = '2030-06-12T10:00:00.000Z';

export interface PinnedClock {
  /** The pinned time now, in ms since the epoch (pass it as the demo's `clock`). */
  now(): number;
  /** Moves the clock to `iso` (it runs on from there). */
  set(iso: string): void;
  /** Gives the context's pages the same clock (Playwright's `clock.install`, running at the real rate). */
  install(context: BrowserContext): Promise<void>;
}

/** A clock at `start` that runs at the real rate from the moment it is made (or last `set`). */
export function pinnedClock(start: string = PINNED_NOW): PinnedClock {
  let offset = 0;
  const set = (iso: string) => {
    const at = Date.parse(iso);
    if (Number.isNaN(at)) throw new TypeError(`pinnedClock: not a date: ${iso}`);
    offset = at - Date.now();
  };
  set(start);
  const now = () => Date.now() + offset;
  return {
    now,
    set,
    install: (context) => context.clock.install({ time: now() }),
  };
}
