import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadCrd, servedVersion, statusFieldRows, type SchemaNode } from "../../../scripts/api-docs.js";
import { fullStatus } from "../../support/full-status.js";
import { crdValidator, describeErrors } from "./crd-schema.js";
import { compareShapes, statusShapeFromCrd, statusShapeFromTypes, type Shape } from "./status-shape.js";

function crdStatusSchema(): SchemaNode {
  const status = servedVersion(loadCrd()).schema.openAPIV3Schema.properties?.status;
  assert.ok(status, "the CRD schema has no status");
  return status;
}

/** Every path a JSON value fills in, written like the shape's paths ("[]" for list items). */
function filledPaths(value: unknown, valuePath: string, into: Set<string>): Set<string> {
  into.add(valuePath);
  if (Array.isArray(value)) for (const item of value) filledPaths(item, `${valuePath}[]`, into);
  else if (typeof value === "object" && value !== null) {
    for (const [key, child] of Object.entries(value)) filledPaths(child, `${valuePath}.${key}`, into);
  }
  return into;
}

describe("the CRD's status schema against src/api/v1alpha1/types.ts", function () {
  this.timeout(30_000);
  let fromTypes: Shape;

  before(() => {
    fromTypes = statusShapeFromTypes();
  });

  it("is structural all the way down: every node typed, no undeclared fields kept", () => {
    const { problems } = statusShapeFromCrd(crdStatusSchema());
    assert.deepEqual(problems, []);
  });

  it("declares every field of ClusterUpgradeStatus with its type, its enum and whether it is required, and nothing else", () => {
    const { shape } = statusShapeFromCrd(crdStatusSchema());
    assert.ok(fromTypes.size > 200, `only ${fromTypes.size} status paths read from the types`);
    assert.deepEqual(compareShapes(fromTypes, shape), []);
  });

  it("describes every status field as the types' doc comments (and docs/api.md) do", () => {
    const expected = new Map(statusFieldRows().map((row) => [row.path, row.description]));
    const mismatched: string[] = [];
    const visit = (node: SchemaNode, nodePath: string): void => {
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        const childPath = `${nodePath}.${name}`;
        if (child.description !== expected.get(childPath)) {
          mismatched.push(`${childPath}: CRD ${JSON.stringify(child.description)}, types ${JSON.stringify(expected.get(childPath))}`);
        }
        visit(child, childPath);
      }
      if (node.items) visit(node.items, `${nodePath}[]`);
    };
    visit(crdStatusSchema(), "status");
    assert.deepEqual(mismatched, []);
  });

  describe("the comparison", () => {
    it("reports a field the CRD lost, which the API server would silently drop", () => {
      const schema = structuredClone(crdStatusSchema());
      const hopProperties = schema.properties?.hops?.items?.properties;
      assert.ok(hopProperties?.stage);
      delete hopProperties.stage;
      const differences = compareShapes(fromTypes, statusShapeFromCrd(schema).shape);
      assert.deepEqual(differences, [
        "status.hops[].stage: in the types (string one of Addons, ControlPlane, Done, LateAddons, NodeGroups) but not in the CRD, so the API server would drop it",
      ]);
    });

    it("reports a changed enum, a wrong type and a field only the CRD has", () => {
      const schema = structuredClone(crdStatusSchema());
      const cutover = schema.properties?.cutover;
      assert.ok(cutover?.properties?.state?.enum && cutover.properties.step);
      cutover.properties.state.enum = cutover.properties.state.enum.filter((value) => value !== "Aborted");
      cutover.properties.step.type = "string";
      cutover.properties.leftover = { type: "string" };
      const differences = compareShapes(fromTypes, statusShapeFromCrd(schema).shape);
      assert.equal(differences.length, 3, differences.join("\n"));
      assert.match(differences[0] ?? "", /^status\.cutover\.state: the types say string one of .*Aborted.*, the CRD says string one of /);
      assert.match(differences[1] ?? "", /^status\.cutover\.step: the types say integer, required, the CRD says string, required$/);
      assert.match(differences[2] ?? "", /^status\.cutover\.leftover: in the CRD \(string\) but not in the types$/);
    });

    it("reports a field a new version of the types adds, and a field that became optional", () => {
      const directory = mkdtempSync(path.join(tmpdir(), "status-types-"));
      try {
        const typesFile = path.join(directory, "types.ts");
        writeFileSync(
          typesFile,
          [
            "export interface Inner { when?: string; count: number; flags: boolean[] }",
            "export interface ClusterUpgradeStatus { phase: \"A\" | \"B\"; inner?: Inner[]; added?: string }",
          ].join("\n"),
        );
        const schema: SchemaNode = {
          type: "object",
          required: ["phase"],
          properties: {
            phase: { type: "string", enum: ["A", "B"] },
            inner: {
              type: "array",
              items: { type: "object", required: ["count", "flags"], properties: { when: { type: "string" }, count: { type: "integer" }, flags: { type: "array", items: { type: "boolean" } } } },
            },
          },
        };
        assert.deepEqual(compareShapes(statusShapeFromTypes(typesFile), statusShapeFromCrd(schema).shape), [
          "status.added: in the types (string) but not in the CRD, so the API server would drop it",
        ]);
        schema.properties = { ...schema.properties, added: { type: "string" } };
        schema.required = [];
        assert.deepEqual(compareShapes(statusShapeFromTypes(typesFile), statusShapeFromCrd(schema).shape), [
          "status.phase: the types say string one of A, B, required, the CRD says string one of A, B",
        ]);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });

    it("refuses a schema that keeps unknown fields or leaves a node untyped", () => {
      const { problems } = statusShapeFromCrd({
        type: "object",
        properties: { hops: { type: "array", items: { type: "object", "x-kubernetes-preserve-unknown-fields": true } }, loose: {} },
      });
      assert.deepEqual(problems, [
        "status.hops[]: x-kubernetes-preserve-unknown-fields keeps undeclared fields; declare them",
        "status.hops[]: an object without properties",
        "status.loose: no type (or an unknown one: undefined)",
      ]);
    });
  });

  describe("the full status fixture (test/support/full-status.ts)", () => {
    it("fills in every path of the types, so that a round trip through the API server covers them all", () => {
      const filled = filledPaths(fullStatus(), "status", new Set());
      assert.deepEqual([...fromTypes.keys()].filter((shapePath) => !filled.has(shapePath)), []);
    });

    it("is valid against the CRD, and a field the types do not declare is not", () => {
      const validate = crdValidator(servedVersion(loadCrd()).schema.openAPIV3Schema);
      const object = { apiVersion: "eksupgrade.io/v1alpha1", kind: "ClusterUpgrade", metadata: { name: "prod", namespace: "default" }, spec: { cluster: { name: "prod" }, targetVersion: "1.31" } };
      assert.equal(validate({ ...object, status: fullStatus() }), true, describeErrors(validate.errors).join("\n"));
      const status = fullStatus();
      const hop = status.hops?.[0];
      assert.ok(hop);
      Object.assign(hop, { somethingNew: true });
      assert.equal(validate({ ...object, status }), false);
      assert.ok(validate.errors?.some((error) => error.instancePath === "/status/hops/0" && error.keyword === "additionalProperties"), describeErrors(validate.errors).join("\n"));
    });
  });
});
