import type { ZodType } from 'zod';
import { KeywardError, MAX_ERROR_DETAILS, type ValidationDetail } from './errors.js';

/**
 * Parses `value` with one of Keyward's input schemas, or throws `validation_error` listing the problems
 * as `{ path, message }` (`path` dotted, `""` for the whole value; at most 20 of them).
 *
 * @example
 * const input = parseInput(createKeyInputSchema, body); // { name: 'CI', type: 'secret' }
 */
export function parseInput<T>(schema: ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details: ValidationDetail[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        details.push({ path: [...path, key].join('.'), message: 'Unknown field.' });
    } else {
      details.push({ path: path.join('.'), message: issue.message });
    }
    if (details.length >= MAX_ERROR_DETAILS) break;
  }
  throw new KeywardError('validation_error', { details });
}
