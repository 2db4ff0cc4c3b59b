import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ValidateFunction } from "ajv";
import { parse } from "yaml";
import type { ClusterUpgrade } from "../../../src/api/v1alpha1/types.js";
import { loadCrd, servedVersion, specSchema, type SchemaNode } from "../../../scripts/api-docs.js";
import { crdValidator, describeErrors, schemaDefaults, toJsonSchema } from "./crd-schema.js";
import { Ajv } from "ajv";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const samplesDirectory = path.join(root, "config/samples");

function loadSamples(): { file: string; object: ClusterUpgrade }[] {
  return readdirSync(samplesDirectory)
    .filter((file) => file.startsWith("eksupgrade_") && file.endsWith(".yaml"))
    .map((file) => ({ file, object: parse(readFileSync(path.join(samplesDirectory, file), "utf8")) as ClusterUpgrade }));
}

describe("config/samples against the CRD schema", () => {
  const schema = servedVersion(loadCrd()).schema.openAPIV3Schema;
  let validate: ValidateFunction;
  const samples = loadSamples();

  before(() => {
    validate = crdValidator(schema);
  });

  it("has one sample per strategy", () => {
    assert.deepEqual(samples.map((sample) => sample.object.spec.strategy).sort(), ["BlueGreen", "InPlace"]);
  });

  for (const sample of samples) {
    it(`${sample.file} validates`, () => {
      const valid = validate(sample.object);
      assert.deepEqual(describeErrors(validate.errors), []);
      assert.equal(valid, true);
    });
  }

  it("the InPlace sample shows windows, a blackout, a drain policy and node groups", () => {
    const inPlace = samples.find((sample) => sample.object.spec.strategy === "InPlace")!.object.spec;
    assert.ok(inPlace.maintenanceWindows?.length);
    assert.ok(inPlace.blackouts?.length);
    assert.ok(inPlace.drain?.timeout && inPlace.drain.onTimeout);
    assert.ok(inPlace.nodeGroups?.order?.length && inPlace.nodeGroups.managed?.length && inPlace.nodeGroups.selfManaged?.length);
  });

  it("the BlueGreen sample shows Route53, traffic steps and gates", () => {
    const blueGreen = samples.find((sample) => sample.object.spec.strategy === "BlueGreen")!.object.spec.blueGreen;
    assert.ok(blueGreen?.route53.hostedZoneId);
    assert.ok(blueGreen.trafficSteps?.length);
    assert.equal(blueGreen.trafficSteps.at(-1), 100);
    assert.ok(blueGreen.gates?.cloudWatchAlarms?.length || blueGreen.gates?.httpProbes?.length);
  });

  // The samples' own CEL constraints, checked by hand since only an API server evaluates CEL.
  it("the samples respect the cross-field rules an API server would check", () => {
    for (const { file, object } of samples) {
      const spec = object.spec;
      assert.equal(spec.strategy === "BlueGreen", spec.blueGreen !== undefined, `${file}: blueGreen iff BlueGreen`);
      const excluded = new Set(spec.nodeGroups?.exclude);
      assert.ok(!(spec.nodeGroups?.order ?? []).some((name) => excluded.has(name)), `${file}: order and exclude overlap`);
      if (spec.drain?.onTimeout === "DeletePods") assert.equal(spec.drain.allowForceDelete, true, file);
      for (const blackout of spec.blackouts ?? []) assert.ok(Date.parse(blackout.end) > Date.parse(blackout.start), file);
      const green = spec.blueGreen;
      if (green) {
        assert.notEqual(green.greenCluster.name, spec.cluster.name, file);
        assert.notEqual(green.route53.blueSetIdentifier, green.route53.greenSetIdentifier, file);
        const steps = green.trafficSteps ?? [];
        assert.ok(steps.every((step, index) => index === 0 || step > steps[index - 1]), `${file}: steps must increase`);
        if (green.blueRetention?.deleteBlue) assert.equal(green.blueRetention.scaleDown, true, file);
      }
    }
  });
});

describe("CRD schema check", () => {
  const schema = servedVersion(loadCrd()).schema.openAPIV3Schema;
  const validate = crdValidator(schema);
  const minimal = (): ClusterUpgrade => ({
    apiVersion: "eksupgrade.io/v1alpha1",
    kind: "ClusterUpgrade",
    metadata: { name: "x", namespace: "default" },
    spec: { cluster: { name: "prod" }, targetVersion: "1.31" },
  });

  it("accepts a minimal ClusterUpgrade", () => {
    assert.equal(validate(minimal()), true, describeErrors(validate.errors).join("\n"));
  });

  /** A ClusterUpgrade loosened so that a test can break it in ways the types forbid. */
  type Breakable = { spec: Record<string, unknown> };
  const refusals: { name: string; change: (object: Breakable) => void; path: string }[] = [
    { name: "a misspelt field", change: (object) => (object.spec.drian = { timeout: "5m" }), path: "/spec" },
    { name: "a target that is not a minor version", change: (object) => (object.spec.targetVersion = "1.31.2"), path: "/spec/targetVersion" },
    { name: "a missing cluster", change: (object) => delete object.spec.cluster, path: "/spec" },
    { name: "an unknown strategy", change: (object) => (object.spec.strategy = "Canary"), path: "/spec/strategy" },
    { name: "a malformed duration", change: (object) => (object.spec.drain = { timeout: "15 minutes" }), path: "/spec/drain/timeout" },
    { name: "a malformed blackout time", change: (object) => (object.spec.blackouts = [{ start: "tomorrow", end: "2027-01-01T00:00:00Z" }]), path: "/spec/blackouts/0/start" },
    { name: "too many unavailable nodes", change: (object) => (object.spec.nodeGroups = { maxUnavailable: 101 }), path: "/spec/nodeGroups/maxUnavailable" },
  ];
  for (const refusal of refusals) {
    it(`refuses ${refusal.name}`, () => {
      const object = minimal() as unknown as Breakable;
      refusal.change(object);
      assert.equal(validate(object), false);
      assert.ok(validate.errors?.some((error) => error.instancePath === refusal.path), describeErrors(validate.errors).join("\n"));
    });
  }

  it("closes status to fields it does not declare, as the API server's pruning does", () => {
    const object = { ...minimal(), status: { phase: "Pending", somethingNew: { nested: true } } };
    assert.equal(validate(object), false);
    assert.ok(validate.errors?.some((error) => error.instancePath === "/status" && error.keyword === "additionalProperties"), describeErrors(validate.errors).join("\n"));
  });

  it("has defaults that satisfy their own schema, as the API server requires", () => {
    const ajv = new Ajv({ strict: false });
    const defaults = schemaDefaults(specSchema(loadCrd()), "spec");
    assert.ok(defaults.length > 10, "the schema has fewer defaults than expected");
    for (const entry of defaults) {
      const { default: _ignored, ...withoutDefault } = entry.schema;
      const check = ajv.compile(toJsonSchema(withoutDefault as SchemaNode));
      assert.equal(check(entry.value), true, `${entry.path}: default ${JSON.stringify(entry.value)} is invalid`);
    }
  });
});
