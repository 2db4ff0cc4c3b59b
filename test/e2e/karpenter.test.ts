// Karpenter's NodePools brought along by an upgrade, on the sandbox with the real Karpenter (its
// kwok provider): the operator changes each NodePool's template at each hop, Karpenter replaces the
// nodes by drift, and the operator follows the NodeClaims. A watcher samples every pod throughout
// and fails the test if any budget's workload ever had fewer healthy pods than it demands.
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { BudgetWatcher } from "../support/budgets.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { condition, UpgradeWorld } from "../support/upgrades.js";
import type { ClusterUpgrade } from "../../src/api/v1alpha1/types.js";

const VERSION_ANNOTATION = "eksupgrade.io/kubernetes-version";
const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

interface NodePoolObject {
  metadata: { name: string };
  spec: { template: { metadata?: { annotations?: Record<string, string> } } };
}

describe("Karpenter NodePools through an upgrade (sandbox)", function () {
  this.timeout(20 * 60_000);
  const operators: OperatorProcess[] = [];

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((running) => running.stop()));
  });

  const nodePools = async (world: UpgradeWorld): Promise<NodePoolObject[]> =>
    ((await world.kubeConfig.makeApiClient(k8s.CustomObjectsApi).listClusterCustomObject({ group: "karpenter.sh", version: "v1", plural: "nodepools" })) as { items: NodePoolObject[] }).items;

  const karpenterKubelets = async (core: k8s.CoreV1Api): Promise<Record<string, string[]>> => {
    const byPool: Record<string, string[]> = {};
    for (const node of (await core.listNode({ labelSelector: "karpenter.sh/nodepool" })).items) {
      const pool = node.metadata!.labels!["karpenter.sh/nodepool"];
      (byPool[pool] ??= []).push(node.status?.nodeInfo?.kubeletVersion ?? "?");
    }
    return byPool;
  };

  const spec = {
    cluster: { name: "karp" },
    targetVersion: "1.32",
    // The report pod is bare and annotated do-not-disrupt on purpose: Karpenter waits on it.
    preflight: { ignore: [{ code: "POD002", reason: "the report's owner lifts do-not-disrupt when the run ends" }] },
  };

  it("two hops: every Karpenter node reaches each hop's version, a do-not-disrupt pod is named as the blocker, no budget is broken", async () => {
    const world = await UpgradeWorld.prepare("karpenter");
    const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
    // How many nodes Karpenter launches for the same pods depends on how its batching window
    // meets the pods' arrival (two or three for batch were both seen), so only the pools and the
    // version are asserted.
    const first = await karpenterKubelets(core);
    assert.deepEqual(Object.keys(first).sort(), ["batch", "web"], "Karpenter gave the scenario's pods nodes in both NodePools");
    for (const [pool, versions] of Object.entries(first)) assert.ok(versions.every((version) => version === "v1.30.4"), `${pool} starts at the cluster's version: ${versions.join(", ")}`);
    const watcher = await BudgetWatcher.start(world.kubeConfig);
    assert.deepEqual(watcher.demands.map((demand) => `${demand.namespace}/${demand.name}`).sort(), ["jobs/worker", "shop/storefront"]);
    operators.push(startOperatorProcess());
    await world.apply("karp", spec);

    // Hop 1: web drifts to 1.31; batch's node with the report pod stays, and the status says why.
    const blockedBy = (upgrade: ClusterUpgrade): string[] => upgrade.status?.karpenter?.nodePools.find((pool) => pool.name === "batch")?.blockers ?? [];
    const held = await world.waitFor("karp", "batch held by the do-not-disrupt pod", (upgrade) => blockedBy(upgrade).some((line) => line.includes("pod jobs/report")), 10 * 60_000);
    assert.match(blockedBy(held).join("\n"), /^pod jobs\/report on node \S+ is annotated karpenter\.sh\/do-not-disrupt=true$/m);
    assert.match(condition(held, "NodeGroupsUpgraded")!.message, /NodePool batch: .*held by pod jobs\/report on node/);
    const batch = held.status!.karpenter!.nodePools.find((pool) => pool.name === "batch")!;
    assert.equal(batch.targetVersion, "1.31");
    assert.ok(batch.atVersion < batch.total, `the held node is still old: ${JSON.stringify(batch)}`);
    assert.deepEqual(
      held.status!.karpenter!.changes.map((change) => [change.name, change.original, change.state]).sort(),
      [["batch", '"1.30"', "Applied"], ["web", '"1.30"', "Applied"]],
      "what the upgrade changed, recorded with the original value",
    );

    // Karpenter honours the annotation: web finishes the hop while the report's node stays old.
    const webDone = await world.waitFor(
      "karp",
      "web at 1.31 while batch is held",
      (upgrade) => upgrade.status?.karpenter?.nodePools.some((pool) => pool.name === "web" && pool.targetVersion === "1.31" && pool.state === "Succeeded") ?? false,
      5 * 60_000,
    );
    assert.ok(blockedBy(webDone).some((line) => line.includes("pod jobs/report")), `still held: ${JSON.stringify(webDone.status?.karpenter?.nodePools)}`);
    const reportNode = (await core.readNamespacedPod({ namespace: "jobs", name: "report" })).spec!.nodeName!;
    assert.match((await core.readNode({ name: reportNode })).status!.nodeInfo!.kubeletVersion, /^v1\.30\./, "the report's node was not replaced");
    assert.equal(webDone.status!.hops![1].state, "Pending", "the next hop waits for every NodePool");

    // A restart while Karpenter's roll is held changes nothing: the new operator reads the status.
    await operators[0].kill();
    operators.push(startOperatorProcess());

    // The report's owner lets it go, as a user would: the annotation comes off the pod.
    await core.patchNamespacedPod({ namespace: "jobs", name: "report", body: { metadata: { annotations: { "karpenter.sh/do-not-disrupt": null } } } }, MERGE_PATCH);

    const done = await world.waitForPhase("karp", "Succeeded", 12 * 60_000);
    await watcher.stop();
    assert.deepEqual(watcher.violations, [], "no budget ever dropped below what it demands");
    assert.ok(watcher.samples > 50, `the watcher sampled through the upgrade (${watcher.samples} samples)`);

    const kubelets = await karpenterKubelets(core);
    assert.deepEqual(Object.keys(kubelets).sort(), ["batch", "web"]);
    for (const [pool, versions] of Object.entries(kubelets)) assert.ok(versions.every((version) => version.startsWith("v1.32.")), `${pool}: ${versions.join(", ")}`);
    assert.deepEqual(
      done.status!.karpenter!.nodePools.map((pool) => [pool.name, pool.targetVersion, pool.state, pool.atVersion === pool.total]).sort(),
      [["batch", "1.32", "Succeeded", true], ["web", "1.32", "Succeeded", true]],
    );
    assert.ok(done.status!.karpenter!.changes.every((change) => change.state === "Kept"), "the finished upgrade keeps the NodePools at the target");
    assert.deepEqual((await nodePools(world)).map((pool) => pool.spec.template.metadata?.annotations?.[VERSION_ANNOTATION]), ["1.32", "1.32"]);

    // Each pool reached each hop: one event per pool and hop.
    const events = (await core.listNamespacedEvent({ namespace: "e2e", fieldSelector: "involvedObject.name=karp" })).items.filter((event) => event.reason === "NodePoolUpgraded");
    assert.deepEqual(events.map((event) => event.message!.replace(/: all \d+ node\(s\)/, ":")).sort(), ["NodePool batch: run 1.31", "NodePool batch: run 1.32", "NodePool web: run 1.31", "NodePool web: run 1.32"]);
  });

  it("abort puts each NodePool's template back as it was", async () => {
    const world = await UpgradeWorld.prepare("karpenter");
    const before = await nodePools(world);
    operators.push(startOperatorProcess());
    await world.apply("karp-abort", spec);
    // Once the drift has begun (the template of both pools changed), the upgrade is called off.
    await world.waitFor("karp-abort", "both NodePools changed", (upgrade) => (upgrade.status?.karpenter?.changes ?? []).filter((change) => change.state === "Applied").length === 2, 10 * 60_000);
    const changed = await nodePools(world);
    assert.deepEqual(changed.map((pool) => pool.spec.template.metadata?.annotations?.[VERSION_ANNOTATION]), ["1.31", "1.31"]);
    await world.patchSpec("karp-abort", { abort: true });
    const aborted = await world.waitForPhase("karp-abort", "Aborted", 4 * 60_000);
    assert.deepEqual(aborted.status!.karpenter!.changes.map((change) => change.state), ["Restored", "Restored"]);
    assert.match(condition(aborted, "Progressing")!.message, /restored NodePool batch spec\.template\.metadata\.annotations\["eksupgrade\.io\/kubernetes-version"\] to "1\.30"/);
    const after = await nodePools(world);
    assert.deepEqual(
      after.map((pool) => pool.spec.template),
      before.map((pool) => pool.spec.template),
      "the templates are exactly what they were",
    );
  });
});
