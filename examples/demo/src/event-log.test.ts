import { MemoryKeyStore } from '@keyward/core';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createDemoApp } from './app.js';

describe('the demo logs audit events', () => {
  it('writes one line per event through its logger, with the actor and no token', async () => {
    const lines: string[] = [];
    const { app, keyward, close } = createDemoApp({ store: new MemoryKeyStore(), log: (l) => lines.push(l) });
    try {
      const agent = request.agent(app);
      const signup = await agent.post('/signup').send({ organization: 'Acme' });
      expect(signup.status).toBe(201);
      const org: string = signup.body.organization.id;
      const created = await agent
        .post('/api/keys')
        .send({ name: 'Server" by system:keyward', type: 'secret' })
        .expect(201);
      const id: string = created.body.data.id;
      await agent.patch(`/api/keys/${id}`).send({ disabled: true }).expect(200);
      await agent.patch(`/api/keys/${id}`).send({ disabled: false }).expect(200);
      const rolled = await agent.post(`/api/keys/${id}/roll`).send({}).expect(201);
      await agent.delete(`/api/keys/${rolled.body.data.id}`).expect(204);
      await keyward.flushUsage();
      const events = lines.filter((l) => l.startsWith('[event] '));
      expect(events.map((l) => l.split(' ')[1])).toEqual([
        'key.created', // the Default key, by the system
        'key.created',
        'key.disabled',
        'key.enabled',
        'key.created', // the roll's new key (rolledFrom)
        'key.rolled',
        'key.deleted',
      ]);
      expect(events[0]).toMatch(/ by system:keyward$/);
      for (const line of events.slice(1)) expect(line).toContain(` by user:${org}:owner from `);
      // The name is quoted as JSON: it cannot pass itself off as another actor.
      expect(events[1]).toContain('"Server\\" by system:keyward"');
      const everything = lines.join('\n');
      for (const token of [signup.body.defaultKey.token, created.body.token, rolled.body.token]) {
        expect(everything).not.toContain(token);
      }
    } finally {
      close();
      await keyward.close();
    }
  });
});
