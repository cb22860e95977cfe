/**
 * `@keyward/core`: what an app needs (docs/reference.md). Store authors import `@keyward/core/store`, the
 * admin/OpenAPI layer `@keyward/core/schemas`, store tests `@keyward/core/testing`.
 */

export type { KeywardOptions } from './config/options.js';
export type { EventActor, EventContext, KeyEvent, KeyEventType } from './events/events.js';
export { parseToken, tokenPattern } from './format/key-format.js';
export { createKeyward, isKeyward } from './keyward.js';
export type { ImportKeyInput, ImportResult } from './lifecycle/import-key.js';
export type { WriteConditions } from './lifecycle/write-path.js';
export type { EventPage, KeyPage, KeyWithToken, Keyward } from './operations/api.js';
export type { ListEventsQuery } from './schemas/event-schemas.js';
export type { CreateKeyInput, ListKeysQuery, RollKeyInput, UpdateKeyInput } from './schemas/schemas.js';
export type { UsageQuery } from './schemas/usage-schemas.js';
export {
  ERROR_CODES,
  isKeywardError,
  KeyStoreUnavailableError,
  KeywardError,
  type KeywardErrorCode,
  type ValidationDetail,
} from './shared/errors.js';
export type {
  ApiKey,
  KeyLimit,
  KeyOwner,
  KeyPolicy,
  KeyType,
  VerifiedKey,
  VerifyRequirements,
  VerifyResult,
} from './shared/types.js';
export { MemoryKeyStore } from './store/memory-store.js';
export type { KeyStore } from './store/store.js';
export type { UsageOutcome } from './usage/usage-outcomes.js';
export type { VerifyOptions } from './verify/verify.js';
