import assert from "node:assert/strict";
import type { V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { ClusterUpgradeStatus, HopStatus } from "../../../src/api/v1alpha1/types.js";
import { DEFAULT_TIMINGS, type StepContext } from "../../../src/controllers/clusterupgrade/context.js";
import { advanceKarpenter, holdsKarpenterChanges, restoreKarpenter } from "../../../src/controllers/clusterupgrade/steps/karpenter.js";
import { amiAliasLever, driftBlockers, observePools } from "../../../src/karpenter/roll.js";
import type { NodePool } from "../../../src/karpenter/types.js";
import { budgetsFor } from "../../../src/kube/workload-snapshot.js";
import { FakeCluster } from "../../support/fakes/cluster.js";
import { FakeEc2 } from "../../support/fakes/cloud.js";
import { nodesOfGroup } from "../../../src/nodegroups/self-managed-roll/plan.js";

function pool(name: string, kind = "KWOKNodeClass", extra: Partial<NodePool["spec"]> = {}): NodePool {
  return {
    metadata: { name, resourceVersion: "1" },
    spec: { template: { metadata: { annotations: { "eksupgrade.io/kubernetes-version": "1.30" } }, spec: { nodeClassRef: { group: "x", kind, name: "default" } } }, ...extra },
  };
}

function node(name: string, poolName: string, kubelet: string, extra: Partial<V1Node["metadata"]> = {}): V1Node {
  return { metadata: { name, labels: { "karpenter.sh/nodepool": poolName }, ...extra }, status: { nodeInfo: { kubeletVersion: kubelet } as never } };
}

function pod(namespace: string, name: string, nodeName: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): V1Pod {
  return { metadata: { namespace, name, annotations, labels }, spec: { nodeName, containers: [] }, status: { phase: "Running" } };
}

function world(nodes: V1Node[], pods: V1Pod[] = [], pdbs: V1PodDisruptionBudget[] = []): FakeCluster {
  const cluster = new FakeCluster({ nodes, pods, pdbs, deployments: [], statefulSets: [], replicaSets: [], daemonSets: [] });
  cluster.karpenterObjects.installed = true;
  return cluster;
}

function contextFor(cluster: FakeCluster, status: ClusterUpgradeStatus, ec2 = new FakeEc2(), events: string[] = []): StepContext {
  return {
    status,
    now: new Date("2026-11-29T12:00:00Z"),
    timings: DEFAULT_TIMINGS,
    newWorkAllowed: true,
    cloud: { ec2 } as unknown as StepContext["cloud"],
    workloads: () => Promise.resolve(cluster),
    setCondition: (type: string, state: string, reason: string, message: string) => {
      status.conditions = [{ type, status: state as "True", reason, message, lastTransitionTime: "" }];
    },
    event: (_type: string, reason: string, message: string) => events.push(`${reason}: ${message}`),
  } as unknown as StepContext;
}

/** Passes until the step stops asking to be called back at once (it records before it writes). */
async function settle(context: StepContext, hop: HopStatus, last = false): Promise<Awaited<ReturnType<typeof advanceKarpenter>>> {
  for (let pass = 0; pass < 10; pass++) {
    const result = await advanceKarpenter(context, hop, last);
    if (!result || result.outcome !== "wait" || result.requeueAfterMs !== 0) return result;
  }
  throw new Error("no settled pass in 10");
}

describe("Karpenter drift roll", () => {
  const hop: HopStatus = { from: "1.30", version: "1.31", state: "InProgress", stage: "NodeGroups" };

  it("does nothing on a cluster without Karpenter", async () => {
    const cluster = world([]);
    cluster.karpenterObjects.installed = false;
    const status: ClusterUpgradeStatus = {};
    assert.equal(await advanceKarpenter(contextFor(cluster, status), hop, true), undefined);
    assert.equal(status.karpenter, undefined);
  });

  it("records the template's value before changing it, then follows the nodes until all run the hop's version", async () => {
    const cluster = world([node("a", "web", "v1.30.4"), node("b", "web", "v1.30.4")]);
    cluster.karpenterObjects.nodePools = [pool("web")];
    const status: ClusterUpgradeStatus = {};
    const events: string[] = [];
    const context = contextFor(cluster, status, new FakeEc2(), events);

    const first = await advanceKarpenter(context, hop, false);
    assert.deepEqual(first, { outcome: "wait", requeueAfterMs: 0, reason: 'record the change of NodePool/web spec.template.metadata.annotations["eksupgrade.io/kubernetes-version"] before making it' });
    assert.deepEqual(cluster.karpenterObjects.writes, [], "nothing written before the record is in status");
    assert.equal(status.karpenter?.changes[0].original, '"1.30"');
    assert.equal(status.karpenter?.changes[0].state, "Pending");

    const second = await settle(context, hop);
    assert.equal(second?.outcome, "wait");
    assert.deepEqual(cluster.karpenterObjects.writes, ["NodePool/web eksupgrade.io/kubernetes-version=1.31"]);
    assert.equal(status.karpenter?.changes[0].state, "Applied");

    // Karpenter replaced one node: counts follow, the pool is still in progress.
    cluster.state.nodes = [node("b", "web", "v1.30.4"), node("c", "web", "v1.31.4")];
    await advanceKarpenter(context, hop, false);
    const entry = status.karpenter.nodePools[0];
    assert.deepEqual({ state: entry.state, total: entry.total, atVersion: entry.atVersion, replaced: entry.replaced }, { state: "InProgress", total: 2, atVersion: 1, replaced: 1 });

    cluster.state.nodes = [node("c", "web", "v1.31.4"), node("d", "web", "v1.31.4")];
    assert.equal(await advanceKarpenter(context, hop, true), undefined);
    assert.equal(status.karpenter.nodePools[0].state, "Succeeded");
    assert.equal(status.karpenter.changes[0].state, "Kept", "the finished upgrade keeps the pin");
    assert.deepEqual(events.filter((event) => event.startsWith("NodePoolUpgraded")), ["NodePoolUpgraded: NodePool web: all 2 node(s) run 1.31"]);
    assert.equal(holdsKarpenterChanges(status.karpenter), false);
  });

  it("leaves a pool whose nodes all run the hop's version alone: no template change, no drift", async () => {
    const cluster = world([node("a", "web", "v1.31.4"), node("b", "web", "v1.31.4")]);
    cluster.karpenterObjects.nodePools = [pool("web")];
    const status: ClusterUpgradeStatus = {};
    assert.equal(await advanceKarpenter(contextFor(cluster, status), hop, true), undefined);
    assert.deepEqual(cluster.karpenterObjects.writes, []);
    assert.deepEqual(status.karpenter?.changes, []);
    assert.equal(status.karpenter?.nodePools[0].state, "Succeeded");
  });

  it("after a restart that lost the pass which wrote the template, marks the recorded change applied without writing again", async () => {
    const cluster = world([node("a", "web", "v1.30.4")]);
    cluster.karpenterObjects.nodePools = [pool("web")];
    const status: ClusterUpgradeStatus = {};
    await advanceKarpenter(contextFor(cluster, status), hop, false);
    assert.equal(status.karpenter?.changes[0].state, "Pending");
    // The write happened, then the operator died before writing status: the record says Pending.
    await cluster.karpenter().setNodePoolTemplateAnnotation("web", "eksupgrade.io/kubernetes-version", "1.31", undefined);
    const writes = cluster.karpenterObjects.writes.length;
    const restarted: ClusterUpgradeStatus = structuredClone(status);
    await advanceKarpenter(contextFor(cluster, restarted), hop, false);
    assert.equal(cluster.karpenterObjects.writes.length, writes, "no second write");
    assert.equal(restarted.karpenter?.changes[0].state, "Applied");
    assert.equal(restarted.karpenter?.changes[0].original, '"1.30"', "the original survives the restart");
  });

  it("the self-managed roll never takes a node labelled karpenter.sh/nodepool as one of its group's", () => {
    const karpenterNode: V1Node = { metadata: { name: "k", labels: { "karpenter.sh/nodepool": "web" } }, spec: { providerID: "aws:///us-east-1a/i-1" } };
    const groupNode: V1Node = { metadata: { name: "g" }, spec: { providerID: "aws:///us-east-1a/i-2" } };
    const group = { instances: [{ id: "i-1" }, { id: "i-2" }] } as unknown as Parameters<typeof nodesOfGroup>[0];
    assert.deepEqual([...nodesOfGroup(group, [karpenterNode, groupNode]).keys()], ["i-2"]);
  });

  it("names a do-not-disrupt pod, a budget allowing no drift and a PodDisruptionBudget holding a draining node", () => {
    const web = pool("web", "KWOKNodeClass", { disruption: { budgets: [{ nodes: "0", reasons: ["Drifted"], schedule: "0 9 * * mon-fri", duration: "8h" }, { nodes: "0", reasons: ["Underutilized"] }] } });
    const draining = node("b", "web", "v1.30.4", { deletionTimestamp: new Date() });
    const nodes = [node("a", "web", "v1.30.4"), draining];
    const pods = [pod("jobs", "report", "a", { "karpenter.sh/do-not-disrupt": "true" }), pod("shop", "front-1", "b", {}, { app: "front" })];
    const pdbs: V1PodDisruptionBudget[] = [{ metadata: { namespace: "shop", name: "front" }, spec: { selector: { matchLabels: { app: "front" } } }, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } }];
    const [observation] = observePools([web], [], nodes);
    assert.deepEqual(driftBlockers({ observation, version: "1.31", pods, pdbs, budgetsFor }), [
      "pod jobs/report on node a is annotated karpenter.sh/do-not-disrupt=true",
      'NodePool web disruption budget 0 (nodes: 0) allows no drift while its schedule "0 9 * * mon-fri" (UTC, for 8h) is active',
      "PodDisruptionBudget shop/front (0 disruptions allowed) holds pod shop/front-1 on node b",
    ]);
  });

  it("pins an EC2NodeClass alias to the hop's AMI release, and refuses terms that select by id", () => {
    const lever = amiAliasLever({ metadata: { name: "default", resourceVersion: "7" }, spec: { amiSelectorTerms: [{ alias: "al2023@latest" }] } }, "v20250115");
    assert.ok(!("refused" in lever));
    assert.deepEqual(lever.desired, [{ alias: "al2023@v20250115" }]);
    const refused = amiAliasLever({ metadata: { name: "pinned" }, spec: { amiSelectorTerms: [{ id: "ami-123" }] } }, "v20250115");
    assert.ok("refused" in refused && /selects its AMIs by id, not by one alias/.test(refused.refused));
  });

  it("on AWS writes the EC2NodeClass, and an abort puts back exactly the original terms", async () => {
    const cluster = world([node("a", "web", "v1.30.4")]);
    cluster.karpenterObjects.nodePools = [pool("web", "EC2NodeClass")];
    cluster.karpenterObjects.ec2NodeClasses = [{ metadata: { name: "default", resourceVersion: "3" }, spec: { amiSelectorTerms: [{ alias: "al2023@latest" }] } }];
    const ec2 = new FakeEc2();
    ec2.amiReleases.set("1.31", "v20250115");
    const status: ClusterUpgradeStatus = {};
    await settle(contextFor(cluster, status, ec2), hop);
    assert.deepEqual(cluster.karpenterObjects.ec2NodeClasses[0].spec.amiSelectorTerms, [{ alias: "al2023@v20250115" }]);
    assert.equal(holdsKarpenterChanges(status.karpenter), true);

    const lines = await restoreKarpenter(status.karpenter, cluster.karpenter());
    assert.deepEqual(lines, ['restored EC2NodeClass default spec.amiSelectorTerms to [{"alias":"al2023@latest"}]']);
    assert.deepEqual(cluster.karpenterObjects.ec2NodeClasses[0].spec.amiSelectorTerms, [{ alias: "al2023@latest" }]);
    assert.deepEqual(await restoreKarpenter(status.karpenter, cluster.karpenter()), [], "a second release changes nothing");
  });

  it("leaves alone a field someone else changed after the upgrade wrote it", async () => {
    const cluster = world([node("a", "web", "v1.30.4")]);
    cluster.karpenterObjects.nodePools = [pool("web")];
    const status: ClusterUpgradeStatus = {};
    await settle(contextFor(cluster, status), hop);
    await cluster.karpenter().setNodePoolTemplateAnnotation("web", "eksupgrade.io/kubernetes-version", "1.32", undefined);
    const lines = await restoreKarpenter(status.karpenter, cluster.karpenter());
    assert.match(lines[0], /left as it is \(changed by someone else since\)/);
    assert.equal(cluster.karpenterObjects.nodePools[0].spec.template.metadata?.annotations?.["eksupgrade.io/kubernetes-version"], "1.32");
    assert.equal(status.karpenter?.changes[0].state, "LeftAlone");
  });
});

describe("Karpenter drift roll on a node class the operator cannot pin", () => {
  it("holds the hop and says in the condition what to do", async () => {
    const cluster = world([node("a", "web", "v1.30.4")]);
    cluster.karpenterObjects.nodePools = [pool("web", "EC2NodeClass")];
    cluster.karpenterObjects.ec2NodeClasses = [{ metadata: { name: "default" }, spec: { amiSelectorTerms: [{ tags: { team: "web" } }] } }];
    const ec2 = new FakeEc2();
    ec2.amiReleases.set("1.31", "v20250115");
    const status: ClusterUpgradeStatus = {};
    const result = await advanceKarpenter(contextFor(cluster, status, ec2), { from: "1.30", version: "1.31", state: "InProgress", stage: "NodeGroups" }, true);
    assert.equal(result?.outcome, "wait");
    assert.equal(status.karpenter?.nodePools[0].state, "Failed");
    assert.match(status.conditions![0].message, /NodePool web: EC2NodeClass default selects its AMIs by tags, not by one alias/);
    assert.deepEqual(cluster.karpenterObjects.writes, [], "nothing changed");
  });
});
