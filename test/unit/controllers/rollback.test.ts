// Verification after each hop and the rollback of the last control-plane hop, against fake EKS
// and CloudWatch ports, an in-memory store and a fake clock.
import assert from "node:assert/strict";
import { API_VERSION, KIND, type ClusterUpgrade, type ClusterUpgradeSpec } from "../../../src/api/v1alpha1/types.js";
import { ClusterUpgradeController, type ReconcileOutcome } from "../../../src/controllers/clusterupgrade/controller.js";
import { FakeClock } from "../../../src/util/clock.js";
import { createSilentLogger } from "../../../src/util/logger.js";
import { ValidationError } from "../../../src/util/errors.js";
import { drivePasses } from "../../support/drive.js";
import { healthyWorld } from "../../support/fakes/cloud.js";
import { FakeCluster } from "../../support/fakes/cluster.js";
import { MemoryStore, RecordingEvents } from "../../support/fakes/store.js";
import type { FakeCloudWatch } from "../../support/fakes/traffic.js";

function world(spec: Partial<ClusterUpgradeSpec>, target = "1.31") {
  const cloud = healthyWorld("1.29");
  const store = new MemoryStore();
  const events = new RecordingEvents();
  const clock = new FakeClock(Date.parse("2026-11-22T12:00:00Z"));
  store.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name: "upgrade", namespace: "default" }, spec: { cluster: { name: "prod" }, targetVersion: target, ...spec } });
  const options: ConstructorParameters<typeof ClusterUpgradeController>[0] = {
    store,
    events,
    cloud: () => cloud.ports,
    workloads: () => Promise.resolve(new FakeCluster(cloud.snapshot, new Map(), [])),
    clock,
    logger: createSilentLogger(),
    defaultRegion: "us-east-1",
    timings: { claimSettleMs: 0 },
  };
  let controller = new ClusterUpgradeController(options);
  const object = (): ClusterUpgrade => store.current("default", "upgrade");
  return {
    ...cloud,
    alarms: cloud.ports.cloudwatch as FakeCloudWatch,
    store,
    events,
    clock,
    object,
    condition: (type: string) => object().status?.conditions?.find((condition) => condition.type === type),
    restart: () => (controller = new ClusterUpgradeController(options)),
    edit: (change: (upgrade: ClusterUpgrade) => void) => store.editSpec("default", "upgrade", change),
    /** Runs passes, moving the clock by each requeue, until none is asked, `until` holds, or `limit` passes. */
    async drive(limit = 300, until?: (upgrade: ClusterUpgrade) => boolean): Promise<ReconcileOutcome> {
      return drivePasses(() => controller.reconcile("default", "upgrade"), (ms) => clock.advance(ms), object, limit, until);
    },
    /** The start calls in order: cp-<version>, node group or add-on name with its version. */
    starts(): string[] {
      return cloud.eks.calls
        .filter((call) => call.method.startsWith("start") && call.method !== "startNodegroupScalingUpdate")
        .map((call) => {
          const args = call.args[0] as { version?: string; addonName?: string; nodegroupName?: string };
          return args.addonName ? `${args.addonName} ${args.version}` : args.nodegroupName ? `${args.nodegroupName} ${args.version}` : `cp-${args.version}`;
        });
    },
  };
}

const alarmGate = { cloudWatchAlarms: ["api-5xx"], checkInterval: "10s", failureThreshold: 2 };

