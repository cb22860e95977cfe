// Test helpers (not part of the build): JSON Schema 2020-12 validators (ajv, strict, with ajv-formats) over
// the served OpenAPI document, for responses and for request bodies.
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import type { Response } from 'supertest';
import type { OpenApiDocument } from './openapi.js';

// ajv-formats is CommonJS (`module.exports = plugin`, typed as `exports.default`).
const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** An ajv holding the whole document as one schema (`openapi.json`), so `$ref`s resolve. */
function ajvFor(doc: OpenApiDocument) {
  // `unicodeRegExp: false`: every `pattern` is compiled without flags, as the document promises (a pattern
  // that needs the `u` flag fails here, as it does in Python's `re` or RE2).
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true, unicodeRegExp: false });
  addFormats(ajv);
  // The exact ECMAScript form of a rule, beside its portable `pattern`: an annotation, as tools read it.
  ajv.addKeyword({ keyword: 'x-pattern-ecmascript', schemaType: 'string' });
  // The OpenAPI members around the schemas, so that the whole document can be added as one schema.
  ajv.addVocabulary(['openapi', 'info', 'servers', 'security', 'paths', 'components']);
  ajv.addSchema(doc, 'openapi.json');
  return ajv;
}

function pointerEscape(path: string): string {
  return path.replaceAll('~', '~0').replaceAll('/', '~1');
}

type Operation = {
  requestBody?: { required?: boolean; content: Record<string, unknown> };
  responses: Record<string, { $ref?: string }>;
};

function operationOf(doc: OpenApiDocument, method: Method, path: string): Operation | undefined {
  return (doc.paths[path] as Record<string, Operation> | undefined)?.[method];
}

/**
 * Checks a real response against the document: its status is documented, its documented headers are
 * present, and its body validates against the documented schema. Returns the problems (`[]`: none).
 */
export function documentValidator(doc: OpenApiDocument) {
  const ajv = ajvFor(doc);
  return (method: Method, path: string, res: Response): string[] => {
    const response = operationOf(doc, method, path)?.responses[String(res.status)];
    if (!response) return [`${method.toUpperCase()} ${path} does not document status ${res.status}`];
    let pointer = `/paths/${pointerEscape(path)}/${method}/responses/${res.status}`;
    let resolved: { $ref?: string; content?: unknown; headers?: Record<string, unknown> } = response;
    if (response.$ref) {
      pointer = response.$ref.slice(1);
      resolved = doc.components.responses?.[response.$ref.split('/').pop() as string] as typeof resolved;
    }
    const problems = Object.keys(resolved.headers ?? {})
      .filter((name) => res.headers[name.toLowerCase()] === undefined)
      .map((name) => `the documented header ${name} is missing`);
    if (!resolved.content) {
      return res.text === '' || res.text === undefined
        ? problems
        : [...problems, `status ${res.status} documents no body but got one`];
    }
    if (!/^application\/json/.test(res.headers['content-type'] ?? ''))
      return [...problems, 'the body is not JSON'];
    const validate = ajv.getSchema(`openapi.json#${pointer}/content/application~1json/schema`);
    if (!validate) return [...problems, `no schema at ${pointer}`];
    if (validate(res.body)) return problems;
    return [...problems, ...(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)];
  };
}

/**
 * Checks a response against one of `components.responses` (e.g. the 405 a path answers for a method it
 * does not list): its headers and its body.
 */
export function componentResponseValidator(doc: OpenApiDocument, name: string) {
  const ajv = ajvFor(doc);
  const response = doc.components.responses?.[name] as { headers?: Record<string, unknown> } | undefined;
  if (!response) throw new Error(`no response component ${name}`);
  const validate = ajv.getSchema(
    `openapi.json#/components/responses/${name}/content/application~1json/schema`,
  );
  if (!validate) throw new Error(`response component ${name} has no JSON body`);
  return (res: Response): string[] => {
    const problems = Object.keys(response.headers ?? {})
      .filter((header) => res.headers[header.toLowerCase()] === undefined)
      .map((header) => `the documented header ${header} is missing`);
    if (validate(res.body)) return problems;
    return [...problems, ...(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)];
  };
}

/**
 * Whether a request body (`undefined`: none) is valid under the document for `method path`: absent
 * where `requestBody.required` is false, or valid under its JSON schema.
 */
export function requestBodyValidator(doc: OpenApiDocument, method: Method, path: string) {
  const ajv = ajvFor(doc);
  const operation = operationOf(doc, method, path);
  const pointer = `/paths/${pointerEscape(path)}/${method}/requestBody/content/application~1json/schema`;
  const validate = ajv.getSchema(`openapi.json#${pointer}`);
  if (!operation?.requestBody || !validate) throw new Error(`${method} ${path} documents no JSON body`);
  const required = operation.requestBody.required === true;
  return (body: unknown): boolean => (body === undefined ? !required : validate(body) === true);
}

/** The JSON schema of a request body, for generating bodies from the document. */
export function requestBodySchema(
  doc: OpenApiDocument,
  method: Method,
  path: string,
): Record<string, unknown> {
  const operation = operationOf(doc, method, path);
  const content = operation?.requestBody?.content['application/json'] as { schema?: Record<string, unknown> };
  if (!content?.schema) throw new Error(`${method} ${path} documents no JSON body`);
  return content.schema;
}
