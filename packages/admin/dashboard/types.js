// Generated from the `keySchema` and `keyEventSchema` of @keyward/core by
// `pnpm --filter @keyward/admin gen:types`.
// Do not edit: change the schema in core and run the command again (a test compares this file).

/**
 * A key as the admin API answers it (docs/reference.md §3 `Key`).
 *
 * @typedef {{
 *   id: string,
 *   organizationId: string,
 *   name: string,
 *   type: 'public' | 'secret',
 *   scopes: string[],
 *   redactedKey: string,
 *   token?: string,
 *   isDefault: boolean,
 *   createdAt: string,
 *   updatedAt: string,
 *   expiresAt: string | null,
 *   lastUsedAt: string | null,
 *   disabled: boolean,
 *   rolledAt: string | null,
 *   replacedBy: string | null,
 *   status: 'active' | 'rolled' | 'disabled' | 'expired',
 *   limits: ({
 *     limit: number,
 *     windowSeconds: number,
 *     per?: 'key' | 'owner' | 'organization',
 *   })[],
 *   allowedOrigins: string[],
 *   allowedIps: string[],
 *   legacy: boolean,
 *   meta: {
 *   } | null,
 *   owner: {
 *     type: 'user' | 'service',
 *     id: string,
 *   } | null,
 *   createdBy: {
 *     type: 'user' | 'api_key' | 'system',
 *     id: string,
 *   } | null,
 *   plan: string | null,
 * }} Key
 */

/**
 * An audit event as `GET <admin>/events` answers it (docs/reference.md §7).
 *
 * @typedef {{
 *   id: string,
 *   organizationId: string,
 *   type: 'key.created' | 'key.imported' | 'key.updated' | 'key.rolled' | 'key.disabled' | 'key.enabled' | 'key.deleted' | 'key.used_after_roll' | 'key.leaked' | 'key.dormant_soon',
 *   keyId: string,
 *   keyName: string,
 *   at: string,
 *   actor: {
 *     type: 'user' | 'api_key' | 'system',
 *     id: string,
 *   },
 *   ip?: string,
 *   userAgent?: string,
 *   changes?: string[],
 *   source?: string,
 *   url?: string,
 *   reason?: string,
 *   rolledFrom?: string,
 *   replacedBy?: string,
 * }} Event
 */

export {};
