// The BlueGreen strategy through whole reconciles: fake EKS, Route53 and CloudWatch, an in-memory
// store and a fake clock. Traffic moves step by step, each change INSYNC before the next; a gate
// failing rolls back in one change; restarts, approval, abort, deletion and refusals.
import assert from "node:assert/strict";
import type { V1Deployment } from "@kubernetes/client-node";
import { API_VERSION, KIND, type BlueGreenSpec, type ClusterUpgrade } from "../../../src/api/v1alpha1/types.js";
import type { ProbeAnswer } from "../../../src/bluegreen/gates.js";
import { ClusterUpgradeController, type ReconcileOutcome } from "../../../src/controllers/clusterupgrade/controller.js";
import { FakeClock } from "../../../src/util/clock.js";
import { createSilentLogger } from "../../../src/util/logger.js";
import { emptySnapshot, healthyWorld, type FakeEks } from "../../support/fakes/cloud.js";
import { MemoryStore, RecordingEvents } from "../../support/fakes/store.js";
import type { FakeCloudWatch, FakeRoute53 } from "../../support/fakes/traffic.js";
import type { FakeAutoScaling } from "../../support/fakes/autoscaling.js";
import { AlreadyExistsError, ConflictError, TransientError, ValidationError } from "../../../src/util/errors.js";

const ZONE = "Z0SHOP";
const RECORD = "www.shop.example.com";

interface Harness {
  eks: FakeEks;
  autoscaling: FakeAutoScaling;
  route53: FakeRoute53;
  cloudwatch: FakeCloudWatch;
  store: MemoryStore;
  events: RecordingEvents;
  clock: FakeClock;
  probe: { answer: ProbeAnswer; urls: string[] };
  storefront: V1Deployment;
  controller(): ClusterUpgradeController;
  object(): ClusterUpgrade;
  condition(type: string): { status: string; reason: string; message: string } | undefined;
  weights(): Record<string, number>;
  drive(until?: (upgrade: ClusterUpgrade) => boolean, limit?: number): Promise<ReconcileOutcome>;
}

function harness(blueGreen: Partial<BlueGreenSpec> = {}): Harness {
  const world = healthyWorld("1.30");
  world.eks.clusters.set("green", { name: "green", version: "1.31", status: "ACTIVE", subnetIds: ["subnet-a"], securityGroupIds: ["sg-1"] });
  const route53 = world.ports.route53 as FakeRoute53;
  const cloudwatch = world.ports.cloudwatch as FakeCloudWatch;
  route53.put(ZONE, RECORD, "CNAME", [
    { setIdentifier: "blue", weight: 100, ttl: 60, values: ["blue-ingress.shop.example.com"] },
    { setIdentifier: "green", weight: 0, ttl: 60, values: ["green-ingress.shop.example.com"] },
  ]);
  const storefront: V1Deployment = { metadata: { namespace: "shop", name: "storefront" }, spec: { replicas: 2, selector: {}, template: {} }, status: { availableReplicas: 2 } };
  const greenSnapshot = { ...emptySnapshot(), deployments: [storefront] };
  const store = new MemoryStore();
  const events = new RecordingEvents();
  const clock = new FakeClock(Date.parse("2026-11-22T12:00:00Z"));
  const probe = { answer: { status: 200 } as ProbeAnswer, urls: [] as string[] };
  store.put({
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: "cutover", namespace: "shop" },
    spec: {
      cluster: { name: "prod" },
      targetVersion: "1.31",
      strategy: "BlueGreen",
      blueGreen: {
        greenCluster: { name: "green" },
        verify: { workloads: [{ kind: "Deployment", namespace: "shop", name: "storefront" }] },
        route53: { hostedZoneId: ZONE, recordName: RECORD, blueSetIdentifier: "blue", greenSetIdentifier: "green" },
        stepInterval: "2m",
        gates: { httpProbes: [{ url: "https://green.example.com/healthz" }], failureThreshold: 2, checkInterval: "30s" },
        ...blueGreen,
      },
    },
  });
  const controller = (): ClusterUpgradeController =>
    new ClusterUpgradeController({
      store,
      events,
      cloud: () => world.ports,
      workloads: () => Promise.reject(new Error("blue's workloads are not read by BlueGreen")),
      greenWorkloads: () => Promise.resolve({ snapshot: () => Promise.resolve(greenSnapshot) }),
      httpProbe: (url) => {
        probe.urls.push(url);
        return Promise.resolve(probe.answer);
      },
      clock,
      logger: createSilentLogger(),
      defaultRegion: "us-east-1",
    });
  let current = controller();
  const object = (): ClusterUpgrade => store.current("shop", "cutover");
  return {
    eks: world.eks,
    autoscaling: world.ports.autoscaling as FakeAutoScaling,
    route53,
    cloudwatch,
    store,
    events,
    clock,
    probe,
    storefront,
    controller: () => (current = controller()),
    object,
    condition: (type) => object().status?.conditions?.find((condition) => condition.type === type),
    weights: () => Object.fromEntries((route53.records.get(`${ZONE}|${RECORD}|CNAME`) ?? []).map((record) => [record.setIdentifier, record.weight])),
    async drive(until, limit = 300) {
      let outcome: ReconcileOutcome = {};
      for (let pass = 0; pass < limit; pass++) {
        outcome = await current.reconcile("shop", "cutover");
        if (outcome.requeueAfterMs === undefined || until?.(object())) return outcome;
        await clock.advance(outcome.requeueAfterMs);
      }
      return outcome;
    },
  };
}

