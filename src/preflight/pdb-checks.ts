// PodDisruptionBudget checks, read from the live cluster before any cordon. Each finding names
// the budget, the workload, the pods and the node groups concerned.
import type { V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { blocking, warning, type Finding } from "./findings.js";
import {
  budgetName,
  budgetsFor,
  evictablePods,
  isReady,
  nodeGroupOf,
  ownerOf,
  podName,
  workloadKey,
  type WorkloadSnapshot,
} from "../kube/workload-snapshot.js";

/** Shown at most per finding; the rest is counted. */
const MAX_LISTED = 5;

function list(items: string[]): string {
  const unique = [...new Set(items)];
  return unique.length <= MAX_LISTED ? unique.join(", ") : `${unique.slice(0, MAX_LISTED).join(", ")} and ${unique.length - MAX_LISTED} more`;
}

function nodesByName(snapshot: WorkloadSnapshot): Map<string, V1Node> {
  return new Map(snapshot.nodes.map((node) => [node.metadata?.name ?? "", node]));
}

function describePods(pods: V1Pod[], nodes: Map<string, V1Node>, snapshot: WorkloadSnapshot): { pods: string; groups: string; workloads: string } {
  return {
    pods: list(pods.map((pod) => `${podName(pod)} on ${pod.spec?.nodeName ?? "?"}`)),
    groups: list(pods.map((pod) => nodeGroupOf(nodes.get(pod.spec?.nodeName ?? "")))),
    workloads: list(pods.map((pod) => {
      const owner = ownerOf(pod, snapshot.replicaSets);
      return owner ? workloadKey(owner) : `Pod/${podName(pod)}`;
    })),
  };
}

/** A budget that can never allow an eviction: minAvailable equal to the pods, or maxUnavailable 0. */
export function neverAllowsEviction(pdb: V1PodDisruptionBudget, coveredPods: number): boolean {
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined) return maxUnavailable === 0 || maxUnavailable === "0%";
  if (minAvailable === undefined) return false;
  if (typeof minAvailable === "string") return minAvailable === "100%";
  const expected = pdb.status?.expectedPods ?? coveredPods;
  return expected > 0 && minAvailable >= expected;
}

/**
 * `rolledGroups`, when given, limits the checks to pods on nodes of those groups: a budget whose
 * pods no roll of this upgrade touches holds nothing up.
 */
