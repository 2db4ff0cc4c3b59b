// The ClusterUpgrade reconcile against fake EKS/EC2 ports, an in-memory store and a fake clock:
// whole upgrades hop by hop, and the scenarios the operator must refuse or wait on.
import assert from "node:assert/strict";
import { ALL_CONDITION_TYPES, API_VERSION, KIND, type ClusterUpgrade, type ClusterUpgradeSpec } from "../../../src/api/v1alpha1/types.js";
import { drivePasses } from "../../support/drive.js";
import { ClusterUpgradeController, type ReconcileOutcome } from "../../../src/controllers/clusterupgrade/controller.js";
import { isDeepStrictEqual } from "node:util";
import { CLAIM_TAG } from "../../../src/claims/holder.js";
import { FakeClock } from "../../../src/util/clock.js";
import { createSilentLogger } from "../../../src/util/logger.js";
import { fakeNode, healthyWorld, type FakeEks, type FakeEc2 } from "../../support/fakes/cloud.js";
import type { FakeAutoScaling } from "../../support/fakes/autoscaling.js";
import type { CloudPorts } from "../../../src/cloud/ports.js";
import { MemoryStore, RecordingEvents } from "../../support/fakes/store.js";
import type { WorkloadSnapshot } from "../../../src/kube/workload-snapshot.js";
import type { Notifier, PhaseChange } from "../../../src/notify/webhook.js";
import { NOTIFICATION_RETRY_MAX_MS } from "../../../src/notify/delivery.js";
import { FakeCluster } from "../../support/fakes/cluster.js";
import type { EvictionAnswer } from "../../../src/kube/nodes.js";
import { TransientError, ValidationError } from "../../../src/util/errors.js";

interface Harness {
  snapshot: WorkloadSnapshot;
  ports: CloudPorts;
  eks: FakeEks;
  ec2: FakeEc2;
  store: MemoryStore;
  events: RecordingEvents;
  clock: FakeClock;
  /** Eviction answers the fake API server gives instead of its own, by "namespace/name". */
  evictionAnswers: Map<string, EvictionAnswer>;
  /** Every call to the upgraded cluster's API server, in order, across passes. */
  kubeCalls: { method: string; args: unknown[] }[];
  /** How many times the controller asked for a reader of the upgraded cluster (a Secret read each, in production). */
  readerOpens(): number;
  controller: ClusterUpgradeController;
  /** A new controller over the same store and world, as after a restart: nothing kept in memory. */
  restarted(): ClusterUpgradeController;
  object(): ClusterUpgrade;
  condition(type: string): { status: string; reason: string; message: string } | undefined;
  /** Runs reconcile passes, moving the clock by each requeue, until none is asked or `limit` passes. */
  drive(limit?: number, until?: (upgrade: ClusterUpgrade) => boolean): Promise<ReconcileOutcome>;
}

function harness(spec: Partial<ClusterUpgradeSpec> = {}, version = "1.29", globallyPaused?: () => boolean, notifications?: PhaseChange[], notifier?: Notifier): Harness {
  const world = healthyWorld(version);
  const store = new MemoryStore();
  const events = new RecordingEvents();
  const clock = new FakeClock(Date.parse("2026-11-22T12:00:00Z"));
  const evictionAnswers = new Map<string, EvictionAnswer>();
  const kubeCalls: { method: string; args: unknown[] }[] = [];
  let readerOpens = 0;
  store.put({
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: "upgrade", namespace: "default" },
    spec: { cluster: { name: "prod" }, targetVersion: "1.31", ...(notifications || notifier ? { notifications: { webhookUrl: "https://hooks.example.com/upgrades" } } : {}), ...spec },
  });
  const options: ConstructorParameters<typeof ClusterUpgradeController>[0] = {
    store,
    events,
    cloud: () => world.ports,
    workloads: () => {
      readerOpens++;
      return Promise.resolve(new FakeCluster(world.snapshot, evictionAnswers, kubeCalls));
    },
    clock,
    logger: createSilentLogger(),
    defaultRegion: "us-east-1",
    // The claim's settle time is covered by test/unit/controllers/claims.test.ts; here claims are read back at once.
    timings: { claimSettleMs: 0 },
    ...(globallyPaused ? { globallyPaused } : {}),
    ...(notifications ? { notifierFor: () => Promise.resolve({ notify: (change: PhaseChange) => Promise.resolve(void notifications.push(change)) }) } : {}),
    ...(notifier ? { notifierFor: () => Promise.resolve(notifier) } : {}),
  };
  const controller = new ClusterUpgradeController(options);
  const object = (): ClusterUpgrade => store.current("default", "upgrade");
  return {
    ...world,
    store,
    events,
    clock,
    evictionAnswers,
    kubeCalls,
    readerOpens: () => readerOpens,
    controller,
    restarted: () => new ClusterUpgradeController(options),
    object,
    condition: (type) => object().status?.conditions?.find((condition) => condition.type === type),
    async drive(limit = 200, until) {
      return drivePasses(() => controller.reconcile("default", "upgrade"), (ms) => clock.advance(ms), object, limit, until);
    },
  };
}

interface RollWorld {
  world: Harness;
  autoscaling: FakeAutoScaling;
  /** What the cloud controller manager and kubelets would do between passes. */
  mirror(): void;
  /** Names of the group's nodes before the roll. */
  original: string[];
  /** Budgets recover between passes unless this is false. */
  budgetsRecover: boolean;
  /** New instances get a Ready node unless this is false (a broken AMI or user data). */
  nodesJoin: boolean;
}

/** A cluster with a self-managed group "legacy" of 3 nodes at 1.29, two budgeted pods per node. */
function rollWorld(spec: Partial<ClusterUpgradeSpec> = {}): RollWorld {
  const world = harness({ nodeGroups: { order: ["legacy", "workers"], selfManaged: [{ autoScalingGroupName: "legacy" }], maxSurge: 1, maxUnavailable: 1 }, drain: { maxParallelNodes: 2 }, ...spec });
  const state = { budgetsRecover: true, nodesJoin: true };
  const { autoscaling } = world.ports as unknown as { autoscaling: FakeAutoScaling };
  world.ec2.templates.set("lt-legacy", new Map([["1", "ami-129"]]));
  world.ec2.amis.set("1.30", "ami-130");
  world.ec2.amis.set("1.31", "ami-131");
  autoscaling.addGroup("legacy", { min: 2, max: 4, desired: 3 }, { id: "lt-legacy", version: "1" });
  const kubeletOfAmi: Record<string, string> = { "ami-129": "v1.29.5", "ami-130": "v1.30.5", "ami-131": "v1.31.5" };
  // What the cloud controller manager and kubelets would do: a Ready node per instance, at its AMI's version.
  const mirror = (): void => {
    const group = autoscaling.groups.get("legacy")!;
    const ids = new Set(group.instances.map((instance) => instance.id));
    world.snapshot.nodes = world.snapshot.nodes.filter((node) => !node.spec?.providerID || ids.has(node.spec.providerID.split("/").pop()!));
    world.snapshot.pods = world.snapshot.pods.filter((pod) => world.snapshot.nodes.some((node) => node.metadata?.name === pod.spec?.nodeName));
    for (const instance of group.instances) {
      const name = `node-${instance.id}`;
      if (world.snapshot.nodes.some((node) => node.metadata?.name === name)) continue;
      if (!state.nodesJoin && instance.launchTemplateVersion !== "1") continue;
      const ami = world.ec2.templates.get("lt-legacy")!.get(instance.launchTemplateVersion!)!;
      world.ec2.instances.set(instance.id, ami);
      const node = fakeNode(name, "legacy", instance.zone, kubeletOfAmi[ami]);
      delete node.metadata!.labels!["eks.amazonaws.com/nodegroup"];
      node.spec = { providerID: `aws:///${instance.zone}/${instance.id}` };
      world.snapshot.nodes.push(node);
    }
    // Evicted pods finish terminating; the budget recovers once replacements run elsewhere.
    world.snapshot.pods = world.snapshot.pods.filter((pod) => !pod.metadata?.deletionTimestamp);
    if (state.budgetsRecover) for (const pdb of world.snapshot.pdbs) pdb.status = { ...pdb.status!, disruptionsAllowed: 1 };
  };
  mirror();
  const original = [...autoscaling.groups.get("legacy")!.instances.map((instance) => `node-${instance.id}`)];
  world.snapshot.replicaSets = [{ metadata: { name: "api-1", namespace: "shop", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "api", uid: "d", controller: true }] } }];
  world.snapshot.pdbs = [{ metadata: { name: "api", namespace: "shop" }, spec: { selector: { matchLabels: { app: "api" } }, maxUnavailable: 1 }, status: { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, observedGeneration: 1 } }];
  world.snapshot.pods = original.flatMap((node) =>
    ["a", "b"].map((suffix) => ({
      metadata: { name: `api-${node}-${suffix}`, namespace: "shop", labels: { app: "api" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "api-1", uid: "r", controller: true }] },
      spec: { nodeName: node, containers: [{ name: "c" }] },
      status: { phase: "Running" },
    })),
  );
  return {
    world,
    autoscaling,
    mirror,
    original,
    get budgetsRecover() {
      return state.budgetsRecover;
    },
    set budgetsRecover(value: boolean) {
      state.budgetsRecover = value;
    },
    get nodesJoin() {
      return state.nodesJoin;
    },
    set nodesJoin(value: boolean) {
      state.nodesJoin = value;
    },
  };
}

