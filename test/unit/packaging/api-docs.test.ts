import assert from "node:assert/strict";
import { ALL_CONDITION_TYPES, PHASES, Reason } from "../../../src/api/v1alpha1/types.js";
import {
  API_DOC_PATH,
  applyGeneratedSections,
  generatedSections,
  loadCrd,
  readRepositoryFile,
  servedVersion,
  specFieldRows,
  specRuleRows,
  statusFieldRows,
  type FieldRow,
} from "../../../scripts/api-docs.js";

const regenerate = "regenerate with: npx tsx scripts/api-docs.ts";

describe("docs/api.md", function () {
  this.timeout(30_000);
  const crd = loadCrd();
  const doc = readRepositoryFile(API_DOC_PATH);
  let statusRows: FieldRow[];

  before(() => {
    statusRows = statusFieldRows();
  });

  it("mentions every spec field path of the CRD", () => {
    const missing = specFieldRows(crd)
      .map((row) => row.path)
      .filter((fieldPath) => !doc.includes("`" + fieldPath + "`"));
    assert.deepEqual(missing, [], regenerate);
  });

  it("gives every spec field a meaning and states the default of every defaulted field", () => {
    const rows = specFieldRows(crd);
    assert.deepEqual(rows.filter((row) => !row.description).map((row) => row.path), [], "add a description to the CRD or a note in scripts/api-docs.ts");
    const schemaDefaults = rows.filter((row) => row.defaultValue.startsWith("`"));
    assert.ok(schemaDefaults.length > 10);
    for (const row of schemaDefaults) assert.ok(doc.includes(row.defaultValue), `${row.path}: default ${row.defaultValue} not in the docs`);
  });

  it("mentions every status field of the TypeScript API types", () => {
    const rows = statusRows;
    assert.deepEqual(rows.filter((row) => !doc.includes("`" + row.path + "`")).map((row) => row.path), [], regenerate);
    assert.deepEqual(rows.filter((row) => !row.description).map((row) => row.path), [], "add a JSDoc comment in types.ts or a note in scripts/api-docs.ts");
  });

  it("has generated sections that match the CRD and the types", () => {
    const expected = applyGeneratedSections(doc, generatedSections(crd, statusRows)).split("\n");
    const actual = doc.split("\n");
    const firstDifference = expected.findIndex((line, index) => line !== actual[index]);
    assert.ok(
      firstDifference < 0 && expected.length === actual.length,
      `docs/api.md is out of date at line ${firstDifference + 1}, expected:\n${expected[firstDifference]}\n${regenerate}`,
    );
  });

  it("quotes every validation rule message of the CRD", () => {
    const missing = specRuleRows(crd).filter((rule) => !doc.includes(rule.message));
    assert.deepEqual(missing, []);
  });

  it("documents every condition type, reason and phase", () => {
    const section = (heading: string): string => {
      const start = doc.indexOf(`\n## ${heading}\n`);
      assert.ok(start >= 0, `no section ${heading}`);
      const end = doc.indexOf("\n## ", start + 1);
      return doc.slice(start, end < 0 ? undefined : end);
    };
    const inTable = (text: string, word: string): boolean => text.includes(`| \`${word}\` |`);
    const conditions = section("Conditions");
    assert.deepEqual(ALL_CONDITION_TYPES.filter((type) => !inTable(conditions, type)), []);
    const reasons = section("Reasons");
    assert.deepEqual(Object.values(Reason).filter((reason) => !inTable(reasons, reason)), []);
    const phases = section("Phases");
    assert.deepEqual(PHASES.filter((phase) => !inTable(phases, phase)), []);
  });

  it("lists every printer column", () => {
    const columns = servedVersion(crd).additionalPrinterColumns ?? [];
    assert.ok(columns.length > 0);
    for (const column of columns) assert.ok(doc.includes(`| ${column.name} | \`${column.jsonPath}\``), column.name);
  });
});

describe("api docs generator", () => {
  it("refuses a document without the markers of a section", () => {
    assert.throws(() => applyGeneratedSections("# no markers\n", new Map([["spec-fields", "table"]])), /lacks the markers of section spec-fields/);
  });

  it("replaces only the text between markers", () => {
    const begin = "<!-- BEGIN GENERATED demo: scripts/api-docs.ts writes this table, do not edit by hand -->";
    const end = "<!-- END GENERATED demo -->";
    const before = `intro\n${begin}\nold\n${end}\noutro\n`;
    assert.equal(applyGeneratedSections(before, new Map([["demo", "new"]])), `intro\n${begin}\nnew\n${end}\noutro\n`);
  });

  it("walks arrays, maps and nested objects of a schema into field paths with types, defaults and rules", () => {
    const rows = specFieldRows({
      spec: {
        group: "example.io",
        names: { kind: "Example" },
        versions: [
          {
            name: "v1",
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    required: ["items"],
                    properties: {
                      items: {
                        type: "array",
                        maxItems: 3,
                        items: { type: "object", required: ["name"], properties: { name: { type: "string", pattern: "^a|b$" } } },
                      },
                      labels: { type: "object", additionalProperties: { type: "string" } },
                      wait: { type: "string", default: "5m", pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$" },
                    },
                    "x-kubernetes-validations": [{ rule: "true", message: "always", fieldPath: ".wait" }],
                  },
                },
              },
            },
          },
        ],
      },
    });
    const byPath = new Map(rows.map((row) => [row.path, row]));
    assert.deepEqual([...byPath.keys()], ["spec", "spec.items", "spec.items[].name", "spec.labels", "spec.wait"]);
    assert.equal(byPath.get("spec.items")?.type, "[]object");
    assert.deepEqual(byPath.get("spec.items")?.validation, ["required", "at most 3 items"]);
    assert.deepEqual(byPath.get("spec.items[].name")?.validation, ["required", "pattern `^a|b$`"]);
    assert.equal(byPath.get("spec.labels")?.type, "map[string]string");
    assert.equal(byPath.get("spec.wait")?.type, "string (duration)");
    assert.equal(byPath.get("spec.wait")?.defaultValue, "`5m`");
    assert.ok(byPath.get("spec.wait")?.validation.includes("always"));
  });
});
