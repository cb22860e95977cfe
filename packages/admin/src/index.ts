export { createAdminRouter } from './admin-router.js';
export { createOpenApiDocument, type OpenApiDocument } from './openapi.js';
export type { AdminRouterOptions, Authorize, AuthorizeResult } from './options.js';
export type { KeyJSON } from './serialize.js';
