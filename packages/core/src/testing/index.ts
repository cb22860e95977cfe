/**
 * `@keyward/core/testing`: the store conformance suites, the race scenarios and test helpers. Imports
 * `vitest` (an optional peer dependency): use it inside Vitest test files only.
 */

export { type DormancyScenarioOptions, describeDormancyScenarios } from './dormancy-conformance.js';
export {
  type ConformanceOptions,
  delegatingStore,
  makeStoredKey,
  seededRandom,
  switchableStore,
  TEST_PEPPER,
  testClock,
  withLatency,
} from './helpers.js';
export { type RaceInvariant, type RaceScenarioOptions, runRaceScenarios } from './races.js';
export { runKeyStoreConformance } from './store-conformance.js';
