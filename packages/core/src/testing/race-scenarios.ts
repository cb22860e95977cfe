import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenHasher } from '../format/hash.js';
import type { Keyward } from '../operations/api.js';
import { isKeywardError } from '../shared/errors.js';
import type { StoredKey } from '../shared/types.js';
import type { KeyChanges, KeyStore } from '../store/store.js';
import { TEST_PEPPER } from './helpers.js';

/**
 * What `runRaceScenarios` checks after every round:
 * - `rolled-key-expiry`: a rolled key has an expiry, no later than the end of its grace period;
 * - `no-roll-of-disabled`: a roll never lands on a disabled key (a key disabled after its roll is fine);
 * - `one-successor`: a key has at most one live successor, the one its `replacedBy` names;
 * - `one-roll-wins`: of two concurrent rolls of one key, exactly one succeeds;
 * - `deleted-stays-deleted`: once `deleteKey` returned, the key stays deleted and no verify started after
 *   it accepts the key (on the instance that deleted it);
 * - `revocation-holds`: a disable or delete that returned is still in the store after usage flushes;
 * - `no-lost-update`: a PATCH that returned is still in the store after a concurrent re-hash, and the key is
 *   found by exactly one of its hashes;
 * - `one-import`: of two concurrent imports of one token, exactly one succeeds, and the store holds one key;
 * - `serial-writes`: writes of one key that succeeded produced distinct versions (compare-and-set held);
 * - `one-event-per-change`: the event log holds exactly the events of the writes that happened.
 */
export type RaceInvariant =
  | 'rolled-key-expiry'
  | 'no-roll-of-disabled'
  | 'one-successor'
  | 'one-roll-wins'
  | 'deleted-stays-deleted'
  | 'revocation-holds'
  | 'no-lost-update'
  | 'one-import'
  | 'serial-writes'
  | 'one-event-per-change';

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string };

export const RACE_GRACE_SECONDS = 3_600;
const raceHash = createTokenHasher(TEST_PEPPER);
export const RACE_SCOPES = ['a:read'];
export const ROTATED_PEPPER = 'keyward-race-pepper-b-not-secret';
const rotatedHash = createTokenHasher(ROTATED_PEPPER);
export const LEGACY_PATTERN = /^legacy_[0-9a-f]{32}$/;

export interface Write {
  id: string;
  changes: KeyChanges;
  version: number;
}

type Service = Keyward;

export interface Round {
  org: string;
  id: string;
  token: string;
  /** Side A's instance (the one that created the key). */
  keyward: Service;
  /** Side B's instance (another one when there are peers). */
  other: Service;
  /** Every instance, each with its own store connection. */
  all: Service[];
  /** Instances with the rotated pepper ([B, A]), one per store, without a cache. */
  rotated: Service[];
  store: KeyStore;
  random: () => number;
  writes: Write[];
  violate: (invariant: RaceInvariant, detail: string) => void;
}

async function settle<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    // Refusals docs/reference.md expects under concurrency; anything else fails the test.
    if (isKeywardError(error) && ['conflict', 'not_found'].includes((error as { code: string }).code)) {
      return { ok: false, code: (error as { code: string }).code };
    }
    throw error;
  }
}

async function stored(round: Round, id: string): Promise<StoredKey | null> {
  return (await round.store.findById(round.org, id)) ?? null;
}

async function checkRolled(round: Round): Promise<void> {
  const key = await stored(round, round.id);
  if (key?.rolledAt) {
    const graceEnd = key.rolledAt.getTime() + RACE_GRACE_SECONDS * 1000;
    if (key.expiresAt === null || key.expiresAt.getTime() > graceEnd) {
      round.violate('rolled-key-expiry', `expiresAt ${key.expiresAt?.toISOString() ?? 'null'}`);
    }
  }
  const successors = (await round.store.list(round.org)).filter((k) => k.id !== round.id);
  if (successors.length > 1 || (successors[0] && successors[0].id !== key?.replacedBy)) {
    round.violate('one-successor', `${successors.length} live successor(s)`);
  }
}

