// Generated from the `keySchema` of @keyward/core by `pnpm --filter @keyward/admin gen:types`.
// Do not edit: change the schema in core and run the command again (a test compares this file).

/**
 * A key as the admin API answers it (contract §3 `Key`).
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
 *   limits: {
 *     limit: number,
 *     windowSeconds: number,
 *   }[],
 *   allowedOrigins: string[],
 *   allowedIps: string[],
 * }} Key
 */

export {};
