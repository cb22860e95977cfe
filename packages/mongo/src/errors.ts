import { DuplicateKeyError, KeyStoreUnavailableError } from '@keyward/core';

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
 * Which unique field a duplicate-key error is about: `_id` (the hash) is `hash`, `key_id_unique` is `id`,
 * `slot_unique` is `slot`. FerretDB 1.24 names no index; then it is `id`.
 */
function duplicateField(error: unknown): 'hash' | 'slot' | 'id' {
  const pattern = (error as { keyPattern?: Record<string, unknown> }).keyPattern;
  const message = String((error as { message?: unknown }).message ?? '');
  const names = pattern ? Object.keys(pattern) : [/\bindex: (\S+)/.exec(message)?.[1] ?? ''];
  for (const name of names) {
    if (name === 'keyId' || name === 'key_id_unique') return 'id';
    if (name === 'slot' || name === 'slot_unique') return 'slot';
    if (name === '_id' || name === '_id_') return 'hash';
  }
  return 'id';
}

const SQLITE_UNIQUE = /UNIQUE constraint failed: index '([^']*)'/;

function indexField(index: string): 'hash' | 'slot' | 'id' {
  if (index.endsWith('slot_unique')) return 'slot';
  if (index.endsWith('key_id_unique')) return 'id';
  return 'hash';
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
