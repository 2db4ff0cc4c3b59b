// Verification after each hop and the rollback of the last control-plane hop, against fake EKS
// and CloudWatch ports, an in-memory store and a fake clock.
import assert from "node:assert/strict";
import { API_VERSION, KIND, type ClusterUpgrade, type ClusterUpgradeSpec } from "../../../src/api/v1alpha1/types.js";
import { ClusterUpgradeController, type ReconcileOutcome } from "../../../src/controllers/clusterupgrade/controller.js";
import { FakeClock } from "../../../src/util/clock.js";
import { createSilentLogger } from "../../../src/util/logger.js";
import { ValidationError } from "../../../src/util/errors.js";
import { drivePasses } from "../../support/drive.js";
import type { FakeAutoScaling } from "../../support/fakes/autoscaling.js";
import { fakeNode, healthyWorld } from "../../support/fakes/cloud.js";
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
    /** One pass of the current controller. */
    reconcile: () => controller.reconcile("default", "upgrade"),
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

/**
 * A cluster with the managed group "workers" and a self-managed Auto Scaling group "legacy" of 3
 * nodes at 1.29 (launch template lt-legacy version 1, ami-129), two pods under one budget per node.
 */
function selfManagedWorld(spec: Partial<ClusterUpgradeSpec> = {}) {
  const w = world({ nodeGroups: { selfManaged: [{ autoScalingGroupName: "legacy" }], maxSurge: 1, maxUnavailable: 0 }, drain: { maxParallelNodes: 1 }, ...spec }, "1.30");
  const autoscaling = w.ports.autoscaling as FakeAutoScaling;
  w.ec2.templates.set("lt-legacy", new Map([["1", "ami-129"]]));
  w.ec2.amis.set("1.30", "ami-130");
  autoscaling.addGroup("legacy", { min: 2, max: 4, desired: 3 }, { id: "lt-legacy", version: "1" });
  const kubeletOfAmi: Record<string, string> = { "ami-129": "v1.29.5", "ami-130": "v1.30.5" };
  const launched = new Set<string>();
  const state = { budgetsRecover: true };
  const legacyNodes = () => w.snapshot.nodes.filter((node) => node.metadata?.name?.startsWith("node-"));
  /** What the cloud controller manager and kubelets do between passes: a Ready node per instance, at its AMI's version. */
  const mirror = (): void => {
    const group = autoscaling.groups.get("legacy")!;
    const ids = new Set(group.instances.map((instance) => instance.id));
    w.snapshot.nodes = w.snapshot.nodes.filter((node) => !node.spec?.providerID || ids.has(node.spec.providerID.split("/").pop()!));
    w.snapshot.pods = w.snapshot.pods.filter((pod) => !pod.metadata?.deletionTimestamp && w.snapshot.nodes.some((node) => node.metadata?.name === pod.spec?.nodeName));
    for (const instance of group.instances) {
      launched.add(instance.id);
      const name = `node-${instance.id}`;
      if (w.snapshot.nodes.some((node) => node.metadata?.name === name)) continue;
      const ami = w.ec2.templates.get("lt-legacy")!.get(instance.launchTemplateVersion!)!;
      w.ec2.instances.set(instance.id, ami);
      const node = fakeNode(name, "legacy", instance.zone, kubeletOfAmi[ami]);
      delete node.metadata!.labels!["eks.amazonaws.com/nodegroup"];
      node.spec = { providerID: `aws:///${instance.zone}/${instance.id}` };
      w.snapshot.nodes.push(node);
    }
    if (state.budgetsRecover) for (const pdb of w.snapshot.pdbs) pdb.status = { ...pdb.status!, disruptionsAllowed: 1 };
  };
  /** Two pods of "api" on every legacy node, under a budget that lets one go at a time. */
  const placePods = (): void => {
    w.snapshot.replicaSets = [{ metadata: { name: "api-1", namespace: "shop", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "api", uid: "d", controller: true }] } }];
    w.snapshot.pdbs = [{ metadata: { name: "api", namespace: "shop" }, spec: { selector: { matchLabels: { app: "api" } }, maxUnavailable: 1 }, status: { disruptionsAllowed: 1, currentHealthy: 6, desiredHealthy: 5, expectedPods: 6, observedGeneration: 1 } }];
    w.snapshot.pods = legacyNodes().flatMap((node) =>
      ["a", "b"].map((suffix) => ({
        metadata: { name: `api-${node.metadata!.name}-${suffix}`, namespace: "shop", labels: { app: "api" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "api-1", uid: "r", controller: true }] },
        spec: { nodeName: node.metadata!.name, containers: [{ name: "c" }] },
        status: { phase: "Running" },
      })),
    );
  };
  mirror();
  placePods();
  /** Fewest legacy nodes in service (Ready, not cordoned) seen after any pass. */
  let fewestServing = Infinity;
  return {
    ...w,
    autoscaling,
    mirror,
    placePods,
    legacyNodes,
    launched,
    fewestServing: () => fewestServing,
    /** Budgets allow one more disruption after each pass unless this is false. */
    holdBudgets: (held: boolean) => (state.budgetsRecover = !held),
    /** Passes with the mirror between them; `restartEachPass` gives every pass a new controller, as after a SIGKILL. */
    async roll(limit = 400, until?: (upgrade: ClusterUpgrade) => boolean, restartEachPass = false): Promise<void> {
      for (let pass = 0; pass < limit; pass++) {
        if (restartEachPass) w.restart();
        const outcome = await w.reconcile();
        fewestServing = Math.min(fewestServing, legacyNodes().filter((node) => !node.spec?.unschedulable).length);
        if (outcome.requeueAfterMs === undefined || until?.(w.object())) return;
        await w.clock.advance(outcome.requeueAfterMs);
        mirror();
      }
    },
    /** The AMI of every instance of "legacy", sorted. */
    amis: () => autoscaling.groups.get("legacy")!.instances.map((instance) => w.ec2.instances.get(instance.id)).sort(),
  };
}

