/**
 * `@keyward/core/schemas`: for the admin/OpenAPI layer. The zod schema of every input and answer (one per
 * rule), the serializers of keys and events, list cursors, ETag versions and the limits the schemas
 * enforce.
 */

export type { CreditAnswer } from '../credits/credit-meter.js';
export type { CreditOptions } from '../credits/credit-options.js';
export type { PlanCredits } from '../credits/credit-policy.js';
export {
  type CreditBalanceWire,
  type CreditsInput,
  creditBalanceSchema,
  creditRefillSchema,
  creditsInputSchema,
  MAX_CREDITS,
  serializeCredits,
} from '../credits/credit-schemas.js';
export {
  DORMANT_SOON_DAYS,
  type DormancySweep,
  type DormantAfterDaysOption,
} from '../lifecycle/dormancy.js';
export {
  IDEMPOTENCY_LOCK_MS,
  IDEMPOTENCY_TTL_MS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
} from '../lifecycle/idempotency.js';
export {
  IMPORT_TOKEN_PATTERN,
  type ImportKeyInput,
  type ImportResult,
  importKeyInputSchema,
  SHA256_PATTERN,
} from '../lifecycle/import-key.js';
export type { EventPage, KeyPage } from '../operations/api.js';
export type { KeyCreditBalance } from '../operations/credits.js';
export {
  LEAK_ACTIONS,
  type LeakAction,
  type LeakReport,
  type LeakResult,
} from '../operations/leak-report.js';
export { PLAN_NAME_PATTERN } from '../policies/plans.js';
export {
  allowedIpsSchema,
  allowedOriginsSchema,
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
} from '../policies/policy-schemas.js';
export type { ScopePolicy } from '../policies/scopes.js';
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
} from '../schemas/event-schemas.js';
export {
  keyOwnerSchema,
  MAX_META_BYTES,
  MAX_OWNER_ID_LENGTH,
  metaSchema,
  ownerFilterSchema,
  ownerTypeSchema,
  revokeOwnerInputSchema,
} from '../schemas/owner-schemas.js';
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
} from '../schemas/schemas.js';
export { keyVersion, parseIfMatch, serializeKey } from '../schemas/serialize.js';
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
} from '../schemas/usage-schemas.js';
export {
  ERROR_CODES,
  type KeywardErrorCode,
  MAX_ERROR_DETAILS,
  type ValidationDetail,
} from '../shared/errors.js';
export { parseInput } from '../shared/parse-input.js';
export type { VerifyFailureCode } from '../shared/types.js';
