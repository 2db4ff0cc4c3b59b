// Which nodes go together, in a deterministic order: sorted by a hash of node UID and upgrade UID
// (so repeated passes, and a restarted operator, pick the same nodes) and interleaved across
// zones (so one batch never empties a zone while others are untouched).
import { createHash } from "node:crypto";

export interface RollNode {
  name: string;
  uid: string;
  zone: string;
}

function rank(node: RollNode, upgradeUid: string): string {
  return createHash("sha256").update(`${node.uid}/${upgradeUid}`).digest("hex");
}

export function orderForRoll(nodes: RollNode[], upgradeUid: string): RollNode[] {
  const byZone = new Map<string, RollNode[]>();
  for (const node of [...nodes].sort((a, b) => rank(a, upgradeUid).localeCompare(rank(b, upgradeUid)))) {
    byZone.set(node.zone, [...(byZone.get(node.zone) ?? []), node]);
  }
  const zones = [...byZone.keys()].sort();
  const ordered: RollNode[] = [];
  for (let index = 0; ordered.length < nodes.length; index++) {
    for (const zone of zones) {
      const node = byZone.get(zone)![index];
      if (node) ordered.push(node);
    }
  }
  return ordered;
}

export function batchesOf<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  const step = Math.max(1, size);
  for (let index = 0; index < items.length; index += step) batches.push(items.slice(index, index + step));
  return batches;
}

export interface WaveSettings {
  /** Nodes the group had before the roll (its original desired capacity). */
  originalDesired: number;
  originalMin: number;
  originalMax: number;
  /** Extra nodes started before old ones are drained. */
  maxSurge: number;
  /** Old nodes drained beyond the surge: how far capacity may dip below the original. */
  maxUnavailable: number;
  /** Upper bound on nodes drained at the same time. */
  maxParallelNodes: number;
}

export interface Wave {
  /** New nodes this wave adds on top of the original capacity. */
  surge: number;
  /** Old nodes cordoned and drained in this wave. */
  drain: number;
  /** The group's size while the wave runs. */
  size: { min: number; max: number; desired: number };
}

/**
 * The next wave of a self-managed roll with `remainingOld` old nodes left. Capacity never drops
 * below originalDesired - maxUnavailable: the wave's new nodes are Ready before its old nodes are
 * drained, and each drained node is terminated with its desired capacity decremented.
 */
export function nextWave(remainingOld: number, settings: WaveSettings): Wave {
  const surge = Math.min(settings.maxSurge, remainingOld);
  const drain = Math.max(1, Math.min(remainingOld, surge + settings.maxUnavailable, Math.max(1, settings.maxParallelNodes)));
  const desired = settings.originalDesired + surge;
  return {
    surge,
    drain,
    // Terminating `drain` nodes with decrement takes desired to desired - drain: min must allow it.
    size: { min: Math.min(settings.originalMin, desired - drain), max: Math.max(settings.originalMax, desired), desired },
  };
}
