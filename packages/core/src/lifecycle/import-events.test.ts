// Where imports (docs/reference.md §8) meet events (§7): each imported key records exactly one `key.imported`,
// written with the key (one for each key `importKeys` inserts; none for rows refused or already there).
import { describe, expect, it } from 'vitest';
import type { EventContext, KeyEvent } from '../events/events.js';
import { testKeyward } from '../testing/fixtures.js';

const ORG = 'org_import_events';
const OPERATOR: EventContext = { actor: { type: 'user', id: 'user_ops' }, ip: '198.51.100.4' };
const CANARY = 'legacy_live_Canary0123456789abcdefXYZ';

describe('events of imports', () => {
  it('records one key.imported per imported key, with the actor, and never the token', async () => {
    const seen: KeyEvent[] = [];
    const { keyward } = testKeyward({ onEvent: (event) => void seen.push(event) });
    const key = await keyward.importKey(ORG, { token: CANARY, name: 'Old CI', type: 'secret' }, OPERATOR);
    const results = await keyward.importKeys(
      ORG,
      [
        { sha256: 'a'.repeat(64), name: 'By digest', type: 'secret' },
        { token: CANARY, name: 'Again', type: 'secret' },
        { token: 'x', name: '', type: 'secret' },
      ],
      OPERATOR,
    );
    expect(results.map((r) => r.status)).toEqual(['imported', 'exists', 'refused']);
    const imported = results[0]?.status === 'imported' ? results[0].key : undefined;
    const { events } = await keyward.listEvents(ORG, { limit: 100 });
    expect(events.map((e) => [e.type, e.keyId, e.keyName, e.actor.id]).sort()).toEqual(
      [
        ['key.imported', key.id, 'Old CI', 'user_ops'],
        ['key.imported', imported?.id, 'By digest', 'user_ops'],
      ].sort(),
    );
    await expect.poll(() => seen.length).toBe(2);
    expect(JSON.stringify([events, seen])).not.toContain(CANARY);
    expect(JSON.stringify([events, seen])).not.toContain('a'.repeat(64));
  });
});
