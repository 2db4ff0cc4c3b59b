// The workloads of a cluster as plain Kubernetes objects, plus the helpers that answer the
// questions a drain and the preflight both ask of them: who owns this pod, which budgets cover it,
// which group and zone its node is in. It lives in kube/ so that drain/ and preflight/ share it
// without either importing the other.
import type {
  V1DaemonSet,
  V1Deployment,
  V1LabelSelector,
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1ReplicaSet,
  V1StatefulSet,
} from "@kubernetes/client-node";

export interface WorkloadSnapshot {
  nodes: V1Node[];
  pods: V1Pod[];
  pdbs: V1PodDisruptionBudget[];
  deployments: V1Deployment[];
  statefulSets: V1StatefulSet[];
  replicaSets: V1ReplicaSet[];
  daemonSets: V1DaemonSet[];
}

export const LABEL_NODEGROUP = "eks.amazonaws.com/nodegroup";
export const LABEL_ZONE = "topology.kubernetes.io/zone";
export const LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type";
/** Karpenter's opt-out: a pod carrying it blocks voluntary disruption of its node. */
export const DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt";
const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

export function podName(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

/**
 * Set in memory only (never written to a Node) by the preflight on nodes whose instance belongs to a
 * self-managed Auto Scaling group named in the spec, so findings name that group.
 */
export const LABEL_SELF_MANAGED_GROUP = "eksupgrade.io/auto-scaling-group";

export function nodeGroupOf(node: V1Node | undefined): string {
  return node?.metadata?.labels?.[LABEL_NODEGROUP] ?? node?.metadata?.labels?.[LABEL_SELF_MANAGED_GROUP] ?? "self-managed";
}

export function zoneOf(node: V1Node | undefined): string {
  return node?.metadata?.labels?.[LABEL_ZONE] ?? "unknown-zone";
}

export function isMirrorPod(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined;
}

export function isFinished(pod: V1Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false;
}

export interface Workload {
  kind: "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "Other";
  namespace: string;
  name: string;
}

export function workloadKey(workload: Workload): string {
  return `${workload.kind}/${workload.namespace}/${workload.name}`;
}

/** The workload a pod belongs to, following ReplicaSets up to their Deployment; undefined for bare pods. */
export function ownerOf(pod: V1Pod, replicaSets: V1ReplicaSet[]): Workload | undefined {
  const controller = pod.metadata?.ownerReferences?.find((reference) => reference.controller);
  if (!controller) return undefined;
  const namespace = pod.metadata?.namespace ?? "";
  if (controller.kind === "ReplicaSet") {
    const replicaSet = replicaSets.find((candidate) => candidate.metadata?.namespace === namespace && candidate.metadata?.name === controller.name);
    const deployment = replicaSet?.metadata?.ownerReferences?.find((reference) => reference.controller && reference.kind === "Deployment");
    if (deployment) return { kind: "Deployment", namespace, name: deployment.name };
    return { kind: "ReplicaSet", namespace, name: controller.name };
  }
  const known = ["StatefulSet", "DaemonSet", "Job"] as const;
  const kind = known.find((candidate) => candidate === controller.kind) ?? "Other";
  return { kind, namespace, name: controller.name };
}

/** Label-selector matching as the API server does it (matchLabels and matchExpressions). */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const actual = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (actual[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const value = actual[expression.key];
    const values = expression.values ?? [];
    switch (expression.operator) {
      case "In":
        if (value === undefined || !values.includes(value)) return false;
        break;
      case "NotIn":
        if (value !== undefined && values.includes(value)) return false;
        break;
      case "Exists":
        if (value === undefined) return false;
        break;
      case "DoesNotExist":
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** The budgets whose selector covers the pod, in its namespace. */
export function budgetsFor(pod: V1Pod, pdbs: V1PodDisruptionBudget[]): V1PodDisruptionBudget[] {
  return pdbs.filter((pdb) => {
    if (pdb.metadata?.namespace !== pod.metadata?.namespace) return false;
    const selector = pdb.spec?.selector;
    // policy/v1: an empty selector {} selects every pod of the namespace.
    if (selector && !selector.matchLabels && !selector.matchExpressions) return true;
    return selectorMatches(selector, pod.metadata?.labels);
  });
}

export function budgetName(pdb: V1PodDisruptionBudget): string {
  return `${pdb.metadata?.namespace ?? ""}/${pdb.metadata?.name ?? ""}`;
}

/** Pods a drain would have to move: bound to a node, not mirror pods, not finished, not DaemonSet pods. */
export function evictablePods(snapshot: WorkloadSnapshot): V1Pod[] {
  return snapshot.pods.filter((pod) => pod.spec?.nodeName && !isMirrorPod(pod) && !isFinished(pod) && ownerOf(pod, snapshot.replicaSets)?.kind !== "DaemonSet");
}