/** Runs passes (with the mirror between them) until none is asked, `until` holds, or `limit` passes. */
async function runRoll(roll: RollWorld, limit = 400, until?: (upgrade: ClusterUpgrade) => boolean): Promise<number[]> {
  const sizes: number[] = [];
  for (let pass = 0; pass < limit; pass++) {
    const outcome = await roll.world.controller.reconcile("default", "upgrade");
    sizes.push(roll.autoscaling.groups.get("legacy")!.size.desired);
    if (outcome.requeueAfterMs === undefined || until?.(roll.world.object())) break;
    await roll.world.clock.advance(outcome.requeueAfterMs);
    roll.mirror();
  }
  return sizes;
}

describe("ClusterUpgrade reconcile", () => {
  it("upgrades 1.29 -> 1.31 in two hops: control plane, add-ons, node groups, then kube-proxy, one UpdateClusterVersion per hop", async () => {
    const world = harness();
    const outcome = await world.drive();
    assert.equal(outcome.requeueAfterMs, undefined);
    const upgrade = world.object();
    assert.equal(upgrade.status?.phase, "Succeeded");
    assert.equal(upgrade.status?.currentVersion, "1.31");
    assert.equal(world.condition("Ready")?.status, "True");
    assert.equal(world.eks.clusters.get("prod")?.version, "1.31");
    assert.equal(world.eks.nodegroups.get("workers")?.version, "1.31");
    assert.equal(world.eks.addons.get("kube-proxy")?.version, "v1.31.0-eksbuild.1");
    const starts = world.eks.calls.filter((call) => call.method === "startClusterVersionUpdate");
    assert.deepEqual(starts.map((call) => (call.args[0] as { version: string }).version), ["1.30", "1.31"]);
    // Lock-step: per hop the order is control plane, vpc-cni, coredns, node group, kube-proxy.
    const order = world.eks.calls
      .filter((call) => call.method.startsWith("start"))
      .map((call) => {
        const args = call.args[0] as { version?: string; addonName?: string; nodegroupName?: string };
        return args.addonName ?? args.nodegroupName ?? `cp-${args.version}`;
      });
    assert.deepEqual(order, ["cp-1.30", "vpc-cni", "coredns", "workers", "kube-proxy", "cp-1.31", "vpc-cni", "coredns", "workers", "kube-proxy"]);
    assert.deepEqual(upgrade.status?.hops?.map((hop) => [hop.from, hop.version, hop.state]), [
      ["1.29", "1.30", "Succeeded"],
      ["1.30", "1.31", "Succeeded"],
    ]);
    assert.equal(upgrade.status?.progress, "cp 2/2, addons 6/6, nodes 3/3");
    assert.equal(upgrade.status?.observedGeneration, 1);
    assert.ok(world.events.reasons().includes("UpgradeSucceeded"));
  });

  it("puts spec's updateConfig on a managed group before its version update, once per hop, and the group keeps it", async () => {
    const world = harness({ nodeGroups: { managed: [{ name: "workers", maxUnavailablePercentage: 20, updateStrategy: "MINIMAL" }] } });
    const outcome = await world.drive();
    assert.equal(outcome.requeueAfterMs, undefined);
    assert.equal(world.object().status?.phase, "Succeeded");
    const configs = world.eks.calls.filter((call) => call.method === "startNodegroupConfigUpdate");
    assert.equal(configs.length, 1, "set in the first hop, already there in the second");
    assert.deepEqual((configs[0].args[0] as { updateConfig: unknown }).updateConfig, { maxUnavailablePercentage: 20, updateStrategy: "MINIMAL" });
    const methods = world.eks.calls.map((call) => call.method);
    assert.ok(methods.indexOf("startNodegroupConfigUpdate") < methods.indexOf("startNodegroupVersionUpdate"), "configured before the roll starts");
    assert.equal(world.eks.nodegroups.get("workers")?.maxUnavailablePercentage, 20);
    assert.equal(world.eks.nodegroups.get("workers")?.updateStrategy, "MINIMAL");
    assert.ok(world.events.reasons().includes("NodeGroupConfigUpdateStarted"));
  });

  it("writes a first status, phase Preflight, before the first pass reads the cluster or AWS", async () => {
    const world = harness();
    const writes: { phase: string | undefined; ready: string | undefined; awsCalls: number; readerOpens: number }[] = [];
    const write = world.store.updateStatus.bind(world.store);
    world.store.updateStatus = async (upgrade, status) => {
      writes.push({ phase: status.phase, ready: status.conditions?.find((condition) => condition.type === "Ready")?.message, awsCalls: world.eks.calls.length, readerOpens: world.readerOpens() });
      await write(upgrade, status);
    };
    await world.controller.reconcile("default", "upgrade");
    assert.ok(writes.length >= 2, "the first status, then the pass's own");
    assert.deepEqual(writes[0], { phase: "Preflight", ready: "accepted: reading cluster prod and running the preflight checks", awsCalls: 0, readerOpens: 0 });
    assert.ok(writes[1].awsCalls > 0);
    writes.length = 0;
    await world.controller.reconcile("default", "upgrade");
    assert.notEqual(writes[0]?.ready, "accepted: reading cluster prod and running the preflight checks", "written once, not on every pass");
  });

  it("reads AWS while the cluster is read: no AWS call of the preflight waits for the snapshot", async () => {
    const roll = rollWorld();
    const timeline: string[] = [];
    const { ec2, autoscaling } = roll.world.ports;
    for (const [port, methods] of [
      [ec2, ["describeSubnets", "existingSecurityGroups"]],
      [autoscaling, ["describeGroup"]],
    ] as const) {
      for (const method of methods) {
        const original = (port as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method].bind(port);
        (port as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
          timeline.push(method);
          return original(...args);
        };
      }
    }
    // The snapshot takes a few turns of the event loop, as pages arriving do.
    const descriptor = Object.getOwnPropertyDescriptor(FakeCluster.prototype, "snapshot")!;
    const snapshot = descriptor.value as (this: FakeCluster) => Promise<WorkloadSnapshot>;
    FakeCluster.prototype.snapshot = async function (this: FakeCluster) {
      const read = await snapshot.call(this);
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      timeline.push("snapshot read");
      return read;
    };
    try {
      await roll.world.controller.reconcile("default", "upgrade");
    } finally {
      Object.defineProperty(FakeCluster.prototype, "snapshot", descriptor);
    }
    const read = timeline.indexOf("snapshot read");
    assert.ok(read > 0, `the pass read no snapshot: ${timeline.join(", ")}`);
    assert.deepEqual(timeline.slice(read + 1), [], `AWS calls waited for the snapshot: ${timeline.join(", ")}`);
    for (const method of ["describeSubnets", "existingSecurityGroups", "describeGroup"]) assert.ok(timeline.includes(method), `${method} was not called`);
    assert.equal(roll.world.object().status?.phase, "UpgradingControlPlane", "the preflight passed and the upgrade went on");
  });

  it("notifies each phase change once, ending with Succeeded", async () => {
    const notifications: PhaseChange[] = [];
    const world = harness({}, "1.29", undefined, notifications);
    await world.drive();
    const phases = notifications.map((change) => `${change.previousPhase}>${change.phase}`);
    // The first status (phase Preflight) is written before the first pass reads anything.
    assert.equal(phases[0], "Preflight>UpgradingControlPlane");
    assert.equal(notifications.at(-1)?.phase, "Succeeded");
    assert.match(notifications.at(-1)!.message, /runs 1.31/);
    for (let index = 1; index < notifications.length; index++) {
      assert.equal(notifications[index].previousPhase, notifications[index - 1].phase, "each change starts where the last ended");
    }
  });

  it("keys each message <uid>/<sequence>/<phase> and records the last one acknowledged", async () => {
    const notifications: PhaseChange[] = [];
    const world = harness({}, "1.29", undefined, notifications);
    await world.drive();
    assert.deepEqual(notifications.map((change) => change.idempotencyKey), notifications.map((change, index) => `uid-upgrade/${index + 1}/${change.phase}`));
    const recorded = world.object().status?.notifications;
    assert.equal(recorded?.pending, undefined);
    assert.equal(recorded?.lastNotified?.phase, "Succeeded");
    assert.equal(recorded?.lastNotified?.key, notifications.at(-1)?.idempotencyKey);
  });

  it("records the phase change in the same status write, and delivers it after a crash before the post, under the same key", async () => {
    const sent: PhaseChange[] = [];
    const world = harness({}, "1.29", undefined, undefined, { notify: (change) => Promise.resolve(void sent.push(change)) });
    const realUpdateStatus = world.store.updateStatus.bind(world.store);
    let crashed = false;
    world.store.updateStatus = async (upgrade, status) => {
      await realUpdateStatus(upgrade, status);
      // The process dies right after the write that recorded the first change.
      if (!crashed && status.notifications?.pending?.length) {
        crashed = true;
        throw new Error("killed");
      }
    };
    await assert.rejects(world.controller.reconcile("default", "upgrade"), /killed/);
    assert.equal(sent.length, 0, "nothing was posted before the crash");
    const pending = world.object().status?.notifications?.pending;
    assert.equal(pending?.length, 1);
    assert.equal(world.object().status?.phase, pending?.[0]?.phase, "the change was written with the phase");

    await world.restarted().reconcile("default", "upgrade");
    assert.equal(sent[0]?.idempotencyKey, pending?.[0]?.key);
    assert.equal(sent[0]?.phase, pending?.[0]?.phase);
    assert.equal(world.object().status?.notifications?.lastNotified?.key, pending?.[0]?.key);
  });

  it("retries a failed post on a later pass with the same key, even once the upgrade is done", async () => {
    const sent: PhaseChange[] = [];
    let failing = true;
    const world = harness({}, "1.29", undefined, undefined, {
      notify: (change) => {
        sent.push(change);
        return failing ? Promise.reject(new TransientError("the webhook answered HTTP 500")) : Promise.resolve();
      },
    });
    const outcome = await world.drive(500, (upgrade) => upgrade.status?.phase === "Succeeded");
    assert.equal(world.object().status?.phase, "Succeeded");
    const stuck = world.object().status?.notifications?.pending ?? [];
    assert.ok(stuck.length > 1, "every change since the first failure is kept");
    assert.equal(stuck[0]?.phase, sent[0]?.phase);
    assert.match(stuck[0]?.lastError ?? "", /HTTP 500/);
    assert.ok(new Set(sent.map((change) => change.idempotencyKey)).size === 1, "only the first change was tried, always under one key");
    assert.ok(outcome.requeueAfterMs !== undefined && outcome.requeueAfterMs > 0, "a finished upgrade still asks for a pass to retry");

    failing = false;
    await world.clock.advance(NOTIFICATION_RETRY_MAX_MS);
    const before = sent.length;
    await world.controller.reconcile("default", "upgrade");
    const delivered = sent.slice(before);
    assert.equal(delivered[0]?.idempotencyKey, sent[0]?.idempotencyKey);
    assert.deepEqual(delivered.map((change) => change.idempotencyKey), stuck.map((entry) => entry.key));
    assert.equal(world.object().status?.notifications?.pending, undefined);
    assert.equal(world.object().status?.notifications?.lastNotified?.phase, "Succeeded");
  });

  it("does not send a delivered message again after a restart", async () => {
    const sent: PhaseChange[] = [];
    const world = harness({}, "1.29", undefined, undefined, { notify: (change) => Promise.resolve(void sent.push(change)) });
    await world.drive();
    const count = sent.length;
    assert.ok(count > 0);
    const outcome = await world.restarted().reconcile("default", "upgrade");
    await world.restarted().reconcile("default", "upgrade");
    assert.equal(sent.length, count);
    assert.equal(outcome.requeueAfterMs, undefined, "nothing left to deliver");
  });

  it("sends again under the same key when the write recording the delivery is lost", async () => {
    const sent: PhaseChange[] = [];
    const world = harness({}, "1.29", undefined, undefined, { notify: (change) => Promise.resolve(void sent.push(change)) });
    const realUpdateStatus = world.store.updateStatus.bind(world.store);
    let lost = false;
    world.store.updateStatus = async (upgrade, status) => {
      if (!lost && status.notifications?.lastNotified) {
        lost = true;
        throw new Error("killed");
      }
      await realUpdateStatus(upgrade, status);
    };
    await assert.rejects(world.controller.reconcile("default", "upgrade"), /killed/);
    assert.equal(sent.length, 1);
    await world.restarted().reconcile("default", "upgrade");
    assert.equal(sent.length, 2);
    assert.equal(sent[1]?.idempotencyKey, sent[0]?.idempotencyKey, "the receiver can drop the repeat");
  });

  it("keeps no pending messages for an upgrade that names no webhook", async () => {
    const world = harness();
    await world.drive();
    assert.equal(world.object().status?.notifications, undefined);
  });

  it("writes every known condition on the first pass, Unknown until known", async () => {
    const world = harness({ paused: true });
    await world.controller.reconcile("default", "upgrade");
    const types = world.object().status?.conditions?.map((condition) => condition.type).sort();
    assert.deepEqual(types, [...ALL_CONDITION_TYPES].sort());
    assert.equal(world.condition("ControlPlaneUpgraded")?.status, "Unknown");
  });

  it("never submits a second update when the status write after the call is lost (restart mid-call)", async () => {
    const world = harness();
    // Drive until the token is stored, then lose the write that would record the update id.
    await world.drive(200, (upgrade) => Boolean(upgrade.status?.hops?.[0]?.clientRequestToken));
    const realUpdateStatus = world.store.updateStatus.bind(world.store);
    let dropped = false;
    world.store.updateStatus = (upgrade, status) => {
      if (!dropped && status.hops?.[0]?.updateId) {
        dropped = true;
        return Promise.reject(new Error("connection reset while writing status"));
      }
      return realUpdateStatus(upgrade, status);
    };
    await assert.rejects(world.controller.reconcile("default", "upgrade"), /connection reset/);
    assert.equal(world.object().status?.hops?.[0]?.updateId, undefined);
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
    // Two calls for the first hop carry the same token; EKS answers both with the same update.
    const tokens = world.eks.calls.filter((call) => call.method === "startClusterVersionUpdate").map((call) => (call.args[0] as { clientRequestToken: string }).clientRequestToken);
    assert.equal(tokens.length, 3);
    assert.equal(new Set(tokens).size, 2);
    assert.equal(tokens[0], tokens[1]);
  });

  it("surfaces a failed control-plane update with EKS's error code and retries after backoff", async () => {
    const world = harness();
    world.eks.failNextUpdate([{ errorCode: "InsufficientFreeAddresses", errorMessage: "Not enough free IPs in subnet-a", resourceIds: ["subnet-a"] }]);
    await world.drive(200, (upgrade) => upgrade.status?.phase === "Failed");
    const condition = world.condition("ControlPlaneUpgraded");
    assert.equal(condition?.reason, "HopFailed");
    assert.match(condition.message, /InsufficientFreeAddresses: Not enough free IPs in subnet-a \(subnet-a\)/);
    assert.match(condition.message, /free IP addresses/);
    assert.ok(world.events.reasons().includes("ControlPlaneUpgradeFailed"));
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.equal(world.object().status?.hops?.[0]?.attempts, 2);
  });

  it("does not retry a failed update while the preflight checks still fail, and retries once they pass", async () => {
    const world = harness();
    world.eks.failNextUpdate([{ errorCode: "InsufficientFreeAddresses", errorMessage: "Not enough free IPs", resourceIds: ["subnet-a", "subnet-b"] }]);
    await world.drive(200, (upgrade) => upgrade.status?.phase === "Failed");
    world.ec2.subnets.forEach((subnet) => (subnet.availableIpAddressCount = 1));
    await world.drive(30);
    assert.equal(world.object().status?.phase, "Blocked");
    assert.equal(world.eks.count("startClusterVersionUpdate"), 1, "no second UpdateClusterVersion while the subnets are starved");
    world.ec2.subnets.forEach((subnet) => (subnet.availableIpAddressCount = 200));
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.equal(world.eks.count("startClusterVersionUpdate"), 3);
  });

  it("blocks on starved subnets, names them, and proceeds by itself once addresses are freed", async () => {
    const world = harness();
    world.ec2.subnets[0].availableIpAddressCount = 2;
    world.ec2.subnets[1].availableIpAddressCount = 4;
    await world.drive(3);
    assert.equal(world.object().status?.phase, "Blocked");
    assert.match(world.condition("PreflightPassed")!.message, /IP001 .*subnet-a \(us-east-1a, 2 free\), subnet-b \(us-east-1b, 4 free\)/);
    assert.equal(world.eks.count("startClusterVersionUpdate"), 0);
    world.ec2.subnets[0].availableIpAddressCount = 200;
    world.ec2.subnets[1].availableIpAddressCount = 200;
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("reports a missing cluster as InvalidSpec and changes nothing", async () => {
    const world = harness({ cluster: { name: "nope" } });
    const outcome = await world.drive();
    assert.equal(outcome.requeueAfterMs, undefined);
    assert.equal(world.object().status?.phase, "InvalidSpec");
    assert.equal(world.condition("SpecValid")?.reason, "ClusterNotFound");
    assert.match(world.condition("SpecValid")!.message, /EKS cluster nope was not found/);
    assert.equal(world.eks.calls.filter((call) => call.method.startsWith("start")).length, 0);
  });

  it("refuses a target below the live version", async () => {
    const world = harness({ targetVersion: "1.28" });
    await world.drive();
    assert.equal(world.condition("SpecValid")?.reason, "TargetBelowCurrent");
    assert.match(world.condition("SpecValid")!.message, /below the cluster's version 1.29/);
  });

  it("a dry run plans the hops and changes nothing", async () => {
    const world = harness({ dryRun: true });
    await world.drive();
    const upgrade = world.object();
    assert.equal(upgrade.status?.phase, "Planned");
    assert.deepEqual(upgrade.status?.plan?.hops.map((hop) => hop.to), ["1.30", "1.31"]);
    assert.equal(world.eks.calls.filter((call) => call.method.startsWith("start")).length, 0);
  });

  it("pauses before starting anything new and resumes where it stopped", async () => {
    const world = harness();
    await world.drive(200, (upgrade) => upgrade.status?.hops?.[0]?.stage === "NodeGroups");
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.paused = true));
    const startsBefore = world.eks.calls.filter((call) => call.method.startsWith("start")).length;
    const outcome = await world.drive();
    assert.equal(outcome.requeueAfterMs, undefined);
    assert.equal(world.object().status?.phase, "Paused");
    assert.match(world.condition("Paused")!.message, /set it to false to resume/);
    assert.equal(world.eks.calls.filter((call) => call.method.startsWith("start")).length, startsBefore);
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.paused = false));
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.equal(world.eks.count("startClusterVersionUpdate"), 2);
  });

  it("the global stop switch pauses an upgrade that is not paused itself, and lifting it resumes", async () => {
    let stopped = true;
    const world = harness({}, "1.29", () => stopped);
    await world.drive();
    assert.equal(world.object().status?.phase, "Paused");
    assert.match(world.condition("Paused")!.message, /operator-wide stop switch/);
    assert.equal(world.eks.count("startClusterVersionUpdate"), 0);
    stopped = false;
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("abort stops for good and says which EKS update is still running", async () => {
    const world = harness();
    world.eks.pollsPerUpdate = 50;
    await world.drive(200, (upgrade) => upgrade.status?.hops?.[0]?.state === "InProgress");
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.abort = true));
    await world.drive();
    assert.equal(world.object().status?.phase, "Aborted");
    assert.match(world.condition("Progressing")!.message, /cannot be cancelled.*control plane to 1.30 \(update update-1\)/);
  });

  it("waits outside its maintenance window and says when the next opens", async () => {
    const world = harness({ maintenanceWindows: [{ schedule: "0 22 * * *", duration: "4h", timeZone: "UTC" }] });
    const outcome = await world.controller.reconcile("default", "upgrade");
    assert.equal(world.object().status?.phase, "WaitingForWindow");
    assert.equal(world.object().status?.window?.nextStart, "2026-11-22T22:00:00.000Z");
    assert.ok(outcome.requeueAfterMs !== undefined && outcome.requeueAfterMs > 0);
    assert.equal(world.eks.count("startClusterVersionUpdate"), 0);
    await world.clock.advance(10 * 3_600_000);
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("does not start a control-plane hop that cannot finish before the window closes", async () => {
    const world = harness({ maintenanceWindows: [{ schedule: "50 11 * * *", duration: "20m", timeZone: "UTC" }], controlPlane: { expectedHopDuration: "15m" } });
    await world.controller.reconcile("default", "upgrade");
    assert.match(world.condition("MaintenanceWindowOpen")!.message, /expected to take 15m but the window closes in 10m/);
    assert.equal(world.eks.count("startClusterVersionUpdate"), 0);
  });

  it("blocks at once when every maintenance window is shorter than a control-plane hop, and goes on once one is long enough", async () => {
    const world = harness({ maintenanceWindows: [{ schedule: "0 12 * * *", duration: "10m", timeZone: "UTC" }], controlPlane: { expectedHopDuration: "15m" } });
    await world.drive(5);
    assert.equal(world.object().status?.phase, "Blocked");
    const message = world.condition("PreflightPassed")!.message;
    assert.match(message, /WIN001 .*1\.29 -> 1\.30, 1\.30 -> 1\.31 can never start: a control-plane hop is expected to take 15m .*spec\.maintenanceWindows\[0\] "0 12 \* \* \*" \(UTC\) lasts 10m/);
    assert.match(message, /fix: give at least one window a duration of 15m or more/);
    assert.equal(world.eks.count("startClusterVersionUpdate"), 0);
    world.store.editSpec("default", "upgrade", (upgrade) => {
      upgrade.spec.maintenanceWindows = [{ schedule: "0 12 * * *", duration: "20h", timeZone: "UTC" }];
    });
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("turns an invalid cron schedule into InvalidSpec naming the field", async () => {
    const world = harness({ maintenanceWindows: [{ schedule: "0 25 * * *", duration: "1h" }] });
    await world.drive();
    assert.equal(world.object().status?.phase, "InvalidSpec");
    assert.match(world.condition("SpecValid")!.message, /spec\.maintenanceWindows\[0\]\.schedule/);
    assert.equal(world.eks.calls.length, 0);
  });

  it("names the pods and the budgets behind a managed node group's PodEvictionFailure", async () => {
    // The preflight would stop this upgrade first (PDB001, PDB002); the test looks past it to EKS's answer.
    const ignore = ["PDB001", "PDB002"].map((code) => ({ code, reason: "the test wants EKS's own failure" }));
    const world = harness({ targetVersion: "1.30", preflight: { ignore } });
    world.snapshot.pods = [{ metadata: { name: "pay-1", namespace: "payments", labels: { app: "pay" } }, spec: { nodeName: "workers-0", containers: [{ name: "c" }] }, status: { phase: "Running" } }];
    world.snapshot.pdbs = [{ metadata: { name: "pay", namespace: "payments" }, spec: { selector: { matchLabels: { app: "pay" } }, minAvailable: 2 }, status: { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 } }];
    world.eks.failNextUpdate([{ errorCode: "PodEvictionFailure", errorMessage: "Reached max retries while trying to evict pods from nodes in node group workers: payments/pay-1", resourceIds: ["workers-0", "payments/pay-1"] }], "nodegroup");
    await world.drive(200, (upgrade) => upgrade.status?.phase === "Failed");
    const message = world.condition("NodeGroupsUpgraded")!.message;
    assert.match(message, /PodEvictionFailure/);
    assert.match(message, /held by PodDisruptionBudget payments\/pay allows 0 disruption\(s\) now \(healthy 2\/2, needs 2\) \(pods payments\/pay-1\)/);
    assert.match(message, /fix the PodDisruptionBudgets that block eviction, or allow a forced node group update/);
  });

  it("abort mid-drain uncordons the node, restores the group's sizes and launch template, and says what it released", async () => {
    const roll = rollWorld({ targetVersion: "1.30" });
    const { world, autoscaling } = roll;
    roll.budgetsRecover = false;
    await runRoll(roll, 200, (upgrade) => (upgrade.status?.nodeGroups?.find((group) => group.name === "legacy")?.nodes ?? []).some((node) => (node.podsLeft ?? []).some((hold) => hold.heldBy.includes("PodDisruptionBudget shop/api allows 0"))));
    const draining = world.object().status!.nodeGroups!.find((group) => group.name === "legacy")!.nodes![0];
    assert.equal(draining.phase, "Draining");
    assert.equal(world.snapshot.nodes.find((node) => node.metadata?.name === draining.name)?.spec?.unschedulable, true);
    assert.notDeepEqual(autoscaling.groups.get("legacy")!.size, { min: 2, max: 4, desired: 3 }, "mid-surge");
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.abort = true));
    await runRoll(roll, 20);
    const upgrade = world.object();
    assert.equal(upgrade.status?.phase, "Aborted");
    assert.equal(world.snapshot.nodes.filter((node) => node.spec?.unschedulable).length, 0, "no node left cordoned");
    assert.ok(world.snapshot.nodes.every((node) => !Object.keys(node.metadata?.annotations ?? {}).some((key) => key.startsWith("eksupgrade.io/"))));
    const group = autoscaling.groups.get("legacy")!;
    assert.deepEqual(group.size, { min: 2, max: 4, desired: 3 });
    assert.equal(group.launchTemplate.version, "1", "launch template version restored");
    assert.equal(group.suspended.size, 0);
    assert.match(upgrade.status.released!.join("; "), new RegExp(`uncordoned node ${draining.name}.*restored Auto Scaling group legacy to min 2, max 4, desired 3 and launch template version 1`));
    assert.match(world.condition("Progressing")!.message, /Released: uncordoned node/);
  });

  it("abort never lets Auto Scaling remove a node that runs pods: the surplus is kept and named", async () => {
    const roll = rollWorld({ targetVersion: "1.30" });
    const { world, autoscaling } = roll;
    roll.budgetsRecover = false;
    await runRoll(roll, 200, (upgrade) => (upgrade.status?.nodeGroups?.find((group) => group.name === "legacy")?.nodes ?? []).some((node) => node.phase === "Draining"));
    // A replacement pod has landed on the surge node.
    const surge = world.snapshot.nodes.find((node) => !roll.original.includes(node.metadata!.name!) && node.spec?.providerID)!;
    world.snapshot.pods.push({ metadata: { name: "api-new", namespace: "shop", labels: { app: "api" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "api-1", uid: "r", controller: true }] }, spec: { nodeName: surge.metadata!.name!, containers: [{ name: "c" }] }, status: { phase: "Running" } });
    const instancesBefore = autoscaling.groups.get("legacy")!.instances.length;
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.abort = true));
    await runRoll(roll, 20);
    assert.equal(world.object().status?.phase, "Aborted");
    const group = autoscaling.groups.get("legacy")!;
    assert.equal(group.instances.length, instancesBefore, "no instance removed: every one runs pods");
    assert.equal(group.size.desired, instancesBefore);
    assert.match(world.object().status!.released!.join("; "), new RegExp(`desired kept at ${instancesBefore}, not 3: .*${surge.metadata!.name!} \\(1 pod\\(s\\)\\)`));
  });

  it("fails the roll on a denied eviction, naming the pod and the reason, and never lets onTimeout DeletePods delete that pod", async () => {
    const roll = rollWorld({ targetVersion: "1.30", drain: { maxParallelNodes: 1, timeout: "10m", onTimeout: "DeletePods", allowForceDelete: true } });
    const { world } = roll;
    for (const node of roll.original) {
      world.evictionAnswers.set(`shop/api-${node}-a`, { status: 400, message: `admission webhook "guard.example.com" denied the request: api-${node}-a is pinned` });
    }
    await runRoll(roll, 200, (upgrade) => upgrade.status?.phase === "Failed");
    assert.equal(world.object().status?.phase, "Failed");
    const message = world.condition("NodeGroupsUpgraded")!.message;
    assert.match(message, /eviction denied on (node-i-[0-9a-f]+): shop\/api-\1-a \(HTTP 400: admission webhook "guard.example.com" denied the request: api-\1-a is pinned\)/);
    const pinned = /shop\/(api-node-i-[0-9a-f]+-a)/.exec(message)![1];
    // Past the drain timeout the denial still stands: the pod is not deleted, the roll stays failed.
    await world.clock.advance(15 * 60_000);
    await runRoll(roll, 20);
    assert.ok(world.snapshot.pods.some((pod) => pod.metadata?.name === pinned), `${pinned} was deleted`);
    assert.equal(world.object().status?.phase, "Failed");
    // Once the webhook lets the pods go, the roll goes on by itself.
    world.evictionAnswers.clear();
    await runRoll(roll);
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("fails on an Auto Scaling refusal to terminate, in its words, instead of reading it as an instance already leaving", async () => {
    const roll = rollWorld({ targetVersion: "1.30" });
    const { world, autoscaling } = roll;
    const terminate = autoscaling.terminateInstance.bind(autoscaling);
    let refuse = true;
    autoscaling.terminateInstance = (instanceId, decrement) =>
      refuse
        ? Promise.reject(new ValidationError(`terminating instance ${instanceId}: ValidationError: Currently, desiredSize equals minSize (2). Terminating instance without replacement will violate group's min size constraint.`))
        : terminate(instanceId, decrement);
    await runRoll(roll, 300, (upgrade) => upgrade.status?.phase === "Failed");
    assert.equal(world.object().status?.phase, "Failed");
    assert.match(world.condition("NodeGroupsUpgraded")!.message, /Auto Scaling refused to terminate i-[0-9a-f]+ \(node-i-[0-9a-f]+\): .*violate group's min size constraint/);
    refuse = false;
    await runRoll(roll);
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("fails when a terminated instance stays in its group past the time limit, naming it and for how long", async () => {
    const roll = rollWorld({ targetVersion: "1.30", drain: { maxParallelNodes: 1 } });
    const { world, autoscaling } = roll;
    const terminate = autoscaling.terminateInstance.bind(autoscaling);
    let stuck: string | undefined;
    // A lifecycle hook holds the first instance the roll terminates.
    autoscaling.terminateInstance = (instanceId, decrement) => {
      if (stuck && stuck !== instanceId) return terminate(instanceId, decrement);
      stuck = instanceId;
      const instance = autoscaling.groups.get("legacy")!.instances.find((candidate) => candidate.id === instanceId)!;
      instance.lifecycleState = "Terminating:Wait";
      return Promise.resolve();
    };
    const terminating = (upgrade: ClusterUpgrade): boolean => (upgrade.status?.nodeGroups?.find((group) => group.name === "legacy")?.nodes ?? []).some((node) => node.phase === "Terminating");
    await runRoll(roll, 300, terminating);
    assert.ok(terminating(world.object()), "a node reached Terminating");
    await world.clock.advance(60 * 60_000);
    await runRoll(roll, 3);
    assert.notEqual(world.object().status?.phase, "Failed", "an hour in Terminating:Wait is within the limit");
    await world.clock.advance(31 * 60_000);
    await runRoll(roll, 3, (upgrade) => upgrade.status?.phase === "Failed");
    assert.equal(world.object().status?.phase, "Failed");
    assert.match(world.condition("NodeGroupsUpgraded")!.message, new RegExp(`instance ${stuck} \\(node-${stuck}\\) has been Terminating:Wait for 9[0-9] minutes`));
    // The hook completes: the instance leaves and the roll goes on.
    await terminate(stuck!, false);
    roll.mirror();
    await runRoll(roll);
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("fails a roll whose new nodes never become Ready, drains nothing without them (maxUnavailable 0), and goes on once they join", async () => {
    const roll = rollWorld({ targetVersion: "1.30", nodeGroups: { order: ["legacy", "workers"], selfManaged: [{ autoScalingGroupName: "legacy" }], maxSurge: 1, maxUnavailable: 0 } });
    const { world, autoscaling } = roll;
    roll.nodesJoin = false;
    await runRoll(roll, 400, (upgrade) => upgrade.status?.phase === "Failed");
    assert.equal(world.object().status?.phase, "Failed");
    assert.match(world.condition("NodeGroupsUpgraded")!.message, /new instances have no Ready node after 15 minutes \(i-[0-9a-f]+\); no old node drains until they join/);
    assert.equal(autoscaling.count("terminateInstance"), 0);
    assert.equal(world.snapshot.nodes.filter((node) => node.spec?.unschedulable).length, 0, "nothing cordoned");
    roll.nodesJoin = true;
    roll.mirror();
    await runRoll(roll);
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("pause mid-drain finishes the node in flight, waits at the original size, and resumes where it stopped", async () => {
    const roll = rollWorld({ targetVersion: "1.30", drain: { maxParallelNodes: 1 } });
    const { world, autoscaling } = roll;
    await runRoll(roll, 200, (upgrade) => (upgrade.status?.nodeGroups?.find((group) => group.name === "legacy")?.nodes ?? []).some((node) => node.phase === "Draining"));
    const inFlight = world.object().status!.nodeGroups!.find((group) => group.name === "legacy")!.nodes![0].name;
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.paused = true));
    const pausing = await world.controller.reconcile("default", "upgrade");
    assert.equal(world.condition("Paused")?.reason, "Pausing");
    assert.match(world.condition("Paused")!.message, new RegExp(`finishing node ${inFlight}`));
    await world.clock.advance(pausing.requeueAfterMs ?? 0);
    roll.mirror();
    await runRoll(roll, 100, (upgrade) => upgrade.status?.phase === "Paused");
    const paused = world.object();
    assert.equal(paused.status?.phase, "Paused");
    assert.ok(!world.snapshot.nodes.some((node) => node.metadata?.name === inFlight), "the node in flight was drained and replaced");
    assert.equal(world.snapshot.nodes.filter((node) => node.spec?.unschedulable).length, 0);
    assert.deepEqual(autoscaling.groups.get("legacy")!.size, { min: 2, max: 4, desired: 3 }, "paused at the original size");
    const oldLeft = world.snapshot.nodes.filter((node) => node.status?.nodeInfo?.kubeletVersion === "v1.29.5" && node.spec?.providerID).length;
    assert.ok(oldLeft >= 1, "the pause stopped before the rest");
    const terminations = autoscaling.count("terminateInstance");
    await runRoll(roll, 5);
    assert.equal(autoscaling.count("terminateInstance"), terminations, "nothing moves while paused");
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.paused = false));
    await runRoll(roll);
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.ok(world.snapshot.nodes.filter((node) => node.spec?.providerID).every((node) => node.status?.nodeInfo?.kubeletVersion === "v1.30.5"));
  });

  it("deleted mid-drain, gives everything back before the finalizer goes", async () => {
    const roll = rollWorld({ targetVersion: "1.30" });
    const { world, autoscaling } = roll;
    roll.budgetsRecover = false;
    await runRoll(roll, 200, (upgrade) => (upgrade.status?.nodeGroups?.find((group) => group.name === "legacy")?.nodes ?? []).some((node) => node.phase === "Draining"));
    world.store.markDeleted("default", "upgrade", "2026-11-22T12:30:00Z");
    await world.controller.reconcile("default", "upgrade");
    assert.equal(world.store.exists("default", "upgrade"), false);
    assert.equal(world.snapshot.nodes.filter((node) => node.spec?.unschedulable).length, 0);
    assert.deepEqual(autoscaling.groups.get("legacy")!.size, { min: 2, max: 4, desired: 3 });
    assert.ok(world.events.reasons().includes("Released"));
  });

  it("finds a launch template version whose answer was lost instead of creating a second one", async () => {
    const roll = rollWorld();
    const { world } = roll;
    world.ec2.loseNextCreateAnswer = true;
    let failures = 0;
    for (let pass = 0; pass < 600; pass++) {
      let outcome: ReconcileOutcome;
      try {
        outcome = await world.controller.reconcile("default", "upgrade");
      } catch {
        // The work queue would retry with backoff.
        failures++;
        await world.clock.advance(1_000);
        continue;
      }
      if (outcome.requeueAfterMs === undefined) break;
      await world.clock.advance(outcome.requeueAfterMs);
      roll.mirror();
    }
    assert.equal(failures, 1, "the lost answer failed one pass");
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.deepEqual([...world.ec2.templates.get("lt-legacy")!.values()], ["ami-129", "ami-130", "ami-131"], "one version per hop, none twice");
    assert.equal(world.ec2.created.length, 2);
    assert.ok(world.events.events.some((event) => event.reason === "LaunchTemplateVersionCreated" && /version 2 with AMI ami-130 for 1\.30 \(found, created before a restart\)/.test(event.message)));
    assert.ok(world.ec2.created.every((call) => /^[0-9a-f-]{36}$/.test(call.clientToken)), "every create carries an idempotency token");
  });

  it("blocks before any change on a self-managed node's emptyDir pod the drain policy would hold, and rolls once the policy lets it go", async () => {
    const roll = rollWorld();
    const { world, autoscaling } = roll;
    const pod = world.snapshot.pods[0];
    pod.metadata!.name = "cache-1";
    pod.spec!.volumes = [{ name: "scratch", emptyDir: {} }];
    await runRoll(roll, 10);
    assert.equal(world.object().status?.phase, "Blocked");
    const finding = world.object().status?.preflight?.findings?.find((candidate) => candidate.code === "POD004");
    assert.equal(finding?.severity, "Blocking");
    assert.match(finding.message, new RegExp(`pod shop/cache-1 on node ${pod.spec!.nodeName} \\(node group legacy\\)`));
    assert.match(finding.remediation, /set spec\.drain\.deleteEmptyDirData: true/);
    // The claim tag is taken before preflight (so a second upgrade waits rather than failing);
    // it marks ownership and changes nothing about the group.
    const isClaim = (call: { method: string; args: unknown[] }): boolean =>
      call.method === "tagGroup" && isDeepStrictEqual(Object.keys(call.args[1] as Record<string, string>), [CLAIM_TAG]);
    assert.deepEqual(autoscaling.calls.filter((call) => call.method !== "describeGroup" && !isClaim(call)).map((call) => call.method), [], "nothing but the claim touched while blocked");
    assert.equal(world.eks.count("startClusterVersionUpdate"), 0);
    world.store.editSpec("default", "upgrade", (upgrade) => {
      upgrade.spec.drain = { ...upgrade.spec.drain, deleteEmptyDirData: true };
    });
    await runRoll(roll);
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.equal(world.object().status?.preflight?.findings?.find((candidate) => candidate.code === "POD004"), undefined);
  });

  it("rolls a self-managed group hop by hop: surge, cordon, drain within budgets, terminate with decrement, restore sizes", async () => {
    const roll = rollWorld();
    const { world, autoscaling } = roll;
    const sizes = await runRoll(roll);
    const upgrade = world.object();
    assert.equal(upgrade.status?.phase, "Succeeded", JSON.stringify(upgrade.status?.conditions?.find((condition) => condition.type === "NodeGroupsUpgraded")));
    const group = autoscaling.groups.get("legacy")!;
    assert.deepEqual(group.size, { min: 2, max: 4, desired: 3 }, "original sizes restored");
    assert.equal(group.suspended.size, 0, "AZRebalance resumed");
    assert.equal(group.tags["eksupgrade.io/rolling"], undefined);
    assert.ok(Math.max(...sizes) <= 4 && Math.min(...sizes) >= 2, `sizes stayed within min-1..max+surge: ${sizes.join(",")}`);
    assert.deepEqual(world.snapshot.nodes.filter((node) => node.metadata?.labels?.["eks.amazonaws.com/nodegroup"] !== "workers").map((node) => node.status?.nodeInfo?.kubeletVersion), ["v1.31.5", "v1.31.5", "v1.31.5"]);
    assert.equal(world.snapshot.nodes.filter((node) => node.spec?.unschedulable).length, 0, "no node left cordoned");
    assert.ok(world.snapshot.nodes.every((node) => Object.keys(node.metadata?.annotations ?? {}).every((key) => !key.startsWith("eksupgrade.io/") && !key.startsWith("cluster-autoscaler"))), "every mark removed");
    const terminated = autoscaling.calls.filter((call) => call.method === "terminateInstance").map((call) => call.args);
    assert.equal(terminated.length, 6, "3 old nodes per hop, each terminated once");
    assert.equal(new Set(terminated.map(([id]) => id)).size, 6);
    assert.ok(terminated.every(([, decrement]) => decrement === true), "always with decrement");
    assert.deepEqual([...world.ec2.templates.get("lt-legacy")!.values()], ["ami-129", "ami-130", "ami-131"], "one launch template version per hop");
    // The group named first in spec.nodeGroups.order rolled before the managed group of the same hop.
    const firstTerminate = autoscaling.calls.findIndex((call) => call.method === "terminateInstance");
    assert.ok(firstTerminate >= 0);
    assert.equal(upgrade.status?.nodeGroups?.find((entry) => entry.name === "legacy")?.kind, "SelfManaged");
    // The plan names the self-managed group first (spec order), with its nodes in drain batches of 2.
    const planned = upgrade.status?.plan?.hops[0].nodeGroups.map((group) => [group.name, group.kind, group.nodeCount, group.batches.map((batch) => batch.length)]);
    assert.deepEqual(planned, [
      ["legacy", "SelfManaged", 3, [2, 1]],
      ["workers", "Managed", 3, [1, 1, 1]],
    ]);
    assert.ok(world.events.reasons().includes("NodeDrained"));
  });
});

describe("ClusterUpgrade intent frozen while in progress", () => {
  /** Drives until the first control-plane update runs (pollsPerUpdate keeps it running). */
  async function started(spec: Partial<ClusterUpgradeSpec> = {}): Promise<Harness> {
    const world = harness(spec);
    world.eks.pollsPerUpdate = 50;
    await world.drive(200, (upgrade) => upgrade.status?.hops?.[0]?.state === "InProgress");
    return world;
  }

  function startCalls(world: Harness): number {
    return world.eks.calls.filter((call) => call.method.startsWith("start")).length;
  }

  it("records nothing while the spec is still only being checked (dry run, closed window)", async () => {
    const dry = harness({ dryRun: true });
    await dry.drive();
    assert.equal(dry.object().status?.frozenIntent, undefined);
    const waiting = harness({ maintenanceWindows: [{ schedule: "0 22 * * *", duration: "1h", timeZone: "UTC" }] });
    await waiting.controller.reconcile("default", "upgrade");
    assert.equal(waiting.object().status?.phase, "WaitingForWindow");
    assert.equal(waiting.object().status?.frozenIntent, undefined);
  });

  it("records the intent in the same status write as the first change", async () => {
    const world = harness();
    const written: { frozen: boolean; token: boolean }[] = [];
    const realUpdateStatus = world.store.updateStatus.bind(world.store);
    world.store.updateStatus = (upgrade, status) => {
      written.push({ frozen: Boolean(status.frozenIntent), token: Boolean(status.hops?.[0]?.clientRequestToken) });
      return realUpdateStatus(upgrade, status);
    };
    await world.drive(200, (upgrade) => Boolean(upgrade.status?.hops?.[0]?.updateId));
    const firstWithToken = written.findIndex((entry) => entry.token);
    assert.ok(firstWithToken >= 0);
    assert.ok(written[firstWithToken].frozen, "the write that stores the first update token carries the frozen intent");
    assert.deepEqual(world.object().status?.frozenIntent, { cluster: { name: "prod" }, strategy: "InPlace", targetVersion: "1.31", frozenAt: "2026-11-22T12:00:00.000Z" });
    assert.ok(world.events.reasons().includes("IntentFrozen"));
  });

  it("a target raised mid-upgrade stops everything and names old -> new; setting it back resumes and ends at the frozen target", async () => {
    const world = await started();
    const calls = startCalls(world);
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.targetVersion = "1.32"));
    world.eks.pollsPerUpdate = 0;
    await world.drive(20);
    assert.equal(world.object().status?.phase, "InvalidSpec");
    assert.equal(world.condition("SpecValid")?.reason, "IntentChanged");
    assert.match(world.condition("SpecValid")!.message, /spec\.targetVersion 1\.31 -> 1\.32/);
    assert.match(world.condition("SpecValid")!.message, /Set spec\.targetVersion to 1\.31 to continue this upgrade, or abort it \(spec\.abort: true\) and create a new ClusterUpgrade/);
    assert.equal(startCalls(world), calls, "no update was started while the intent differed");
    assert.equal(world.condition("Ready")?.status, "False");
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.targetVersion = "1.31"));
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.equal(world.eks.clusters.get("prod")?.version, "1.31");
    assert.match(world.condition("Ready")!.message, /runs 1\.31/);
  });

  it("a target raised after success is refused too: Ready keeps saying the version really reached", async () => {
    const world = harness();
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
    const calls = startCalls(world);
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.targetVersion = "1.32"));
    await world.drive();
    assert.equal(world.condition("SpecValid")?.reason, "IntentChanged");
    assert.match(world.condition("Ready")!.message, /runs 1\.31/);
    assert.equal(startCalls(world), calls);
  });

  it("names every changed field: cluster, region and strategy together", async () => {
    const world = await started();
    world.store.editSpec("default", "upgrade", (upgrade) => {
      upgrade.spec.cluster = { name: "other", region: "eu-west-1" };
      upgrade.spec.strategy = "BlueGreen";
      upgrade.spec.blueGreen = { greenCluster: { name: "green" }, route53: { hostedZoneId: "Z1", recordName: "app.example.com", blueSetIdentifier: "blue", greenSetIdentifier: "green" } };
    });
    await world.controller.reconcile("default", "upgrade");
    const message = world.condition("SpecValid")!.message;
    assert.match(message, /spec\.cluster\.name prod -> other/);
    assert.match(message, /spec\.cluster\.region \(unset\) -> eu-west-1/);
    assert.match(message, /spec\.strategy InPlace -> BlueGreen/);
    assert.doesNotMatch(message, /route53/, "the blueGreen fields are not listed one by one when the strategy changed");
    assert.ok(!world.eks.calls.some((call) => call.args.includes("other")), "the other cluster was never touched");
  });

  it("pause, windows, drain policy and notifications stay editable mid-upgrade", async () => {
    const world = await started();
    world.store.editSpec("default", "upgrade", (upgrade) => {
      upgrade.spec.paused = true;
      upgrade.spec.drain = { timeout: "30m", onTimeout: "SkipNode" };
      upgrade.spec.notifications = { webhookUrl: "https://hooks.example.com/x" };
      upgrade.spec.blackouts = [{ start: "2027-12-20T00:00:00Z", end: "2028-01-04T00:00:00Z" }];
    });
    await world.controller.reconcile("default", "upgrade");
    assert.equal(world.condition("SpecValid")?.status !== "False", true);
    assert.equal(world.object().status?.phase, "Paused");
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.paused = false));
    world.eks.pollsPerUpdate = 0;
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("an abort with a changed cluster name releases and reports on the cluster the upgrade was started on", async () => {
    const world = await started();
    world.store.editSpec("default", "upgrade", (upgrade) => {
      upgrade.spec.cluster = { name: "other" };
      upgrade.spec.abort = true;
    });
    await world.drive();
    assert.equal(world.object().status?.phase, "Aborted");
    assert.match(world.condition("SpecValid")!.message, /aborting the upgrade as it was started \(cluster prod\); the later edits of spec\.cluster\.name are ignored/);
    assert.match(world.condition("Progressing")!.message, /control plane to 1\.30 \(update update-1\)/);
    assert.ok(!world.eks.calls.some((call) => call.args.includes("other")), "the other cluster was never described");
  });

  it("an edit before anything changed is simply taken", async () => {
    const world = harness({ dryRun: true });
    await world.drive();
    world.store.editSpec("default", "upgrade", (upgrade) => {
      upgrade.spec.targetVersion = "1.30";
      upgrade.spec.dryRun = false;
    });
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.equal(world.eks.clusters.get("prod")?.version, "1.30");
    assert.equal(world.object().status?.frozenIntent?.targetVersion, "1.30");
  });
});