async function checkDeleted(round: Round, keyward: Service): Promise<void> {
  if (await stored(round, round.id)) round.violate('deleted-stays-deleted', 'findById still finds it');
  const result = await keyward.verify(round.token);
  if (result.valid) round.violate('deleted-stays-deleted', 'verify accepts it after the round');
}

/** Uses the key on every instance, so that each has a last use to flush. */
async function useEverywhere(round: Round): Promise<void> {
  for (const keyward of round.all) {
    const result = await keyward.verify(round.token);
    if (!result.valid) throw new Error(`a fresh key was refused (${result.code})`);
  }
}

async function flushEverywhere(round: Round): Promise<void> {
  await Promise.all(round.all.map((k) => k.flushUsage()));
}

/** The race scenarios: each races two calls on one key and checks the invariants after. */
export function raceScenarios(latencyMs: number): Array<[string, (round: Round) => Promise<void>]> {
  /** Starts both calls after random offsets, so that each round interleaves them differently. */
  async function race<A, B>(
    round: Round,
    a: () => Promise<A>,
    b: () => Promise<B>,
  ): Promise<[Outcome<A>, Outcome<B>]> {
    const offset = () => sleep(round.random() * latencyMs * 2);
    return Promise.all([offset().then(() => settle(a())), offset().then(() => settle(b()))]);
  }

  return [
    [
      'roll ‖ PATCH {expiresAt: null}',
      async (round) => {
        const { keyward, other, org, id } = round;
        await race(
          round,
          () => keyward.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
          () => other.updateKey(org, id, { expiresAt: null }),
        );
        await checkRolled(round);
      },
    ],
    [
      'roll ‖ disable',
      async (round) => {
        const { keyward, other, org, id } = round;
        const [, disabledCall] = await race(
          round,
          () => keyward.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
          () => other.updateKey(org, id, { disabled: true }),
        );
        const own = round.writes.filter((w) => w.id === id);
        const rolled = own.find((w) => w.changes.replacedBy !== undefined);
        const disabled = own.find((w) => w.changes.disabled === true);
        if (rolled && disabled && disabled.version <= rolled.version) {
          round.violate(
            'no-roll-of-disabled',
            `disable wrote version ${disabled.version}, roll ${rolled.version}`,
          );
        }
        if (disabledCall.ok && !(await stored(round, id))?.disabled) {
          round.violate('revocation-holds', 'the acknowledged disable is not in the store');
        }
        await checkRolled(round);
      },
    ],
    [
      'roll ‖ delete',
      async (round) => {
        const { keyward, other, org, id } = round;
        const [, deleted] = await race(
          round,
          () => keyward.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
          () => other.deleteKey(org, id),
        );
        if (!deleted.ok) throw new Error(`delete was refused (${deleted.code})`);
        await checkDeleted(round, other);
        // A successor may stay (the roll landed first) but only one, and only the one the old key names.
        const old = await round.store.findByHash(raceHash(round.token));
        const successors = (await round.store.list(org)).filter((k) => k.id !== id);
        if (successors.length > 1 || (successors[0] && successors[0].id !== old?.replacedBy)) {
          round.violate('one-successor', `${successors.length} live successor(s)`);
        }
      },
    ],
    [
      'roll ‖ roll',
      async (round) => {
        const { keyward, other, org, id } = round;
        const outcomes = await race(
          round,
          () => keyward.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
          () => other.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
        );
        const won = outcomes.filter((o) => o.ok).length;
        if (won !== 1) round.violate('one-roll-wins', `${won} rolls succeeded`);
        await checkRolled(round);
      },
    ],
    [
      'delete ‖ verify',
      async (round) => {
        const { keyward, org, id, token } = round;
        // Half the rounds start with the key cached, half with a verify in flight on an empty cache.
        if (round.random() < 0.5) await keyward.verify(token);
        let deletedAt: number | null = null;
        const late: Array<Promise<boolean>> = [];
        const deletion = sleep(round.random() * latencyMs * 2)
          .then(() => keyward.deleteKey(org, id))
          .then(() => {
            deletedAt = performance.now();
          });
        // Verifies every few ms until shortly after the delete returned; those started after it must refuse.
        while (deletedAt === null || performance.now() - deletedAt < latencyMs * 3) {
          const startedAfter = deletedAt !== null;
          const verified = keyward.verify(token).then((r) => r.valid);
          if (startedAfter) late.push(verified);
          else void verified.catch(() => {});
          await sleep(latencyMs / 4);
        }
        await deletion;
        const accepted = (await Promise.all(late)).filter(Boolean).length;
        if (accepted > 0)
          round.violate('deleted-stays-deleted', `${accepted} verify(s) accepted it after delete returned`);
        await checkDeleted(round, keyward);
      },
    ],
    [
      'disable ‖ usage flush',
      async (round) => {
        const { keyward, org, id } = round;
        await useEverywhere(round);
        const [disabled] = await race(
          round,
          () => keyward.updateKey(org, id, { disabled: true }),
          () => flushEverywhere(round),
        );
        if (!disabled.ok) throw new Error(`disable was refused (${disabled.code})`);
        await useEverywhere(round).catch(() => {});
        await flushEverywhere(round);
        if (!(await stored(round, id))?.disabled) {
          round.violate('revocation-holds', 'the key is enabled again after usage flushes');
        }
        if ((await keyward.verify(round.token)).valid) round.violate('revocation-holds', 'verify accepts it');
      },
    ],
    [
      'delete ‖ usage flush',
      async (round) => {
        const { keyward, org, id } = round;
        await useEverywhere(round);
        const [deleted] = await race(
          round,
          () => keyward.deleteKey(org, id),
          () => flushEverywhere(round),
        );
        if (!deleted.ok) throw new Error(`delete was refused (${deleted.code})`);
        await flushEverywhere(round);
        if (await stored(round, id)) round.violate('revocation-holds', 'the key is back after usage flushes');
        if (!(await round.store.findByHash(raceHash(round.token)))?.deletedAt) {
          round.violate('revocation-holds', 'the record lost its deletion');
        }
        await checkDeleted(round, keyward);
      },
    ],
    [
      'PATCH ‖ re-hash',
      async (round) => {
        const { other, org, id, token } = round;
        const rotated = round.rotated[0] as Service;
        const [used, patched] = await race(
          round,
          () => rotated.verify(token),
          () => other.updateKey(org, id, { name: 'Patched' }),
        );
        if (used.ok && !used.value.valid) throw new Error(`the first use was refused (${used.value.code})`);
        const key = await stored(round, id);
        if (patched.ok && key?.name !== 'Patched') {
          round.violate('no-lost-update', `the PATCH is lost (name ${key?.name})`);
        }
        const byOld = await round.store.findByHash(raceHash(token));
        const byNew = await round.store.findByHash(rotatedHash(token));
        if (Number(byOld?.id === id) + Number(byNew?.id === id) !== 1) {
          round.violate('no-lost-update', `found by old hash: ${!!byOld}, by new hash: ${!!byNew}`);
        }
        for (const service of round.rotated) {
          const result = await service.verify(token);
          if (!result.valid) round.violate('no-lost-update', `refused after the re-hash (${result.code})`);
        }
      },
    ],
    [
      'import ‖ import',
      async (round) => {
        const { keyward, other, org } = round;
        const legacy = `legacy_${Array.from({ length: 32 }, () => Math.floor(round.random() * 16).toString(16)).join('')}`;
        const input = { token: legacy, name: 'Imported', type: 'secret' as const };
        const outcomes = await race(
          round,
          () => keyward.importKey(org, input),
          () => other.importKey(org, input),
        );
        const won = outcomes.filter((o) => o.ok).length;
        const keys = (await round.store.list(org)).filter((k) => k.name === 'Imported');
        if (won !== 1 || keys.length !== 1) {
          round.violate('one-import', `${won} imports succeeded, ${keys.length} key(s) stored`);
        }
        if (!(await keyward.verify(legacy)).valid) round.violate('one-import', 'the imported key is refused');
      },
    ],
  ];
}
