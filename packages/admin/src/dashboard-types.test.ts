import { readFileSync } from 'node:fs';
import { keySchema } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { renderDashboardTypes } from './dashboard-types.js';

const read = (name: string) => readFileSync(new URL(`../dashboard/${name}`, import.meta.url), 'utf8');

describe("the dashboard's Key type", () => {
  it('is checked in as generated from core keySchema (run `pnpm --filter @keyward/admin gen:types`)', () => {
    expect(read('types.js')).toBe(renderDashboardTypes());
  });

  it('names every field of keySchema, token optional', () => {
    const source = renderDashboardTypes();
    for (const field of Object.keys(keySchema.shape)) {
      expect(source).toContain(field === 'token' ? ' token?: string,' : ` ${field}: `);
    }
  });

  it('is the Key the API client uses', () => {
    expect(read('api.js')).toContain("@typedef {import('./types.js').Key} Key");
  });
});
