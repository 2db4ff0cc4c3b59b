// The sandbox runs the real API server, disruption controller, ReplicaSet controller and scheduler:
// an eviction that would break a PodDisruptionBudget is refused, and an allowed one is followed
// by a replacement pod on another Ready node.
import assert from "node:assert/strict";
import type { V1PodDisruptionBudget } from "@kubernetes/client-node";
import {
  cleanUp,
  clients,
  cordon,
  createKwokNodes,
  createNamespace,
  deployment,
  errorBody,
  eventually,
  isRunningAndReady,
  runningReadyPods,
  statusCode,
  uniqueName,
  type Clients,
} from "./kube-helpers.js";

describe("sandbox Kubernetes: evictions and PodDisruptionBudgets", function () {
  let kube: Clients;
  let suite: string;
  let namespace: string;
  let nodes: string[];

  before(async function () {
    kube = clients();
    suite = uniqueName("evict");
    namespace = await createNamespace(kube.core, suite);
    nodes = await createKwokNodes(kube.core, suite, 2);
  });

  after(async function () {
    await cleanUp(kube.core, namespace, nodes ?? []);
  });

  function evict(name: string): Promise<unknown> {
    return kube.core.createNamespacedPodEviction({
      name,
      namespace,
      body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
    });
  }

  /** Waits until the disruption controller has processed the budget's current generation. */
  async function settledBudget(name: string, disruptionsAllowed: number, currentHealthy: number): Promise<V1PodDisruptionBudget> {
    return eventually(`PDB ${name} with ${disruptionsAllowed} disruptions allowed`, async () => {
      const pdb = await kube.policy.readNamespacedPodDisruptionBudget({ name, namespace });
      const status = pdb.status;
      const settled =
        status?.observedGeneration === pdb.metadata?.generation &&
        status?.currentHealthy === currentHealthy &&
        status?.disruptionsAllowed === disruptionsAllowed;
      return settled ? pdb : undefined;
    });
  }

  it("answers 429 to an eviction that would break the budget, and allows it once the budget does", async function () {
    await kube.apps.createNamespacedDeployment({ namespace, body: deployment("web", suite, 2) });
    await kube.policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: "web" }, spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } } },
    });
    // Pending pods may be evicted whatever the budget says: only Running and Ready pods make this honest.
    const pods = await runningReadyPods(kube.core, namespace, "app=web", 2);
    const budget = await settledBudget("web", 0, 2);
    assert.equal(budget.status?.desiredHealthy, 2);
    assert.equal(budget.status?.expectedPods, 2);

    const victim = pods[0].metadata!.name!;
    const refusal = await evict(victim).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refusal, "the eviction should have been refused");
    assert.equal(statusCode(refusal), 429, errorBody(refusal));
    assert.match(errorBody(refusal), /disruption budget/);
    const stillThere = await kube.core.readNamespacedPod({ name: victim, namespace });
    assert.ok(isRunningAndReady(stillThere), "the refused eviction must leave the pod running");

    // Same pod, same API call, a budget that allows one disruption: now it is evicted.
    const current = await kube.policy.readNamespacedPodDisruptionBudget({ name: "web", namespace });
    current.spec!.minAvailable = 1;
    await kube.policy.replaceNamespacedPodDisruptionBudget({ name: "web", namespace, body: current });
    await settledBudget("web", 1, 2);
    await evict(victim);
    const evicted = await kube.core.readNamespacedPod({ name: victim, namespace }).catch(() => undefined);
    assert.ok(evicted === undefined || evicted.metadata?.deletionTimestamp !== undefined, "the evicted pod should be terminating");
  });

  it("recreates an evicted Deployment pod and schedules it onto the other Ready node", async function () {
    await kube.apps.createNamespacedDeployment({ namespace, body: deployment("api", suite, 2) });
    await kube.policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: "api" }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: "api" } } } },
    });
    const pods = await runningReadyPods(kube.core, namespace, "app=api", 2);
    await settledBudget("api", 1, 2);

    const victim = pods[0];
    const drainedNode = victim.spec!.nodeName!;
    const otherNode = nodes.find((node) => node !== drainedNode)!;
    assert.ok(nodes.includes(drainedNode), `pod scheduled on ${drainedNode}, not on this test's nodes`);
    await cordon(kube.core, drainedNode);
    await evict(victim.metadata!.name!);

    const originalUids = new Set(pods.map((pod) => pod.metadata!.uid!));
    const replacement = await eventually("a replacement pod Running and Ready", async () => {
      const current = (await kube.core.listNamespacedPod({ namespace, labelSelector: "app=api" })).items;
      return current.find((pod) => !originalUids.has(pod.metadata!.uid!) && isRunningAndReady(pod));
    });
    assert.equal(replacement.spec?.nodeName, otherNode, "the scheduler must avoid the cordoned node");

    await eventually(`evicted pod ${victim.metadata!.name!} gone`, async () => {
      const current = (await kube.core.listNamespacedPod({ namespace, labelSelector: "app=api" })).items;
      return !current.some((pod) => pod.metadata!.uid === victim.metadata!.uid);
    });
    const finalPods = await runningReadyPods(kube.core, namespace, "app=api", 2);
    assert.ok(
      finalPods.every((pod) => pod.spec?.nodeName !== drainedNode || originalUids.has(pod.metadata!.uid!)),
      "no new pod may land on the cordoned node",
    );
  });
});