describe("rollback of self-managed groups", () => {
  async function upgraded(spec: Partial<ClusterUpgradeSpec> = {}) {
    const w = selfManagedWorld(spec);
    await w.roll();
    assert.equal(w.object().status?.phase, "Succeeded");
    assert.deepEqual(w.amis(), ["ami-130", "ami-130", "ami-130"]);
    const entry = w.object().status?.nodeGroups?.find((group) => group.name === "legacy");
    assert.deepEqual(entry?.previousLaunchTemplate, { id: "lt-legacy", version: "1" }, "the way back is recorded and kept after the roll");
    assert.equal(entry?.originalLaunchTemplate, undefined);
    w.placePods();
    return w;
  }

  it("takes a self-managed group back to its earlier launch template version through the same roll: managed groups, then self-managed, then add-ons, then the control plane", async () => {
    const w = await upgraded();
    const forwardStarts = w.starts().length;
    const forwardLaunches = w.launched.size;
    const forwardSetSizes = w.autoscaling.count("setSize");
    const eventsBefore = w.events.events.length;
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.roll();
    const status = w.object().status!;
    assert.equal(status.phase, "RolledBack");
    assert.equal(status.currentVersion, "1.29");
    assert.deepEqual(w.starts().slice(forwardStarts), ["workers 1.29", "cp-1.29", "coredns v1.11.0-eksbuild.1", "kube-proxy v1.29.0-eksbuild.1", "vpc-cni v1.18.0-eksbuild.1"]);
    // Back on the earlier version and AMI, at its original size, with no launch template version created for it.
    const group = w.autoscaling.groups.get("legacy")!;
    assert.deepEqual(group.launchTemplate, { id: "lt-legacy", version: "1" });
    assert.deepEqual(group.size, { min: 2, max: 4, desired: 3 });
    assert.deepEqual(w.amis(), ["ami-129", "ami-129", "ami-129"]);
    assert.deepEqual([...w.ec2.templates.get("lt-legacy")!.keys()], ["1", "2"], "the rollback creates no template version");
    assert.ok(w.legacyNodes().every((node) => node.status?.nodeInfo?.kubeletVersion === "v1.29.5" && !node.spec?.unschedulable));
    assert.equal(group.tags["eksupgrade.io/rolling"], undefined);
    assert.equal(group.suspended.size, 0);
    // One new instance per node, surging one at a time (maxSurge 1, maxUnavailable 0): never fewer than 3 serving.
    assert.equal(w.launched.size - forwardLaunches, 3);
    assert.ok(w.autoscaling.count("setSize") > forwardSetSizes);
    assert.ok(w.fewestServing() >= 3, `${w.fewestServing()} legacy node(s) in service at the lowest`);
    // The budget allowed one eviction at a time, and no eviction was sent past it.
    assert.equal(status.rollback?.items?.find((item) => item.name === "legacy")?.replaced, 3);
    assert.deepEqual(status.rollback?.items?.map((item) => [item.kind, item.name, item.fromVersion, item.toVersion, item.state]), [
      ["NodeGroup", "workers", "1.30", "1.29", "Succeeded"],
      ["SelfManagedGroup", "legacy", "1.30", "1.29", "Succeeded"],
      ["Addon", "coredns", "v1.12.0-eksbuild.1", "v1.11.0-eksbuild.1", "Succeeded"],
      ["Addon", "kube-proxy", "v1.30.0-eksbuild.1", "v1.29.0-eksbuild.1", "Succeeded"],
      ["Addon", "vpc-cni", "v1.19.0-eksbuild.1", "v1.18.0-eksbuild.1", "Succeeded"],
    ]);
    const legacyItem = status.rollback.items[1];
    assert.deepEqual([legacyItem.launchTemplateId, legacyItem.launchTemplateVersion, legacyItem.imageId], ["lt-legacy", "1", "ami-129"]);
    // The order, as the Events tell it.
    const events = w.events.events.slice(eventsBefore);
    const at = (reason: string, text: string): number => events.findIndex((event) => event.reason === reason && event.message.includes(text));
    const order = [at("RollbackStepDone", "node group workers"), at("RollbackStepStarted", "self-managed group legacy"), at("NodesCordoned", "legacy"), at("RollbackStepDone", "self-managed group legacy"), at("ControlPlaneRollbackStarted", "1.30 -> 1.29"), at("RollbackStepDone", "add-on coredns")];
    assert.ok(order.every((index) => index >= 0), JSON.stringify(order));
    assert.deepEqual([...order].sort((a, b) => a - b), order, "workers, then legacy, then the control plane, then the add-ons");
    assert.match(status.rollback?.message ?? "", /self-managed group legacy 1\.29/);
    assert.equal(status.nodeGroups?.find((entry) => entry.name === "legacy")?.originalSize, undefined, "nothing held after the roll");
  });

  it("survives a restart at every pass of the self-managed roll back: one new instance per node, each old one terminated once", async () => {
    const w = await upgraded();
    const forwardLaunches = w.launched.size;
    const terminatedBefore = w.autoscaling.count("terminateInstance");
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.roll(600, undefined, true);
    assert.equal(w.object().status?.phase, "RolledBack");
    assert.deepEqual(w.amis(), ["ami-129", "ami-129", "ami-129"]);
    assert.equal(w.launched.size - forwardLaunches, 3, "no second surge for nodes already back");
    const terminated = w.autoscaling.calls.slice().filter((call) => call.method === "terminateInstance").slice(terminatedBefore).map((call) => call.args[0] as string);
    assert.equal(terminated.length, 3);
    assert.equal(new Set(terminated).size, 3, "no instance terminated twice");
    assert.equal(w.starts().filter((start) => start === "cp-1.29").length, 1);
    assert.ok(w.fewestServing() >= 3);
  });

  it("finishes the nodes in flight but starts none while paused, then goes on where it stopped", async () => {
    const w = await upgraded();
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.roll(200, (upgrade) => (upgrade.status?.nodeGroups?.find((group) => group.name === "legacy")?.nodes?.length ?? 0) > 0);
    const inFlight = w.object().status!.nodeGroups!.find((group) => group.name === "legacy")!.nodes!.map((node) => node.name);
    w.edit((upgrade) => (upgrade.spec.paused = true));
    await w.roll(100, (upgrade) => upgrade.status?.phase === "Paused");
    assert.equal(w.object().status?.phase, "Paused");
    const paused = w.object().status!;
    assert.equal(paused.nodeGroups?.find((group) => group.name === "legacy")?.nodes, undefined, "the node in flight finished");
    assert.ok(inFlight.every((name) => !w.legacyNodes().some((node) => node.metadata?.name === name)), "and was replaced");
    const cordons = w.events.messages("NodesCordoned").length;
    await w.roll(20);
    assert.equal(w.events.messages("NodesCordoned").length, cordons, "no node cordoned while paused");
    assert.ok(w.amis().includes("ami-130"), "old nodes wait");
    assert.ok(!w.starts().includes("cp-1.29"));
    w.edit((upgrade) => (upgrade.spec.paused = false));
    await w.roll();
    assert.equal(w.object().status?.phase, "RolledBack");
    assert.deepEqual(w.amis(), ["ami-129", "ami-129", "ami-129"]);
  });

  it("outside the maintenance window finishes the node in flight and starts none; goes on when the window opens", async () => {
    const w = await upgraded();
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    const inFlight = (upgrade: ClusterUpgrade) => (upgrade.status?.nodeGroups?.find((group) => group.name === "legacy")?.nodes?.length ?? 0) > 0;
    await w.roll(200, inFlight);
    assert.ok(inFlight(w.object()));
    // A one-hour window that opens at the top of the hour twelve hours from now.
    const later = new Date(w.clock.now() + 12 * 3600_000);
    const opens = Date.UTC(later.getUTCFullYear(), later.getUTCMonth(), later.getUTCDate(), later.getUTCHours());
    w.edit((upgrade) => (upgrade.spec.maintenanceWindows = [{ schedule: `0 ${later.getUTCHours()} * * *`, duration: "1h", timeZone: "UTC" }]));
    await w.roll(200, (upgrade) => !inFlight(upgrade) && upgrade.status?.window?.open === false);
    assert.ok(!inFlight(w.object()), "the node in flight finished");
    assert.equal(w.condition("MaintenanceWindowOpen")?.status, "False");
    assert.ok(w.clock.now() < opens);
    assert.ok(w.amis().includes("ami-130"), "old nodes are left for the window");
    const cordons = w.events.messages("NodesCordoned").length;
    await w.roll(400, () => w.events.messages("NodesCordoned").length > cordons);
    assert.ok(w.events.messages("NodesCordoned").length > cordons, "the roll went on");
    assert.ok(w.clock.now() >= opens, `the next node was cordoned at ${new Date(w.clock.now()).toISOString()}, in the window that opens ${new Date(opens).toISOString()}`);
    await w.roll();
    assert.equal(w.object().status?.phase, "RolledBack");
    assert.deepEqual(w.amis(), ["ami-129", "ami-129", "ami-129"]);
  });

  it("an abort mid roll back uncordons the nodes in flight and gives the group the size and template version it had when the roll back started", async () => {
    const w = await upgraded();
    w.holdBudgets(true);
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    const draining = (upgrade: ClusterUpgrade) => upgrade.status?.nodeGroups?.find((group) => group.name === "legacy")?.nodes?.some((node) => node.phase === "Draining" && (node.podsLeft?.length ?? 0) > 0) ?? false;
    w.placePods();
    for (const pdb of w.snapshot.pdbs) pdb.status = { ...pdb.status!, disruptionsAllowed: 0 };
    await w.roll(300, draining);
    assert.ok(draining(w.object()));
    const held = w.object().status!.nodeGroups!.find((group) => group.name === "legacy")!.nodes![0].name;
    w.edit((upgrade) => (upgrade.spec.abort = true));
    await w.roll(50);
    const status = w.object().status!;
    assert.equal(status.phase, "Aborted");
    assert.equal(w.legacyNodes().find((node) => node.metadata?.name === held)?.spec?.unschedulable, false, "the node in its drain is back in service");
    const group = w.autoscaling.groups.get("legacy")!;
    assert.deepEqual(group.launchTemplate, { id: "lt-legacy", version: "2" }, "the template version it had when the roll back started");
    assert.equal(group.size.desired, 3);
    assert.match(status.released!.join("; "), /restored Auto Scaling group legacy to min 2, max 4, desired 3 and launch template version 2/);
    assert.ok(!w.starts().includes("cp-1.29"), "the control plane never went back");
  });

  it("refuses, naming group, template and version, when the earlier launch template version is gone; a new spec.rollback.attempt asks again", async () => {
    const w = await upgraded();
    const forwardStarts = w.starts().length;
    const setSizes = w.autoscaling.count("setSize");
    w.ec2.templates.get("lt-legacy")!.delete("1");
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.roll();
    let rollback = w.object().status!.rollback!;
    assert.equal(rollback.state, "Refused");
    assert.equal(rollback.refusal, "LAUNCH_TEMPLATE_VERSION_GONE");
    assert.match(rollback.message ?? "", /self-managed group legacy launched from launch template lt-legacy version 1 before 1\.30, and that version no longer exists/);
    assert.match(w.condition("RolledBack")?.message ?? "", /set spec\.rollback\.attempt to a new value/);
    assert.equal(w.starts().length, forwardStarts, "refused before anything moved: not even the managed group");
    assert.equal(w.autoscaling.count("setSize"), setSizes);
    assert.equal(w.object().status?.phase, "Failed");

    // The same spec, seen again and after a restart, is the same answer.
    w.restart();
    await w.roll(20);
    assert.equal(w.object().status!.rollback!.attempt, 1);
    assert.equal(w.events.messages("RollbackRetried").length, 0);

    // The version is back (restored by hand); a new attempt value asks again.
    w.ec2.templates.get("lt-legacy")!.set("1", "ami-129");
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true, attempt: 2 }));
    await w.roll();
    rollback = w.object().status!.rollback!;
    assert.equal(rollback.state, "RolledBack");
    assert.equal(rollback.attempt, 2);
    assert.match(rollback.previousRefusal ?? "", /no longer exists/);
    assert.deepEqual(rollback.decidedWith, { requested: true, attempt: 2 });
    assert.match(w.events.messages("RollbackRetried")[0] ?? "", /spec\.rollback\.attempt is now 2.*attempt 1 was refused \(LAUNCH_TEMPLATE_VERSION_GONE/);
    assert.deepEqual(w.amis(), ["ami-129", "ami-129", "ami-129"]);
    assert.equal(w.object().status?.phase, "RolledBack");
  });

  it("refuses a self-managed group this upgrade did not roll in the hop when its nodes are newer than the target", async () => {
    const w = await upgraded();
    // As if the group had been rolled by someone else: no launch template version recorded for the hop.
    w.edit((upgrade) => {
      delete upgrade.status!.nodeGroups!.find((group) => group.name === "legacy")!.previousLaunchTemplate;
      upgrade.spec.rollback = { requested: true };
    });
    await w.roll();
    assert.equal(w.object().status?.rollback?.refusal, "SELF_MANAGED_NOT_RECORDED");
    assert.match(w.object().status?.rollback?.message ?? "", /self-managed group legacy has 3 node\(s\) newer than 1\.29/);
  });
});

