// A whole node roll on the sandbox: a managed node group rolled by EKS (the emulator) and a
// self-managed Auto Scaling group rolled by the operator, 12 nodes, workloads under budgets. A
// watcher samples every pod through the roll and fails the test if any budget's workload ever had
// fewer healthy pods than its budget demands. The operator is killed mid-drain and restarted.
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { BudgetWatcher } from "../support/budgets.js";
import { sandboxAwsClientConfig } from "../support/global-sandbox.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { condition, UpgradeWorld } from "../support/upgrades.js";
import type { ClusterUpgrade } from "../../src/api/v1alpha1/types.js";

describe("node roll end to end (sandbox)", function () {
  this.timeout(20 * 60_000);
  const operators: OperatorProcess[] = [];

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((running) => running.stop()));
  });

  it("rolls a managed and a self-managed group without breaking a budget, survives a kill mid-drain, and leaves nothing behind", async () => {
    const world = await UpgradeWorld.prepare("mixed-roll");
    const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
    const apps = world.kubeConfig.makeApiClient(k8s.AppsV1Api);
    const autoscaling = new AutoScalingClient(sandboxAwsClientConfig());
    const groupSizes = async (): Promise<Record<string, [number, number, number]>> => {
      const groups = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
      return Object.fromEntries(groups.map((group) => [group.AutoScalingGroupName!.startsWith("eks-general") ? "general" : group.AutoScalingGroupName!, [group.MinSize!, group.MaxSize!, group.DesiredCapacity!]]));
    };
    const sizesBefore = await groupSizes();
    assert.deepEqual(sizesBefore, { general: [6, 9, 6], "mixed-legacy": [6, 9, 6] });
    const legacyNodesBefore = (await core.listNode({ labelSelector: "workload-class=legacy" })).items.map((node) => node.metadata!.name!);
    assert.equal(legacyNodesBefore.length, 6);

    const watcher = await BudgetWatcher.start(world.kubeConfig);
    // mixed-roll's four budgets (web, api, legacy-api, ledger) each allow one pod down.
    assert.deepEqual(
      watcher.demands.map((demand) => [`${demand.namespace}/${demand.name}`, demand.expectedPods - demand.desiredHealthy]).sort(),
      [["legacy/ledger", 1], ["legacy/legacy-api", 1], ["shop/api", 1], ["shop/web", 1]],
    );
    operators.push(startOperatorProcess());
    await world.apply("roll", {
      cluster: { name: "mixed" },
      targetVersion: "1.31",
      nodeGroups: { order: ["mixed-legacy", "general"], selfManaged: [{ autoScalingGroupName: "mixed-legacy" }], maxSurge: 1, maxUnavailable: 1 },
      drain: { evictionRetryInterval: "1s", evictUnmanagedPods: true, maxParallelNodes: 2, timeout: "30m" },
      // Preflight blocks on the do-not-disrupt pod (POD002) unless told the roll may wait on it.
      preflight: { ignore: [{ code: "POD002", reason: "the batch owner lifts the annotation when the run ends" }] },
    });

    // The do-not-disrupt pod holds its node, and the status says so, naming the pod.
    const held = await world.waitFor(
      "roll",
      "a node held by the do-not-disrupt pod",
      (upgrade) => (upgrade.status?.nodeGroups ?? []).some((group) => (group.nodes ?? []).some((node) => (node.podsLeft ?? []).some((hold) => hold.heldBy.includes("karpenter.sh/do-not-disrupt")))),
      8 * 60_000,
    );
    assert.match(condition(held, "NodeGroupsUpgraded")!.message, /nightly-batch.*karpenter\.sh\/do-not-disrupt=true/);

    // Killed while a node drains: the next operator resumes the same nodes.
    await world.waitFor("roll", "a self-managed node draining", (upgrade) => (upgrade.status?.nodeGroups ?? []).some((group) => group.kind === "SelfManaged" && (group.nodes ?? []).some((node) => node.phase === "Draining")));
    await operators[0].kill();
    operators.push(startOperatorProcess());

    // The owner lets the batch job's node go, as a user would: drop the annotation from the template.
    await apps.patchNamespacedDeployment(
      { namespace: "legacy", name: "nightly-batch", body: { spec: { template: { metadata: { annotations: { "karpenter.sh/do-not-disrupt": null } } } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );

    const done = await world.waitForPhase("roll", "Succeeded", 12 * 60_000);
    await watcher.stop();
    assert.deepEqual(watcher.violations, [], "no budget ever dropped below what it demands");
    assert.ok(watcher.samples > 50, `the watcher sampled through the roll (${watcher.samples} samples)`);

    const nodes = (await core.listNode()).items;
    assert.equal(nodes.length, 12);
    assert.ok(nodes.every((node) => node.status?.nodeInfo?.kubeletVersion?.startsWith("v1.31")), nodes.map((node) => node.status?.nodeInfo?.kubeletVersion).join(", "));
    assert.equal(nodes.filter((node) => node.spec?.unschedulable).length, 0, "no node left cordoned");
    assert.ok(nodes.every((node) => Object.keys(node.metadata?.annotations ?? {}).every((key) => !key.startsWith("eksupgrade.io/"))), "no mark of the operator left on a node");
    assert.deepEqual(await groupSizes(), sizesBefore, "both groups back at their original sizes");
    assert.equal(done.status?.nodeGroups?.find((group) => group.name === "mixed-legacy")?.upgraded, 6);

    // Each old self-managed node was cordoned and drained exactly once, across the restart.
    const events = (await core.listNamespacedEvent({ namespace: "e2e", fieldSelector: "involvedObject.name=roll" })).items;
    const drained = events.filter((event) => event.reason === "NodeDrained");
    const drainedNodes = drained.map((event) => event.message!.split(" ")[0]);
    assert.deepEqual([...drainedNodes].sort(), [...legacyNodesBefore].sort(), "every old self-managed node drained");
    assert.ok(drained.every((event) => (event.count ?? 1) === 1), "no node drained twice");
    const cordoned = events.filter((event) => event.reason === "NodesCordoned").flatMap((event) => [...event.message!.matchAll(/(ip-[\d-]+\.ec2\.internal)/g)].map((match) => match[1]));
    assert.equal(new Set(cordoned).size, cordoned.length, `no node cordoned twice: ${cordoned.join(", ")}`);
    // The pod without a controller was evicted (spec.drain.evictUnmanagedPods), as kubectl drain --force would.
    await assert.rejects(core.readNamespacedPod({ namespace: "legacy", name: "singleton" }));
  });

  /** mixed-roll, with the batch job's do-not-disrupt lifted up front, and a roll of the self-managed group only. */
  async function selfManagedRoll(name: string): Promise<{ world: UpgradeWorld; core: k8s.CoreV1Api; sizes: () => Promise<[number, number, number, string]> }> {
    const world = await UpgradeWorld.prepare("mixed-roll");
    const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await world.kubeConfig.makeApiClient(k8s.AppsV1Api).patchNamespacedDeployment(
      { namespace: "legacy", name: "nightly-batch", body: { spec: { template: { metadata: { annotations: { "karpenter.sh/do-not-disrupt": null } } } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const autoscaling = new AutoScalingClient(sandboxAwsClientConfig());
    const sizes = async (): Promise<[number, number, number, string]> => {
      const group = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["mixed-legacy"] }))).AutoScalingGroups![0];
      return [group.MinSize!, group.MaxSize!, group.DesiredCapacity!, group.LaunchTemplate?.Version ?? ""];
    };
    operators.push(startOperatorProcess());
    await world.apply(name, {
      cluster: { name: "mixed" },
      targetVersion: "1.31",
      nodeGroups: { order: ["mixed-legacy"], exclude: ["general"], selfManaged: [{ autoScalingGroupName: "mixed-legacy" }], maxSurge: 1, maxUnavailable: 0 },
      drain: { evictionRetryInterval: "1s", evictUnmanagedPods: true, maxParallelNodes: 1 },
    });
    return { world, core, sizes };
  }

  const draining = (upgrade: ClusterUpgrade): string | undefined =>
    upgrade.status?.nodeGroups?.find((group) => group.name === "mixed-legacy")?.nodes?.find((node) => node.phase === "Draining")?.name;

  it("paused mid-drain, finishes the node in flight, waits at the group's original size, and resumes", async () => {
    const { world, core, sizes } = await selfManagedRoll("paused");
    const inFlight = draining(await world.waitFor("paused", "a node draining", (upgrade) => draining(upgrade) !== undefined, 6 * 60_000))!;
    await world.patchSpec("paused", { paused: true });
    const paused = await world.waitForPhase("paused", "Paused", 4 * 60_000);
    assert.match(condition(paused, "Paused")!.message, /paused by spec.paused/);
    const nodes = (await core.listNode({ labelSelector: "workload-class=legacy" })).items;
    assert.ok(!nodes.some((node) => node.metadata?.name === inFlight), `${inFlight}, in flight when paused, was drained and replaced`);
    assert.equal(nodes.filter((node) => node.spec?.unschedulable).length, 0, "no node cordoned while paused");
    assert.ok(nodes.some((node) => node.status?.nodeInfo?.kubeletVersion?.startsWith("v1.30")), "the pause stopped before the other old nodes");
    const [min, max, desired] = await sizes();
    assert.deepEqual([min, max, desired], [6, 9, 6], "waiting at the original size");
    const progress = paused.status?.progress;
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    assert.equal((await world.read("paused")).status?.progress, progress, "nothing moves while paused");
    await world.patchSpec("paused", { paused: false });
    const done = await world.waitForPhase("paused", "Succeeded", 8 * 60_000);
    assert.equal(done.status?.nodeGroups?.find((group) => group.name === "mixed-legacy")?.upgraded, 6);
  });

  it("aborted mid-roll, uncordons what it cordoned and puts the group back at its sizes and launch template", async () => {
    const { world, core, sizes } = await selfManagedRoll("aborted");
    const before = await sizes();
    assert.deepEqual(before, [6, 9, 6, "1"]);
    await world.waitFor("aborted", "a node draining", (upgrade) => draining(upgrade) !== undefined, 6 * 60_000);
    await world.patchSpec("aborted", { abort: true });
    const aborted = await world.waitForPhase("aborted", "Aborted", 2 * 60_000);
    const message = condition(aborted, "Progressing")!.message;
    const nodes = (await core.listNode()).items;
    assert.equal(nodes.filter((node) => node.spec?.unschedulable).length, 0, "no node left cordoned");
    assert.ok(nodes.every((node) => Object.keys(node.metadata?.annotations ?? {}).every((key) => !key.startsWith("eksupgrade.io/"))), "no mark left");
    // The surge instance goes back unless pods evicted from the draining node were already
    // scheduled on it: an abort evicts nothing, so it then keeps the instance and says so. Which
    // one happens is the scheduler's choice for the evicted pods, and both are right: each branch
    // checks the whole of its outcome, and the run says which it saw.
    const kept = /restored Auto Scaling group mixed-legacy to min 6, max 9, desired 7 and launch template version 1 \(desired kept at 7, not 6: (.+) run pods; drain them, then set the desired capacity yourself\)/.exec(message);
    if (kept) {
      console.log(`      outcome: the surge instance ran evicted pods and was kept (${kept[1]})`);
      assert.deepEqual(await sizes(), [6, 9, 7, "1"], "sizes and launch template restored, one surge instance kept for its pods");
      const busy = [...kept[1].matchAll(/(ip-[\d-]+\.ec2\.internal) \((\d+) pod\(s\)\)/g)];
      assert.ok(busy.length >= 1 && busy.every(([, , count]) => Number(count) > 0), `every instance kept is named with its pods: ${kept[1]}`);
    } else {
      console.log("      outcome: the surge instance ran no evicted pod and went back with the group's desired capacity");
      assert.match(message, /Released: .*restored Auto Scaling group mixed-legacy to min 6, max 9, desired 6 and launch template version 1/);
      assert.deepEqual(await sizes(), before, "the group's sizes and launch template version are the original ones");
    }
  });
});
