// The frozen intent as pure functions: what is recorded, what counts as a change, what an abort acts on.
import assert from "node:assert/strict";
import { describeIntentChanges, intentChanges, intentOf, withFrozenIntent } from "../../../src/api/v1alpha1/intent.js";
import type { ClusterUpgradeSpec } from "../../../src/api/v1alpha1/types.js";

const route53 = { hostedZoneId: "Z1", recordName: "app.example.com", blueSetIdentifier: "blue", greenSetIdentifier: "green" };
const blueGreen: ClusterUpgradeSpec = {
  cluster: { name: "blue", region: "eu-west-1" },
  targetVersion: "1.31",
  strategy: "BlueGreen",
  blueGreen: { greenCluster: { name: "green", kubeconfigSecretRef: { name: "green-kubeconfig" } }, route53: { ...route53, recordType: "CNAME" }, trafficSteps: [50, 100] },
};
const at = new Date("2026-11-29T08:00:00Z");

describe("frozen intent", () => {
  it("records cluster, strategy, target and the blue/green route, nothing else", () => {
    assert.deepEqual(intentOf(blueGreen, at), {
      cluster: { name: "blue", region: "eu-west-1" },
      strategy: "BlueGreen",
      targetVersion: "1.31",
      blueGreen: { greenCluster: { name: "green" }, route53 },
      frozenAt: "2026-11-29T08:00:00.000Z",
    });
    assert.deepEqual(intentOf({ cluster: { name: "prod" }, targetVersion: "1.30" }, at), { cluster: { name: "prod" }, strategy: "InPlace", targetVersion: "1.30", frozenAt: "2026-11-29T08:00:00.000Z" });
  });

  it("sees no change in editable fields, and each frozen field that moved", () => {
    const frozen = intentOf(blueGreen, at);
    assert.deepEqual(intentChanges(frozen, { ...blueGreen, paused: true, blueGreen: { ...blueGreen.blueGreen!, trafficSteps: [100], manualApproval: true } }), []);
    assert.deepEqual(intentChanges(undefined, { ...blueGreen, targetVersion: "1.32" }), [], "nothing frozen yet");
    const moved = intentChanges(frozen, { ...blueGreen, blueGreen: { ...blueGreen.blueGreen!, greenCluster: { name: "green-2", region: "us-east-1" }, route53: { ...route53, recordName: "other.example.com" } } });
    assert.deepEqual(moved, [
      { field: "spec.blueGreen.greenCluster.name", frozen: "green", current: "green-2" },
      { field: "spec.blueGreen.greenCluster.region", frozen: "", current: "us-east-1" },
      { field: "spec.blueGreen.route53.recordName", frozen: "app.example.com", current: "other.example.com" },
    ]);
    assert.match(describeIntentChanges(moved, frozen.frozenAt), /spec\.blueGreen\.greenCluster\.region \(unset\) -> us-east-1/);
  });

  it("puts the frozen values back for an abort, keeping everything else the spec says", () => {
    const frozen = intentOf(blueGreen, at);
    const edited: ClusterUpgradeSpec = { ...blueGreen, cluster: { name: "other", kubeconfigSecretRef: { name: "k" } }, abort: true, blueGreen: { ...blueGreen.blueGreen!, route53: { ...blueGreen.blueGreen!.route53, hostedZoneId: "Z2" } } };
    const acting = withFrozenIntent(edited, frozen);
    assert.deepEqual(acting.cluster, { name: "blue", region: "eu-west-1", kubeconfigSecretRef: { name: "k" } });
    assert.equal(acting.blueGreen?.route53.hostedZoneId, "Z1");
    assert.equal(acting.blueGreen?.route53.recordType, "CNAME");
    assert.equal(acting.abort, true);
    assert.equal(withFrozenIntent(blueGreen, frozen), blueGreen, "unchanged specs are returned as they are");
    const switched = withFrozenIntent({ cluster: blueGreen.cluster, targetVersion: "1.31", strategy: "InPlace" }, frozen);
    assert.equal(switched.strategy, "BlueGreen");
    assert.deepEqual(switched.blueGreen, { greenCluster: { name: "green" }, route53 }, "a removed blueGreen block is rebuilt from the frozen route");
    const inPlace = intentOf({ cluster: { name: "prod" }, targetVersion: "1.31" }, at);
    assert.equal(withFrozenIntent({ cluster: { name: "prod" }, targetVersion: "1.31", strategy: "BlueGreen", blueGreen: blueGreen.blueGreen }, inPlace).blueGreen, undefined);
  });
});
