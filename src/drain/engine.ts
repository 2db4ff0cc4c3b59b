// The drain engine: one non-blocking pass over a cordoned node. It evicts what may go now through
// the Eviction API (so the API server, not this code, enforces every PodDisruptionBudget), and
// says for each pod still there what holds it. The caller runs passes until the node is empty,
// so a restarted operator simply runs the next pass: nothing is evicted twice by design, and a
// pod already gone answers 404, which counts as done.
import type { V1PodDisruptionBudget, V1Pod } from "@kubernetes/client-node";
import type { PodHold } from "../api/v1alpha1/types.js";
import type { NodeOperations } from "../kube/nodes.js";
import { budgetName, budgetsFor, podName } from "../kube/workload-snapshot.js";
import { classifyPod, interpretEviction, type DrainPolicy } from "./pod-filters.js";

/** What a drain pass reads beside the node's own pods: the budgets, to pace its evictions. */
export interface DrainInventory {
  budgets: V1PodDisruptionBudget[];
}

/**
 * The disruptions each budget allows in one pass, shared by the nodes that drain side by side: an
 * eviction is sent only while every budget of its pod has one left, so a pass spends each budget's
 * allowance on as many nodes as it covers and sends no eviction the API server would refuse for
 * want of one. The API server still decides: a stale figure costs a 429, never a disruption.
 */
export class BudgetAllowance {
  private readonly left = new Map<string, number>();

  constructor(budgets: readonly V1PodDisruptionBudget[]) {
    for (const budget of budgets) this.left.set(budgetName(budget), budget.status?.disruptionsAllowed ?? 0);
  }

  /** Takes one disruption from each of `budgets`; or, when one has none left, takes none and returns it. */
  take(budgets: readonly V1PodDisruptionBudget[]): V1PodDisruptionBudget | undefined {
    const exhausted = budgets.find((budget) => (this.left.get(budgetName(budget)) ?? 0) <= 0);
    if (exhausted) return exhausted;
    for (const budget of budgets) this.left.set(budgetName(budget), this.left.get(budgetName(budget))! - 1);
    return undefined;
  }
}

export interface DrainOptions {
  policy: DrainPolicy;
  /** When given, evictions are paced by it (see BudgetAllowance); without it every pod is tried. */
  allowance?: BudgetAllowance;
  /** Overrides each pod's terminationGracePeriodSeconds when set. */
  gracePeriodSeconds?: number;
  /**
   * The node's drain timed out and the spec allows deleting what is left (onTimeout DeletePods with
   * allowForceDelete): pods are deleted, budgets notwithstanding. Never set otherwise.
   */
  deleteRemaining: boolean;
}

export interface DrainPassResult {
  /** Nothing left on the node but DaemonSet and mirror pods. */
  drained: boolean;
  podsLeft: PodHold[];
  /** Pods whose eviction the API server accepted in this pass. */
  evicted: string[];
  /** Pods deleted in this pass (only with deleteRemaining). */
  deleted: string[];
  /** A pod the policy protects (do-not-disrupt, emptyDir, no controller) holds the node: waiting alone does not help. */
  blockedByPolicy: boolean;
  /**
   * Pods whose eviction was denied (403 from RBAC, or an admission webhook or policy), with the API
   * server's words: a failure to surface, which neither waiting nor a timeout policy may paper over.
   */
  denied: { pod: string; reason: string }[];
}

/** Why a budget refuses: its name and the figures the disruption controller computed. */
export function describeBudget(pdb: V1PodDisruptionBudget): string {
  const status = pdb.status;
  const figures = status ? ` (healthy ${status.currentHealthy}/${status.expectedPods}, needs ${status.desiredHealthy})` : "";
  return `PodDisruptionBudget ${budgetName(pdb)} allows ${status?.disruptionsAllowed ?? 0} disruption(s) now${figures}`;
}

function holdForRefusal(pod: V1Pod, budgets: V1PodDisruptionBudget[], status: number, message: string): string {
  const matching = budgetsFor(pod, budgets);
  const outcome = interpretEviction(status, message);
  if (outcome.kind === "budgetRefused") {
    return matching.length ? matching.map(describeBudget).join("; ") : `eviction refused (429): ${message}`;
  }
  if (outcome.kind === "multipleBudgets") {
    // The budgets read for this pass may lag the API server's: name them only when they agree.
    if (matching.length > 1) return `covered by ${matching.length} PodDisruptionBudgets (${matching.map(budgetName).join(", ")}): the API server refuses to evict it; keep one budget per pod`;
    return `the API server refuses to evict it (HTTP 500): ${message}`;
  }
  if (outcome.kind === "transient") return `transient API server error (HTTP ${status}), tried again on the next pass: ${message}`;
  if (outcome.kind === "denied") return `eviction denied (HTTP ${status}): ${message}`;
  return `eviction failed with HTTP ${status}: ${message}`;
}

