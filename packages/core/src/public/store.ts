/**
 * `@keyward/core/store`: for store authors. The `KeyStore` contract and its records, the one stored-key
 * factory, and the helpers a store needs to answer queries, keep events and usage, and build test keys.
 * Run `runKeyStoreConformance` from `@keyward/core/testing` against a new store.
 */

export {
  buildKeyEvent,
  copyKeyEvent,
  type EventActor,
  type EventContext,
  hourlyEventId,
  isEventId,
  KEY_EVENT_OPTIONAL_FIELDS,
  KEY_EVENT_TYPES,
  type KeyEvent,
  type KeyEventDetails,
  type KeyEventType,
  MAX_EVENT_TEXT,
  newEventId,
  optionalEventFields,
  SYSTEM_ACTOR,
} from '../events/events.js';
export { BASE62 } from '../format/base62.js';
export { createTokenHasher, safeEqual, type TokenHasher } from '../format/hash.js';
export { isKeyId, newKeyId } from '../format/ids.js';
export {
  BODY_LENGTH,
  CHECKSUM_LENGTH,
  checksum,
  DEFAULT_PREFIX,
  generateToken,
  type ParsedToken,
  parseToken,
  redactToken,
  tokenPattern,
  tokenType,
} from '../format/key-format.js';
export { type Pepper, sha256Hex } from '../format/pepper.js';
export { keyStatus } from '../format/status.js';
export { newStoredKey, type StoredKeyFields } from '../lifecycle/stored-key.js';
export { copyLimit } from '../policies/policy-schemas.js';
export type {
  CreditEntry,
  CreditLedgerStore,
  CreditPolicy,
  CreditRefill,
  StoredCredits,
} from '../shared/credit-types.js';
export { DuplicateKeyError, KeyStoreUnavailableError } from '../shared/errors.js';
export type {
  KeyCreator,
  KeyLimit,
  KeyOwner,
  KeyStatus,
  KeyType,
  PolicyLimit,
  StoredKey,
} from '../shared/types.js';
export {
  compareEvents,
  DEFAULT_EVENT_RETENTION_DAYS,
  type DeliveryFaults,
  type EventStoreOptions,
  matchesEventQuery,
  retentionMs,
} from '../store/event-log.js';
export { escapeRegExp, matchesListQuery, matchesSearch } from '../store/key-list.js';
export { MemoryKeyStore } from '../store/memory-store.js';
export type {
  EventListQuery,
  ExpiringQuery,
  IdempotencyRecord,
  KeyChangeEvent,
  KeyChangeListener,
  KeyChanges,
  KeyListQuery,
  KeyScanQuery,
  KeyStore,
  UpdateConditions,
  UpdateOptions,
  UsageBucket,
  UsageEntry,
  UsageReadQuery,
  UsageRow,
} from '../store/store.js';
export { proxyStore, type StoreProxyOptions } from '../store/store-proxy.js';
export {
  bucketStart,
  GRANULARITY_MS,
  USAGE_OUTCOMES,
  USAGE_RETENTION_MS,
  type UsageGranularity,
  type UsageOutcome,
  type UsageRefusalCode,
} from '../usage/usage-outcomes.js';
