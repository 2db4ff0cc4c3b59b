// What a drain does with each pod on a node, with kubectl drain's semantics, and in which order it
// evicts them (Karpenter's: non-critical pods before critical ones). Pure: no API calls here.
import type { V1Pod } from "@kubernetes/client-node";
import { controllerOf, DO_NOT_DISRUPT, isFinished, isMirrorPod, podName } from "../kube/workload-snapshot.js";

export interface DrainPolicy {
  /** Evict pods with emptyDir volumes, losing that data (kubectl drain --delete-emptydir-data). */
  deleteEmptyDirData: boolean;
  /** Evict pods no controller recreates (kubectl drain --force). */
  evictUnmanagedPods: boolean;
}

/** Why the drain refuses to move a pod, and what would let it go. */
export interface DrainRefusal {
  reason: "DoNotDisrupt" | "EmptyDir" | "Unmanaged";
  /** Who holds the pod and how to release it, for the status and for preflight findings. */
  message: string;
  /** The spec field that lets the drain take the pod anyway; none for do-not-disrupt, which only its owner lifts. */
  field?: "spec.drain.deleteEmptyDirData" | "spec.drain.evictUnmanagedPods";
}

export type PodDisposition =
  /** Left where it is: a mirror (static) pod, or a DaemonSet pod that would be recreated in place. */
  | { action: "leave"; reason: "MirrorPod" | "DaemonSetPod" }
  /** Removed; `rank` orders evictions (lower first). Finished pods go first: no budget guards them. */
  | { action: "evict"; rank: number }
  /**
   * The drain of this node cannot go on until someone acts. `reason` and `message` are the first of
   * `refusals`, which lists every one so that a single look says all that must change.
   */
  | { action: "block"; reason: DrainRefusal["reason"]; message: string; refusals: DrainRefusal[] };

/** Pods of these priority classes keep the node and cluster running: they leave last. */
export const CRITICAL_PRIORITY_CLASSES = new Set(["system-cluster-critical", "system-node-critical"]);

export function isCritical(pod: V1Pod): boolean {
  return CRITICAL_PRIORITY_CLASSES.has(pod.spec?.priorityClassName ?? "");
}

/**
 * The one decision on a pod, shared by the drain engine and the preflight so that the two never
 * disagree: a pod the preflight lets pass is a pod the drain moves, under the same policy. It reads
 * the pod alone: whether a controller owns it and of which kind is in its ownerReferences, so the
 * drain needs no ReplicaSets (or anything else) listed to decide.
 */
export function classifyPod(pod: V1Pod, policy: DrainPolicy): PodDisposition {
  if (isMirrorPod(pod)) return { action: "leave", reason: "MirrorPod" };
  if (isFinished(pod)) return { action: "evict", rank: 0 };
  const owner = controllerOf(pod);
  if (owner?.kind === "DaemonSet") return { action: "leave", reason: "DaemonSetPod" };
  const name = podName(pod);
  const refusals: DrainRefusal[] = [];
  if (pod.metadata?.annotations?.[DO_NOT_DISRUPT] === "true") {
    refusals.push({ reason: "DoNotDisrupt", message: `pod ${name} is marked ${DO_NOT_DISRUPT}=true; remove the annotation to let its node go` });
  }
  if (!owner && !policy.evictUnmanagedPods) {
    refusals.push({ reason: "Unmanaged", field: "spec.drain.evictUnmanagedPods", message: `pod ${name} has no controller and would be lost; set spec.drain.evictUnmanagedPods to evict it anyway` });
  }
  if (!policy.deleteEmptyDirData && emptyDirVolumes(pod).length) {
    refusals.push({ reason: "EmptyDir", field: "spec.drain.deleteEmptyDirData", message: `pod ${name} keeps data in emptyDir; set spec.drain.deleteEmptyDirData to evict it and lose that data` });
  }
  if (refusals.length) return { action: "block", reason: refusals[0].reason, message: refusals[0].message, refusals };
  return { action: "evict", rank: isCritical(pod) ? 2 : 1 };
}

export function emptyDirVolumes(pod: V1Pod): string[] {
  return (pod.spec?.volumes ?? []).filter((volume) => volume.emptyDir).map((volume) => volume.name);
}

export type DrainTimeoutOutcome =
  /** The drain keeps waiting: a refused pod holds its node, and the roll, until someone acts. */
  | "Wait"
  /** The node is uncordoned and left on its old version; the roll goes on without it. */
  | "SkipNode"
  /** What is left on the node is deleted, budgets and refusals notwithstanding. */
  | "DeletePods";

/** What the engine does with a node still holding pods once spec.drain.timeout has passed. */
export function timeoutOutcome(drain: { onTimeout: "Wait" | "SkipNode" | "DeletePods"; allowForceDelete: boolean }): DrainTimeoutOutcome {
  if (drain.onTimeout === "DeletePods") return drain.allowForceDelete ? "DeletePods" : "Wait";
  return drain.onTimeout;
}

/** The pods to evict from a node, in order, and what blocks the node if anything does. */
export function planNodeDrain(pods: V1Pod[], policy: DrainPolicy): { evict: V1Pod[]; blocked: { pod: string; message: string }[] } {
  const ranked: { pod: V1Pod; rank: number }[] = [];
  const blocked: { pod: string; message: string }[] = [];
  for (const pod of pods) {
    const disposition = classifyPod(pod, policy);
    if (disposition.action === "evict") ranked.push({ pod, rank: disposition.rank });
    if (disposition.action === "block") blocked.push({ pod: podName(pod), message: disposition.message });
  }
  ranked.sort((a, b) => a.rank - b.rank || podName(a.pod).localeCompare(podName(b.pod)));
  return { evict: ranked.map((entry) => entry.pod), blocked };
}

export type EvictionOutcome =
  /** The API server accepted the eviction; the pod terminates with its grace period. */
  | { kind: "evicted" }
  /** The pod is already gone: the eviction's goal is met. */
  | { kind: "gone" }
  /** 429: a PodDisruptionBudget forbids it now. Not an error: try again later. */
  | { kind: "budgetRefused" }
  /** 500 from a pod under more than one budget: a misconfiguration to report, not to retry blindly. */
  | { kind: "multipleBudgets" }
  /** 403 (RBAC) or an admission webhook or policy that denied the eviction: waiting does not change the answer. */
  | { kind: "denied"; status: number }
  /** Any other 5xx: the API server (or something behind it) failed; the next pass tries again. */
  | { kind: "transient"; status: number }
  | { kind: "error"; status: number };

// The API server's own words for a pod under several budgets (an internal error, hence the 500).
const MULTIPLE_BUDGETS = /more than one PodDisruptionBudget/i;
// How an admission webhook's or a ValidatingAdmissionPolicy's denial reads, whatever code it chose.
const ADMISSION_DENIAL = /admission webhook .* denied the request|ValidatingAdmissionPolicy .* denied request/i;

/** Reads the Eviction API's answer the way kubectl drain does, telling refusals that pass from those that do not. */
export function interpretEviction(status: number, message = ""): EvictionOutcome {
  if (status >= 200 && status < 300) return { kind: "evicted" };
  if (status === 404) return { kind: "gone" };
  if (status === 429) return { kind: "budgetRefused" };
  if (status === 500 && MULTIPLE_BUDGETS.test(message)) return { kind: "multipleBudgets" };
  if (status >= 500) return { kind: "transient", status };
  if (status === 403 || (status >= 400 && ADMISSION_DENIAL.test(message))) return { kind: "denied", status };
  return { kind: "error", status };
}