/** One pass over `nodeName`: evict what may go now, report what holds the rest. */
export async function drainPass(nodeName: string, ops: NodeOperations, inventory: DrainInventory, options: DrainOptions): Promise<DrainPassResult> {
  const pods = await ops.podsOnNode(nodeName);
  const result: DrainPassResult = { drained: false, podsLeft: [], evicted: [], deleted: [], blockedByPolicy: false, denied: [] };
  const pending: { pod: V1Pod; rank: number }[] = [];
  for (const pod of pods) {
    const disposition = classifyPod(pod, options.policy);
    if (disposition.action === "leave") continue;
    const name = podName(pod);
    if (pod.metadata?.deletionTimestamp) {
      result.podsLeft.push({ pod: name, heldBy: `terminating (grace period ${pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30}s)` });
      continue;
    }
    if (disposition.action === "block" && !options.deleteRemaining) {
      result.blockedByPolicy = true;
      result.podsLeft.push({ pod: name, heldBy: disposition.message });
      continue;
    }
    pending.push({ pod, rank: disposition.action === "evict" ? disposition.rank : 1 });
  }
  if (result.blockedByPolicy) {
    // kubectl drain refuses a node it cannot empty before evicting anything; so does this engine,
    // so a blocked node is never left half-drained.
    for (const entry of pending) result.podsLeft.push({ pod: podName(entry.pod), heldBy: "waiting: another pod on this node blocks the drain" });
    return result;
  }
  if (options.deleteRemaining) {
    for (const { pod } of pending) {
      await ops.deletePod(pod.metadata?.namespace ?? "", pod.metadata?.name ?? "", options.gracePeriodSeconds);
      result.deleted.push(podName(pod));
      result.podsLeft.push({ pod: podName(pod), heldBy: "deleted after the drain timeout (spec.drain.onTimeout DeletePods)" });
    }
    result.drained = result.podsLeft.length === 0;
    return result;
  }
  // Critical pods (system-cluster-critical, system-node-critical) leave only once the rest is gone.
  // Finished pods (rank 0) go with the ordinary ones; pods still terminating count as ordinary.
  const critical = (rank: number): boolean => rank >= 2;
  const ordinaryLeft = result.podsLeft.length > 0 || pending.some((entry) => !critical(entry.rank));
  const ordered = pending.sort((a, b) => a.rank - b.rank || podName(a.pod).localeCompare(podName(b.pod)));
  const held = ordered.filter(({ rank }) => critical(rank) && ordinaryLeft);
  const paced: { pod: V1Pod; budget: V1PodDisruptionBudget }[] = [];
  const now = ordered.filter((entry) => {
    if (held.includes(entry)) return false;
    const matching = options.allowance ? budgetsFor(entry.pod, inventory.budgets) : [];
    // Two budgets over one pod are refused by the API server whatever they allow: let it say so.
    const exhausted = matching.length === 1 ? options.allowance!.take(matching) : undefined;
    if (exhausted) paced.push({ pod: entry.pod, budget: exhausted });
    return !exhausted;
  });
  // Evictions of one pass go out together, as kubectl drain's do: the API server checks each
  // against its budget atomically, so concurrency never lets two through that the budget forbids.
  const answers = await Promise.all(now.map(({ pod }) => ops.evictPod(pod.metadata?.namespace ?? "", pod.metadata?.name ?? "", options.gracePeriodSeconds)));
  for (const [index, { pod }] of now.entries()) {
    const name = podName(pod);
    const answer = answers[index];
    const outcome = interpretEviction(answer.status, answer.message);
    if (outcome.kind === "gone") continue;
    if (outcome.kind === "evicted") {
      result.evicted.push(name);
      result.podsLeft.push({ pod: name, heldBy: "evicted, terminating" });
      continue;
    }
    const heldBy = holdForRefusal(pod, inventory.budgets, answer.status, answer.message);
    if (outcome.kind === "denied") {
      result.denied.push({ pod: name, reason: `HTTP ${answer.status}: ${answer.message}` });
      result.podsLeft.push({ pod: name, heldBy, evictionDenied: true });
      continue;
    }
    result.podsLeft.push({ pod: name, heldBy });
  }
  for (const { pod, budget } of paced) result.podsLeft.push({ pod: podName(pod), heldBy: `${describeBudget(budget)}; evicted as soon as it allows one` });
  for (const { pod } of held) result.podsLeft.push({ pod: podName(pod), heldBy: "critical pod: evicted once the other pods of the node are gone" });
  result.drained = result.podsLeft.length === 0;
  return result;
}
