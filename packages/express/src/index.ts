export type { VerifiedKey } from '@keyward/core';
export { type ApiKeyAuthOptions, apiKeyAuth } from './api-key-auth.js';
export { type ApiKeyCorsOptions, apiKeyCors } from './api-key-cors.js';
export { CounterMemoryStore } from './counter-store.js';
export { CREDITS_REMAINING_HEADER, type CreditCost } from './credits.js';
export { keywardErrorHandler } from './error-handler.js';
export { createKeyLimiter, type KeyLimiter, type KeyLimiterOptions } from './key-limiter.js';
export {
  type ApiKeyOpenApiComponents,
  type ApiKeyOpenApiOptions,
  apiKeyOpenApiComponents,
} from './openapi-components.js';
export type {
  AuthErrorHandler,
  GuardOptions,
  KeyGetter,
  KeySourceOptions,
  RouteRequirements,
} from './options.js';
export { type RequireScopesOptions, requireScopes } from './require-scopes.js';
export { requireSecretKey } from './require-secret-key.js';
