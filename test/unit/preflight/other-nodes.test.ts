// The plan's list of nodes the operator does not roll, and what becomes of them.
import assert from "node:assert/strict";
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { planOtherNodes } from "../../../src/preflight/other-nodes.js";
import { emptySnapshot } from "../../support/fakes/cloud.js";

function node(name: string, labels: Record<string, string>, providerID?: string): V1Node {
  return { metadata: { name, labels }, ...(providerID ? { spec: { providerID } } : {}) };
}

function pod(namespace: string, name: string, nodeName: string, owner?: { kind: string; name: string }): V1Pod {
  return {
    metadata: { namespace, name, ...(owner ? { ownerReferences: [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: "u", controller: true }] } : {}) },
    spec: { nodeName, containers: [] },
  };
}

describe("plan: nodes the operator does not roll", () => {
  it("groups them by kind and NodePool, says what happens, and names the Fargate pods' owners to restart", () => {
    const snapshot = emptySnapshot();
    snapshot.nodes = [
      node("managed-1", { "eks.amazonaws.com/nodegroup": "ng" }, "aws:///a/i-1"),
      node("ec2-1", {}, "aws:///a/i-2"),
      node("auto-1", { "eks.amazonaws.com/compute-type": "auto", "karpenter.sh/nodepool": "system" }),
      node("fargate-b", { "eks.amazonaws.com/compute-type": "fargate" }),
      node("fargate-a", { "eks.amazonaws.com/compute-type": "fargate" }),
      node("mi-1", { "eks.amazonaws.com/compute-type": "hybrid" }),
      node("karp-1", { "karpenter.sh/nodepool": "default" }),
      node("karp-2", { "karpenter.sh/nodepool": "batch" }),
    ];
    snapshot.replicaSets = [{ metadata: { namespace: "shop", name: "web-7d9f", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d", controller: true }] } }];
    snapshot.pods = [pod("shop", "web-7d9f-x", "fargate-a", { kind: "ReplicaSet", name: "web-7d9f" }), pod("jobs", "lonely", "fargate-b"), pod("shop", "web-7d9f-y", "karp-1", { kind: "ReplicaSet", name: "web-7d9f" })];
    const plan = planOtherNodes(snapshot);
    assert.deepEqual(
      plan.map((entry) => [entry.kind, entry.nodePool, entry.nodeCount, entry.nodes]),
      [
        ["AutoMode", "system", 1, ["auto-1"]],
        ["Fargate", undefined, 2, ["fargate-a", "fargate-b"]],
        ["Hybrid", undefined, 1, ["mi-1"]],
        ["Karpenter", "batch", 1, ["karp-2"]],
        ["Karpenter", "default", 1, ["karp-1"]],
      ],
    );
    const fargate = plan.find((entry) => entry.kind === "Fargate")!;
    assert.deepEqual(fargate.restart, ["Deployment shop/web", "Pod jobs/lonely"]);
    assert.match(plan.find((entry) => entry.kind === "AutoMode")!.action, /follow|replaces these nodes by itself/);
    assert.match(plan.find((entry) => entry.kind === "Hybrid")!.action, /nodeadm upgrade/);
    assert.equal(plan.find((entry) => entry.kind === "Karpenter")!.restart, undefined);
  });

  it("is empty when every node is rolled by the operator", () => {
    const snapshot = emptySnapshot();
    snapshot.nodes = [node("managed-1", { "eks.amazonaws.com/nodegroup": "ng" }, "aws:///a/i-1")];
    assert.deepEqual(planOtherNodes(snapshot), []);
  });
});
