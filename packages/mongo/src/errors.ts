import { KeyStoreUnavailableError } from '@keyward/core';
import { DuplicateKeyError } from '@keyward/core/store';

/** Maps a driver error: duplicates become `DuplicateKeyError`, everything else `KeyStoreUnavailableError`. */
export function toStoreError(error: unknown): Error {
  const code = (error as { code?: unknown })?.code;
  if (code === 11000 || code === 11001) return new DuplicateKeyError(duplicateField(error));
  // FerretDB 1.24 (SQLite) answers a unique index violated by an update with InternalError (code 1) and
  // SQLite's message, which names the index: `UNIQUE constraint failed: index '<collection>_slot_unique'`.
  const sqlite =
    code === 1 ? SQLITE_UNIQUE.exec(String((error as { message?: unknown }).message ?? '')) : null;
  if (sqlite) return new DuplicateKeyError(indexField(sqlite[1] ?? ''));
  return error instanceof KeyStoreUnavailableError ? error : new KeyStoreUnavailableError(error);
}

/**
 * Which unique field of a key document a duplicate-key error is about: `slot_unique` is `slot`, `_id` (the
 * key id) is `id`. FerretDB 1.24 names no index; then it is `id`. (A taken hash is told by its pointer.)
 */
function duplicateField(error: unknown): 'slot' | 'id' {
  const pattern = (error as { keyPattern?: Record<string, unknown> }).keyPattern;
  const message = String((error as { message?: unknown }).message ?? '');
  const names = pattern ? Object.keys(pattern) : [/\bindex: (\S+)/.exec(message)?.[1] ?? ''];
  return names.some((name) => name === 'slot' || name === 'slot_unique') ? 'slot' : 'id';
}

const SQLITE_UNIQUE = /UNIQUE constraint failed: index '([^']*)'/;

function indexField(index: string): 'slot' | 'id' {
  return index.endsWith('slot_unique') ? 'slot' : 'id';
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
