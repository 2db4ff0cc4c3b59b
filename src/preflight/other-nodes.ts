// The nodes this operator does not roll, for the plan: grouped by kind (and NodePool), each with
// what happens to it in the upgrade. Fargate nodes carry one pod each and get a new kubelet only
// when that pod starts again, so the plan names the owners to restart.
import type { PlanOtherNodes } from "../api/v1alpha1/types.js";
import { fateOf, isRolledByOperator, nodeKindOf, nodePoolOf } from "../kube/node-kinds.js";
import { isMirrorPod, ownerOf, podName, type WorkloadSnapshot } from "../kube/workload-snapshot.js";

const NODES_LISTED = 20;
const OWNERS_LISTED = 50;

export function planOtherNodes(snapshot: Pick<WorkloadSnapshot, "nodes" | "pods" | "replicaSets">): PlanOtherNodes[] {
  const groups = new Map<string, PlanOtherNodes & { names: string[] }>();
  for (const node of snapshot.nodes) {
    const kind = nodeKindOf(node);
    if (isRolledByOperator(kind)) continue;
    const other = kind as PlanOtherNodes["kind"];
    const pool = other === "Karpenter" || other === "AutoMode" ? nodePoolOf(node) : undefined;
    const key = `${other}/${pool ?? ""}`;
    const entry = groups.get(key) ?? { kind: other, ...(pool ? { nodePool: pool } : {}), nodeCount: 0, nodes: [], names: [], action: fateOf(other).action };
    entry.nodeCount++;
    entry.names.push(node.metadata?.name ?? "");
    groups.set(key, entry);
  }
  const fargate = groups.get("Fargate/");
  if (fargate) {
    const onFargate = new Set(fargate.names);
    const owners = new Set<string>();
    for (const pod of snapshot.pods) {
      if (!pod.spec?.nodeName || !onFargate.has(pod.spec.nodeName) || isMirrorPod(pod)) continue;
      const owner = ownerOf(pod, snapshot.replicaSets);
      owners.add(owner ? `${owner.kind} ${owner.namespace}/${owner.name}` : `Pod ${podName(pod)}`);
    }
    const sorted = [...owners].sort();
    if (sorted.length) fargate.restart = sorted.length > OWNERS_LISTED ? [...sorted.slice(0, OWNERS_LISTED), `and ${sorted.length - OWNERS_LISTED} more`] : sorted;
  }
  return [...groups.values()]
    .map(({ names, ...entry }) => ({ ...entry, nodes: names.sort().slice(0, NODES_LISTED) }))
    .sort((a, b) => `${a.kind}/${a.nodePool ?? ""}`.localeCompare(`${b.kind}/${b.nodePool ?? ""}`));
}
