export { BASE62 } from './base62.js';
export type { CachedKey, VerifyCacheOptions } from './cache.js';
export type { CreditAnswer } from './credits/credit-meter.js';
export type { CreditOptions } from './credits/credit-options.js';
export type { PlanCredits } from './credits/credit-policy.js';
export {
  type CreditBalanceWire,
  type CreditsInput,
  creditBalanceSchema,
  creditRefillSchema,
  creditsInputSchema,
  MAX_CREDITS,
  serializeCredits,
} from './credits/credit-schemas.js';
export type { KeyCreditBalance } from './credits/credit-service.js';
export type {
  CreditEntry,
  CreditLedgerStore,
  CreditPolicy,
  CreditRefill,
  StoredCredits,
} from './credits/credit-types.js';
export {
  DORMANT_SOON_DAYS,
  type DormancySweep,
  type DormantAfterDaysOption,
} from './dormancy.js';
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
} from './errors.js';
export type { EventMaintenance, EventsOptions } from './event-hooks.js';
export {
  compareEvents,
  DEFAULT_EVENT_RETENTION_DAYS,
  type DeliveryFaults,
  type EventStoreOptions,
  matchesEventQuery,
  retentionMs,
} from './event-log.js';
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
} from './event-schemas.js';
export {
  buildKeyEvent,
  copyKeyEvent,
  type EventActor,
  type EventContext,
  hourlyEventId,
  isEventId,
  KEY_EVENT_DETAIL_FIELDS,
  KEY_EVENT_TYPES,
  type KeyEvent,
  type KeyEventDetails,
  type KeyEventType,
  MAX_EVENT_TEXT,
  newEventId,
  SYSTEM_ACTOR,
} from './events.js';
export type { ExpiringKeysQuery } from './expiring.js';
export { createTokenHasher, safeEqual, type TokenHasher } from './hash.js';
export {
  IDEMPOTENCY_LOCK_MS,
  IDEMPOTENCY_TTL_MS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
} from './idempotency.js';
export { isKeyId, newKeyId } from './ids.js';
export {
  IMPORT_TOKEN_PATTERN,
  type ImportKeyInput,
  type ImportResult,
  importKeyInputSchema,
  SHA256_PATTERN,
} from './import-key.js';
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
} from './key-format.js';
export { escapeRegExp, matchesListQuery, matchesSearch } from './key-list.js';
export { createKeyLookup, type LookupHashers } from './key-lookup.js';
export { compileKeyPolicy } from './key-policy.js';
export {
  createKeyward,
  DEFAULT_KEY_NAME,
  type EventPage,
  type KeyPage,
  type KeyWithToken,
  type Keyward,
  type RecordOutcomeOptions,
} from './keyward.js';
export {
  LEAK_ACTIONS,
  type LeakAction,
  type LeakReport,
  type LeakResult,
} from './leak-report.js';
export { type LegacyTokensOptions, MAX_LEGACY_TOKEN_LENGTH } from './legacy.js';
export type { LifetimeOptions, LifetimePolicy } from './lifetime.js';
export { type LimitOptions, limitsOverMax } from './limit-options.js';
export { MemoryKeyStore } from './memory-store.js';
export type { KeywardOptions } from './options.js';
export {
  keyOwnerSchema,
  MAX_META_BYTES,
  MAX_OWNER_ID_LENGTH,
  metaSchema,
  ownerFilterSchema,
  ownerTypeSchema,
  revokeOwnerInputSchema,
} from './owner-schemas.js';
export { parseInput } from './parse-input.js';
export { type Pepper, type PepperOption, sha256Hex } from './pepper.js';
export { PLAN_NAME_PATTERN, type PlanDefinition, type PlansOption } from './plans.js';
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
} from './policy-schemas.js';
export { ROLL_USE_INTERVAL_MS } from './roll-use.js';
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
} from './schemas.js';
export type { ScopePolicy } from './scopes.js';
export { keyVersion, parseIfMatch, serializeKey } from './serialize.js';
export { keyStatus } from './status.js';
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
} from './store.js';
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
} from './types.js';
export type { UsageOptions } from './usage.js';
export {
  bucketStart,
  GRANULARITY_MS,
  USAGE_OUTCOMES,
  USAGE_RETENTION_MS,
  type UsageGranularity,
  type UsageOutcome,
  type UsageRefusalCode,
} from './usage-outcomes.js';
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
} from './usage-schemas.js';
export type { VerifyOptions } from './verify.js';
export type { WriteConditions } from './write-path.js';
