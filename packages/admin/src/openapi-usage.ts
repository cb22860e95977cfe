import { keyUsageSchema, organizationUsageSchema, usageQuerySchema } from '@keyward/core/schemas';
import { z } from 'zod';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = (statuses: string[]) =>
  Object.fromEntries(statuses.map((status) => [status, { $ref: `#/components/responses/${status}` }]));

/** The usage query's parameters, from core's `usageQuerySchema` (one schema per concept). */
function usageParameters() {
  const schema = z.toJSONSchema(usageQuerySchema, { io: 'input', target: 'draft-2020-12' }) as {
    properties?: Record<string, { description?: string }>;
  };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: 'query', required: false, ...(description && { description }), schema: rest };
  });
}

/** The paths of docs/reference.md §9: `GET /{id}/usage` and `GET /usage`. */
export function usagePaths(idParameter: unknown): Record<string, unknown> {
  const parameters = usageParameters();
  const described =
    'Buckets of `granularity` (minute: kept 48 hours, hour: 90 days, day: 400 days) from `from` to `to`, ' +
    'oldest first, empty buckets included; at most 2880 buckets (400 otherwise). Counts are written by each ' +
    'app instance once per flush interval (60 s by default).';
  return {
    '/usage': {
      get: {
        operationId: 'getOrganizationUsage',
        summary:
          "The organization's verifications per bucket, admitted and refused by code, and its most used keys",
        description: described,
        parameters,
        responses: {
          '200': {
            description: 'Usage of every key, summed.',
            content: { 'application/json': { schema: ref('OrganizationUsage') } },
          },
          ...errors(['400', '401', '403', '500', '503']),
        },
      },
    },
    '/{id}/usage': {
      parameters: [idParameter],
      get: {
        operationId: 'getKeyUsage',
        summary: "A key's verifications per bucket, admitted and refused by code",
        description: `${described} Another organization's key id answers 404.`,
        parameters,
        responses: {
          '200': {
            description: "The key's usage.",
            content: { 'application/json': { schema: ref('KeyUsage') } },
          },
          ...errors(['400', '401', '403', '404', '500', '503']),
        },
      },
    },
  };
}

/** The usage components, from core's zod schemas, with references into `components.schemas`. */
export function usageComponents(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const schema of [keyUsageSchema, organizationUsageSchema]) {
    const generated = z.toJSONSchema(schema, { io: 'output', target: 'draft-2020-12' }) as {
      $defs?: Record<string, unknown>;
    };
    const defs = JSON.parse(
      JSON.stringify(generated.$defs ?? {}).replaceAll('#/$defs/', '#/components/schemas/'),
    );
    Object.assign(out, defs);
  }
  return out;
}
