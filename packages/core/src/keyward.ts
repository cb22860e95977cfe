import { EventPublisher } from './background/event-hooks.js';
import { RollUseRecorder } from './background/roll-use.js';
import { UsageRecorder } from './background/usage.js';
import { UsageCounter } from './background/usage-counter.js';
import { type KeywardOptions, resolveOptions } from './config/options.js';
import { createTokenHasher } from './format/hash.js';
import { createDormancySweep, startDormancyTimer } from './lifecycle/dormancy.js';
import { createIdempotency } from './lifecycle/idempotency.js';
import { createWritePath } from './lifecycle/write-path.js';
import type { Keyward } from './operations/api.js';
import { checkOrganization, existing, type OperationContext } from './operations/context.js';
import { createKey, provisionOrganization } from './operations/create.js';
import { createCreditService } from './operations/credits.js';
import { deleteKey, revokeOwnerKeys } from './operations/delete.js';
import { listEvents } from './operations/events.js';
import { importKey, importKeys } from './operations/import.js';
import { createLeakReporter } from './operations/leak-report.js';
import { getOrganizationPlan, setOrganizationPlan } from './operations/plans.js';
import { expiringKeys, getKey, listKeys, nonCompliantKeys } from './operations/read.js';
import { rollKey } from './operations/roll.js';
import { updateKey } from './operations/update.js';
import { keyUsage, organizationUsage } from './operations/usage.js';
import { log } from './shared/logger.js';
import { Verifier } from './verify/verify.js';

export type { EventPage, KeyPage, KeyWithToken, Keyward, RecordOutcomeOptions } from './operations/api.js';
export { DEFAULT_KEY_NAME } from './operations/create.js';

/** Marks what `createKeyward` made, across copies of this package (its ESM and CJS builds side by side). */
const SERVICE_BRAND = Symbol.for('keyward.service');

/**
 * Whether `value` is a Keyward service made by `createKeyward` (of any copy of this package): the one check
 * express, the admin routers and the CLI use.
 *
 * @example
 * if (!isKeyward(options.keyward)) throw new TypeError('options.keyward must be a Keyward service');
 */
export function isKeyward(value: unknown): value is Keyward {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SERVICE_BRAND] === true
  );
}

/**
 * Creates the Keyward service. Options are validated once; a wrong option throws `TypeError`.
 *
 * @example
 * const keyward = createKeyward({
 *   store: new MemoryKeyStore(),
 *   scopes: ['snippets:read', 'snippets:write'],
 *   publicScopes: ['snippets:read'],
 *   pepper: process.env.KEYWARD_PEPPER,
 * });
 * const { token } = await keyward.createKey('org_1', { name: 'CI', type: 'secret' });
 * await keyward.verify(token, { scopes: ['snippets:write'] }); // { valid: true, key: {...}, sunsetAt: null }
 */