describe("ClusterUpgrade target versions EKS offers", () => {
  it("refuses a target EKS does not offer at once, naming the versions it does", async () => {
    const world = harness({ targetVersion: "1.35" });
    const outcome = await world.drive();
    assert.equal(outcome.requeueAfterMs, undefined);
    assert.equal(world.object().status?.phase, "InvalidSpec");
    assert.equal(world.condition("SpecValid")?.reason, "UnsupportedVersion");
    assert.match(world.condition("SpecValid")!.message, /spec\.targetVersion 1\.35 is not a version EKS offers in the operator's default region; it offers 1\.28, 1\.29, 1\.30, 1\.31, 1\.32, 1\.33\. Set spec\.targetVersion to one of them/);
    assert.equal(world.eks.calls.filter((call) => call.method.startsWith("start")).length, 0);
    assert.equal(world.object().status?.frozenIntent, undefined);
  });

  it("does not strand a started upgrade when its target leaves the list", async () => {
    const world = harness();
    world.eks.pollsPerUpdate = 50;
    await world.drive(200, (upgrade) => upgrade.status?.hops?.[0]?.state === "InProgress");
    world.eks.offeredVersions = ["1.32", "1.33"];
    world.eks.pollsPerUpdate = 0;
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
  });

  it("goes on when the versions cannot be read (UpdateClusterVersion still refuses a bad one)", async () => {
    const world = harness();
    world.eks.listClusterVersions = () => Promise.reject(new Error("AccessDeniedException: not authorized to perform eks:DescribeClusterVersions"));
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded");
  });
});

describe("ClusterUpgrade URLs the operator would fetch", () => {
  it("refuses a webhook at the metadata service and a probe inside the cluster at once, naming each field", async () => {
    const world = harness({
      notifications: { webhookUrl: "https://169.254.169.254/latest/meta-data/iam/security-credentials/" },
    });
    await world.drive();
    assert.equal(world.object().status?.phase, "InvalidSpec");
    assert.equal(world.condition("SpecValid")?.reason, "InvalidSpec");
    assert.match(world.condition("SpecValid")!.message, /spec\.notifications\.webhookUrl: https:\/\/169\.254\.169\.254\/\S+ is refused: 169\.254\.169\.254 is the instance metadata service; if this target is trusted, add it to the operator's OUTBOUND_ALLOWLIST/);
    assert.equal(world.eks.calls.filter((call) => call.method.startsWith("start")).length, 0);
    world.store.editSpec("default", "upgrade", (upgrade) => (upgrade.spec.notifications = { webhookUrl: "https://hooks.example.com/upgrades" }));
    await world.drive();
    assert.equal(world.object().status?.phase, "Succeeded", "fixed, the upgrade goes on by itself");
  });
});

describe("ClusterUpgrade reads per pass", () => {
  type Call = { method: string; args: unknown[] };
  /** What each read is keyed by, and which calls may change what it reads (a read after one of them is fresh, not repeated). */
  const READS: Record<string, { log: "eks" | "autoscaling" | "kube"; changedBy: (method: string) => boolean }> = {
    describeCluster: { log: "eks", changedBy: (method) => /^(start|create|delete|tag|untag)/.test(method) || method === "describeUpdate" },
    listNodegroups: { log: "eks", changedBy: (method) => /^(create|delete)/.test(method) },
    describeNodegroup: { log: "eks", changedBy: (method) => /^(start|create|delete)/.test(method) || method === "describeUpdate" },
    describeGroup: { log: "autoscaling", changedBy: (method) => method !== "describeGroup" },
    listNodes: { log: "kube", changedBy: (method) => method === "patchNode" },
  };

  /** Reads of the same object with nothing between them that could have changed it. */
  function repeatedReads(logs: Record<"eks" | "autoscaling" | "kube", Call[]>): string[] {
    const repeated: string[] = [];
    for (const [method, { log, changedBy }] of Object.entries(READS)) {
      const seen = new Set<string>();
      for (const call of logs[log]) {
        if (changedBy(call.method)) seen.clear();
        if (call.method !== method) continue;
        const key = `${method}(${call.args.map(String).join(", ")})`;
        if (seen.has(key)) repeated.push(key);
        seen.add(key);
      }
    }
    return repeated;
  }

  it("reads the cluster, node groups, Auto Scaling groups, nodes and the reader at most once per pass unless it changed them", async () => {
    const roll = rollWorld();
    const { world, autoscaling } = roll;
    const totals: Record<string, number> = {};
    const repeats: string[] = [];
    let passes = 0;
    for (; passes < 400; passes++) {
      const marks = { eks: world.eks.calls.length, autoscaling: autoscaling.calls.length, kube: world.kubeCalls.length, opens: world.readerOpens() };
      const outcome = await world.controller.reconcile("default", "upgrade");
      const logs = { eks: world.eks.calls.slice(marks.eks), autoscaling: autoscaling.calls.slice(marks.autoscaling), kube: world.kubeCalls.slice(marks.kube) };
      for (const call of [...logs.eks, ...logs.autoscaling, ...logs.kube]) if (call.method in READS) totals[call.method] = (totals[call.method] ?? 0) + 1;
      const opens = world.readerOpens() - marks.opens;
      totals.readerOpens = (totals.readerOpens ?? 0) + opens;
      repeats.push(...repeatedReads(logs).map((read) => `pass ${passes + 1}: ${read}`));
      if (opens > 1) repeats.push(`pass ${passes + 1}: the cluster's reader opened ${opens} times`);
      if (outcome.requeueAfterMs === undefined) break;
      await world.clock.advance(outcome.requeueAfterMs);
      roll.mirror();
    }
    assert.equal(world.object().status?.phase, "Succeeded");
    assert.deepEqual(repeats, [], `reads repeated within a pass (totals over ${passes + 1} passes: ${JSON.stringify(totals)})`);
  });
});
