// The guard every node operation of a reconcile passes through: on a cluster that mixes every
// kind of EKS capacity, only managed and self-managed nodes are ever cordoned, drained or evicted
// from, whatever the roll or the drain engine asks for.
import assert from "node:assert/strict";
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { cordonForRoll, releaseNode } from "../../../src/drain/cordon.js";
import { drainPass } from "../../../src/drain/engine.js";
import { guardNodeOperations, UntouchableNodeError } from "../../../src/drain/guard.js";
import { emptySnapshot } from "../../support/fakes/cloud.js";
import { FakeCluster } from "../../support/fakes/cluster.js";

const NODES: [string, Record<string, string>, string?][] = [
  ["managed", { "eks.amazonaws.com/nodegroup": "ng-1" }, "aws:///us-east-1a/i-0001"],
  ["self-managed", {}, "aws:///us-east-1a/i-0002"],
  ["auto", { "eks.amazonaws.com/compute-type": "auto", "karpenter.sh/nodepool": "general-purpose" }, "aws:///us-east-1a/i-0003"],
  ["fargate", { "eks.amazonaws.com/compute-type": "fargate" }],
  ["hybrid", { "eks.amazonaws.com/compute-type": "hybrid" }, "eks-hybrid:///us-east-1/c/mi-0004"],
  ["karpenter", { "karpenter.sh/nodepool": "default" }, "aws:///us-east-1a/i-0005"],
  ["unknown", {}],
];

function node(name: string, labels: Record<string, string>, providerID?: string): V1Node {
  return { metadata: { name, labels, annotations: {} }, spec: providerID ? { providerID } : {}, status: { conditions: [{ type: "Ready", status: "True" }] } };
}

function pod(name: string, nodeName: string): V1Pod {
  return {
    metadata: { name, namespace: "shop", labels: { app: name }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "u", controller: true }] },
    spec: { nodeName, containers: [{ name: "c" }] },
    status: { phase: "Running" },
  };
}

function mixedCluster(): FakeCluster {
  const state = emptySnapshot();
  state.nodes = NODES.map(([name, labels, providerID]) => node(name, labels, providerID));
  state.pods = NODES.map(([name]) => pod(`on-${name}`, name));
  return new FakeCluster(state);
}

const drainOptions = { policy: { deleteEmptyDirData: false, evictUnmanagedPods: false }, deleteRemaining: false };

describe("drain guard", () => {
  it("on a mixed cluster, cordons and drains only managed and self-managed nodes", async () => {
    const api = mixedCluster();
    const guarded = guardNodeOperations(api);
    const refused: string[] = [];
    for (const [name] of NODES) {
      const live = (await guarded.listNodes()).find((candidate) => candidate.metadata?.name === name)!;
      try {
        await cordonForRoll(guarded, live, "upgrade-uid");
        await drainPass(name, guarded, { budgets: [] }, drainOptions);
      } catch (error) {
        assert.ok(error instanceof UntouchableNodeError, String(error));
        assert.match(error.message, new RegExp(`node ${name}: it is a`));
        refused.push(name);
      }
    }
    assert.deepEqual(refused, ["auto", "fargate", "hybrid", "karpenter", "unknown"]);
    assert.deepEqual([...new Set(api.patches.map((patch) => patch.node))], ["managed", "self-managed"]);
    assert.deepEqual(api.evictions.map((eviction) => eviction.pod), ["shop/on-managed", "shop/on-self-managed"]);
  });

  it("refuses to evict or delete a pod not listed from a node the operator rolls", async () => {
    const api = mixedCluster();
    const guarded = guardNodeOperations(api);
    await assert.rejects(guarded.evictPod("shop", "on-karpenter"), /refusing to evict pod shop\/on-karpenter/);
    await guarded.podsOnNode("fargate");
    await assert.rejects(guarded.deletePod("shop", "on-fargate"), /refusing to delete pod shop\/on-fargate/);
    await guarded.podsOnNode("managed");
    assert.equal((await guarded.evictPod("shop", "on-managed")).status, 201);
    // A node gone from the list (instance terminated) leaves its pods to be moved.
    api.state.pods.push(pod("orphan", "gone"));
    await guarded.podsOnNode("gone");
    assert.equal((await guarded.evictPod("shop", "orphan")).status, 201);
    assert.equal(api.count("evictPod"), 2);
    assert.equal(api.count("deletePod"), 0);
  });

  it("lets the marks of this operator be removed from any node, and reads the node list once for many cordons", async () => {
    const api = mixedCluster();
    const karpenterNode = api.state.nodes.find((candidate) => candidate.metadata?.name === "karpenter")!;
    karpenterNode.metadata!.annotations = { "eksupgrade.io/cordoned-by": "upgrade-uid" };
    const guarded = guardNodeOperations(api);
    assert.equal(await releaseNode(guarded, structuredClone(karpenterNode), "upgrade-uid", false), true);
    assert.deepEqual(api.patches.at(-1), { node: "karpenter", patch: { annotations: { "eksupgrade.io/cordoned-by": null } } });
    const before = api.count("listNodes");
    for (const name of ["managed", "self-managed"]) await guarded.patchNode(name, { unschedulable: true });
    assert.equal(api.count("listNodes") - before, 1);
  });
});