export function createKeyward(options: KeywardOptions): Keyward {
  const resolved = resolveOptions(options);
  const { store, clock } = resolved;
  const hash = createTokenHasher(resolved.pepper);
  const usage = new UsageRecorder(store, clock, resolved.usage);
  const counter = new UsageCounter(store, clock, resolved.usage.flushIntervalMs);
  const publisher = new EventPublisher(store, clock, resolved.onEvent, resolved.events.maintenanceIntervalMs);
  const rollUses = new RollUseRecorder(store, clock, (event) => publisher.publish(event));
  const verifier = new Verifier(
    resolved,
    hash,
    (id, keyHash, verified, rolled) => {
      if (rolled) rollUses.note(verified);
      return usage.touch(id, keyHash);
    },
    (id, organizationId, outcome) => counter.count(id, organizationId, outcome),
  );
  const reportLeak = createLeakReporter(resolved, hash, (event) => publisher.publish(event));
  const idempotent = createIdempotency({
    store,
    clock,
    peppers: resolved.pepper === undefined ? [] : [resolved.pepper, ...resolved.previousPeppers],
  });
  const unsubscribe = store.subscribe?.((event) => {
    if ('id' in event) verifier.invalidate(event.id, { remote: true });
    else verifier.clear();
  });
  const write = createWritePath({ store, clock, invalidate: (id) => verifier.invalidate(id), publisher });
  const ctx: OperationContext = {
    options: resolved,
    hash,
    write,
    cache: { invalidate: (id) => verifier.invalidate(id), clear: () => verifier.clear() },
  };
  const sweepDormantKeys = createDormancySweep({
    store,
    clock,
    dormancy: resolved.dormancy,
    change: write.change,
    publish: (event) => publisher.publish(event),
  });
  const { dormancy, dormancySweepIntervalMs: sweepEvery } = resolved;
  const stopDormancy =
    (dormancy.secret !== null || dormancy.public !== null) && sweepEvery !== false
      ? startDormancyTimer(sweepDormantKeys, sweepEvery)
      : undefined;
  // Credits (docs/reference.md §10): leased from the store's ledger, spent here.
  const credits = createCreditService({
    resolved,
    settings: resolved.credits,
    existing: (organizationId, id) => {
      checkOrganization(organizationId);
      return existing(ctx, organizationId, id);
    },
    change: write.change,
    onError: (error) => log('credit return failed: %s', (error as Error)?.message),
  });
  const flush = () => Promise.all([counter.flush(), usage.flush(), rollUses.flush()]).then(() => undefined);

  const service: Keyward = {
    spendCredits: credits.spendCredits,
    getCredits: credits.getCredits,
    setCredits: credits.setCredits,
    prefix: resolved.prefix,
    scopes: resolved.scopes,
    plans: Object.freeze([...resolved.plans.keys()]),
    provisionOrganization: (organizationId) => provisionOrganization(ctx, organizationId),
    createKey: (organizationId, input, context) => createKey(ctx, organizationId, input, context),
    importKey: (organizationId, input, context) => importKey(ctx, organizationId, input, context),
    importKeys: (organizationId, inputs, context) => importKeys(ctx, organizationId, inputs, context),
    listKeys: (organizationId, query) => listKeys(ctx, organizationId, query),
    getKey: (organizationId, id) => getKey(ctx, organizationId, id),
    updateKey: (organizationId, id, input, context, conditions) =>
      updateKey(ctx, organizationId, id, input, context, conditions),
    rollKey: (organizationId, id, rollOptions, context, conditions) =>
      rollKey(ctx, organizationId, id, rollOptions, context, conditions),
    deleteKey: (organizationId, id, context, conditions) =>
      deleteKey(ctx, organizationId, id, context, conditions),
    setOrganizationPlan: (organizationId, plan) => setOrganizationPlan(ctx, organizationId, plan),
    getOrganizationPlan: (organizationId) => getOrganizationPlan(ctx, organizationId),
    revokeOwnerKeys: (organizationId, owner, revokeOptions, context) =>
      revokeOwnerKeys(ctx, organizationId, owner, revokeOptions, context),
    listEvents: (organizationId, query) => listEvents(ctx, organizationId, query),
    expiringKeys: (query) => expiringKeys(ctx, query),
    reportLeak: (token, report) => reportLeak(service, token, report),
    maintainEvents: () => publisher.maintain(),
    sweepDormantKeys,
    nonCompliantKeys: (organizationId) => nonCompliantKeys(ctx, organizationId),
    idempotent(organizationId, idempotencyKey, request, run) {
      checkOrganization(organizationId);
      return idempotent(organizationId, idempotencyKey, request, run);
    },
    verify: (token, requirements, verifyOptions) => verifier.verify(token, requirements, verifyOptions),
    verifyCached: (token, requirements, verifyOptions) =>
      verifier.verifyCached(token, requirements, verifyOptions),
    recordOutcome: (key, outcome, outcomeOptions) =>
      counter.countOutcome(key.id, key.organizationId, outcome, outcomeOptions?.replaces === 'admitted'),
    keyUsage: (organizationId, id, query) => keyUsage(ctx, organizationId, id, query),
    usage: (organizationId, query) => organizationUsage(ctx, organizationId, query),
    flushUsage: flush,
    async close() {
      unsubscribe?.();
      stopDormancy?.();
      publisher.stop();
      verifier.clear();
      counter.stop();
      await Promise.all([flush(), credits.close()]);
    },
  };
  // Enumerable, so a `{ ...keyward }` copy stays a service; a symbol, so JSON and `Object.keys` skip it.
  Object.defineProperty(service, SERVICE_BRAND, { value: true, enumerable: true });
  return service;
}
