import { keySchema } from '@keyward/core';
import { z } from 'zod';

// The dashboard is plain JavaScript checked by TypeScript through JSDoc. Its `Key` type is not written by
// hand: it is rendered from core's `keySchema` (the one definition of the wire Key) into
// `dashboard/types.js` by `pnpm --filter @keyward/admin gen:types`, and a test fails when the checked-in
// file differs from what this renders.

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  description?: string;
  $ref?: string;
  $defs?: Record<string, Schema>;
};

/**
 * The source of `dashboard/types.js`: a JSDoc `@typedef` of `Key`, generated from `keySchema`.
 *
 * @example
 * fs.writeFileSync('dashboard/types.js', renderDashboardTypes());
 */
export function renderDashboardTypes(): string {
  const generated = z.toJSONSchema(keySchema, { io: 'output', target: 'draft-2020-12' }) as Schema;
  const key = generated.$defs?.Key;
  if (!key) throw new Error('Keyward admin: keySchema has no `Key` id');
  return [
    '// Generated from the `keySchema` of @keyward/core by `pnpm --filter @keyward/admin gen:types`.',
    '// Do not edit: change the schema in core and run the command again (a test compares this file).',
    '',
    '/**',
    ' * A key as the admin API answers it (contract §3 `Key`).',
    ' *',
    ` * @typedef {${typeOf(key, ' * ')}} Key`,
    ' */',
    '',
    'export {};',
    '',
  ].join('\n');
}

function typeOf(schema: Schema, indent: string): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value).replaceAll('"', "'")).join(' | ');
  if (schema.anyOf) return schema.anyOf.map((member) => typeOf(member, indent)).join(' | ');
  if (Array.isArray(schema.type))
    return schema.type.map((type) => typeOf({ ...schema, type }, indent)).join(' | ');
  switch (schema.type) {
    case 'string':
    case 'boolean':
    case 'null':
      return schema.type;
    case 'integer':
    case 'number':
      return 'number';
    case 'array':
      return `${wrap(typeOf(schema.items ?? {}, indent))}[]`;
    case 'object': {
      const required = new Set(schema.required ?? []);
      const fields = Object.entries(schema.properties ?? {}).map(
        ([name, field]) =>
          `${indent}  ${name}${required.has(name) ? '' : '?'}: ${typeOf(field, `${indent}  `)},`,
      );
      return ['{', ...fields, `${indent}}`].join('\n');
    }
    default:
      throw new Error(`Keyward admin: cannot render ${JSON.stringify(schema)} as a JSDoc type`);
  }
}

function wrap(type: string): string {
  return type.includes('|') ? `(${type})` : type;
}
