// The shape of ClusterUpgradeStatus as two independent readings: one from the TypeScript types
// (what the operator writes) and one from the CRD's status schema (what the API server keeps).
// The API server prunes every field its structural schema does not declare, so a field missing
// from the CRD would vanish from status without an error; comparing the two readings path by path
// catches that before a cluster does.

import path from "node:path";
import ts from "typescript";
import { REPOSITORY_ROOT, TYPES_PATH, type SchemaNode } from "../../../scripts/api-docs.js";

/** One node of the status tree: a property, or "[]" for the items of a list. */
export interface ShapeNode {
  /** integer covers TypeScript's number: every number in status counts something or is a weight. */
  type: "string" | "integer" | "boolean" | "object" | "array";
  /** The allowed values, sorted, when the type is a union of string literals. */
  enum?: string[];
  /** The property is not optional (meaningless for list items). */
  required: boolean;
}

export type Shape = Map<string, ShapeNode>;

// ---- from the TypeScript types -------------------------------------------------------------------

function nonUndefinedMembers(type: ts.Type): ts.Type[] {
  const members = type.isUnion() ? type.types : [type];
  return members.filter((member) => !(member.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
}

function walkType(type: ts.Type, nodePath: string, required: boolean, checker: ts.TypeChecker, shape: Shape): void {
  const members = nonUndefinedMembers(type);
  const [single] = members;
  if (members.length > 0 && members.every((member) => member.flags & ts.TypeFlags.BooleanLiteral)) {
    shape.set(nodePath, { type: "boolean", required });
    return;
  }
  if (members.length > 0 && members.every((member) => member.isStringLiteral())) {
    const values = members.map((member) => (member.isStringLiteral() ? member.value : "")).sort();
    shape.set(nodePath, { type: "string", enum: values, required });
    return;
  }
  if (members.length !== 1 || !single) {
    throw new Error(`${nodePath}: a union of ${checker.typeToString(type)} has no structural schema; give it one type`);
  }
  if (single.flags & ts.TypeFlags.String) {
    shape.set(nodePath, { type: "string", required });
  } else if (single.flags & ts.TypeFlags.Number) {
    shape.set(nodePath, { type: "integer", required });
  } else if (checker.isArrayType(single)) {
    shape.set(nodePath, { type: "array", required });
    const [element] = checker.getTypeArguments(single as ts.TypeReference);
    if (!element) throw new Error(`${nodePath}: an array without an element type`);
    walkType(element, `${nodePath}[]`, false, checker, shape);
  } else if (single.flags & ts.TypeFlags.Object && single.getCallSignatures().length === 0) {
    if (checker.getIndexInfosOfType(single).length > 0) {
      throw new Error(`${nodePath}: an index signature (a map) is not supported by this comparison; declare its properties`);
    }
    const properties = checker.getPropertiesOfType(single);
    if (properties.length === 0) throw new Error(`${nodePath}: an object type without properties`);
    shape.set(nodePath, { type: "object", required });
    for (const property of properties) {
      const declaration = property.valueDeclaration ?? property.declarations?.[0];
      if (!declaration) throw new Error(`${nodePath}.${property.name}: no declaration`);
      const optional = (property.flags & ts.SymbolFlags.Optional) !== 0;
      walkType(checker.getTypeOfSymbolAtLocation(property, declaration), `${nodePath}.${property.name}`, !optional, checker, shape);
    }
  } else {
    throw new Error(`${nodePath}: ${checker.typeToString(single)} has no JSON equivalent in a structural schema`);
  }
}

/** Every path of ClusterUpgradeStatus in the given types file, as the operator writes it. */
export function statusShapeFromTypes(typesFile: string = path.join(REPOSITORY_ROOT, TYPES_PATH)): Shape {
  const program = ts.createProgram([typesFile], { strict: true, noEmit: true, lib: ["lib.es2022.d.ts"], types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(typesFile);
  if (!source) throw new Error(`reading ${typesFile}`);
  const statusInterface = source.statements.find(
    (statement): statement is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(statement) && statement.name.text === "ClusterUpgradeStatus",
  );
  if (!statusInterface) throw new Error(`${typesFile} declares no ClusterUpgradeStatus`);
  const shape: Shape = new Map();
  walkType(checker.getTypeAtLocation(statusInterface), "status", false, checker, shape);
  return shape;
}

// ---- from the CRD ---------------------------------------------------------------------------------

const SCHEMA_TYPES = new Set(["string", "integer", "number", "boolean", "object", "array"]);

function walkSchema(node: SchemaNode, nodePath: string, required: boolean, shape: Shape, problems: string[]): void {
  if (node["x-kubernetes-preserve-unknown-fields"]) problems.push(`${nodePath}: x-kubernetes-preserve-unknown-fields keeps undeclared fields; declare them`);
  if (node.additionalProperties !== undefined) problems.push(`${nodePath}: additionalProperties has no counterpart in the types`);
  if (!node.type || !SCHEMA_TYPES.has(node.type)) {
    problems.push(`${nodePath}: no type (or an unknown one: ${String(node.type)})`);
    return;
  }
  // The types cannot tell an integer from a fraction; integer is what the operator writes.
  const type = (node.type === "number" ? "integer" : node.type) as ShapeNode["type"];
  const enumValues = node.enum?.map(String).sort();
  shape.set(nodePath, { type, ...(enumValues ? { enum: enumValues } : {}), required });
  if (type === "object") {
    if (!node.properties || Object.keys(node.properties).length === 0) problems.push(`${nodePath}: an object without properties`);
    const requiredNames = new Set(node.required ?? []);
    for (const name of requiredNames) {
      if (!node.properties?.[name]) problems.push(`${nodePath}: requires ${name}, which it does not declare`);
    }
    for (const [name, child] of Object.entries(node.properties ?? {})) walkSchema(child, `${nodePath}.${name}`, requiredNames.has(name), shape, problems);
  } else if (type === "array") {
    if (!node.items) problems.push(`${nodePath}: a list without items`);
    else walkSchema(node.items, `${nodePath}[]`, false, shape, problems);
  }
}

/** Every path of the CRD's status schema, with what keeps it from being structural. */
export function statusShapeFromCrd(statusSchema: SchemaNode): { shape: Shape; problems: string[] } {
  const shape: Shape = new Map();
  const problems: string[] = [];
  walkSchema(statusSchema, "status", false, shape, problems);
  return { shape, problems };
}

// ---- comparison -----------------------------------------------------------------------------------

function describeNode(node: ShapeNode): string {
  return `${node.type}${node.enum ? ` one of ${node.enum.join(", ")}` : ""}${node.required ? ", required" : ""}`;
}

/** What differs between the types and the CRD, one line per path; empty when they agree. */
export function compareShapes(fromTypes: Shape, fromCrd: Shape): string[] {
  const differences: string[] = [];
  for (const [nodePath, typed] of fromTypes) {
    const declared = fromCrd.get(nodePath);
    if (!declared) {
      differences.push(`${nodePath}: in the types (${describeNode(typed)}) but not in the CRD, so the API server would drop it`);
    } else if (describeNode(typed) !== describeNode(declared)) {
      differences.push(`${nodePath}: the types say ${describeNode(typed)}, the CRD says ${describeNode(declared)}`);
    }
  }
  for (const [nodePath, declared] of fromCrd) {
    if (!fromTypes.has(nodePath)) differences.push(`${nodePath}: in the CRD (${describeNode(declared)}) but not in the types`);
  }
  return differences;
}
