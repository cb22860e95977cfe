import { keyEventSchema, keySchema } from '@keyward/core/schemas';
import { z } from 'zod';
import type { JsonSchemaNode as Schema } from './json-schema.js';

// The dashboard is plain JavaScript checked by TypeScript through JSDoc. Its `Key` and `Event` types are not
// written by hand: they are rendered from core's `keySchema` and `keyEventSchema` (the one definition of
// each on the wire) into
// `dashboard/types.js` by `pnpm --filter @keyward/admin gen:types`, and a test fails when the checked-in
// file differs from what this renders.

/**
 * The source of `dashboard/types.js`: JSDoc `@typedef`s of `Key` and `Event`, generated from `keySchema`
 * and `keyEventSchema`.
 *
 * @example
 * fs.writeFileSync('dashboard/types.js', renderDashboardTypes());
 */
export function renderDashboardTypes(): string {
  return [
    '// Generated from the `keySchema` and `keyEventSchema` of @keyward/core by',
    '// `pnpm --filter @keyward/admin gen:types`.',
    '// Do not edit: change the schema in core and run the command again (a test compares this file).',
    '',
    ...typedef(keySchema, 'Key', 'A key as the admin API answers it (docs/reference.md §3 `Key`).'),
    '',
    ...typedef(
      keyEventSchema,
      'Event',
      'An audit event as `GET <admin>/events` answers it (docs/reference.md §7).',
    ),
    '',
    'export {};',
    '',
  ].join('\n');
}

/** The JSDoc block of one schema whose `.meta({ id })` is `id`. */
function typedef(schema: z.ZodType, id: string, summary: string): string[] {
  const generated = z.toJSONSchema(schema, { io: 'output', target: 'draft-2020-12' }) as Schema;
  const type = generated.$defs?.[id];
  if (!type) throw new Error(`Keyward admin: the schema has no \`${id}\` id`);
  return ['/**', ` * ${summary}`, ' *', ` * @typedef {${typeOf(type, ' * ')}} ${id}`, ' */'];
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
