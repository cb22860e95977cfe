import { readFileSync } from 'node:fs';
import { keyEventSchema, keySchema } from '@keyward/core/schemas';
import { describe, expect, it } from 'vitest';
import { renderDashboardTypes } from './dashboard-types.js';

const read = (name: string) => readFileSync(new URL(`../dashboard/${name}`, import.meta.url), 'utf8');

describe("the dashboard's Key and Event types", () => {
  it('is checked in as generated from core keySchema (run `pnpm --filter @keyward/admin gen:types`)', () => {
    expect(read('types.js')).toBe(renderDashboardTypes());
  });

  it('names every field of keySchema, token optional', () => {
    const source = renderDashboardTypes();
    for (const field of Object.keys(keySchema.shape)) {
      expect(source).toContain(field === 'token' ? ' token?: string,' : ` ${field}: `);
    }
  });

  it('names every field of keyEventSchema, the optional ones optional', () => {
    const source = renderDashboardTypes();
    const event = source.slice(source.indexOf('An audit event'));
    for (const [field, schema] of Object.entries(keyEventSchema.shape)) {
      const optional = schema.safeParse(undefined).success;
      expect(event).toContain(` ${field}${optional ? '?' : ''}: `);
    }
    expect(event).toContain("'key.used_after_roll'");
    expect(event).toContain("'key.leaked'");
    expect(event).toContain("'key.dormant_soon'");
  });

  it('is the Key and Event the API client uses', () => {
    expect(read('api.js')).toContain("@typedef {import('./types.js').Key} Key");
    expect(read('api.js')).toContain("@typedef {import('./types.js').Event} KeyEvent");
  });
});
