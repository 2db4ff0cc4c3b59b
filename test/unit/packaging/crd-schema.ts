// Turns the CRD's structural OpenAPI v3 schema into a JSON Schema that Ajv can check objects
// against, the way the API server would, apart from CEL rules (x-kubernetes-validations), which
// only a real API server evaluates.

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { SchemaNode } from "../../../scripts/api-docs.js";

type JsonSchema = Record<string, unknown>;

/** RFC 3339 date-time, as Kubernetes accepts it (a time zone is required). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The API server drops unknown fields of a structural schema (and kubectl's default strict field
 * validation refuses them). Refusing them here makes a misspelt field in a sample fail the test
 * instead of silently vanishing, so every object with declared properties is closed, unless it
 * preserves unknown fields or declares its own additionalProperties.
 */
export function toJsonSchema(node: SchemaNode, options: { closeObjects: boolean } = { closeObjects: true }): JsonSchema {
  const result: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-kubernetes-")) continue;
    if (key === "properties") {
      result.properties = Object.fromEntries(
        Object.entries(value as Record<string, SchemaNode>).map(([name, child]) => [name, toJsonSchema(child, options)]),
      );
    } else if (key === "items") {
      result.items = toJsonSchema(value as SchemaNode, options);
    } else if (key === "additionalProperties" && typeof value === "object") {
      result.additionalProperties = toJsonSchema(value as SchemaNode, options);
    } else {
      result[key] = value;
    }
  }
  const preservesUnknown = node["x-kubernetes-preserve-unknown-fields"] === true;
  if (options.closeObjects && node.type === "object" && node.properties && !preservesUnknown && node.additionalProperties === undefined) {
    result.additionalProperties = false;
  }
  return result;
}

export function crdValidator(openApiSchema: SchemaNode): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  ajv.addFormat("date-time", DATE_TIME);
  ajv.addFormat("int64", { type: "number", validate: (value: number) => Number.isSafeInteger(value) });
  return ajv.compile(toJsonSchema(openApiSchema));
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""} ${JSON.stringify(error.params)}`);
}

/** Every default in the schema, with the subschema it must satisfy (the API server requires it). */
export function schemaDefaults(node: SchemaNode, nodePath = ""): { path: string; value: unknown; schema: SchemaNode }[] {
  const found: { path: string; value: unknown; schema: SchemaNode }[] = [];
  if (node.default !== undefined) found.push({ path: nodePath, value: node.default, schema: node });
  for (const [name, child] of Object.entries(node.properties ?? {})) found.push(...schemaDefaults(child, `${nodePath}.${name}`));
  if (node.items) found.push(...schemaDefaults(node.items, `${nodePath}[]`));
  return found;
}
