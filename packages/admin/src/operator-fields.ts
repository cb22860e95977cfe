import { KeywardError } from '@keyward/core';
import type { RouteHandler } from './endpoint.js';

/**
 * Wraps the create and update routes so that only the app's operator (`authorize` answered
 * `operator: true`) sets a key's `plan` (docs/reference.md §10): a customer's body naming `plan` is refused with
 * 400 `validation_error` (path `plan`) before the service is called — a customer on a free plan must not
 * move their own key to a paid one.
 *
 * @example
 * router.patch('/:id', endpoint(context, operatorFields(updateKey)));
 */
export function operatorFields(handler: RouteHandler): RouteHandler {
  return async function operatorFields(input) {
    const body = input.body;
    if (input.operator !== true && typeof body === 'object' && body !== null && 'plan' in body) {
      throw new KeywardError('validation_error', {
        details: [{ path: 'plan', message: "Only the app's operator sets a key's plan." }],
      });
    }
    return handler(input);
  };
}
