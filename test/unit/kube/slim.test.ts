// The slimmed objects the operator keeps must answer every question the checks and the drain ask
// exactly as the whole objects do: the same findings, the same drain plan, the same budgets.
import assert from "node:assert/strict";
import type { V1DaemonSet, V1Deployment, V1Node, V1Pod, V1PodDisruptionBudget, V1ReplicaSet, V1StatefulSet } from "@kubernetes/client-node";
import { checkPodDisruptionBudgets, checkReplicaSpread } from "../../../src/preflight/pdb-checks.js";
import { checkPods, checkWorkloadResilience } from "../../../src/preflight/workload-checks.js";
import { checkKubeletSkew } from "../../../src/preflight/version-checks.js";
import { checkGreenWorkloads } from "../../../src/bluegreen/green-checks.js";
import { planNodeDrain } from "../../../src/drain/pod-filters.js";
import { describeBudget } from "../../../src/drain/engine.js";
import { budgetsFor, type WorkloadSnapshot } from "../../../src/kube/workload-snapshot.js";
import { Interner, slimBudget, slimDaemonSet, slimDeployment, slimNode, slimPod, slimReplicaSet, slimStatefulSet } from "../../../src/kube/slim.js";

// What the API server adds to every object and no check reads.
const managedFields = [{ manager: "kube-controller-manager", operation: "Update", apiVersion: "v1", time: new Date(0), fieldsType: "FieldsV1", fieldsV1: { "f:status": { "f:phase": {} } } }];
const lastApplied = { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ big: "x".repeat(2000) }) };

function node(name: string, group: string, zone: string, kubelet: string, cordoned = false): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, uid: `uid-${name}`, resourceVersion: "11", managedFields, annotations: { "eksupgrade.io/cordoned-by": "x", ...lastApplied }, labels: { "eks.amazonaws.com/nodegroup": group, "topology.kubernetes.io/zone": zone } },
    spec: { providerID: `aws:///${zone}/i-${name}`, unschedulable: cordoned, podCIDR: "10.0.0.0/24" },
    status: {
      nodeInfo: { kubeletVersion: kubelet, architecture: "amd64", bootID: "b", containerRuntimeVersion: "c", kernelVersion: "k", kubeProxyVersion: kubelet, machineID: "m", operatingSystem: "linux", osImage: "al2023", systemUUID: "s" },
      conditions: [{ type: "MemoryPressure", status: "False" }, { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: new Date(0) }],
      images: [{ names: ["registry/image:1"], sizeBytes: 123456789 }],
      allocatable: { cpu: "2", memory: "8Gi", pods: "29" },
    },
  };
}

interface PodOptions {
  namespace?: string;
  app?: string;
  owner?: { kind: string; name: string };
  ready?: boolean;
  emptyDir?: boolean;
  doNotDisrupt?: boolean;
  mirror?: boolean;
  qos?: string;
  phase?: string;
  terminating?: boolean;
  priorityClassName?: string;
}

function pod(name: string, nodeName: string | undefined, options: PodOptions = {}): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: options.namespace ?? "shop",
      uid: `uid-${name}`,
      managedFields,
      labels: { ...(options.app ? { app: options.app } : {}), "pod-template-hash": "abc" },
      annotations: {
        ...lastApplied,
        ...(options.doNotDisrupt ? { "karpenter.sh/do-not-disrupt": "true" } : {}),
        ...(options.mirror ? { "kubernetes.io/config.mirror": "hash" } : {}),
      },
      ownerReferences: options.owner ? [{ apiVersion: "apps/v1", kind: options.owner.kind, name: options.owner.name, uid: `uid-${options.owner.name}`, controller: true, blockOwnerDeletion: true }] : [],
      ...(options.terminating ? { deletionTimestamp: new Date(0), deletionGracePeriodSeconds: 20 } : {}),
    },
    spec: {
      nodeName,
      priorityClassName: options.priorityClassName,
      terminationGracePeriodSeconds: 45,
      containers: [{ name: "app", image: "registry/app:1", env: [{ name: "A", value: "1" }], resources: { requests: { cpu: "10m" } }, readinessProbe: { httpGet: { path: "/", port: 80 } } }],
      volumes: [{ name: "token", projected: { sources: [] } }, ...(options.emptyDir ? [{ name: "scratch", emptyDir: {} }] : [])],
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
    },
    status: {
      phase: options.phase ?? "Running",
      qosClass: options.qos ?? "Burstable",
      podIP: "10.0.0.9",
      conditions: [{ type: "PodScheduled", status: "True" }, { type: "Ready", status: options.ready === false ? "False" : "True", lastTransitionTime: new Date(0) }],
      containerStatuses: [{ name: "app", image: "registry/app:1", imageID: "sha", ready: true, restartCount: 0 }],
    },
  };
}

