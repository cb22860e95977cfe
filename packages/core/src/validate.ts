import { KeywardError, type ValidationDetail } from './errors.js';
import type { ScopePolicy } from './scopes.js';
import type { KeyType } from './types.js';

/** Input of `createKey`. */
export interface CreateKeyInput {
  /** 1–100 characters after trimming. */
  name: string;
  type: KeyType;
  /** @default all `publicScopes` for public keys, the whole catalog for secret keys */
  scopes?: readonly string[];
  /** Must be in the future. @default null (never expires) */
  expiresAt?: Date | string | number | null;
}

/** Input of `updateKey`: any subset of these fields. */
export interface UpdateKeyInput {
  name?: string;
  scopes?: readonly string[];
  expiresAt?: Date | string | number | null;
  disabled?: boolean;
}

/** The longest grace period of a roll: 7 days. */
export const MAX_GRACE_PERIOD_SECONDS = 604_800;
/** The default grace period of a roll: 12 hours. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 43_200;
export const MAX_NAME_LENGTH = 100;

/** Collects validation problems and throws them together as one `validation_error`. */
export class Checker {
  readonly details: ValidationDetail[] = [];

  add(path: string, message: string): void {
    this.details.push({ path, message });
  }

  name(value: unknown, path = 'name'): string {
    if (typeof value !== 'string') return this.fail(path, 'Must be a string.', '');
    const name = value.trim();
    if (name.length === 0) this.add(path, 'Must not be empty.');
    else if (name.length > MAX_NAME_LENGTH) this.add(path, `Must be at most ${MAX_NAME_LENGTH} characters.`);
    return name;
  }

  type(value: unknown): KeyType {
    if (value === 'public' || value === 'secret') return value;
    return this.fail('type', 'Must be "public" or "secret".', 'secret');
  }

  scopes(value: unknown, type: KeyType, policy: ScopePolicy): string[] {
    if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
      return this.fail('scopes', 'Must be an array of strings.', []);
    }
    this.details.push(...policy.check(value, type));
    return [...new Set(value)];
  }

  expiresAt(value: unknown, now: number): Date | null {
    if (value === null) return null;
    const date =
      value instanceof Date
        ? new Date(value)
        : typeof value === 'string' || typeof value === 'number'
          ? new Date(value)
          : null;
    if (
      date === null ||
      Number.isNaN(date.getTime()) ||
      (typeof value === 'string' && !ISO_DATE.test(value))
    ) {
      return this.fail('expiresAt', 'Must be an ISO-8601 date-time.', null);
    }
    if (date.getTime() <= now) this.add('expiresAt', 'Must be in the future.');
    return date;
  }

  gracePeriodSeconds(value: unknown): number {
    if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_GRACE_PERIOD_SECONDS) {
      return value as number;
    }
    return this.fail('gracePeriodSeconds', `Must be an integer from 0 to ${MAX_GRACE_PERIOD_SECONDS}.`, 0);
  }

  /** Throws `validation_error` with every problem found so far. */
  done(): void {
    if (this.details.length > 0) throw new KeywardError('validation_error', { details: this.details });
  }

  private fail<T>(path: string, message: string, placeholder: T): T {
    this.add(path, message);
    return placeholder;
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
