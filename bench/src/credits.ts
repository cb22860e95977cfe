// `pnpm --filter @keyward/bench bench:credits`: store round trips of credit spending (docs/reference.md §10).
// Two service instances share one MemoryKeyStore whose ledger calls are counted; 10,000 requests alternate
// between them through `spendCredits` (what apiKeyAuth calls), first with a large balance, then with
// exactly 10,000 credits (blocks shrink to one credit near zero). In process, no HTTP: it counts calls.
import { createKeyward, MemoryKeyStore } from '@keyward/core';
import { BENCH_PEPPER, BENCH_SCOPES, ORG } from './tokens.js';

const REQUESTS = 10_000;

async function run(balance: number) {
  const store = new MemoryKeyStore();
  const calls = { readCredits: 0, leaseCredits: 0, returnCredits: 0 };
  for (const method of ['readCredits', 'leaseCredits', 'returnCredits'] as const) {
    const original = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
    Object.assign(store, {
      [method]: (...args: unknown[]) => {
        calls[method]++;
        return original(...args);
      },
    });
  }
  const instances = [0, 1].map(() => createKeyward({ store, ...BENCH_SCOPES, pepper: BENCH_PEPPER }));
  const [a] = instances as [ReturnType<typeof createKeyward>];
  const { key, token } = await a.createKey(ORG, { name: 'credited', type: 'secret' });
  await a.setCredits(ORG, key.id, { remaining: balance });
  let admitted = 0;
  let synchronous = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const keyward = instances[i % 2] as typeof a;
    const result = await keyward.verify(token);
    if (!result.valid || !result.policy?.credits)
      throw new Error('bench: the key did not verify with credits');
    const answer = keyward.spendCredits(result.policy.credits, 1);
    if (!(answer instanceof Promise)) synchronous++;
    if ((await answer).ok) admitted++;
  }
  await Promise.all(instances.map((k) => k.close()));
  return { balance, requests: REQUESTS, admitted, synchronous, ...calls };
}

for (const balance of [1_000_000_000, REQUESTS]) {
  const r = await run(balance);
  process.stdout.write(
    `balance ${r.balance}: ${r.admitted} of ${r.requests} admitted; ${r.synchronous} answered without waiting; ` +
      `ledger reads ${r.readCredits}, leases ${r.leaseCredits}, returns ${r.returnCredits}\n`,
  );
}