describe("rollback of a self-managed group whose forward roll is cut short", () => {
  it("puts the node the forward roll was draining back into service and replaces only the nodes it had already moved", async () => {
    const w = selfManagedWorld();
    w.holdBudgets(true);
    const draining = (upgrade: ClusterUpgrade) => upgrade.status?.nodeGroups?.find((group) => group.name === "legacy")?.nodes?.some((node) => node.phase === "Draining" && (node.podsLeft?.length ?? 0) > 0) ?? false;
    await w.roll(300, draining);
    assert.ok(draining(w.object()), "the forward roll holds a node in its drain");
    const held = w.object().status!.nodeGroups!.find((group) => group.name === "legacy")!.nodes!.find((node) => node.phase === "Draining")!.name;
    assert.ok(w.legacyNodes().find((node) => node.metadata?.name === held)?.spec?.unschedulable);
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    w.holdBudgets(false);
    await w.roll();
    assert.equal(w.object().status?.phase, "RolledBack");
    const node = w.legacyNodes().find((candidate) => candidate.metadata?.name === held);
    assert.ok(node, "the node held in its drain stays: it already runs 1.29");
    assert.equal(node.spec?.unschedulable, false);
    assert.match(w.events.messages("RollbackStepStarted").find((message) => message.includes("legacy")) ?? "", new RegExp(`uncordoned ${held}, which the cut-short forward roll had cordoned`));
    assert.deepEqual(w.amis(), ["ami-129", "ami-129", "ami-129"]);
    assert.deepEqual(w.autoscaling.groups.get("legacy")!.size, { min: 2, max: 4, desired: 3 });
    assert.deepEqual(w.autoscaling.groups.get("legacy")!.launchTemplate, { id: "lt-legacy", version: "1" });
    assert.ok(!w.starts().includes("workers 1.30"), "the managed group had not moved and is not touched");
  });
});