describe("verification after each hop (spec.verification)", () => {
  it("reads the gates after each hop's control plane and node groups, and records when they passed", async () => {
    const w = world({ verification: alarmGate });
    w.alarms.alarms.set("api-5xx", "OK");
    await w.drive();
    assert.equal(w.object().status?.phase, "Succeeded");
    for (const hop of w.object().status?.hops ?? []) {
      assert.ok(hop.controlPlaneVerifiedAt, `hop ${hop.version} verified after its control plane`);
      assert.ok(hop.nodeGroupsVerifiedAt, `hop ${hop.version} verified after its node groups`);
    }
    assert.equal(w.condition("Verified")?.reason, "GatesPassed");
    assert.equal(w.events.reasons().filter((reason) => reason === "Verified").length, 4);
  });

  it("holds the upgrade after a failed gate, naming it, with the nodes on the old version; goes on once it passes (policy Manual)", async () => {
    const w = world({ verification: alarmGate }, "1.30");
    w.alarms.alarms.set("api-5xx", "ALARM");
    await w.drive(30);
    assert.deepEqual(w.starts(), ["cp-1.30"], "nothing moved after the control plane");
    assert.equal(w.eks.nodegroups.get("workers")?.version, "1.29");
    const verified = w.condition("Verified");
    assert.equal(verified?.status, "False");
    assert.equal(verified?.reason, "VerificationFailed");
    assert.match(verified?.message ?? "", /CloudWatchAlarm api-5xx: ALARM/);
    assert.match(verified?.message ?? "", /spec\.rollback\.requested/);
    assert.equal(w.object().status?.verification?.failing, "CloudWatchAlarm api-5xx: ALARM");
    assert.equal(w.object().status?.rollback, undefined, "Manual: no rollback by itself");
    w.alarms.alarms.set("api-5xx", "OK");
    await w.drive();
    assert.equal(w.object().status?.phase, "Succeeded");
  });
});