function replicaSet(name: string, deployment: string): V1ReplicaSet {
  return { metadata: { name, namespace: "shop", managedFields, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: deployment, uid: `uid-${deployment}`, controller: true }] }, spec: { selector: { matchLabels: { app: deployment } }, replicas: 3 }, status: { replicas: 3 } };
}

function deployment(name: string, replicas: number, readiness: boolean, available: number): V1Deployment {
  return {
    metadata: { name, namespace: "shop", managedFields, annotations: lastApplied },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "registry/app:1", ...(readiness ? { readinessProbe: { httpGet: { path: "/", port: 80 } } } : {}) }] } },
    },
    status: { availableReplicas: available, readyReplicas: available, replicas },
  };
}

function budget(name: string, app: string, spec: Partial<NonNullable<V1PodDisruptionBudget["spec"]>>, allowed: number, healthy: number, desired: number): V1PodDisruptionBudget {
  return {
    metadata: { name, namespace: "shop", managedFields },
    spec: { selector: { matchLabels: { app } }, ...spec },
    status: { disruptionsAllowed: allowed, currentHealthy: healthy, desiredHealthy: desired, expectedPods: 3, observedGeneration: 1, conditions: [{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", lastTransitionTime: new Date(0) }] },
  };
}

/** A cluster meant to set off as many findings as possible, each on objects carrying every field the API server adds. */
function whole(): WorkloadSnapshot {
  const statefulSet: V1StatefulSet = {
    metadata: { name: "db", namespace: "shop", managedFields },
    spec: { replicas: 2, serviceName: "db", selector: { matchLabels: { app: "db" } }, template: { spec: { containers: [{ name: "db" }] } } },
    status: { replicas: 2, availableReplicas: 1, readyReplicas: 1 },
  };
  const awsNode: V1DaemonSet = {
    metadata: { name: "aws-node", namespace: "kube-system", managedFields },
    spec: { selector: { matchLabels: { k8s: "aws-node" } }, template: { spec: { containers: [{ name: "aws-node", env: [{ name: "ENABLE_PREFIX_DELEGATION", value: "true" }, { name: "OTHER", value: "x" }] }] } } },
    status: { currentNumberScheduled: 3, desiredNumberScheduled: 3, numberMisscheduled: 0, numberReady: 2, numberAvailable: 2 },
  };
  return {
    nodes: [node("n1", "general", "us-east-1a", "v1.29.3"), node("n2", "general", "us-east-1a", "v1.28.1", true), node("n3", "batch", "us-east-1c", "v1.29.3")],
    replicaSets: [replicaSet("web-1", "web"), replicaSet("api-1", "api"), replicaSet("solo-1", "solo")],
    deployments: [deployment("web", 3, true, 3), deployment("api", 3, false, 2), deployment("solo", 1, true, 1)],
    statefulSets: [statefulSet],
    daemonSets: [awsNode],
    pods: [
      pod("web-a", "n1", { app: "web", owner: { kind: "ReplicaSet", name: "web-1" } }),
      pod("web-b", "n2", { app: "web", owner: { kind: "ReplicaSet", name: "web-1" }, ready: false }),
      pod("web-c", "n3", { app: "web", owner: { kind: "ReplicaSet", name: "web-1" }, terminating: true }),
      pod("api-a", "n1", { app: "api", owner: { kind: "ReplicaSet", name: "api-1" }, emptyDir: true }),
      pod("api-b", "n1", { app: "api", owner: { kind: "ReplicaSet", name: "api-1" }, doNotDisrupt: true }),
      pod("solo-a", "n3", { app: "solo", owner: { kind: "ReplicaSet", name: "solo-1" }, namespace: "kube-system", qos: "BestEffort" }),
      pod("db-0", "n2", { app: "db", owner: { kind: "StatefulSet", name: "db" }, priorityClassName: "system-cluster-critical" }),
      pod("db-1", "n2", { app: "db", owner: { kind: "StatefulSet", name: "db" } }),
      pod("bare", "n1", { app: "web" }),
      pod("loner", "n3", { app: "loner" }),
      pod("done", "n3", { phase: "Succeeded", owner: { kind: "Job", name: "nightly" } }),
      pod("static", "n1", { mirror: true }),
      pod("cni-1", "n1", { owner: { kind: "DaemonSet", name: "aws-node" }, namespace: "kube-system" }),
      pod("pending", undefined, { app: "web", owner: { kind: "ReplicaSet", name: "web-1" } }),
    ],
    pdbs: [budget("web", "web", { maxUnavailable: 1 }, 0, 2, 2), budget("web-too", "web", { minAvailable: "100%" }, 0, 2, 3), budget("db", "db", { minAvailable: 1 }, 1, 2, 1)],
  };
}

function slim(snapshot: WorkloadSnapshot): WorkloadSnapshot {
  // As KubeWorkloadReader does: one Interner for all the pods of the snapshot.
  const podParts = new Interner();
  return {
    nodes: snapshot.nodes.map(slimNode),
    pods: snapshot.pods.map((pod) => slimPod(pod, podParts)),
    pdbs: snapshot.pdbs.map(slimBudget),
    deployments: snapshot.deployments.map(slimDeployment),
    statefulSets: snapshot.statefulSets.map(slimStatefulSet),
    replicaSets: snapshot.replicaSets.map(slimReplicaSet),
    daemonSets: snapshot.daemonSets.map(slimDaemonSet),
  };
}

const drain = { deleteEmptyDirData: false, evictUnmanagedPods: false, timeout: "15m", onTimeout: "Wait" as const, allowForceDelete: false };

function everyCheck(snapshot: WorkloadSnapshot): { code: string; resource: string; message: string }[] {
  const rolled = new Map<string, "Operator" | "EKS">([["general", "Operator"], ["batch", "EKS"]]);
  return [
    ...checkPodDisruptionBudgets(snapshot, new Set(rolled.keys())),
    ...checkReplicaSpread(snapshot, new Map([["general", 1]])),
    ...checkPods(snapshot, { rolledGroups: rolled, drain }),
    ...checkWorkloadResilience(snapshot, { criticalNamespaces: ["kube-system"] }),
    ...checkKubeletSkew(snapshot.nodes, ["1.30"], "1.29", new Set(rolled.keys())),
    ...checkGreenWorkloads({ clusterName: "green", snapshot, verify: { workloads: [{ kind: "Deployment", namespace: "shop", name: "api" }, { kind: "StatefulSet", namespace: "shop", name: "db" }, { kind: "DaemonSet", namespace: "kube-system", name: "aws-node" }] } } as never),
  ].map(({ code, resource, message }) => ({ code, resource, message }));
}

describe("slimmed objects", () => {
  it("give every check the same findings as the whole objects", () => {
    const expected = everyCheck(whole());
    const codes = new Set(expected.map((finding) => finding.code));
    // The fixture must exercise the checks, or the comparison proves nothing.
    for (const code of ["PDB001", "PDB002", "PDB003", "PDB004", "POD001", "POD002", "POD004", "POD005", "WRK001", "WRK003", "WRK002", "WRK004", "WRK006", "PDB005", "BG006"]) {
      if (!codes.has(code)) assert.fail(`the fixture sets off no ${code}; found ${[...codes].join(", ")}`);
    }
    assert.deepEqual(everyCheck(slim(whole())), expected);
  });

  it("give the drain the same plan, budgets and budget descriptions", () => {
    const full = whole();
    const kept = slim(full);
    for (const nodeName of ["n1", "n2", "n3"]) {
      for (const policy of [drain, { ...drain, deleteEmptyDirData: true, evictUnmanagedPods: true }]) {
        const plan = (snapshot: WorkloadSnapshot): unknown => {
          const { evict, blocked } = planNodeDrain(snapshot.pods.filter((candidate) => candidate.spec?.nodeName === nodeName), policy);
          return { evict: evict.map((candidate) => candidate.metadata?.name), blocked };
        };
        assert.deepEqual(plan(kept), plan(full));
      }
    }
    full.pods.forEach((candidate, index) => {
      assert.deepEqual(budgetsFor(kept.pods[index], kept.pdbs).map(describeBudget), budgetsFor(candidate, full.pdbs).map(describeBudget));
    });
    assert.deepEqual(kept.pods.find((candidate) => candidate.metadata?.name === "web-c")?.metadata?.deletionGracePeriodSeconds, 20);
    assert.deepEqual(kept.pods[0].spec?.terminationGracePeriodSeconds, 45);
  });

  it("drop managedFields, container specs, statuses and unread annotations, and keep what the roll reads of nodes", () => {
    const full = whole();
    const kept = slim(full);
    const text = JSON.stringify(kept);
    for (const dropped of ["managedFields", "last-applied-configuration", "containerStatuses", "registry/app", "tolerations", "images", "OTHER"]) {
      assert.equal(text.includes(dropped), false, `${dropped} survived the transform`);
    }
    assert.ok(text.length * 4 < JSON.stringify(full).length, `slimmed ${text.length} bytes against ${JSON.stringify(full).length}`);
    const [n2] = kept.nodes.filter((candidate) => candidate.metadata?.name === "n2");
    assert.equal(n2.spec?.unschedulable, true);
    assert.equal(n2.spec?.providerID, "aws:///us-east-1a/i-n2");
    assert.equal(n2.metadata?.annotations?.["eksupgrade.io/cordoned-by"], "x");
    assert.equal(kept.daemonSets[0].spec?.template.spec?.containers[0].env?.[0].value, "true");
  });

  it("share the repeated parts of pods read together, and nothing between pods that differ", () => {
    const intern = new Interner();
    const pod = (name: string, app: string, node: string): V1Pod => JSON.parse(JSON.stringify({
      metadata: { name, namespace: "shop", uid: `uid-${name}`, resourceVersion: "7", labels: { app }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `${app}-rs`, uid: `rs-${app}`, controller: true }] },
      spec: { nodeName: node, containers: [{ name: "c", image: "i" }], volumes: [{ name: "tmp", emptyDir: {} }] },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-11-29T10:00:00Z" }] },
    })) as V1Pod;
    const [a, b, c] = [pod("web-1", "web", "n1"), pod("web-2", "web", "n1"), pod("db-1", "db", "n2")].map((candidate) => slimPod(candidate, intern));
    assert.equal(a.metadata?.labels, b.metadata?.labels);
    assert.equal(a.metadata?.ownerReferences, b.metadata?.ownerReferences);
    assert.equal(a.spec?.volumes, b.spec?.volumes);
    assert.equal(a.status?.conditions, c.status?.conditions, "the same Ready condition, whatever the owner");
    assert.notEqual(a.metadata?.labels, c.metadata?.labels);
    assert.deepEqual(c.metadata?.labels, { app: "db" });
    assert.deepEqual(c.metadata?.ownerReferences?.[0].name, "db-rs");
    assert.equal(a.metadata?.name, "web-1");
    assert.equal(b.metadata?.uid, "uid-web-2");
    assert.equal(a.metadata?.resourceVersion, undefined, "a pod's resourceVersion is not read");
  });
});
