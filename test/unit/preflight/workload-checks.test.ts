// Preflight checks over fixtures of nodes, pods, budgets and workloads: each check fires on the
// case it names, and stays silent on the healthy counterpart.
import assert from "node:assert/strict";
import type { V1Deployment, V1Pod, V1PodDisruptionBudget, V1ReplicaSet } from "@kubernetes/client-node";
import { checkPodDisruptionBudgets, checkReplicaSpread, neverAllowsEviction } from "../../../src/preflight/pdb-checks.js";
import { checkPods, checkWorkloadResilience } from "../../../src/preflight/workload-checks.js";
import { checkInsights, checkKubeletSkew } from "../../../src/preflight/version-checks.js";
import { addressesPerNode, checkManagedNodeGroups, managedSurgeNodes } from "../../../src/preflight/capacity-checks.js";
import { budgetsFor, ownerOf, selectorMatches, type WorkloadSnapshot } from "../../../src/kube/workload-snapshot.js";
import { emptySnapshot, fakeNode } from "../../support/fakes/cloud.js";
import type { ManagedNodeGroupInfo } from "../../../src/cloud/ports.js";

function pod(name: string, node: string, options: { app?: string; owner?: string; ready?: boolean; annotations?: Record<string, string>; emptyDir?: boolean; namespace?: string; qos?: string } = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: options.namespace ?? "shop",
      labels: options.app ? { app: options.app } : {},
      annotations: options.annotations ?? {},
      ownerReferences: options.owner ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: options.owner, uid: `uid-${options.owner}`, controller: true }] : [],
    },
    spec: { nodeName: node, containers: [{ name: "c" }], volumes: options.emptyDir ? [{ name: "scratch", emptyDir: {} }] : [] },
    status: { phase: "Running", qosClass: options.qos ?? "Burstable", conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }] },
  };
}

function replicaSet(name: string, deployment: string): V1ReplicaSet {
  return { metadata: { name, namespace: "shop", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: deployment, uid: `uid-${deployment}`, controller: true }] } };
}

function deployment(name: string, replicas: number, readiness = true): V1Deployment {
  return {
    metadata: { name, namespace: "shop" },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { spec: { containers: [{ name: "c", ...(readiness ? { readinessProbe: { httpGet: { path: "/", port: 80 } } } : {}) }] } } },
  };
}

function budget(name: string, app: string, spec: Partial<NonNullable<V1PodDisruptionBudget["spec"]>>, allowed: number, healthy = 3, desired = 2): V1PodDisruptionBudget {
  return {
    metadata: { name, namespace: "shop" },
    spec: { selector: { matchLabels: { app } }, ...spec },
    status: { disruptionsAllowed: allowed, currentHealthy: healthy, desiredHealthy: desired, expectedPods: 3 },
  };
}

function shop(): WorkloadSnapshot {
  const snapshot = emptySnapshot();
  snapshot.nodes = [fakeNode("n1", "general", "us-east-1a", "v1.29.3"), fakeNode("n2", "general", "us-east-1b", "v1.29.3"), fakeNode("n3", "batch", "us-east-1c", "v1.29.3")];
  snapshot.replicaSets = [replicaSet("web-1", "web")];
  snapshot.deployments = [deployment("web", 3)];
  snapshot.pods = [pod("web-a", "n1", { app: "web", owner: "web-1" }), pod("web-b", "n2", { app: "web", owner: "web-1" }), pod("web-c", "n3", { app: "web", owner: "web-1" })];
  snapshot.pdbs = [budget("web", "web", { maxUnavailable: 1 }, 1)];
  return snapshot;
}

const eksRolled = new Map<string, "Operator" | "EKS">([["general", "EKS"], ["batch", "EKS"]]);
const strictDrain = { deleteEmptyDirData: false, evictUnmanagedPods: false, timeout: "15m", onTimeout: "Wait" as const, allowForceDelete: false };

const codes = (findings: { code: string }[]): string[] => findings.map((finding) => finding.code);