describe("rollback of the last control-plane hop (spec.rollback)", () => {
  it("with policy Automatic, a gate failing after hop 1's control plane takes the control plane back; the nodes never moved", async () => {
    const w = world({ verification: alarmGate, rollback: { policy: "Automatic" } });
    w.alarms.alarms.set("api-5xx", "ALARM");
    await w.drive();
    const status = w.object().status!;
    assert.equal(status.phase, "RolledBack");
    assert.equal(w.eks.clusters.get("prod")?.version, "1.29");
    assert.equal(w.eks.nodegroups.get("workers")?.version, "1.29");
    assert.deepEqual(w.starts(), ["cp-1.30", "cp-1.29"]);
    assert.equal(status.rollback?.state, "RolledBack");
    assert.equal(status.rollback?.trigger, "Automatic");
    assert.match(status.rollback?.reason ?? "", /api-5xx: ALARM/);
    assert.equal(w.condition("RolledBack")?.status, "True");
    assert.equal(w.condition("Ready")?.reason, "RolledBack");
    const rollbackUpdate = w.eks.calls.find((call) => call.method === "startClusterVersionUpdate" && (call.args[0] as { version: string }).version === "1.29");
    assert.equal((rollbackUpdate?.args[0] as { force: boolean }).force, false);
    assert.ok(w.events.reasons().includes("RollbackStarted") && w.events.reasons().includes("RolledBack"));
    assert.equal(w.condition("Claimed")?.reason, "ClaimsReleased");
  });

  it("on spec.rollback.requested after the nodes moved: node groups first, then add-ons, then the control plane", async () => {
    const w = world({}, "1.30");
    w.eks.nodegroups.get("workers")!.releaseVersion = "1.29.5-20250101";
    await w.drive();
    assert.deepEqual(w.object().status?.nodeGroups?.find((group) => group.name === "workers")?.previousRelease, { releaseVersion: "1.29.5-20250101" });
    assert.equal(w.object().status?.phase, "Succeeded");
    const forward = w.starts().length;
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.drive();
    // The fake catalog has no add-on version for both minors: every add-on goes back after the control plane.
    assert.deepEqual(w.starts().slice(forward), ["workers 1.29", "cp-1.29", "coredns v1.11.0-eksbuild.1", "kube-proxy v1.29.0-eksbuild.1", "vpc-cni v1.18.0-eksbuild.1"]);
    assert.equal(w.object().status?.phase, "RolledBack");
    assert.equal(w.object().status?.currentVersion, "1.29");
    const groupBack = w.eks.calls.filter((call) => call.method === "startNodegroupVersionUpdate").at(-1)?.args[0] as { version?: string; releaseVersion?: string };
    assert.deepEqual([groupBack.version, groupBack.releaseVersion], ["1.29", "1.29.5-20250101"], "back to the release it had before");
    assert.deepEqual(w.object().status?.rollback?.items?.map((item) => [item.kind, item.name, item.fromVersion, item.toVersion, item.state]), [
      ["NodeGroup", "workers", "1.30", "1.29", "Succeeded"],
      ["Addon", "coredns", "v1.12.0-eksbuild.1", "v1.11.0-eksbuild.1", "Succeeded"],
      ["Addon", "kube-proxy", "v1.30.0-eksbuild.1", "v1.29.0-eksbuild.1", "Succeeded"],
      ["Addon", "vpc-cni", "v1.19.0-eksbuild.1", "v1.18.0-eksbuild.1", "Succeeded"],
    ]);
  });

  it("survives a restart at every pass with one VersionRollback call", async () => {
    const w = world({}, "1.30");
    await w.drive();
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    for (let pass = 0; pass < 100 && w.object().status?.phase !== "RolledBack"; pass++) {
      w.restart();
      const outcome = await w.drive(1);
      if (outcome.requeueAfterMs !== undefined) await w.clock.advance(outcome.requeueAfterMs);
    }
    assert.equal(w.object().status?.phase, "RolledBack");
    assert.equal(w.starts().filter((start) => start === "cp-1.29").length, 1);
  });

  it("refuses more than 7 days after the upgrade, naming the reason, and changes nothing", async () => {
    const w = world({}, "1.30");
    await w.drive();
    await w.clock.advance(8 * 24 * 3600 * 1000);
    const before = w.starts().length;
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.drive();
    assert.equal(w.starts().length, before);
    assert.equal(w.object().status?.rollback?.state, "Refused");
    assert.equal(w.condition("RolledBack")?.reason, "RollbackRefused");
    assert.match(w.condition("RolledBack")?.message ?? "", /within 7 days/);
    assert.equal(w.object().status?.phase, "Failed");
  });

  it("refuses on ROLLBACK_READINESS findings in ERROR, and goes through with force when they are overridden", async () => {
    const refused = world({}, "1.30");
    refused.eks.insights = [{ id: "rb-1", name: "Node group version", status: "ERROR", reason: "a node group runs 1.30", kubernetesVersion: "1.29", category: "ROLLBACK_READINESS" }];
    await refused.drive();
    assert.equal(refused.object().status?.phase, "Succeeded", "rollback readiness does not block the upgrade");
    refused.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await refused.drive();
    assert.equal(refused.object().status?.rollback?.state, "Refused");
    assert.match(refused.condition("RolledBack")?.message ?? "", /ROLLBACK_READINESS insights in ERROR: Node group version \(rb-1\)/);
    assert.ok(!refused.starts().includes("cp-1.29"));

    const forced = world({}, "1.30");
    forced.eks.insights = refused.eks.insights;
    forced.eks.refuseRollback = new ValidationError("InvalidRequestException: blocked by ROLLBACK_READINESS insights");
    await forced.drive();
    forced.edit((upgrade) => (upgrade.spec.rollback = { requested: true, overrideReadiness: { reason: "checked by hand" } }));
    await forced.drive();
    assert.equal(forced.object().status?.phase, "RolledBack");
    assert.match(forced.object().status?.rollback?.overridden ?? "", /rb-1.*checked by hand/);
    assert.ok(forced.events.reasons().includes("RollbackReadinessOverridden"));
  });

  it("stops starting rollback updates while paused, and resumes where it stopped", async () => {
    const w = world({}, "1.30");
    await w.drive();
    w.eks.pollsPerUpdate = 3;
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.drive(50, (upgrade) => Boolean(upgrade.status?.rollback?.controlPlane?.updateId));
    w.edit((upgrade) => (upgrade.spec.paused = true));
    const before = w.starts().length;
    await w.drive(20);
    assert.equal(w.starts().length, before, "no update started while paused");
    assert.equal(w.object().status?.phase, "Paused");
    assert.match(w.condition("Paused")?.message ?? "", /control-plane rollback to 1\.29/, "says what still runs in EKS");
    w.edit((upgrade) => (upgrade.spec.paused = false));
    await w.drive();
    assert.equal(w.object().status?.phase, "RolledBack");
  });
});

