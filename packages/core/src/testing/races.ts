import { describe, expect, it } from 'vitest';
import type { KeyEvent } from '../events/events.js';
import { createKeyward } from '../keyward.js';
import type { StoredKey } from '../shared/types.js';
import type { KeyChanges, KeyStore } from '../store/store.js';
import { type ConformanceOptions, seededRandom, TEST_PEPPER, withLatency } from './helpers.js';
import {
  LEGACY_PATTERN,
  RACE_SCOPES,
  type RaceInvariant,
  ROTATED_PEPPER,
  type Round,
  raceScenarios,
  type Write,
} from './race-scenarios.js';

export type { RaceInvariant } from './race-scenarios.js';

let orgCounter = 0;
type Service = ReturnType<typeof createKeyward>;

export interface RaceScenarioOptions extends ConformanceOptions {
  /**
   * More stores on the data of `store` (each another app instance with a connection of its own): the two
   * sides of a race then run on different instances. Without it, both run on one.
   */
  createPeers?: (store: KeyStore) => Promise<KeyStore[]> | KeyStore[];
  /** Rounds per scenario, each on a fresh key. @default 20 */
  rounds?: number;
  /** Rounds run at the same time (each on its own key). @default 4 */
  parallel?: number;
  /** Delay added to every store call, in ms (see `withLatency`). @default 20 */
  latencyMs?: number;
  /** Seed of every random choice (offsets, jitter): the same seed replays the same schedule. @default random */
  seed?: number;
  /**
   * Invariants the store cannot promise: counted and reported, not asserted. Everything else is asserted.
   * @default none
   */
  measureOnly?: RaceInvariant[];
  /**
   * Receives each scenario's violation counts, e.g. to print the measured figures from a test file.
   * @default nothing (a library never prints)
   */
  report?: (scenario: string, rounds: number, violations: Partial<Record<RaceInvariant, number>>) => void;
}

/**
 * Races pairs of service calls on one key through `createKeyward`, with a delay on every store call, and
 * checks the documented consistency rules after every round (see `RaceInvariant`): roll‖PATCH
 * {expiresAt: null}, roll‖disable, roll‖delete, roll‖roll, delete‖verify, disable‖usage flush,
 * delete‖usage flush, PATCH‖re-hash (first use after a pepper rotation), import‖import; and, on stores
 * with `listEvents`, that the log holds exactly the events of the writes that happened. With
 * `createPeers`, the two sides run on different instances. Call it inside a Vitest test file; each
 * scenario is one test.
 *
 * @example
 * runRaceScenarios('MemoryKeyStore', { createStore: () => new MemoryKeyStore() });
 */
export function runRaceScenarios(name: string, options: RaceScenarioOptions): void {
  const rounds = options.rounds ?? 20;
  const parallel = options.parallel ?? 4;
  const latencyMs = options.latencyMs ?? 20;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const measureOnly = new Set(options.measureOnly ?? []);
  const report = options.report ?? (() => {});
  const scenarios = raceScenarios(latencyMs);

  describe(`Races through the service with ${latencyMs} ms store latency: ${name} (seed ${seed})`, () => {
    for (const [index, [scenario, run]] of scenarios.entries()) {
      it(
        `keeps docs/reference.md under ${scenario} (${rounds} rounds)`,
        async () => {
          const random = seededRandom(seed + index);
          const inner = await options.createStore();
          const peers = (await options.createPeers?.(inner)) ?? [];
          const stores = [inner, ...peers];
          const writes: Write[] = [];
          // The events of the writes that happened, by organization: exactly these must be in the log.
          const written = new Map<string, Set<string>>();
          const onWrite = (id: string, changes: KeyChanges, after: StoredKey, event?: KeyEvent) => {
            if (Object.keys(changes).length > 0) writes.push({ id, changes, version: after.version });
            if (event)
              written.set(
                after.organizationId,
                (written.get(after.organizationId) ?? new Set()).add(event.id),
              );
          };
          const delayedStores = stores.map((store) => withLatency(store, { ms: latencyMs, onWrite, random }));
          const service = (store: KeyStore, pepper: string | [string, ...string[]], cache: boolean) =>
            createKeyward({
              store,
              scopes: RACE_SCOPES,
              publicScopes: RACE_SCOPES,
              pepper,
              legacyTokens: { pattern: LEGACY_PATTERN },
              // Usage is flushed by the scenarios that race it, never by a timer.
              usage: { flushDelayMs: 600_000 },
              ...(cache ? {} : { cache: false }),
            });
          const all = delayedStores.map((store) => service(store, TEST_PEPPER, true));
          const rotated = delayedStores.map((store) => service(store, [ROTATED_PEPPER, TEST_PEPPER], false));
          const violations: Partial<Record<RaceInvariant, number>> = {};
          const examples: string[] = [];
          let turn = 0;
          try {
            const one = async () => {
              const org = `org_race_${Date.now()}_${++orgCounter}`;
              const keyward = all[turn % all.length] as Service;
              const other = all[(turn + 1) % all.length] as Service;
              turn++;
              const { key, token } = await keyward.createKey(org, {
                name: 'Raced',
                type: 'secret',
                expiresAt: new Date(Date.now() + 30 * 86_400_000),
              });
              const seen = new Set<RaceInvariant>();
              const round: Round = {
                org,
                id: key.id,
                token,
                keyward,
                other,
                all,
                rotated,
                store: inner,
                random,
                writes,
                violate: (invariant, detail) => {
                  if (seen.has(invariant)) return;
                  seen.add(invariant);
                  violations[invariant] = (violations[invariant] ?? 0) + 1;
                  if (examples.length < 5) examples.push(`${invariant}: ${detail}`);
                },
              };
              await run(round);
            };
            for (let done = 0; done < rounds; done += parallel) {
              await Promise.all(Array.from({ length: Math.min(parallel, rounds - done) }, one));
            }
            // One event per change and no other, on stores that keep events.
            if (inner.listEvents) {
              await inner.deliverEvents?.();
              for (const [org, ids] of written) {
                const listed = (await inner.listEvents(org, { limit: 1_000 }))
                  .filter((e) => e.type !== 'key.used_after_roll')
                  .map((e) => e.id);
                const same = listed.length === ids.size && listed.every((id) => ids.has(id));
                if (!same) {
                  violations['one-event-per-change'] = (violations['one-event-per-change'] ?? 0) + 1;
                  if (examples.length < 5)
                    examples.push(`one-event-per-change: ${ids.size} changes, ${listed.length} events`);
                }
              }
            }
            // Compare-and-set held if no two successful writes of one key produced the same version.
            const byKey = new Map<string, number[]>();
            for (const { id, version } of writes) byKey.set(id, [...(byKey.get(id) ?? []), version]);
            for (const versions of byKey.values()) {
              if (new Set(versions).size !== versions.length) {
                violations['serial-writes'] = (violations['serial-writes'] ?? 0) + 1;
                if (examples.length < 5) examples.push(`serial-writes: versions ${versions.join(',')}`);
              }
            }
          } finally {
            await Promise.all([...all, ...rotated].map((k) => k.close()));
            for (const peer of peers) await peer.close?.();
            await options.destroyStore?.(inner);
          }
          report(scenario, rounds, violations);
          const asserted = Object.fromEntries(
            Object.entries(violations).filter(([invariant]) => !measureOnly.has(invariant as RaceInvariant)),
          );
          expect(asserted, `${examples.join('; ')} (seed ${seed})`).toEqual({});
        },
        60_000 + rounds * 3_000,
      );
    }
  });
}
