// Cordons and the marks the operator leaves on nodes, so it only ever undoes its own work: a node
// cordoned by someone else is never uncordoned by an abort, and a cluster-autoscaler opt-out a user
// set is never removed at the end of a roll.
import type { V1Node } from "@kubernetes/client-node";
import type { NodeOperations } from "../kube/nodes.js";

/** On a node this operator cordoned: the UID of the ClusterUpgrade that did it. */
export const CORDONED_BY = "eksupgrade.io/cordoned-by";
/** On a node whose cluster-autoscaler opt-out this operator set: the ClusterUpgrade's UID. */
export const ROLL_PROTECTED_BY = "eksupgrade.io/protected-by";
/** cluster-autoscaler leaves a node with this annotation alone when it looks for nodes to remove. */
export const SCALE_DOWN_DISABLED = "cluster-autoscaler.kubernetes.io/scale-down-disabled";

export function nodeName(node: V1Node): string {
  return node.metadata?.name ?? "";
}

/** The EC2 instance id of a node, from its providerID "aws:///us-east-1a/i-0abc...". */
export function instanceIdOf(node: V1Node): string | undefined {
  const id = node.spec?.providerID?.split("/").pop();
  return id?.startsWith("i-") ? id : undefined;
}

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false;
}

export function cordonedBy(node: V1Node): string | undefined {
  return node.metadata?.annotations?.[CORDONED_BY];
}

/** Cordons the node for this roll and keeps cluster-autoscaler from removing it meanwhile. */
export async function cordonForRoll(ops: NodeOperations, node: V1Node, upgradeUid: string): Promise<void> {
  const annotations: Record<string, string> = { [CORDONED_BY]: upgradeUid };
  if (node.metadata?.annotations?.[SCALE_DOWN_DISABLED] === undefined) {
    annotations[SCALE_DOWN_DISABLED] = "true";
    annotations[ROLL_PROTECTED_BY] = upgradeUid;
  }
  // A node that someone else had cordoned is still drained, but keeps no claim of ours to undo.
  if (node.spec?.unschedulable && cordonedBy(node) === undefined) delete annotations[CORDONED_BY];
  await ops.patchNode(nodeName(node), { unschedulable: true, annotations });
}

/** Keeps cluster-autoscaler from removing a fresh, still empty node while the roll goes on. */
export async function protectFromScaleDown(ops: NodeOperations, node: V1Node, upgradeUid: string): Promise<boolean> {
  if (node.metadata?.annotations?.[SCALE_DOWN_DISABLED] !== undefined) return false;
  await ops.patchNode(nodeName(node), { annotations: { [SCALE_DOWN_DISABLED]: "true", [ROLL_PROTECTED_BY]: upgradeUid } });
  return true;
}

/**
 * Undoes what this ClusterUpgrade put on a node: its cordon (only when `uncordon`, i.e. the node is
 * staying) and its cluster-autoscaler opt-out. Marks of other upgrades or of people stay.
 */
export async function releaseNode(ops: NodeOperations, node: V1Node, upgradeUid: string, uncordon: boolean): Promise<boolean> {
  const annotations: Record<string, string | null> = {};
  let unschedulable: boolean | undefined;
  if (cordonedBy(node) === upgradeUid) {
    annotations[CORDONED_BY] = null;
    if (uncordon) unschedulable = false;
  }
  if (node.metadata?.annotations?.[ROLL_PROTECTED_BY] === upgradeUid) {
    annotations[ROLL_PROTECTED_BY] = null;
    annotations[SCALE_DOWN_DISABLED] = null;
  }
  if (Object.keys(annotations).length === 0) return false;
  await ops.patchNode(nodeName(node), { annotations, ...(unschedulable === undefined ? {} : { unschedulable }) });
  return true;
}