export function checkPodDisruptionBudgets(snapshot: WorkloadSnapshot, rolledGroups?: Set<string>): Finding[] {
  const findings: Finding[] = [];
  const nodes = nodesByName(snapshot);
  const pods = evictablePods(snapshot).filter((pod) => !rolledGroups || rolledGroups.has(nodeGroupOf(nodes.get(pod.spec?.nodeName ?? ""))));
  // Each pod's budgets are matched once; a pass over every pod for every budget is quadratic.
  const budgetsOf = new Map(pods.map((pod) => [pod, budgetsFor(pod, snapshot.pdbs)]));
  const coveredBy = new Map<V1PodDisruptionBudget, V1Pod[]>();
  for (const [pod, budgets] of budgetsOf)
    for (const pdb of budgets) {
      const covered = coveredBy.get(pdb);
      if (covered) covered.push(pod);
      else coveredBy.set(pdb, [pod]);
    }
  for (const pdb of snapshot.pdbs) {
    const covered = coveredBy.get(pdb) ?? [];
    if (covered.length === 0) continue;
    // Described only for a finding: most budgets of a large cluster have nothing to report.
    let describedOnce: ReturnType<typeof describePods> | undefined;
    const described = (): ReturnType<typeof describePods> => (describedOnce ??= describePods(covered, nodes, snapshot));
    const allowed = pdb.status?.disruptionsAllowed ?? 0;
    const resource = `PodDisruptionBudget/${budgetName(pdb)}`;
    if (neverAllowsEviction(pdb, covered.length)) {
      findings.push(blocking("PDB002", resource, `PodDisruptionBudget ${budgetName(pdb)} can never allow an eviction (minAvailable ${String(pdb.spec?.minAvailable ?? "-")}, maxUnavailable ${String(pdb.spec?.maxUnavailable ?? "-")}, ${covered.length} pod(s)): draining would wait forever on ${described().pods} of ${described().workloads} in node group(s) ${described().groups}`, "lower minAvailable below the replica count (or set maxUnavailable to at least 1), or add replicas"));
      continue;
    }
    if (allowed === 0) {
      findings.push(blocking("PDB001", resource, `PodDisruptionBudget ${budgetName(pdb)} allows 0 disruptions now (${pdb.status?.currentHealthy ?? 0} healthy, ${pdb.status?.desiredHealthy ?? 0} required): evictions of ${described().pods} of ${described().workloads} in node group(s) ${described().groups} would be refused`, "bring its pods back to healthy or add replicas so the budget allows at least one disruption; the check runs again by itself"));
    }
    const unhealthy = covered.filter((pod) => !isReady(pod));
    if (unhealthy.length && pdb.spec?.unhealthyPodEvictionPolicy !== "AlwaysAllow") {
      const healthyEnough = (pdb.status?.currentHealthy ?? 0) >= (pdb.status?.desiredHealthy ?? 0);
      const make = healthyEnough ? warning : blocking;
      findings.push(make("PDB004", resource, `${unhealthy.length} unhealthy pod(s) under PodDisruptionBudget ${budgetName(pdb)} with the IfHealthyBudget policy: ${list(unhealthy.map(podName))}; they can be evicted only while the budget is healthy`, "fix the pods, or set spec.unhealthyPodEvictionPolicy: AlwaysAllow on the budget (GA since Kubernetes 1.31)"));
    }
  }
  const multiple = pods.filter((pod) => (budgetsOf.get(pod) ?? []).length > 1);
  if (multiple.length) {
    const byBudgets = new Map<string, V1Pod[]>();
    for (const pod of multiple) {
      const key = (budgetsOf.get(pod) ?? []).map(budgetName).sort().join(" + ");
      byBudgets.set(key, [...(byBudgets.get(key) ?? []), pod]);
    }
    for (const [budgets, affected] of byBudgets) {
      const described = describePods(affected, nodes, snapshot);
      findings.push(blocking("PDB003", budgets.split(" + ").map((name) => `PodDisruptionBudget/${name}`).join(","), `pods matched by more than one PodDisruptionBudget (${budgets}): ${described.pods}; the API server answers 500 to their eviction`, "make the budgets' selectors disjoint so each pod has one budget"));
    }
  }
  return findings;
}

/** Workloads whose replicas all sit in one node group: a roll of that group takes every replica through a drain. */
export function checkReplicaSpread(snapshot: WorkloadSnapshot, maxUnavailableByGroup: Map<string, number>): Finding[] {
  const nodes = nodesByName(snapshot);
  const byWorkload = new Map<string, V1Pod[]>();
  for (const pod of evictablePods(snapshot)) {
    const owner = ownerOf(pod, snapshot.replicaSets);
    if (!owner) continue;
    const owned = byWorkload.get(workloadKey(owner));
    if (owned) owned.push(pod);
    else byWorkload.set(workloadKey(owner), [pod]);
  }
  const findings: Finding[] = [];
  for (const [workload, pods] of byWorkload) {
    if (pods.length < 2) continue;
    const groups = new Set(pods.map((pod) => nodeGroupOf(nodes.get(pod.spec?.nodeName ?? ""))));
    if (groups.size !== 1) continue;
    const [group] = [...groups];
    const hostNodes = new Set(pods.map((pod) => pod.spec?.nodeName));
    const parallel = maxUnavailableByGroup.get(group) ?? 1;
    if (hostNodes.size > parallel) continue;
    findings.push(warning("PDB005", workload, `all ${pods.length} replicas of ${workload} run on ${hostNodes.size} node(s) of node group ${group}, which drains ${parallel} node(s) at a time: one batch takes every replica`, "spread the workload across node groups or nodes (topology spread constraints), or protect it with a PodDisruptionBudget"));
  }
  return findings;
}