describe("bake (spec.bake)", () => {
  /** vpc-cni v1.19.0 runs on 1.29 and 1.30; coredns has no version for both. */
  function bakeWorld(spec: Partial<ClusterUpgradeSpec>) {
    const w = world({ bake: { duration: "1h" }, ...spec }, "1.30");
    w.eks.addonCatalog.get("vpc-cni")!.set("1.29", [{ version: "v1.18.0-eksbuild.1", isDefault: true }, { version: "v1.19.0-eksbuild.1", isDefault: false }]);
    return w;
  }

  it("keeps the nodes on the old minor for the bake, moves add-ons only to versions of both minors, then the rest", async () => {
    const w = bakeWorld({});
    await w.drive(50, (upgrade) => upgrade.status?.phase === "Baking");
    const status = w.object().status!;
    assert.equal(status.phase, "Baking");
    assert.deepEqual(w.starts(), ["cp-1.30", "vpc-cni v1.19.0-eksbuild.1"]);
    assert.equal(w.eks.nodegroups.get("workers")?.version, "1.29");
    assert.match(status.rollbackWindow ?? "", /^rollback possible until \d{4}-\d\d-\d\dT/);
    assert.match(w.condition("Progressing")?.message ?? "", /bakes until .* with the nodes on 1\.29/);
    assert.match(status.plan?.hops[0]?.bake ?? "", /nodes stay on 1\.29 for 1h/);
    const coredns = status.addons?.find((addon) => addon.name === "coredns" && addon.bake);
    assert.equal(coredns?.state, "Skipped");
    const bakeUntil = Date.parse(status.hops![0].bakeUntil!);
    await w.drive();
    assert.equal(w.object().status?.phase, "Succeeded");
    assert.deepEqual(w.starts(), ["cp-1.30", "vpc-cni v1.19.0-eksbuild.1", "coredns v1.12.0-eksbuild.1", "workers 1.30", "kube-proxy v1.30.0-eksbuild.1"]);
    assert.ok(Date.parse(w.object().status!.hops![0].bakedAt!) >= bakeUntil);
  });

  it("rolls back when a gate fails during the bake (policy Automatic): the nodes never moved, the control plane is back", async () => {
    const w = bakeWorld({ verification: alarmGate, rollback: { policy: "Automatic" } });
    w.alarms.alarms.set("api-5xx", "OK");
    await w.drive(50, (upgrade) => upgrade.status?.phase === "Baking");
    w.alarms.alarms.set("api-5xx", "ALARM");
    await w.drive();
    assert.equal(w.object().status?.phase, "RolledBack");
    assert.deepEqual(w.starts(), ["cp-1.30", "vpc-cni v1.19.0-eksbuild.1", "cp-1.29"], "vpc-cni already runs on 1.29: nothing else goes back");
    assert.equal(w.eks.nodegroups.get("workers")?.version, "1.29");
    assert.match(w.object().status?.rollback?.reason ?? "", /1\.30 bake/);
    assert.equal(w.object().status?.rollbackWindow, undefined);
  });
});

describe("rollback of add-ons around the control plane", () => {
  it("takes an add-on with a version for both minors back before the control plane, the others right after it", async () => {
    const w = world({}, "1.30");
    // vpc-cni v1.18.1 runs on 1.29 and 1.30; coredns and kube-proxy have per-minor versions only.
    w.eks.addonCatalog.get("vpc-cni")!.set("1.30", [{ version: "v1.19.0-eksbuild.1", isDefault: true }, { version: "v1.18.1-eksbuild.1", isDefault: false }]);
    await w.drive();
    const forward = w.starts().length;
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.drive();
    assert.deepEqual(w.starts().slice(forward), ["workers 1.29", "vpc-cni v1.18.1-eksbuild.1", "cp-1.29", "coredns v1.11.0-eksbuild.1", "kube-proxy v1.29.0-eksbuild.1"]);
    assert.equal(w.object().status?.rollback?.state, "RolledBack");
  });
});
