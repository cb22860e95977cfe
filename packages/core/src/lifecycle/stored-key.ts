import { copyLimit } from '../policies/policy-schemas.js';
import type { KeyLimit, StoredKey } from '../shared/types.js';

/**
 * What a new stored key is built from; everything else starts at its initial value. Fields left out take
 * their defaults: `slot` and `lineageId` the key's own id, `isDefault` and `disabled` false, lists `[]`.
 */
export interface StoredKeyFields
  extends Pick<
      StoredKey,
      | 'id'
      | 'organizationId'
      | 'name'
      | 'type'
      | 'scopes'
      | 'hash'
      | 'token'
      | 'redactedKey'
      | 'createdAt'
      | 'expiresAt'
    >,
    Partial<Pick<StoredKey, 'isDefault' | 'lineageId' | 'meta' | 'owner' | 'plan' | 'createdBy'>> {
  /** The key's unique claim (docs/reference.md §2): its own id unless it takes a named one. */
  slot?: string;
  limits?: readonly KeyLimit[];
  allowedOrigins?: readonly string[];
  allowedIps?: readonly string[];
  legacy?: true;
  /** Stored disabled from its first write (an import's `disabled` row). @default false */
  disabled?: boolean;
}

/**
 * The one place a new `StoredKey` record is built (create, provision, roll, import and the test
 * fixtures): version 0, never used, not rolled nor deleted, enabled unless `disabled`; lists are copied. Optional
 * fields that are not given stay absent.
 */
export function newStoredKey(fields: StoredKeyFields): StoredKey {
  const { legacy, meta, owner, plan, createdBy } = fields;
  return {
    id: fields.id,
    organizationId: fields.organizationId,
    name: fields.name,
    type: fields.type,
    scopes: fields.scopes,
    hash: fields.hash,
    token: fields.token,
    redactedKey: fields.redactedKey,
    isDefault: fields.isDefault ?? false,
    slot: fields.slot ?? fields.id,
    createdAt: fields.createdAt,
    updatedAt: fields.createdAt,
    expiresAt: fields.expiresAt,
    lastUsedAt: null,
    disabled: fields.disabled ?? false,
    rolledAt: null,
    replacedBy: null,
    deletedAt: null,
    version: 0,
    ...(legacy && { legacy }),
    limits: (fields.limits ?? []).map((l) => copyLimit(l)),
    allowedOrigins: [...(fields.allowedOrigins ?? [])],
    allowedIps: [...(fields.allowedIps ?? [])],
    lineageId: fields.lineageId ?? fields.id,
    ...(meta !== undefined && { meta }),
    ...(owner !== undefined && { owner }),
    ...(plan !== undefined && { plan }),
    ...(createdBy !== undefined && { createdBy }),
  };
}
