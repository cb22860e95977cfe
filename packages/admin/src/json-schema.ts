/**
 * The part of a JSON Schema (as zod's `toJSONSchema` writes it) that the admin package reads back: the
 * dashboard's generated types and the differential tests walk the same shape.
 */
export type JsonSchemaNode = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  examples?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  description?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchemaNode>;
};
