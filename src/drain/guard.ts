// The one place that keeps the operator's hands off nodes it does not own. Every node operation of
// a reconcile passes through this wrapper: a cordon or mark on an Auto Mode, Fargate, hybrid,
// Karpenter or unrecognised node is refused, and so is any eviction or deletion of a pod that was
// not listed from a node the operator rolls. The rolls choose their nodes correctly today; this
// guard is what keeps a later mistake (a self-managed group that holds a Karpenter node, a name
// typed wrong) from draining capacity that someone else manages.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { EvictionAnswer, NodeOperations, NodePatch } from "../kube/nodes.js";
import { isRolledByOperator, nodeKindOf, type NodeKind } from "../kube/node-kinds.js";
import { ValidationError } from "../util/errors.js";

export class UntouchableNodeError extends ValidationError {
  override readonly name: string = "UntouchableNodeError";
}

/** A patch that only takes marks away (this operator's own, left from before) never harms a node. */
function onlyRemoves(patch: NodePatch): boolean {
  return patch.unschedulable !== true && Object.values(patch.annotations ?? {}).every((value) => value === null);
}

function refusal(what: string, node: string, kind: NodeKind): UntouchableNodeError {
  return new UntouchableNodeError(
    `refusing to ${what} on node ${node}: it is a ${kind} node (eks.amazonaws.com/compute-type, karpenter.sh/nodepool and node group labels), which this operator never cordons, drains or evicts from`,
  );
}

export function guardNodeOperations(ops: NodeOperations): NodeOperations {
  // Pods listed from nodes the operator rolls, by "namespace/name": only these may be evicted or deleted.
  const drainable = new Set<string>();
  // A node's kind comes from labels set when it joined, so it is read once per node and kept: a
  // wave cordons several nodes, and each cordon must not cost a list of the whole cluster.
  const kinds = new Map<string, NodeKind>();
  const remember = (nodes: V1Node[]): V1Node[] => {
    for (const node of nodes) kinds.set(node.metadata?.name ?? "", nodeKindOf(node));
    return nodes;
  };
  const kindOf = async (nodeName: string): Promise<NodeKind | undefined> => {
    if (!kinds.has(nodeName)) remember(await ops.listNodes());
    return kinds.get(nodeName);
  };
  const mayTouch = async (nodeName: string, what: string): Promise<void> => {
    const kind = await kindOf(nodeName);
    // A node gone from the list is left to the call, which answers NotFound as before.
    if (kind !== undefined && !isRolledByOperator(kind)) throw refusal(what, nodeName, kind);
  };
  const mayRemove = (namespace: string, name: string, what: string): void => {
    if (!drainable.has(`${namespace}/${name}`))
      throw new UntouchableNodeError(`refusing to ${what} pod ${namespace}/${name}: it was not listed from a node this operator rolls (managed or self-managed)`);
  };
  return {
    listNodes: async () => remember(await ops.listNodes()),
    listBudgets: () => ops.listBudgets(),
    async patchNode(nodeName: string, patch: NodePatch): Promise<void> {
      if (!onlyRemoves(patch)) await mayTouch(nodeName, patch.unschedulable ? "cordon" : "annotate");
      await ops.patchNode(nodeName, patch);
    },
    async podsOnNode(nodeName: string): Promise<V1Pod[]> {
      const pods = await ops.podsOnNode(nodeName);
      const kind = await kindOf(nodeName);
      // Pods still bound to a node already gone from the list (its instance terminated) may be
      // moved: no label is left to say the node was someone else's, and the roll chose it.
      if (kind === undefined || isRolledByOperator(kind)) for (const pod of pods) drainable.add(`${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`);
      return pods;
    },
    async evictPod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<EvictionAnswer> {
      mayRemove(namespace, name, "evict");
      return await ops.evictPod(namespace, name, gracePeriodSeconds);
    },
    async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void> {
      mayRemove(namespace, name, "delete");
      await ops.deletePod(namespace, name, gracePeriodSeconds);
    },
  };
}
