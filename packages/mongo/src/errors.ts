import { DuplicateKeyError, KeyStoreUnavailableError } from '@keyward/core';

/** Maps a driver error: duplicates become `DuplicateKeyError`, everything else `KeyStoreUnavailableError`. */
export function toStoreError(error: unknown): Error {
  const code = (error as { code?: unknown })?.code;
  if (code === 11000 || code === 11001) return new DuplicateKeyError(duplicateField(error));
  return error instanceof KeyStoreUnavailableError ? error : new KeyStoreUnavailableError(error);
}

function duplicateField(error: unknown): 'hash' | 'slot' | 'id' {
  const pattern = (error as { keyPattern?: Record<string, unknown> }).keyPattern;
  const text = pattern
    ? Object.keys(pattern).join(' ')
    : String((error as { message?: unknown }).message ?? '');
  if (/hash/.test(text)) return 'hash';
  if (/slot/.test(text)) return 'slot';
  return 'id';
}

/** Rejects with `KeyStoreUnavailableError` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new KeyStoreUnavailableError(new Error(`${operation} timed out after ${ms} ms`))),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