describe("budget and workload preflight checks", () => {
  it("a healthy shop with a budget allowing one disruption passes", () => {
    const snapshot = shop();
    assert.deepEqual(checkPodDisruptionBudgets(snapshot), []);
    assert.deepEqual(checkPods(snapshot, { rolledGroups: eksRolled, drain: strictDrain }), []);
    assert.deepEqual(checkWorkloadResilience(snapshot, { criticalNamespaces: [] }), []);
    assert.deepEqual(checkReplicaSpread(snapshot, new Map([["general", 1]])), []);
  });

  it("PDB001: a budget allowing 0 disruptions now blocks and names budget, workload, pods and groups", () => {
    const snapshot = shop();
    snapshot.pdbs = [budget("web", "web", { minAvailable: 2 }, 0, 2, 2)];
    const [finding] = checkPodDisruptionBudgets(snapshot);
    assert.equal(finding?.code, "PDB001");
    assert.equal(finding?.resource, "PodDisruptionBudget/shop/web");
    assert.match(finding.message, /shop\/web-a on n1/);
    assert.match(finding.message, /Deployment\/shop\/web/);
    assert.match(finding.message, /node group\(s\) general, batch/);
  });

  it("PDB002: minAvailable equal to the replicas can never allow an eviction", () => {
    const snapshot = shop();
    snapshot.pdbs = [budget("web", "web", { minAvailable: 3 }, 0, 3, 3)];
    assert.deepEqual(codes(checkPodDisruptionBudgets(snapshot)), ["PDB002"]);
    assert.equal(neverAllowsEviction({ spec: { maxUnavailable: "0%" } }, 3), true);
    assert.equal(neverAllowsEviction({ spec: { minAvailable: "100%" } }, 3), true);
    assert.equal(neverAllowsEviction({ spec: { minAvailable: "50%" } }, 3), false);
  });

  it("PDB003: a pod under two budgets is reported with both", () => {
    const snapshot = shop();
    snapshot.pdbs.push({ ...budget("everything", "web", { maxUnavailable: 1 }, 1), spec: { selector: {}, maxUnavailable: 1 } });
    const finding = checkPodDisruptionBudgets(snapshot).find((candidate) => candidate.code === "PDB003");
    assert.ok(finding);
    assert.equal(finding.resource, "PodDisruptionBudget/shop/everything,PodDisruptionBudget/shop/web");
    assert.match(finding.message, /500/);
  });

  it("PDB004: unhealthy pods under IfHealthyBudget block while the budget is unhealthy, not with AlwaysAllow", () => {
    const snapshot = shop();
    snapshot.pods[0] = pod("web-a", "n1", { app: "web", owner: "web-1", ready: false });
    snapshot.pdbs = [budget("web", "web", { maxUnavailable: 1 }, 0, 2, 3)];
    const finding = checkPodDisruptionBudgets(snapshot).find((candidate) => candidate.code === "PDB004");
    assert.equal(finding?.severity, "Blocking");
    snapshot.pdbs = [budget("web", "web", { maxUnavailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" }, 0, 2, 3)];
    assert.equal(checkPodDisruptionBudgets(snapshot).find((candidate) => candidate.code === "PDB004"), undefined);
  });

  it("PDB005: every replica in one node group drained in one batch", () => {
    const snapshot = shop();
    snapshot.pods = snapshot.pods.map((entry) => ({ ...entry, spec: { ...entry.spec!, nodeName: "n1" } }));
    assert.deepEqual(codes(checkReplicaSpread(snapshot, new Map([["general", 1]]))), ["PDB005"]);
  });

  it("POD001-003: on groups EKS drains, bare and emptyDir pods warn, do-not-disrupt blocks; nothing from unrolled groups", () => {
    const snapshot = shop();
    snapshot.pods.push(pod("debug", "n1"), pod("batch-job", "n3", { owner: "web-1", annotations: { "karpenter.sh/do-not-disrupt": "true" } }), pod("cache", "n2", { owner: "web-1", emptyDir: true }));
    const findings = checkPods(snapshot, { rolledGroups: eksRolled, drain: strictDrain });
    assert.deepEqual(codes(findings).sort(), ["POD001", "POD002", "POD003"]);
    assert.deepEqual(findings.map((finding) => [finding.code, finding.severity]).sort(), [["POD001", "Warning"], ["POD002", "Blocking"], ["POD003", "Warning"]]);
    const blocked = findings.find((finding) => finding.code === "POD002");
    assert.match(blocked!.remediation, /node group batch/);
    assert.deepEqual(codes(checkPods(snapshot, { rolledGroups: new Map([["general", "EKS"]]), drain: strictDrain })).sort(), ["POD001", "POD003"]);
  });

  it("WRK001-006: single replica, no budget, no readiness probe, one node, one zone, BestEffort in a critical namespace", () => {
    const snapshot = shop();
    snapshot.deployments = [deployment("web", 1, false)];
    snapshot.pdbs = [];
    snapshot.pods = [pod("web-a", "n1", { app: "web", owner: "web-1" }), pod("web-b", "n1", { app: "web", owner: "web-1" }), pod("tool", "n2", { namespace: "payments", qos: "BestEffort", owner: "web-1" })];
    const found = codes(checkWorkloadResilience(snapshot, { criticalNamespaces: ["payments"] })).sort();
    assert.deepEqual(found, ["WRK001", "WRK002", "WRK003", "WRK004", "WRK006"]);
    snapshot.pods[1] = pod("web-b", "n2", { app: "web", owner: "web-1" });
    snapshot.nodes[1].metadata!.labels!["topology.kubernetes.io/zone"] = "us-east-1a";
    assert.ok(codes(checkWorkloadResilience(snapshot, { criticalNamespaces: [] })).includes("WRK005"));
  });

  it("follows ReplicaSets to their Deployment and matches selectors like the API server", () => {
    const snapshot = shop();
    assert.deepEqual(ownerOf(snapshot.pods[0], snapshot.replicaSets), { kind: "Deployment", namespace: "shop", name: "web" });
    assert.equal(ownerOf(pod("bare", "n1"), []), undefined);
    assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }] }, { tier: "web" }), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] }, { tier: "web" }), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, {}), true);
    assert.equal(budgetsFor(pod("other", "n1", { namespace: "else", app: "web" }), snapshot.pdbs).length, 0);
  });
});

