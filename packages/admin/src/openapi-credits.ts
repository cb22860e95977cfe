import { creditBalanceSchema, creditsInputSchema } from '@keyward/core/schemas';
import { z } from 'zod';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = (statuses: string[]) =>
  Object.fromEntries(statuses.map((status) => [status, { $ref: `#/components/responses/${status}` }]));

const answer = (description: string, nullable: boolean) => ({
  description,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['data'],
        additionalProperties: false,
        properties: { data: nullable ? { anyOf: [ref('KeyCredits'), { type: 'null' }] } : ref('KeyCredits') },
      },
    },
  },
});

/** The paths of docs/reference.md §10's credits: `GET`, `PUT` and `DELETE /{id}/credits`. */
export function creditPaths(idParameter: unknown): Record<string, unknown> {
  const operatorOnly =
    "Only the app's operator (`authorize` answered `operator: true`) may call it; customers get 403.";
  return {
    '/{id}/credits': {
      parameters: [idParameter],
      get: {
        operationId: 'getKeyCredits',
        summary: "A key's credits: the balance now, its refill and when it falls",
        description:
          "Each request the key makes spends its route's cost; at zero the API answers 429 `credits_exhausted`. `data` is `null` when the key has no credits (own or from its plan).",
        responses: {
          '200': answer("The key's credits.", true),
          ...errors(['401', '403', '404', '500', '503']),
        },
      },
      put: {
        operationId: 'setKeyCredits',
        summary: "Sets a key's own credits, starting afresh from `remaining`",
        description: `Records \`key.updated\` with \`changes: ["credits"]\`. ${operatorOnly}`,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('KeyCreditsInput') } },
        },
        responses: {
          '200': answer("The key's credits.", false),
          ...errors(['400', '401', '403', '404', '409', '413', '415', '429', '500', '503']),
        },
      },
      delete: {
        operationId: 'removeKeyCredits',
        summary: "Removes a key's own credits (it then spends its plan's, if any)",
        description: operatorOnly,
        responses: {
          '200': answer("The key's credits now (its plan's), or `null`.", true),
          ...errors(['401', '403', '404', '409', '429', '500', '503']),
        },
      },
    },
  };
}

/** The credits components, from core's zod schemas (one schema per concept). */
export function creditComponents(): Record<string, unknown> {
  const output = z.toJSONSchema(creditBalanceSchema, { io: 'output', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  const input = z.toJSONSchema(creditsInputSchema.unwrap(), {
    io: 'input',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  const { $schema: _a, ...balance } = output;
  const { $schema: _b, ...setting } = input;
  return { KeyCredits: balance, KeyCreditsInput: setting };
}