function sentWeights(route53: FakeRoute53): Record<string, number>[] {
  return route53.calls.filter((call) => call.method === "setWeights").map((call) => call.args[3] as Record<string, number>);
}

describe("BlueGreen cutover (controller, fakes)", () => {
  it("promotes green step by step, each change INSYNC and baked before the next, and never upgrades blue", async () => {
    const world = harness();
    const outcome = await world.drive();
    assert.equal(outcome.requeueAfterMs, undefined);
    const status = world.object().status!;
    assert.equal(status.phase, "Succeeded");
    assert.deepEqual(world.weights(), { blue: 0, green: 255 });
    assert.deepEqual(sentWeights(world.route53), [
      { blue: 229, green: 26 },
      { blue: 191, green: 64 },
      { blue: 127, green: 128 },
      { blue: 0, green: 255 },
    ]);
    const changes = status.cutover!.changes!;
    assert.deepEqual(changes.map((change) => change.step), [1, 2, 3, 4]);
    for (let index = 1; index < changes.length; index++) {
      const previousInSync = Date.parse(changes[index - 1].inSyncAt!);
      assert.ok(changes[index].changeId && Date.parse(changes[index].sentAt) >= previousInSync + 120_000, `step ${index + 1} was sent only after step ${index} was INSYNC and baked 2m`);
    }
    assert.equal(status.cutover?.split, "0/100");
    assert.equal(status.cutover?.state, "Promoted");
    assert.equal(world.condition("TrafficShifted")?.reason, "Promoted");
    assert.match(world.condition("Ready")!.message, /green cluster green \(1\.31\) carries all traffic.*never scales it down or deletes it/);
    assert.equal(world.condition("BlueRetired")?.reason, "NotApplicable");
    assert.equal(status.blueRetention?.state, "Kept");
    assert.equal(world.eks.count("startNodegroupScalingUpdate"), 0, "blue keeps its size without blueRetention.scaleDown");
    assert.equal(world.eks.count("startClusterVersionUpdate"), 0, "blue is never upgraded in place");
    assert.equal(world.eks.count("startNodegroupVersionUpdate"), 0);
    assert.ok(world.probe.urls.length >= 4, "the probe gate was read during the steps");
  });

  it("bakes at least the record TTL when it is longer than the step interval", async () => {
    const world = harness({ stepInterval: "10s" });
    await world.drive();
    const changes = world.object().status!.cutover!.changes!;
    assert.ok(Date.parse(changes[1].sentAt) - Date.parse(changes[0].inSyncAt!) >= 60_000, "TTL 60 s is longer than the 10 s step interval");
  });

  it("rolls back to blue in one change when the probe fails failureThreshold checks, naming the gate and its value", async () => {
    const world = harness();
    await world.drive((upgrade) => upgrade.status?.cutover?.step === 2);
    world.probe.answer = { status: 500 };
    await world.drive();
    const status = world.object().status!;
    assert.equal(status.phase, "Failed");
    assert.deepEqual(world.weights(), { blue: 255, green: 0 });
    assert.deepEqual(sentWeights(world.route53).at(-1), { blue: 255, green: 0 });
    assert.equal(sentWeights(world.route53).length, 3, "steps 1 and 2, then one rollback change");
    assert.equal(status.cutover?.state, "RolledBack");
    assert.equal(status.cutover?.failures, 2);
    assert.match(status.cutover.failedGate!, /HttpProbe https:\/\/green\.example\.com\/healthz: HTTP 500/);
    const shifted = world.condition("TrafficShifted")!;
    assert.equal(shifted.reason, "RolledBack");
    assert.match(shifted.message, /back on blue \(split 100\/0; Route53 change \/change\/C3 INSYNC.*HTTP 500/);
    assert.ok(world.events.reasons().includes("GateFailed"));
    // Final: more passes change nothing.
    await world.drive();
    assert.equal(sentWeights(world.route53).length, 3);
  });

  it("shows RollingBack while the change back to blue is PENDING, then Failed", async () => {
    const world = harness();
    await world.drive((upgrade) => upgrade.status?.cutover?.step === 2);
    world.probe.answer = { error: "no answer within 5s" };
    await world.drive((upgrade) => upgrade.status?.phase === "RollingBack");
    assert.equal(world.object().status?.phase, "RollingBack");
    assert.equal(world.condition("Progressing")?.reason, "RollingBack");
    assert.match(world.condition("Progressing")!.message, /sending all traffic back to blue: HttpProbe .*no answer within 5s; waiting for Route53 change \/change\/C3 to be INSYNC/);
    await world.drive();
    assert.equal(world.object().status?.phase, "Failed");
  });

  it("when the maintenance window closes mid-cutover, lets the step in effect bake, then waits for the next window", async () => {
    // Open 12:00-12:03 UTC every day; steps of 2 minutes: the window closes during the second one.
    const world = harness();
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.spec.maintenanceWindows = [{ schedule: "0 12 * * *", duration: "3m" }]));
    await world.drive((upgrade) => upgrade.status?.phase === "WaitingForWindow" && (upgrade.status?.cutover?.step ?? 0) >= 1);
    const held = world.object().status!.cutover!;
    assert.ok(world.clock.now() > Date.parse("2026-11-22T12:03:00Z"), "the window has closed");
    assert.match(world.condition("TrafficShifted")!.message, new RegExp(`baked; step ${held.step + 1}/4 waits for the next maintenance window`));
    const weights = world.weights();
    // Outside the window nothing moves, pass after pass.
    await world.drive(undefined, 20);
    assert.deepEqual(world.weights(), weights, "no step outside the window");
    assert.equal(world.object().status?.cutover?.step, held.step);
    assert.equal(world.object().status?.phase, "WaitingForWindow");
    await world.clock.advance(Date.parse("2026-11-23T12:00:00Z") - world.clock.now());
    await world.drive(undefined, 1000);
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.deepEqual(world.weights(), { blue: 0, green: 255 });
    assert.ok(world.clock.now() > Date.parse("2026-11-23T12:00:00Z"), "the rest ran in the next window");
  });

  it("rolls back when a CloudWatch alarm goes to ALARM", async () => {
    const world = harness({ gates: { cloudWatchAlarms: ["green-5xx"], failureThreshold: 1, checkInterval: "30s" } });
    world.cloudwatch.alarms.set("green-5xx", "OK");
    await world.drive((upgrade) => upgrade.status?.cutover?.step === 3);
    world.cloudwatch.alarms.set("green-5xx", "ALARM");
    const before = world.clock.now();
    await world.drive();
    assert.equal(world.object().status?.phase, "Failed");
    assert.deepEqual(world.weights(), { blue: 255, green: 0 });
    assert.match(world.object().status!.cutover!.failedGate!, /CloudWatchAlarm green-5xx: ALARM/);
    assert.ok(world.clock.now() - before <= 30_000 + 20_000, "within one check interval plus one GetChange poll");
  });

  it("a new operator resumes the step in flight: the change is followed, not sent again, and no step is skipped", async () => {
    const world = harness();
    world.route53.pollsUntilInSync = 3;
    await world.drive((upgrade) => upgrade.status?.cutover?.step === 2 && Boolean(upgrade.status.cutover.changeId));
    const changeId = world.object().status!.cutover!.changeId;
    world.controller();
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.deepEqual(sentWeights(world.route53).map((weights) => weights.green), [26, 64, 128, 255], "each step sent exactly once");
    assert.equal(world.object().status!.cutover!.changes![1].changeId, changeId);
  });

  it("a change sent whose id was lost is sent again as an UPSERT and followed with GetChange before the step counts", async () => {
    const world = harness();
    world.route53.pollsUntilInSync = 2;
    await world.drive((upgrade) => upgrade.status?.cutover?.step === 1 && Boolean(upgrade.status.cutover.changeInSyncAt));
    await world.clock.advance(3 * 60_000);
    // Simulate a crash between ChangeResourceRecordSets and the status write: Route53 has step 2,
    // status still says step 1 INSYNC, and no change id for step 2 was kept anywhere.
    world.route53.put(ZONE, RECORD, "CNAME", [
      { setIdentifier: "blue", weight: 191, ttl: 60, values: ["blue-ingress.shop.example.com"] },
      { setIdentifier: "green", weight: 64, ttl: 60, values: ["green-ingress.shop.example.com"] },
    ]);
    world.controller();
    await world.drive(() => true, 1);
    const cutover = world.object().status!.cutover!;
    assert.equal(cutover.step, 2);
    assert.equal(cutover.changeInSyncAt, undefined, "step 2 is not in effect before GetChange answers for it");
    assert.ok(cutover.changeId, "the re-sent change's id is stored");
    assert.deepEqual(sentWeights(world.route53).at(-1), { blue: 191, green: 64 }, "the same weights are sent again");
    const resent = cutover.changeId;
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.deepEqual(sentWeights(world.route53).map((weights) => weights.green), [26, 64, 128, 255]);
    const step2 = world.object().status!.cutover!.changes![1];
    assert.equal(step2.changeId, resent);
    assert.ok(step2.inSyncAt);
    const polled = world.route53.calls.filter((call) => call.method === "changeStatus" && call.args[0] === resent);
    assert.equal(polled.length, 3, "followed with GetChange until INSYNC (two PENDING answers, then INSYNC)");
  });

  it("with manualApproval waits before each step and says which command approves it", async () => {
    const world = harness({ manualApproval: true, trafficSteps: [50, 100] });
    await world.drive((upgrade) => upgrade.status?.cutover?.state === "AwaitingApproval", 20);
    assert.equal(sentWeights(world.route53).length, 0);
    const command = "kubectl annotate clusterupgrade cutover -n shop eksupgrade.io/approve-step=1 --overwrite";
    assert.equal(world.object().status?.cutover?.approvalCommand, command);
    assert.match(world.condition("TrafficShifted")!.message, new RegExp(command.replace(/[.]/g, "\\.")));
    assert.equal(world.condition("TrafficShifted")?.reason, "AwaitingApproval");
    assert.equal(world.object().status?.phase, "ShiftingTraffic");
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.metadata.annotations = { "eksupgrade.io/approve-step": "1" }));
    await world.drive((upgrade) => upgrade.status?.cutover?.state === "AwaitingApproval" && upgrade.status.cutover.step === 1, 40);
    assert.deepEqual(sentWeights(world.route53), [{ blue: 127, green: 128 }]);
    assert.match(world.object().status!.cutover!.approvalCommand!, /approve-step=2/);
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.metadata.annotations = { "eksupgrade.io/approve-step": "2" }));
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("refuses a record external-dns owns, before any traffic moves", async () => {
    const world = harness();
    world.route53.txt.set(`${ZONE}|cname-${RECORD}`, ['"heritage=external-dns,external-dns/owner=blue,external-dns/resource=ingress/shop/storefront"']);
    await world.drive(undefined, 3);
    assert.equal(world.object().status?.phase, "Blocked");
    assert.match(world.condition("PreflightPassed")!.message, /BG008 record www\.shop\.example\.com is managed by external-dns \(owner blue\)/);
    assert.equal(sentWeights(world.route53).length, 0);
  });

  it("waits for green's workloads to be available, then goes on by itself", async () => {
    const world = harness();
    world.storefront.status = { availableReplicas: 1 };
    await world.drive(undefined, 3);
    assert.equal(world.object().status?.phase, "Blocked");
    assert.match(world.condition("PreflightPassed")!.message, /BG006 Deployment shop\/storefront on green cluster green has 1 of 2 replicas available/);
    assert.equal(sentWeights(world.route53).length, 0);
    world.storefront.status = { availableReplicas: 2 };
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("spec.abort mid-cutover sends all traffic back to blue in one change, then stops", async () => {
    const world = harness();
    await world.drive((upgrade) => upgrade.status?.cutover?.step === 2);
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.spec.abort = true));
    await world.drive();
    assert.equal(world.object().status?.phase, "Aborted");
    assert.deepEqual(world.weights(), { blue: 255, green: 0 });
    assert.equal(sentWeights(world.route53).length, 3);
    assert.equal(world.object().status?.cutover?.state, "Aborted");
    assert.match(world.condition("TrafficShifted")!.message, /aborted: all traffic is back on blue/);
  });

  it("deleting the ClusterUpgrade mid-cutover returns traffic to blue before the finalizer goes", async () => {
    const world = harness();
    await world.drive((upgrade) => upgrade.status?.cutover?.step === 3);
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.metadata.deletionTimestamp = world.clock.date().toISOString()));
    await world.drive();
    assert.deepEqual(world.weights(), { blue: 255, green: 0 });
    assert.equal(await world.store.get("shop", "cutover"), undefined);
  });

  it("a dry run verifies green and reports the planned steps without moving any weight", async () => {
    const world = harness({ trafficSteps: [20, 60, 100] });
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.spec.dryRun = true));
    await world.drive();
    assert.equal(world.object().status?.phase, "Planned");
    assert.match(world.condition("Ready")!.message, /in 3 step\(s\) \(20% -> 60% -> 100% green\), preflight passed; nothing was changed/);
    assert.equal(sentWeights(world.route53).length, 0);
    assert.equal(world.object().status?.cutover, undefined);
  });

  it("blocks when green is not at the target version", async () => {
    const world = harness();
    world.eks.clusters.get("green")!.version = "1.30";
    await world.drive(undefined, 3);
    assert.match(world.condition("PreflightPassed")!.message, /BG003 green cluster green runs 1\.30, not the target 1\.31/);
    assert.equal(sentWeights(world.route53).length, 0);
  });
});