describe("version and capacity preflight checks", () => {
  it("VER001: nodes left behind may not trail any hop by more than 3 minors", () => {
    const nodes = [fakeNode("old-1", "legacy", "a", "v1.28.9"), fakeNode("new-1", "general", "a", "v1.28.9")];
    const findings = checkKubeletSkew(nodes, ["1.29", "1.30", "1.31", "1.32"], "1.28", new Set(["general"]));
    assert.deepEqual(codes(findings), ["VER001"]);
    assert.match(findings[0].message, /at 1.32 .*old-1 \(v1.28.9\)/);
    assert.deepEqual(checkKubeletSkew(nodes, ["1.29", "1.30", "1.31"], "1.28", new Set(["general"])), []);
  });

  it("VER001: Auto Mode, Fargate, hybrid and Karpenter nodes are checked like any node, and the finding says what to do for their kind", () => {
    const labelled = (name: string, labels: Record<string, string>) => {
      const node = fakeNode(name, "unused", "a", "v1.28.3");
      node.metadata!.labels = labels;
      return node;
    };
    const nodes = [
      labelled("auto-1", { "eks.amazonaws.com/compute-type": "auto", "karpenter.sh/nodepool": "general-purpose" }),
      labelled("fargate-ip-10-0-1-1", { "eks.amazonaws.com/compute-type": "fargate" }),
      labelled("mi-0abc", { "eks.amazonaws.com/compute-type": "hybrid" }),
      labelled("karp-1", { "karpenter.sh/nodepool": "default" }),
      labelled("karp-2", { "karpenter.sh/nodepool": "default" }),
    ];
    // A rolled group named like a kind does not hide the nodes of that kind.
    const findings = checkKubeletSkew(nodes, ["1.29", "1.30", "1.31", "1.32"], "1.28", new Set(["general", "self-managed", "Karpenter/default"]));
    assert.deepEqual(codes(findings), ["VER001", "VER001", "VER001", "VER001"]);
    const byResource = new Map(findings.map((finding) => [finding.resource, finding]));
    assert.deepEqual([...byResource.keys()].sort(), ["NodePool/default", "NodePool/general-purpose", "Nodes/Fargate", "Nodes/Hybrid"]);
    assert.match(byResource.get("NodePool/default")!.message, /karp-1 \(v1.28.3\), karp-2 \(v1.28.3\) \(Karpenter NodePool default; Karpenter replaces these nodes by drift/);
    assert.match(byResource.get("NodePool/general-purpose")!.remediation, /let Auto Mode replace them/);
    assert.match(byResource.get("Nodes/Fargate")!.remediation, /rollout restart/);
    assert.match(byResource.get("Nodes/Hybrid")!.remediation, /nodeadm upgrade/);
    assert.deepEqual(checkKubeletSkew(nodes, ["1.29", "1.30", "1.31"], "1.28", new Set()), []);
  });

  it("VER003: a kubelet newer than the control plane", () => {
    assert.deepEqual(codes(checkKubeletSkew([fakeNode("x", "general", "a", "v1.31.0")], ["1.31"], "1.30", new Set(["general"]))), ["VER003"]);
  });

  it("INS001: an ERROR insight blocks its hop unless overridden with a reason", () => {
    const insights = [
      { id: "i-1", name: "Deprecated APIs", status: "ERROR" as const, reason: "uses flowcontrol v1beta2", kubernetesVersion: "1.30" },
      { id: "i-2", name: "Old", status: "ERROR" as const, reason: "not our hop", kubernetesVersion: "1.27" },
    ];
    assert.deepEqual(codes(checkInsights(insights, ["1.30"], []).findings), ["INS001"]);
    const overridden = checkInsights(insights, ["1.30"], [{ insightId: "i-1", reason: "client migrated, metric lags" }]);
    assert.deepEqual(overridden.findings, []);
    assert.equal(overridden.overridden[0]?.reason, "client migrated, metric lags");
  });

  it("IP002 and NG001: surge room in node subnets and node group state", () => {
    const group: ManagedNodeGroupInfo = { name: "general", version: "1.29", status: "ACTIVE", autoScalingGroupNames: [], desiredSize: 3, minSize: 3, maxSize: 6, instanceTypes: ["m5.large"], subnetIds: ["s-a", "s-b"], healthIssues: [] };
    const subnets = [
      { id: "s-a", availabilityZone: "a", availableIpAddressCount: 60, cidrBlock: "" },
      { id: "s-b", availabilityZone: "b", availableIpAddressCount: 60, cidrBlock: "" },
    ];
    assert.equal(managedSurgeNodes(group, 2), 4);
    assert.equal(addressesPerNode("m5.large", false), 30);
    assert.equal(addressesPerNode("m5.large", true), 113);
    assert.deepEqual(checkManagedNodeGroups([group], subnets, false), []);
    subnets[1].availableIpAddressCount = 59;
    assert.deepEqual(codes(checkManagedNodeGroups([group], subnets, false)), ["IP002"]);
    assert.deepEqual(codes(checkManagedNodeGroups([{ ...group, desiredSize: 449 }], [], false)), ["CAP001"]);
    assert.deepEqual(codes(checkManagedNodeGroups([{ ...group, desiredSize: 448 }], [], false)), []);
    assert.deepEqual(codes(checkManagedNodeGroups([{ ...group, status: "DEGRADED", healthIssues: [{ code: "AsgInstanceLaunchFailures", message: "no capacity" }] }], subnets, false)), ["NG001", "NG002", "IP002"]);
  });
});
