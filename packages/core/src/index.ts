export type { EventMaintenance, EventsOptions } from './events/event-hooks.js';
export {
  buildKeyEvent,
  copyKeyEvent,
  type EventActor,
  type EventContext,
  hourlyEventId,
  isEventId,
  KEY_EVENT_TYPES,
  type KeyEvent,
  type KeyEventType,
  MAX_EVENT_TEXT,
  newEventId,
  SYSTEM_ACTOR,
} from './events/events.js';
export { ROLL_USE_INTERVAL_MS } from './events/roll-use.js';
export { BASE62 } from './format/base62.js';
export { createTokenHasher, safeEqual, type TokenHasher } from './format/hash.js';
export { isKeyId, newKeyId } from './format/ids.js';
export {
  BODY_LENGTH,
  CHECKSUM_LENGTH,
  checksum,
  DEFAULT_PREFIX,
  generateToken,
  isValidPrefix,
  type ParsedToken,
  parseToken,
  redactToken,
  tokenPattern,
  tokenType,
} from './format/key-format.js';
export { type LegacyTokensOptions, MAX_LEGACY_TOKEN_LENGTH } from './format/legacy.js';
export { type Pepper, type PepperOption, sha256Hex } from './format/pepper.js';
export { keyStatus } from './format/status.js';
export {
  createKeyward,
  DEFAULT_KEY_NAME,
  type EventPage,
  type KeyPage,
  type KeyWithToken,
  type Keyward,
  type RecordOutcomeOptions,
} from './keyward.js';
export type { ExpiringKeysQuery } from './lifecycle/expiring.js';
export {
  IDEMPOTENCY_LOCK_MS,
  IDEMPOTENCY_TTL_MS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
} from './lifecycle/idempotency.js';
export {
  IMPORT_TOKEN_PATTERN,
  type ImportKeyInput,
  type ImportResult,
  importKeyInputSchema,
  SHA256_PATTERN,
} from './lifecycle/import-key.js';
export {
  LEAK_ACTIONS,
  type LeakAction,
  type LeakReport,
  type LeakResult,
} from './lifecycle/leak-report.js';
export type { LifetimeOptions, LifetimePolicy } from './lifecycle/lifetime.js';
export type { WriteConditions } from './lifecycle/write-path.js';
export type { KeywardOptions } from './options.js';
export { compileKeyPolicy } from './policies/key-policy.js';
export { type LimitOptions, limitsOverMax } from './policies/limit-options.js';
export { PLAN_NAME_PATTERN, type PlanDefinition, type PlansOption } from './policies/plans.js';
export type { ScopePolicy } from './policies/scopes.js';
export {
  decodeEventListCursor,
  type EventListCursor,
  encodeEventListCursor,
  type KeyEventJSON,
  keyEventSchema,
  keyEventTypeSchema,
  type ListEventsQuery,
  listEventsQuerySchema,
  serializeEvent,
} from './schemas/event-schemas.js';
export {
  keyOwnerSchema,
  MAX_META_BYTES,
  MAX_OWNER_ID_LENGTH,
  metaSchema,
  ownerFilterSchema,
  ownerTypeSchema,
  revokeOwnerInputSchema,
} from './schemas/owner-schemas.js';
export {
  allowedIpsSchema,
  allowedOriginsSchema,
  copyLimit,
  IP_OR_CIDR_PATTERN,
  isIpOrCidr,
  keyLimitSchema,
  limitsSchema,
  MAX_ALLOWED_IPS,
  MAX_ALLOWED_ORIGINS,
  MAX_LIMIT,
  MAX_LIMITS,
  MAX_WINDOW_SECONDS,
  ORIGIN_PATTERN,
} from './schemas/policy-schemas.js';
export {
  type CreateKeyInput,
  createKeyInputSchema,
  DATE_TIME_PATTERN,
  DEFAULT_GRACE_PERIOD_SECONDS,
  DEFAULT_PAGE_SIZE,
  dateTimeSchema,
  decodeKeyListCursor,
  encodeKeyListCursor,
  expiresAtSchema,
  gracePeriodSecondsSchema,
  type KeyJSON,
  type KeyListCursor,
  keyNameSchema,
  keySchema,
  keyTypeSchema,
  type ListKeysQuery,
  listKeysQuerySchema,
  MAX_GRACE_PERIOD_SECONDS,
  MAX_NAME_INPUT_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PAGE_SIZE,
  NAME_PATTERN,
  NAME_PORTABLE_PATTERN,
  planNameSchema,
  type RollKeyInput,
  rollKeyInputSchema,
  scopesSchema,
  type UpdateKeyInput,
  updateKeyInputSchema,
} from './schemas/schemas.js';
export { keyVersion, parseIfMatch, serializeKey } from './schemas/serialize.js';
export {
  type KeyUsage,
  keyUsageSchema,
  MAX_USAGE_BUCKETS,
  type OrganizationUsage,
  organizationUsageSchema,
  type UsageBucketJSON,
  type UsageQuery,
  usageBucketSchema,
  usageQuerySchema,
} from './schemas/usage-schemas.js';
export {
  DuplicateKeyError,
  ERROR_CODES,
  isKeywardError,
  KeyStoreUnavailableError,
  KeywardError,
  type KeywardErrorCode,
  type KeywardErrorOptions,
  MAX_ERROR_DETAILS,
  type ValidationDetail,
} from './shared/errors.js';
export { parseInput } from './shared/parse-input.js';
export type {
  ApiKey,
  Clock,
  KeyCreator,
  KeyLimit,
  KeyOwner,
  KeyPolicy,
  KeyStatus,
  KeyType,
  PolicyLimit,
  StoredKey,
  VerifiedKey,
  VerifyFailureCode,
  VerifyRequirements,
  VerifyResult,
} from './shared/types.js';
export {
  compareEvents,
  DEFAULT_EVENT_RETENTION_DAYS,
  type DeliveryFaults,
  type EventStoreOptions,
  matchesEventQuery,
  retentionMs,
} from './store/event-log.js';
export { escapeRegExp, matchesListQuery, matchesSearch } from './store/key-list.js';
export { MemoryKeyStore } from './store/memory-store.js';
export type {
  EventListQuery,
  ExpiringQuery,
  IdempotencyRecord,
  KeyChangeEvent,
  KeyChangeListener,
  KeyChanges,
  KeyListQuery,
  KeyStore,
  UpdateConditions,
  UpdateOptions,
  UsageBucket,
  UsageEntry,
  UsageReadQuery,
  UsageRow,
} from './store/store.js';
export type { UsageOptions } from './usage/usage.js';
export {
  bucketStart,
  GRANULARITY_MS,
  USAGE_OUTCOMES,
  USAGE_RETENTION_MS,
  type UsageGranularity,
  type UsageOutcome,
  type UsageRefusalCode,
} from './usage/usage-outcomes.js';
export type { CachedKey, VerifyCacheOptions } from './verify/cache.js';
export { createKeyLookup, type LookupHashers } from './verify/key-lookup.js';
export type { VerifyOptions } from './verify/verify.js';