describe("BlueGreen blue retention (controller, fakes)", () => {
  const promoted = (upgrade: ClusterUpgrade): boolean => upgrade.status?.cutover?.state === "Promoted";

  it("keeps blue untouched for keepFor, then scales its node groups to zero with their sizes recorded", async () => {
    const world = harness({ blueRetention: { keepFor: "1h", scaleDown: true } });
    world.autoscaling.addGroup("legacy-asg", { min: 1, max: 4, desired: 2 }, { id: "lt-1", version: "1" });
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.spec.nodeGroups = { selfManaged: [{ autoScalingGroupName: "legacy-asg" }] }));
    await world.drive(promoted);
    const promotedAt = Date.parse(world.object().status!.cutover!.promotedAt!);
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.equal(world.condition("BlueRetired")?.reason, "RetainingBlue");
    assert.match(world.condition("BlueRetired")!.message, /kept untouched as the fallback until 2026-11-22T13:.*then be scaled to zero \(scaleDown\)/);
    await world.drive((upgrade) => upgrade.status?.blueRetention?.state === "ScalingDown");
    assert.ok(world.clock.now() >= promotedAt + 3_600_000, "nothing is scaled before keepFor has passed");
    await world.drive();
    const retention = world.object().status!.blueRetention!;
    assert.equal(retention.state, "ScaledDown");
    assert.deepEqual(
      retention.groups!.map((group) => [group.name, group.kind, group.originalSize, group.state]),
      [
        ["workers", "Managed", { min: 1, max: 6, desired: 3 }, "ScaledDown"],
        ["legacy-asg", "SelfManaged", { min: 1, max: 4, desired: 2 }, "ScaledDown"],
      ],
    );
    const scale = world.eks.calls.find((call) => call.method === "startNodegroupScalingUpdate")!.args[0] as { clusterName: string; scaling: unknown };
    assert.equal(scale.clusterName, "prod");
    assert.deepEqual(scale.scaling, { min: 0, max: 6, desired: 0 });
    assert.deepEqual([world.eks.nodegroups.get("workers")!.desiredSize, world.eks.nodegroups.get("workers")!.minSize], [0, 0]);
    assert.deepEqual(world.autoscaling.groups.get("legacy-asg")!.size, { min: 0, max: 4, desired: 0 });
    assert.equal(world.condition("BlueRetired")?.status, "True");
    assert.equal(world.object().status?.phase, "Succeeded");
    const events = world.events.messages("BlueScaledDown");
    assert.ok(events.some((message) => message.includes("aws eks update-nodegroup-config --cluster-name prod --nodegroup-name workers --scaling-config minSize=1,maxSize=6,desiredSize=3")), events.join("\n"));
    assert.equal(world.eks.count("deleteCluster"), 0, "blue is never deleted without deleteBlue");
    // Final: more passes change nothing.
    const calls = world.eks.calls.length;
    await world.drive(undefined, 5);
    assert.equal(world.eks.count("startNodegroupScalingUpdate"), 1);
    assert.ok(world.eks.calls.length - calls < 20);
  });

  it("does not scale blue down while Route53 still gives it weight, and goes on once it has none", async () => {
    const world = harness({ blueRetention: { keepFor: "10m", scaleDown: true } });
    await world.drive(promoted);
    world.route53.put(ZONE, RECORD, "CNAME", [
      { setIdentifier: "blue", weight: 20, ttl: 60, values: ["blue-ingress.shop.example.com"] },
      { setIdentifier: "green", weight: 235, ttl: 60, values: ["green-ingress.shop.example.com"] },
    ]);
    await world.drive((upgrade) => upgrade.status?.conditions?.some((condition) => condition.reason === "BlueStillServing") ?? false);
    assert.match(world.condition("BlueRetired")!.message, /not retiring blue cluster prod: blue's weighted record www\.shop\.example\.com \(blue\) has weight 20/);
    await world.drive(undefined, 5);
    assert.equal(world.eks.count("startNodegroupScalingUpdate"), 0);
    world.route53.put(ZONE, RECORD, "CNAME", [
      { setIdentifier: "blue", weight: 0, ttl: 60, values: ["blue-ingress.shop.example.com"] },
      { setIdentifier: "green", weight: 255, ttl: 60, values: ["green-ingress.shop.example.com"] },
    ]);
    await world.drive();
    assert.equal(world.object().status?.blueRetention?.state, "ScaledDown");
  });

  it("with deleteBlue deletes blue's node groups, then the cluster, and stays Succeeded once blue is gone", async () => {
    const world = harness({ blueRetention: { keepFor: "1h", scaleDown: true, deleteBlue: true } });
    await world.drive();
    const status = world.object().status!;
    assert.equal(status.blueRetention?.state, "Deleted");
    assert.equal(world.eks.clusters.has("prod"), false);
    assert.equal(world.eks.nodegroups.size, 0);
    const order = world.eks.calls.filter((call) => ["startNodegroupScalingUpdate", "deleteNodegroup", "deleteCluster"].includes(call.method)).map((call) => call.method);
    assert.deepEqual([...new Set(order)], ["startNodegroupScalingUpdate", "deleteNodegroup", "deleteCluster"]);
    assert.equal(status.phase, "Succeeded");
    assert.equal(world.condition("SpecValid")?.status, "True");
    assert.match(world.condition("BlueRetired")!.message, /blue cluster prod deleted/);
    await world.drive(undefined, 3);
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("spec.abort while blue scales down waits for the running update, then scales blue back to its recorded sizes", async () => {
    const world = harness({ blueRetention: { keepFor: "5m", scaleDown: true } });
    world.eks.pollsPerUpdate = 3;
    await world.drive((upgrade) => Boolean(upgrade.status?.blueRetention?.groups?.[0]?.updateId));
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.spec.abort = true));
    await world.drive();
    const status = world.object().status!;
    assert.equal(status.phase, "Aborted");
    assert.equal(status.blueRetention?.state, "Kept");
    const scalings = world.eks.calls.filter((call) => call.method === "startNodegroupScalingUpdate").map((call) => (call.args[0] as { scaling: unknown }).scaling);
    assert.deepEqual(scalings, [{ min: 0, max: 6, desired: 0 }, { min: 1, max: 6, desired: 3 }]);
    assert.ok(status.released?.some((line) => line.includes("node group workers of blue scaled back to 1/3/6")), JSON.stringify(status.released));
  });
});

