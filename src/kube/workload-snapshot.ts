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
import type { PreflightNodePool } from "./karpenter-objects.js";
import { DO_NOT_DISRUPT_ANNOTATION } from "../karpenter/types.js";

export interface WorkloadSnapshot {
  nodes: V1Node[];
  pods: V1Pod[];
  pdbs: V1PodDisruptionBudget[];
  deployments: V1Deployment[];
  statefulSets: V1StatefulSet[];
  replicaSets: V1ReplicaSet[];
  daemonSets: V1DaemonSet[];
  /** Karpenter's NodePools; absent when the cluster has no NodePool resource. */
  nodePools?: PreflightNodePool[];
}

export const LABEL_NODEGROUP = "eks.amazonaws.com/nodegroup";
export const LABEL_ZONE = "topology.kubernetes.io/zone";
export const LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type";
/** Karpenter's opt-out: a pod carrying it blocks voluntary disruption of its node. */
export const DO_NOT_DISRUPT = DO_NOT_DISRUPT_ANNOTATION;
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

/**
 * An index over a list, built once per list and kept beside it (weakly, so it goes with the list).
 * The checks ask about every pod of a cluster; a linear search per question is quadratic at
 * 60,000 pods. The length is compared in case a caller pushed to the list after the index was built.
 */
function indexed<T, I>(cache: WeakMap<T[], { length: number; index: I }>, list: T[], build: (list: T[]) => I): I {
  const cached = cache.get(list);
  if (cached && cached.length === list.length) return cached.index;
  const index = build(list);
  cache.set(list, { length: list.length, index });
  return index;
}

function byNamespaceAndName<T extends { metadata?: { namespace?: string; name?: string } }>(list: T[]): Map<string, T> {
  const index = new Map<string, T>();
  // The first of duplicates wins, as Array.find would have it.
  for (const item of list) {
    const key = `${item.metadata?.namespace ?? ""}/${item.metadata?.name ?? ""}`;
    if (!index.has(key)) index.set(key, item);
  }
  return index;
}

const replicaSetIndexes = new WeakMap<V1ReplicaSet[], { length: number; index: Map<string, V1ReplicaSet> }>();
const nodeIndexes = new WeakMap<V1Node[], { length: number; index: Map<string, V1Node> }>();
const budgetIndexes = new WeakMap<V1PodDisruptionBudget[], { length: number; index: Map<string | undefined, NamespaceBudgets> }>();

/**
 * One namespace's budgets, indexed so that a pod is matched against the few budgets that could
 * select it rather than against every budget of its namespace (2,000 budgets and 60,000 pods in
 * one namespace make 120 million selector matches otherwise). A budget with matchLabels is filed
 * under one of its key=value pairs: a pod without that label cannot match it. A budget without
 * matchLabels (matchExpressions only, or an empty selector) is tried for every pod.
 */
interface NamespaceBudgets {
  /** Budgets by one key=value of their matchLabels, each with its position in the list. */
  byLabel: Map<string, { position: number; pdb: V1PodDisruptionBudget }[]>;
  /** Budgets every pod of the namespace is tried against. */
  everyPod: { position: number; pdb: V1PodDisruptionBudget }[];
}

function labelKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function indexBudgets(list: V1PodDisruptionBudget[]): Map<string | undefined, NamespaceBudgets> {
  const index = new Map<string | undefined, NamespaceBudgets>();
  for (const [position, pdb] of list.entries()) {
    const namespace = pdb.metadata?.namespace;
    let entry = index.get(namespace);
    if (!entry) index.set(namespace, (entry = { byLabel: new Map(), everyPod: [] }));
    const [first] = Object.entries(pdb.spec?.selector?.matchLabels ?? {});
    if (!first) {
      entry.everyPod.push({ position, pdb });
      continue;
    }
    const key = labelKey(first[0], first[1]);
    const filed = entry.byLabel.get(key);
    if (filed) filed.push({ position, pdb });
    else entry.byLabel.set(key, [{ position, pdb }]);
  }
  return index;
}

/** The node of that name in the list, if any. */
export function findNode(nodes: V1Node[], name: string | undefined): V1Node | undefined {
  if (name === undefined) return undefined;
  return indexed(nodeIndexes, nodes, (list) => {
    const index = new Map<string, V1Node>();
    for (const node of list) if (!index.has(node.metadata?.name ?? "")) index.set(node.metadata?.name ?? "", node);
    return index;
  }).get(name);
}

/** The pod's controller as its ownerReferences name it (a ReplicaSet stays a ReplicaSet); undefined for bare pods. */
export function controllerOf(pod: V1Pod): Workload | undefined {
  const controller = pod.metadata?.ownerReferences?.find((reference) => reference.controller);
  if (!controller) return undefined;
  const known = ["ReplicaSet", "StatefulSet", "DaemonSet", "Job"] as const;
  const kind = known.find((candidate) => candidate === controller.kind) ?? "Other";
  return { kind, namespace: pod.metadata?.namespace ?? "", name: controller.name };
}

/** The workload a pod belongs to, following ReplicaSets up to their Deployment; undefined for bare pods. */
export function ownerOf(pod: V1Pod, replicaSets: V1ReplicaSet[]): Workload | undefined {
  const controller = controllerOf(pod);
  if (controller?.kind !== "ReplicaSet") return controller;
  const replicaSet = indexed(replicaSetIndexes, replicaSets, byNamespaceAndName).get(`${controller.namespace}/${controller.name}`);
  const deployment = replicaSet?.metadata?.ownerReferences?.find((reference) => reference.controller && reference.kind === "Deployment");
  return deployment ? { kind: "Deployment", namespace: controller.namespace, name: deployment.name } : controller;
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

/** The budgets whose selector covers the pod, in its namespace, in the order of the list. */
export function budgetsFor(pod: V1Pod, pdbs: V1PodDisruptionBudget[]): V1PodDisruptionBudget[] {
  const inNamespace = indexed(budgetIndexes, pdbs, indexBudgets).get(pod.metadata?.namespace);
  if (!inNamespace) return [];
  const labels = pod.metadata?.labels ?? {};
  const candidates = [...inNamespace.everyPod];
  for (const [key, value] of Object.entries(labels)) {
    const filed = inNamespace.byLabel.get(labelKey(key, value));
    if (filed) candidates.push(...filed);
  }
  if (candidates.length > 1) candidates.sort((a, b) => a.position - b.position);
  const matching: V1PodDisruptionBudget[] = [];
  for (const { pdb } of candidates) {
    const selector = pdb.spec?.selector;
    // policy/v1: an empty selector {} selects every pod of the namespace.
    if ((selector && !selector.matchLabels && !selector.matchExpressions) || selectorMatches(selector, labels)) matching.push(pdb);
  }
  return matching;
}

export function budgetName(pdb: V1PodDisruptionBudget): string {
  return `${pdb.metadata?.namespace ?? ""}/${pdb.metadata?.name ?? ""}`;
}

/** Pods a drain would have to move: bound to a node, not mirror pods, not finished, not DaemonSet pods. */
export function evictablePods(snapshot: WorkloadSnapshot): V1Pod[] {
  return snapshot.pods.filter((pod) => pod.spec?.nodeName && !isMirrorPod(pod) && !isFinished(pod) && ownerOf(pod, snapshot.replicaSets)?.kind !== "DaemonSet");
}
