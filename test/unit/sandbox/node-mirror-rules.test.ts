import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import {
  assignZones,
  buildNode,
  clusterOfGroup,
  instanceIdFromProviderId,
  labelsFromTags,
  providerIdOf,
  taintsFromTags,
  type MirroredInstance,
} from "../../../sandbox/eks-emulator/node-spec.js";
import { computeSurge, podsToEvict, resolveMaxUnavailable, seededShuffle } from "../../../sandbox/eks-emulator/nodegroup-roller.js";

const managedInstance: MirroredInstance = {
  clusterName: "demo",
  region: "us-east-1",
  autoScalingGroupName: "eks-general-1234",
  nodegroupName: "general",
  instanceId: "i-0abc123",
  instanceType: "m5.large",
  imageId: "ami-0123",
  privateDnsName: "ip-10-0-1-4.ec2.internal",
  privateIpAddress: "10.0.1.4",
  zone: "us-east-1b",
  kubeletVersion: "v1.30.4-eks-20250115",
  capacityType: "ON_DEMAND",
  labels: { "workload-class": "general" },
  taints: [{ key: "dedicated", value: "batch", effect: "NoSchedule" }],
};

describe("node mirror: Node shape", () => {
  it("builds the providerID EKS nodes carry and parses it back", () => {
    assert.equal(providerIdOf("us-east-1b", "i-0abc123"), "aws:///us-east-1b/i-0abc123");
    assert.equal(instanceIdFromProviderId("aws:///us-east-1b/i-0abc123"), "i-0abc123");
    assert.equal(instanceIdFromProviderId("kind://docker/kind/kind-worker"), undefined);
    assert.equal(instanceIdFromProviderId(undefined), undefined);
  });

  it("labels a managed node with zone, instance type, node group, image and kwok's annotation", () => {
    const node = buildNode(managedInstance);
    const labels = node.metadata?.labels ?? {};
    assert.equal(node.metadata?.name, "ip-10-0-1-4.ec2.internal");
    assert.equal(node.spec?.providerID, "aws:///us-east-1b/i-0abc123");
    assert.equal(labels["topology.kubernetes.io/zone"], "us-east-1b");
    assert.equal(labels["node.kubernetes.io/instance-type"], "m5.large");
    assert.equal(labels["eks.amazonaws.com/nodegroup"], "general");
    assert.equal(labels["eks.amazonaws.com/nodegroup-image"], "ami-0123");
    assert.equal(labels["workload-class"], "general");
    assert.equal(node.metadata?.annotations?.["kwok.x-k8s.io/node"], "fake");
    assert.equal(node.status?.nodeInfo?.kubeletVersion, "v1.30.4-eks-20250115");
    assert.deepEqual(node.status?.capacity, { cpu: "2", memory: "7785Mi", pods: "29", "ephemeral-storage": "20Gi" });
    assert.deepEqual(node.spec?.taints, [{ key: "dedicated", value: "batch", effect: "NoSchedule" }]);
  });

  it("gives a self-managed node no managed node group labels but its Auto Scaling group's name", () => {
    const node = buildNode({ ...managedInstance, nodegroupName: undefined, autoScalingGroupName: "demo-legacy", taints: [] });
    const labels = node.metadata?.labels ?? {};
    assert.equal(labels["eks.amazonaws.com/nodegroup"], undefined);
    assert.equal(labels["eks.amazonaws.com/nodegroup-image"], undefined);
    assert.equal(labels["sandbox.eks-upgrade-operator.io/auto-scaling-group"], "demo-legacy");
    assert.equal(node.spec?.taints, undefined);
  });

  it("reads labels, taints and the cluster from Auto Scaling group tags", () => {
    const tags = {
      "kubernetes.io/cluster/demo": "owned",
      "k8s.io/cluster-autoscaler/node-template/label/workload-class": "legacy",
      "k8s.io/cluster-autoscaler/node-template/taint/dedicated": "batch:NoExecute",
      "k8s.io/cluster-autoscaler/node-template/taint/spot": ":NoSchedule",
    };
    assert.equal(clusterOfGroup(tags), "demo");
    assert.equal(clusterOfGroup({ "eks:cluster-name": "other" }), "other");
    assert.equal(clusterOfGroup({ Name: "x" }), undefined);
    assert.deepEqual(labelsFromTags(tags), { "workload-class": "legacy" });
    assert.deepEqual(taintsFromTags(tags), [
      { key: "dedicated", value: "batch", effect: "NoExecute" },
      { key: "spot", value: undefined, effect: "NoSchedule" },
    ]);
  });
});

describe("node mirror: zone placement", () => {
  it("spreads new instances over the group's zones, fewest first, ties in subnet order", () => {
    const zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
    const placed = assignZones(zones, new Map(), ["i-1", "i-2", "i-3", "i-4"]);
    assert.deepEqual([...placed.values()], ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"]);
  });

  it("fills the emptiest zone when some nodes already exist", () => {
    const placed = assignZones(["us-east-1a", "us-east-1b"], new Map([["us-east-1a", 2]]), ["i-9", "i-10"]);
    assert.deepEqual([...placed.values()], ["us-east-1b", "us-east-1b"]);
  });
});

describe("managed node group roll: sizing and order", () => {
  it("defaults maxUnavailable to 1 and turns a percentage into at least one node", () => {
    assert.equal(resolveMaxUnavailable({}, 10), 1);
    assert.equal(resolveMaxUnavailable({ maxUnavailable: 3 }, 10), 3);
    assert.equal(resolveMaxUnavailable({ maxUnavailablePercentage: 25 }, 10), 2);
    assert.equal(resolveMaxUnavailable({ maxUnavailablePercentage: 1 }, 10), 1);
  });

  it("surges by max(2 x zones, maxUnavailable), never more than the nodes to replace", () => {
    assert.equal(computeSurge(3, 1, 20), 6);
    assert.equal(computeSurge(2, 8, 20), 8);
    assert.equal(computeSurge(3, 1, 3), 3);
    assert.equal(computeSurge(3, 1, 20, "DEFAULT"), 6);
    assert.equal(computeSurge(3, 8, 20, "MINIMAL"), 0, "MINIMAL terminates first");
  });

  it("shuffles deterministically per seed and keeps every item", () => {
    const nodes = ["n1", "n2", "n3", "n4", "n5", "n6"];
    const first = seededShuffle(nodes, "update-1");
    assert.deepEqual(seededShuffle(nodes, "update-1"), first);
    assert.deepEqual([...first].sort(), nodes);
    const differs = ["update-2", "update-3", "update-4"].some((seed) => seededShuffle(nodes, seed).join() !== first.join());
    assert.ok(differs, "different updates pick different orders");
  });

  it("drains everything but DaemonSet pods, mirror pods and finished pods", () => {
    const pod = (name: string, extra: Partial<V1Pod> = {}): V1Pod => ({
      metadata: { name, namespace: "shop", ...extra.metadata },
      status: { phase: "Running", ...extra.status },
    });
    const pods = [
      pod("web"),
      pod("agent", { metadata: { name: "agent", ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "a", uid: "1" }] } }),
      pod("static", { metadata: { name: "static", annotations: { "kubernetes.io/config.mirror": "x" } } }),
      pod("done", { status: { phase: "Succeeded" } }),
      pod("singleton"),
    ];
    assert.deepEqual(
      podsToEvict(pods).map((item) => item.metadata?.name),
      ["web", "singleton"],
    );
  });
});