describe("BlueGreen createGreen (controller, fakes)", () => {
  function cloneWorld(blueGreen: Partial<BlueGreenSpec> = {}): Harness {
    const world = harness({ createGreen: true, ...blueGreen });
    world.eks.clusters.delete("green");
    world.eks.blueprints.set("prod", {
      roleArn: "arn:aws:iam::111122223333:role/prod-cluster",
      subnetIds: ["subnet-a", "subnet-b"],
      securityGroupIds: ["sg-1"],
      endpointPrivateAccess: true,
      enabledLogTypes: ["api", "audit"],
      tags: { team: "platform" },
    });
    world.eks.nodegroupBlueprints.set("prod/workers", {
      nodeRole: "arn:aws:iam::111122223333:role/nodes",
      subnetIds: ["subnet-a", "subnet-b"],
      scaling: { min: 1, max: 6, desired: 3 },
      instanceTypes: ["m5.large"],
      labels: { tier: "web" },
      taints: [{ key: "dedicated", value: "web", effect: "NO_SCHEDULE" }],
      tags: {},
    });
    return world;
  }

  it("clones blue's control plane, node groups and add-ons at the target, verifies green, then moves traffic", async () => {
    const world = cloneWorld();
    world.eks.pollsPerTransition = 2;
    await world.drive((upgrade) => upgrade.status?.phase === "CreatingGreen");
    assert.equal(world.condition("GreenCreated")?.reason, "CreatingGreen");
    assert.equal(sentWeights(world.route53).length, 0);
    await world.drive();
    const status = world.object().status!;
    assert.equal(status.phase, "Succeeded");
    assert.deepEqual(world.weights(), { blue: 0, green: 255 });
    const create = world.eks.calls.filter((call) => call.method === "createCluster");
    assert.equal(create.length, 1);
    const request = create[0].args[0] as { name: string; version: string; blueprint: { roleArn: string; enabledLogTypes: string[]; endpointPrivateAccess: boolean; tags: Record<string, string> } };
    assert.equal(request.name, "green");
    assert.equal(request.version, "1.31");
    assert.equal(request.blueprint.roleArn, "arn:aws:iam::111122223333:role/prod-cluster");
    assert.deepEqual(request.blueprint.enabledLogTypes, ["api", "audit"]);
    assert.equal(request.blueprint.endpointPrivateAccess, true);
    const { "eksupgrade.io/claimed-by": claim, ...copied } = request.blueprint.tags;
    assert.deepEqual(copied, { team: "platform", "eksupgrade.io/created-by": "shop/cutover", "eksupgrade.io/cloned-from": "prod" });
    // Green is claimed by this upgrade from the moment it is created.
    assert.match(claim ?? "", /^uid=uid-cutover operator=\S+ since=\S+ upgrade=shop\/cutover$/);
    const group = world.eks.calls.find((call) => call.method === "createNodegroup")!.args[0] as { clusterName: string; version: string; blueprint: { labels: unknown; taints: unknown; scaling: unknown } };
    assert.equal(group.clusterName, "green");
    assert.equal(group.version, "1.31");
    assert.deepEqual(group.blueprint.labels, { tier: "web" });
    assert.deepEqual(group.blueprint.scaling, { min: 1, max: 6, desired: 3 });
    const addons = world.eks.calls.filter((call) => call.method === "createAddon").map((call) => call.args[0] as { addonName: string; version: string });
    assert.deepEqual(addons.map((addon) => `${addon.addonName} ${addon.version}`).sort(), ["coredns v1.13.0-eksbuild.1", "kube-proxy v1.31.0-eksbuild.1", "vpc-cni v1.20.0-eksbuild.1"]);
    assert.equal(status.green?.state, "Ready");
    assert.deepEqual(status.green?.nodeGroups?.map(({ name, status }) => ({ name, status })), [{ name: "workers", status: "ACTIVE" }]);
    assert.equal((group as unknown as { clientRequestToken: string }).clientRequestToken, status.green?.nodeGroups?.[0].clientRequestToken, "the token in status is the one sent");
    assert.equal(world.condition("GreenCreated")?.status, "True");
    const firstStep = status.cutover!.changes![0].sentAt;
    assert.ok(Date.parse(firstStep) >= Date.parse(status.green.readyAt!), "no traffic before green is ready");
    assert.equal(world.eks.count("startClusterVersionUpdate"), 0, "blue is not upgraded");
  });

  it("a restarted operator adopts the cluster it was creating instead of creating a second one", async () => {
    const world = cloneWorld();
    world.eks.pollsPerTransition = 4;
    await world.drive((upgrade) => upgrade.status?.green?.state === "Creating" && world.eks.count("createCluster") === 1, 50);
    world.controller();
    await world.drive();
    assert.equal(world.eks.count("createCluster"), 1);
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  /** Reconciles until `until` holds, keeping the errors thrown by failed passes instead of stopping at them. */
  async function driveThroughErrors(world: Harness, until: (upgrade: ClusterUpgrade) => boolean, limit = 100): Promise<string[]> {
    const errors: string[] = [];
    world.controller();
    for (let pass = 0; pass < limit && !until(world.object()); pass++) {
      try {
        const outcome = await world.controller().reconcile("shop", "cutover");
        await world.clock.advance(outcome.requeueAfterMs ?? 1000);
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
        await world.clock.advance(1000);
      }
    }
    return errors;
  }

  function createsOf(world: Harness, method: string, name: string): { clientRequestToken: string; tags?: Record<string, string> }[] {
    return world.eks.calls
      .filter((call) => call.method === method)
      .map((call) => call.args[0] as { nodegroupName?: string; addonName?: string; clientRequestToken: string; tags?: Record<string, string> })
      .filter((request) => (request.nodegroupName ?? request.addonName) === name);
  }

  it("a node group create whose answer was lost is sent again with the token stored before the first call", async () => {
    const world = cloneWorld();
    world.eks.failNextPartCreate = { method: "createNodegroup", error: new TransientError("socket hang up"), afterCreating: true };
    const errors = await driveThroughErrors(world, (upgrade) => upgrade.status?.phase === "Succeeded", 200);
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.ok(errors.some((message) => /socket hang up/.test(message)), "the lost answer failed one pass");
    const creates = createsOf(world, "createNodegroup", "workers");
    assert.equal(creates.length, 2);
    const token = world.object().status!.green!.nodeGroups![0].clientRequestToken;
    assert.ok(token);
    assert.deepEqual(creates.map((request) => request.clientRequestToken), [token, token], "the retry reuses the stored token, so EKS deduplicates it");
    const addonTokens = world.object().status!.green!.addons!.map((addon) => addon.clientRequestToken);
    assert.equal(new Set(addonTokens).size, 3, "one token per add-on");
  });

  it("does not adopt a node group of the same name that this upgrade did not create", async () => {
    const world = cloneWorld();
    await driveThroughErrors(world, (upgrade) => upgrade.status?.green?.state === "NodeGroups" && Boolean(upgrade.status.green.nodeGroups));
    world.eks.groupsOf("green").set("workers", { name: "workers", version: "1.31", status: "ACTIVE", autoScalingGroupNames: ["other"], desiredSize: 1, minSize: 1, maxSize: 1, instanceTypes: [], subnetIds: [], healthIssues: [], tags: { team: "someone-else" } });
    await driveThroughErrors(world, (upgrade) => upgrade.status?.phase === "Failed", 20);
    assert.equal(world.object().status?.phase, "Failed");
    assert.equal(world.condition("GreenCreated")?.reason, "GreenCreationFailed");
    assert.match(world.condition("GreenCreated")!.message, /node group workers already exists in green cluster green and was not created by ClusterUpgrade shop\/cutover \(tag eksupgrade\.io\/created-by is absent\); EKS said: ResourceInUseException/);
    assert.equal(world.eks.groupsOf("green").get("workers")?.autoScalingGroupNames[0], "other", "the group found is left as it is");
    assert.equal(sentWeights(world.route53).length, 0);
  });

  it("adopts an add-on that EKS says exists only when its created-by tag names this upgrade", async () => {
    const world = cloneWorld();
    await driveThroughErrors(world, (upgrade) => upgrade.status?.green?.state === "NodeGroups" && Boolean(upgrade.status.green.addons));
    // Created by this upgrade under a token that was lost (an older operator): tagged, so it is ours.
    world.eks.addonsOf("green").set("coredns", { name: "coredns", version: "v1.13.0-eksbuild.1", status: "CREATING", issues: [], tags: { "eksupgrade.io/created-by": "shop/cutover" } });
    world.eks.addonsOf("green").set("kube-proxy", { name: "kube-proxy", version: "v1.31.0-eksbuild.1", status: "ACTIVE", issues: [] });
    await driveThroughErrors(world, (upgrade) => upgrade.status?.phase === "Failed", 40);
    assert.equal(world.object().status?.green?.addons?.find((addon) => addon.name === "coredns")?.status, "CREATING", "coredns is adopted and followed");
    assert.doesNotMatch(world.condition("GreenCreated")!.message, /coredns/);
    assert.match(world.condition("GreenCreated")!.message, /add-on kube-proxy already exists in green cluster green and was not created by ClusterUpgrade shop\/cutover/);
  });

  it("an 'in use' answer for a node group that Describe cannot find is an error, not a node group created", async () => {
    const world = cloneWorld();
    world.eks.failNextPartCreate = { method: "createNodegroup", error: new AlreadyExistsError("ResourceInUseException: the resource is in use") };
    const errors = await driveThroughErrors(world, (upgrade) => /DescribeNodegroup finds no such node group/.test(upgrade.status?.conditions?.find((condition) => condition.type === "Progressing")?.message ?? ""), 100);
    assert.ok(errors.some((message) => /EKS answered CreateNodegroup for workers in green cluster green that it is in use, yet DescribeNodegroup finds no such node group/.test(message)));
    assert.equal(world.object().status?.green?.nodeGroups?.[0].status, "Pending");
    await driveThroughErrors(world, (upgrade) => upgrade.status?.phase === "Succeeded", 200);
    assert.equal(world.object().status?.phase, "Succeeded");
    const creates = createsOf(world, "createNodegroup", "workers");
    assert.equal(creates.length, 2);
    assert.equal(creates[0].clientRequestToken, creates[1].clientRequestToken);
  });

  it("another conflict from CreateAddon is an error in EKS's words, and the add-on stays to be created with the same token", async () => {
    const world = cloneWorld();
    world.eks.failNextPartCreate = { method: "createAddon", error: new ConflictError("ConflictException: cluster green has an update in progress") };
    const errors = await driveThroughErrors(world, (upgrade) => /ConflictException/.test(upgrade.status?.conditions?.find((condition) => condition.type === "Progressing")?.message ?? ""), 100);
    assert.ok(errors.some((message) => /ConflictException: cluster green has an update in progress/.test(message)));
    assert.equal(world.object().status?.green?.addons?.find((addon) => addon.name === "coredns")?.status, "Pending", "not counted as created");
    await driveThroughErrors(world, (upgrade) => upgrade.status?.phase === "Succeeded", 200);
    assert.equal(world.object().status?.phase, "Succeeded");
    const creates = createsOf(world, "createAddon", "coredns");
    assert.equal(creates.length, 2);
    assert.equal(creates[0].clientRequestToken, creates[1].clientRequestToken);
    assert.deepEqual(creates[1].tags, { "eksupgrade.io/created-by": "shop/cutover", "eksupgrade.io/managed": "true" });
  });

  it("refuses to take over a cluster of green's name it did not create", async () => {
    const world = cloneWorld();
    world.eks.clusters.set("green", { name: "green", version: "1.31", status: "ACTIVE", subnetIds: ["subnet-a"], securityGroupIds: [], tags: { owner: "someone-else" } });
    await world.drive(undefined, 3);
    assert.equal(world.object().status?.phase, "Blocked");
    assert.match(world.condition("PreflightPassed")!.message, /BG010 cluster green already exists and was not created by ClusterUpgrade shop\/cutover/);
    assert.equal(world.eks.count("createCluster"), 0);
  });

  it("reports EKS refusing the clone as Failed, naming EKS's words, and creates nothing more", async () => {
    const world = cloneWorld();
    world.eks.failNextCreate = new ValidationError("InvalidParameterException: Subnets specified must be in at least two different AZs");
    await world.drive();
    assert.equal(world.object().status?.phase, "Failed");
    assert.equal(world.condition("GreenCreated")?.reason, "GreenCreationFailed");
    assert.match(world.condition("GreenCreated")!.message, /EKS refused to create green cluster green cloned from prod at 1\.31: .*two different AZs/);
    assert.equal(world.eks.count("createNodegroup"), 0);
    assert.equal(sentWeights(world.route53).length, 0);
    await world.drive(undefined, 3);
    assert.equal(world.events.messages("GreenCreationFailed").length, 1, "one Event, however many passes follow");
  });

  it("a dry run creates nothing and says green would be cloned", async () => {
    const world = cloneWorld();
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.spec.dryRun = true));
    await world.drive();
    assert.equal(world.object().status?.phase, "Planned");
    assert.match(world.condition("Ready")!.message, /green cluster green would be created at 1\.31 as a clone of prod, then traffic/);
    assert.equal(world.eks.count("createCluster"), 0);
  });

  it("waits for a maintenance window before creating green", async () => {
    const world = cloneWorld();
    world.store.editSpec("shop", "cutover", (upgrade) => (upgrade.spec.maintenanceWindows = [{ schedule: "0 22 * * *", duration: "2h" }]));
    await world.drive((upgrade) => upgrade.status?.phase === "WaitingForWindow", 5);
    assert.equal(world.eks.count("createCluster"), 0);
    await world.drive(undefined, 1000);
    assert.equal(world.object().status?.phase, "Succeeded");
    const created = world.eks.calls.findIndex((call) => call.method === "createCluster");
    assert.ok(created >= 0);
    assert.ok(Date.parse(world.object().status!.green!.startedAt) >= Date.parse("2026-11-22T22:00:00Z"));
  });
});
