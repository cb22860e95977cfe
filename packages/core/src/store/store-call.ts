import { DuplicateKeyError, isKeywardError, KeyStoreUnavailableError } from '../shared/errors.js';
import { log } from '../shared/logger.js';

/** Runs a store call; any fault that is not ours becomes `KeyStoreUnavailableError` (503). */
export async function storeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isKeywardError(error) || error instanceof DuplicateKeyError) throw error;
    log('store %s failed: %s', operation, error instanceof Error ? error.name : typeof error);
    throw new KeyStoreUnavailableError(error);
  }
}
