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
