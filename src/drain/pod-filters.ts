// What a drain does with each pod on a node, with kubectl drain's semantics, and in which order it
// evicts them (Karpenter's: non-critical pods before critical ones). Pure: no API calls here.
import type { V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import { DO_NOT_DISRUPT, isFinished, isMirrorPod, ownerOf, podName } from "../preflight/snapshot.js";

export interface DrainPolicy {
  /** Evict pods with emptyDir volumes, losing that data (kubectl drain --delete-emptydir-data). */
  deleteEmptyDirData: boolean;
  /** Evict pods no controller recreates (kubectl drain --force). */
  evictUnmanagedPods: boolean;
}

export type PodDisposition =
  /** Left where it is: a mirror (static) pod, or a DaemonSet pod that would be recreated in place. */
  | { action: "leave"; reason: "MirrorPod" | "DaemonSetPod" }
  /** Removed; `rank` orders evictions (lower first). Finished pods go first: no budget guards them. */
  | { action: "evict"; rank: number }
  /** The drain of this node cannot go on until someone acts; `message` says who and how. */
  | { action: "block"; reason: "DoNotDisrupt" | "EmptyDir" | "Unmanaged"; message: string };

/** Pods of these priority classes keep the node and cluster running: they leave last. */
export const CRITICAL_PRIORITY_CLASSES = new Set(["system-cluster-critical", "system-node-critical"]);

export function isCritical(pod: V1Pod): boolean {
  return CRITICAL_PRIORITY_CLASSES.has(pod.spec?.priorityClassName ?? "");
}

export function classifyPod(pod: V1Pod, policy: DrainPolicy, replicaSets: V1ReplicaSet[]): PodDisposition {
  if (isMirrorPod(pod)) return { action: "leave", reason: "MirrorPod" };
  if (isFinished(pod)) return { action: "evict", rank: 0 };
  const owner = ownerOf(pod, replicaSets);
  if (owner?.kind === "DaemonSet") return { action: "leave", reason: "DaemonSetPod" };
  const name = podName(pod);
  if (pod.metadata?.annotations?.[DO_NOT_DISRUPT] === "true") {
    return { action: "block", reason: "DoNotDisrupt", message: `pod ${name} is marked ${DO_NOT_DISRUPT}=true; remove the annotation to let its node go` };
  }
  if (!owner && !policy.evictUnmanagedPods) {
    return { action: "block", reason: "Unmanaged", message: `pod ${name} has no controller and would be lost; set spec.drain.evictUnmanagedPods to evict it anyway` };
  }
  if (!policy.deleteEmptyDirData && (pod.spec?.volumes ?? []).some((volume) => volume.emptyDir)) {
    return { action: "block", reason: "EmptyDir", message: `pod ${name} keeps data in emptyDir; set spec.drain.deleteEmptyDirData to evict it and lose that data` };
  }
  return { action: "evict", rank: isCritical(pod) ? 2 : 1 };
}

/** The pods to evict from a node, in order, and what blocks the node if anything does. */
export function planNodeDrain(pods: V1Pod[], policy: DrainPolicy, replicaSets: V1ReplicaSet[]): { evict: V1Pod[]; blocked: { pod: string; message: string }[] } {
  const ranked: { pod: V1Pod; rank: number }[] = [];
  const blocked: { pod: string; message: string }[] = [];
  for (const pod of pods) {
    const disposition = classifyPod(pod, policy, replicaSets);
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
  | { kind: "error"; status: number };

/** Reads the Eviction API's answer the way kubectl drain does. */
export function interpretEviction(status: number): EvictionOutcome {
  if (status >= 200 && status < 300) return { kind: "evicted" };
  if (status === 404) return { kind: "gone" };
  if (status === 429) return { kind: "budgetRefused" };
  if (status === 500) return { kind: "multipleBudgets" };
  return { kind: "error", status };
}
