export { type KeyJSON, serializeKey } from '@keyward/core/schemas';
export { createAdminRouter } from './admin-router.js';
export type { DashboardOptions } from './dashboard-options.js';
export { DASHBOARD_CSP } from './dashboard-page.js';
export { createDashboardRouter } from './dashboard-router.js';
export {
  createLeakReportRouter,
  type LeakFeedback,
  type LeakReportRouterOptions,
  MAX_LEAK_REPORT_ENTRIES,
} from './leak-report/leak-report-router.js';
export { GITHUB_SECRET_SCANNING_KEYS_URL } from './leak-report/signing-keys.js';
export {
  createOpenApiDocument,
  type OpenApiDocument,
  type OpenApiOptions,
  type OpenApiScopes,
  type OpenApiSecurity,
} from './openapi.js';
export type { AdminRouterOptions, Authorize, AuthorizeResult } from './options.js';
export { createRequestGuard, type RequestGuard } from './request-guard.js';
export type { ScopeCatalogJSON } from './routes/get-scopes.js';
