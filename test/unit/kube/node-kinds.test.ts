// Which kind of EKS capacity a node is, from the labels EKS and Karpenter set.
import assert from "node:assert/strict";
import type { V1Node } from "@kubernetes/client-node";
import { fateOf, isRolledByOperator, nodeKindOf, nodePoolOf, type NodeKind } from "../../../src/kube/node-kinds.js";

function node(labels: Record<string, string>, providerID?: string): V1Node {
  return { metadata: { name: "n", labels }, ...(providerID ? { spec: { providerID } } : {}) };
}

describe("node kinds", () => {
  it("reads each kind from its EKS label, the compute type before the NodePool label Auto Mode also sets", () => {
    const cases: [V1Node, NodeKind][] = [
      [node({ "eks.amazonaws.com/compute-type": "auto", "karpenter.sh/nodepool": "general-purpose" }, "aws:///us-east-1a/i-0a"), "AutoMode"],
      [node({ "eks.amazonaws.com/compute-type": "fargate" }), "Fargate"],
      [node({ "eks.amazonaws.com/compute-type": "hybrid" }, "eks-hybrid:///us-west-2/my-cluster/mi-0123"), "Hybrid"],
      [node({ "karpenter.sh/nodepool": "default" }, "aws:///us-east-1a/i-0b"), "Karpenter"],
      [node({ "eks.amazonaws.com/nodegroup": "ng-1" }, "aws:///us-east-1a/i-0c"), "Managed"],
      [node({ "eksupgrade.io/auto-scaling-group": "asg-1" }), "SelfManaged"],
      [node({}, "aws:///us-east-1b/i-0d"), "SelfManaged"],
      [node({}), "Unknown"],
      [node({ "eks.amazonaws.com/compute-type": "something-new" }), "Unknown"],
    ];
    for (const [input, kind] of cases) assert.equal(nodeKindOf(input), kind, JSON.stringify(input));
  });

  it("rolls only managed and self-managed nodes", () => {
    const kinds: NodeKind[] = ["Managed", "SelfManaged", "AutoMode", "Fargate", "Hybrid", "Karpenter", "Unknown"];
    assert.deepEqual(kinds.filter(isRolledByOperator), ["Managed", "SelfManaged"]);
  });

  it("names the NodePool and says what happens to each kind left alone", () => {
    assert.equal(nodePoolOf(node({ "karpenter.sh/nodepool": "batch" })), "batch");
    assert.equal(nodePoolOf(node({})), undefined);
    assert.match(fateOf("AutoMode").action, /Auto Mode replaces these nodes by itself/);
    assert.match(fateOf("Fargate").remediation, /rollout restart/);
    assert.match(fateOf("Hybrid").remediation, /nodeadm upgrade/);
    assert.match(fateOf("Karpenter").action, /drift/);
  });
});