describe("rollback of self-managed groups: what cannot be taken back", () => {
  it("refuses a group that launched from $Latest before the hop: that name points at the forward roll's version now", async () => {
    const w = selfManagedWorld();
    w.autoscaling.groups.get("legacy")!.launchTemplate.version = "$Latest";
    w.ec2.templates.get("lt-legacy")!.set("$Latest", "ami-129");
    await w.roll();
    assert.deepEqual(w.object().status?.nodeGroups?.find((group) => group.name === "legacy")?.previousLaunchTemplate, { id: "lt-legacy", version: "$Latest" });
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.roll();
    assert.equal(w.object().status?.rollback?.refusal, "LAUNCH_TEMPLATE_VERSION_ALIAS");
    assert.match(w.object().status?.rollback?.message ?? "", /launch template lt-legacy version \$Latest before 1\.30/);
  });
});

describe("asking again after a refused rollback", () => {
  const readinessError = [{ id: "rb-1", name: "Node group version", status: "ERROR" as const, reason: "a node group runs 1.30", kubernetesVersion: "1.29", category: "ROLLBACK_READINESS" }];

  it("a refused automatic rollback: asked by hand it is tried again (and refused again while the cause stays), then with the override it goes through", async () => {
    const w = world({ verification: alarmGate, rollback: { policy: "Automatic" } }, "1.30");
    w.eks.insights = readinessError;
    w.alarms.alarms.set("api-5xx", "ALARM");
    await w.drive();
    let rollback = w.object().status!.rollback!;
    assert.equal(rollback.state, "Refused");
    assert.equal(rollback.trigger, "Automatic");
    assert.equal(rollback.refusal, "ROLLBACK_READINESS");
    assert.match(w.condition("RolledBack")?.message ?? "", /or set spec\.rollback\.overrideReadiness\.reason/);
    assert.ok(!w.starts().includes("cp-1.29"));

    // Nothing changed in spec.rollback: no new attempt, however many passes.
    await w.drive(20);
    assert.equal(w.object().status!.rollback!.attempt, 1);

    w.edit((upgrade) => (upgrade.spec.rollback = { policy: "Automatic", requested: true }));
    await w.drive();
    rollback = w.object().status!.rollback!;
    assert.equal(rollback.attempt, 2);
    assert.equal(rollback.trigger, "Manual");
    assert.equal(rollback.state, "Refused", "the insight is still in ERROR");
    assert.match(rollback.reason, /spec\.rollback\.requested is set after the automatic rollback was refused/);
    assert.ok(!w.starts().includes("cp-1.29"));

    w.edit((upgrade) => (upgrade.spec.rollback = { policy: "Automatic", requested: true, overrideReadiness: { reason: "checked by hand" } }));
    await w.drive();
    rollback = w.object().status!.rollback!;
    assert.equal(rollback.state, "RolledBack");
    assert.equal(rollback.attempt, 3);
    assert.match(rollback.overridden ?? "", /rb-1.*checked by hand/);
    assert.match(rollback.previousRefusal ?? "", /ROLLBACK_READINESS insights in ERROR/);
    assert.equal(w.starts().filter((start) => start === "cp-1.29").length, 1);
    const forced = w.eks.calls.find((call) => call.method === "startClusterVersionUpdate" && (call.args[0] as { version: string }).version === "1.29");
    assert.equal((forced?.args[0] as { force: boolean }).force, true);
    assert.equal(w.object().status?.phase, "RolledBack");
    assert.deepEqual(
      w.events.messages("RollbackRetried").map((message) => message.split(":")[0]),
      ["spec.rollback.requested is set after the automatic rollback was refused", "spec.rollback.overrideReadiness is set (checked by hand)"],
    );
  });

  it("a refusal past the 7 days is asked again with a new attempt value, and refused again while it stays true; a withdrawn request asks nothing", async () => {
    const w = world({}, "1.30");
    await w.drive();
    await w.clock.advance(8 * 24 * 3600 * 1000);
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true }));
    await w.drive();
    assert.equal(w.object().status?.rollback?.refusal, "ROLLBACK_WINDOW_EXPIRED");
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: false, attempt: 2 }));
    await w.drive();
    assert.equal(w.object().status?.rollback?.attempt, 1, "requested false: nothing is asked");
    w.edit((upgrade) => (upgrade.spec.rollback = { requested: true, attempt: 2 }));
    await w.drive();
    const rollback = w.object().status!.rollback!;
    assert.equal(rollback.attempt, 2);
    assert.equal(rollback.refusal, "ROLLBACK_WINDOW_EXPIRED");
    assert.equal(w.starts().filter((start) => start === "cp-1.29").length, 0);
  });
});
