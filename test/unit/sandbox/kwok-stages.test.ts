import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { buildKwokConfig, DEFAULT_POD_STAGE_MS, parsePodStageMs, STAGE_PARALLELISM } from "../../../sandbox/runtime/kwok-stages.js";

/** A stage the way kwok's own files write one: a fixed delay plus a random jitter. */
function stage(name: string, kind: string): string {
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  resourceRef:
    apiGroup: v1
    kind: ${kind}
  delay:
    durationMilliseconds: 1000
    durationFrom:
      expressionFrom: '.metadata.annotations["${name}.stage.kwok.x-k8s.io/delay"]'
    jitterDurationMilliseconds: 5000
  next:
    statusTemplate: "{}"
`;
}

function stagesDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "eksup-kwok-stages-"));
  for (const set of ["node/fast", "node/heartbeat-with-lease", "pod/general"]) mkdirSync(join(dir, set), { recursive: true });
  writeFileSync(join(dir, "node/fast/node-heartbeat.yaml"), stage("node-heartbeat", "Node"));
  writeFileSync(join(dir, "pod/general/pod-create.yaml"), stage("pod-create", "Pod"));
  writeFileSync(join(dir, "pod/general/pod-ready.yaml"), stage("pod-ready", "Pod"));
  writeFileSync(join(dir, "pod/general/pod-delete.yaml"), stage("pod-delete", "Pod"));
  return dir;
}

interface StageDocument {
  metadata: { name: string };
  spec: { delay?: { durationMilliseconds?: number; jitterDurationMilliseconds?: number; durationFrom?: unknown } };
}

function built(podStageMs?: number): Map<string, StageDocument> {
  const dir = stagesDir();
  const output = join(dir, "kwok.yaml");
  buildKwokConfig(dir, output, podStageMs);
  const stages = parseAllDocuments(readFileSync(output, "utf8")).map((document) => document.toJS() as StageDocument & { kind: string });
  return new Map(stages.filter((entry) => entry.kind === "Stage").map((entry) => [entry.metadata.name, entry]));
}

describe("kwok stages of the sandbox", () => {
  it("gives every pod start stage the same fixed delay, and keeps the per-pod annotation override", () => {
    const stages = built(250);
    for (const name of ["pod-create", "pod-ready"]) {
      const delay = stages.get(name)?.spec.delay;
      assert.equal(delay?.durationMilliseconds, 250, name);
      assert.equal(delay?.jitterDurationMilliseconds, 250, `${name}: no random jitter`);
      assert.ok(delay?.durationFrom, `${name}: the annotation still overrides`);
    }
  });

  it("leaves node stages alone and replaces kwok's pod deletion with the sandbox's", () => {
    const stages = built(250);
    assert.deepEqual(stages.get("node-heartbeat")?.spec.delay, {
      durationMilliseconds: 1000,
      durationFrom: { expressionFrom: '.metadata.annotations["node-heartbeat.stage.kwok.x-k8s.io/delay"]' },
      jitterDurationMilliseconds: 5000,
    });
    // The sandbox's pod-delete waits exactly the grace period (its delay comes from deletionTimestamp).
    assert.equal(stages.get("pod-delete")?.spec.delay?.durationMilliseconds, 0);
  });

  it("raises kwok's stage parallelism above its default of 4, in the same file", () => {
    const dir = stagesDir();
    const output = join(dir, "kwok.yaml");
    buildKwokConfig(dir, output, 250);
    const configurations = parseAllDocuments(readFileSync(output, "utf8")).map((document) => document.toJS() as { kind: string; apiVersion: string; options?: Record<string, number> }).filter((entry) => entry.kind === "KwokConfiguration");
    assert.equal(configurations.length, 1);
    assert.equal(configurations[0].apiVersion, "config.kwok.x-k8s.io/v1alpha1");
    assert.equal(configurations[0].options?.podPlayStageParallelism, STAGE_PARALLELISM);
    assert.equal(configurations[0].options?.nodePlayStageParallelism, STAGE_PARALLELISM);
    // kwok does not default a configuration read from a file: a missing lease parallelism stops it.
    assert.equal(configurations[0].options?.nodeLeaseParallelism, 4);
    assert.ok(STAGE_PARALLELISM > 4);
  });

  it("reads SANDBOX_POD_STAGE_MS, defaulting to one second and refusing what is not a whole number of ms", () => {
    assert.equal(parsePodStageMs(undefined), DEFAULT_POD_STAGE_MS);
    assert.equal(parsePodStageMs(" "), DEFAULT_POD_STAGE_MS);
    assert.equal(parsePodStageMs("0"), 0);
    assert.equal(parsePodStageMs("250"), 250);
    assert.throws(() => parsePodStageMs("0.5"), /SANDBOX_POD_STAGE_MS must be a whole number/);
    assert.throws(() => parsePodStageMs("-1"), /SANDBOX_POD_STAGE_MS/);
    assert.throws(() => parsePodStageMs("fast"), /SANDBOX_POD_STAGE_MS/);
    assert.equal(built().get("pod-ready")?.spec.delay?.durationMilliseconds, DEFAULT_POD_STAGE_MS);
  });
});
