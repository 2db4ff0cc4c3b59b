// What an abort, or the deletion of a ClusterUpgrade, gives back: nodes this upgrade cordoned and
// had not yet drained are uncordoned, its cluster-autoscaler opt-outs removed, and each
// self-managed Auto Scaling group it was rolling returns to its original min, max, desired and
// launch template version, with AZRebalance resumed; Karpenter NodePools and EC2NodeClasses get
// back what the drift roll changed. Idempotent: running it again changes nothing.
import type { ClusterUpgrade, ClusterUpgradeStatus } from "../../../api/v1alpha1/types.js";
import type { CloudPorts } from "../../../cloud/ports.js";
import { CORDONED_BY, ROLL_PROTECTED_BY, nodeName, releaseNode } from "../../../drain/cordon.js";
import type { NodeOperations } from "../../../kube/nodes.js";
import type { KarpenterAccess } from "../../../karpenter/reader.js";
import { holdsKarpenterChanges, restoreKarpenter } from "./karpenter.js";
import { isNotFound } from "../../../util/errors.js";
import { restoreGroupSize, ROLLING_TAG, SUSPENDED_PROCESSES } from "../../../nodegroups/self-managed-roll/autoscaling.js";

export interface ReleaseDependencies {
  upgrade: ClusterUpgrade;
  status: ClusterUpgradeStatus;
  cloud: CloudPorts;
  nodes: NodeOperations & KarpenterAccess;
}

/** Whether this upgrade holds anything that a release would give back. */
export function holdsAnything(status: ClusterUpgradeStatus): boolean {
  return (
    (status.nodeGroups ?? []).some((group) => group.kind === "SelfManaged" && (group.originalSize !== undefined || (group.nodes?.length ?? 0) > 0)) ||
    holdsKarpenterChanges(status.karpenter)
  );
}

/** Releases everything; returns what it did, one line per change, for the condition and events. */
export async function releaseHeld(dependencies: ReleaseDependencies): Promise<string[]> {
  const { upgrade, status, cloud, nodes } = dependencies;
  const uid = upgrade.metadata.uid ?? "";
  const released: string[] = [];
  // Nodes already drained or being terminated are on their way out; every other node this upgrade
  // marked goes back into service, whether or not the status had recorded it yet.
  const leaving = new Set(
    (status.nodeGroups ?? []).flatMap((group) => (group.nodes ?? []).filter((node) => node.phase === "Drained" || node.phase === "Terminating").map((node) => node.name)),
  );
  if (uid) {
    for (const node of await nodes.listNodes()) {
      const annotations = node.metadata?.annotations ?? {};
      if (annotations[CORDONED_BY] !== uid && annotations[ROLL_PROTECTED_BY] !== uid) continue;
      const uncordon = !leaving.has(nodeName(node)) && annotations[CORDONED_BY] === uid;
      try {
        if (await releaseNode(nodes, node, uid, uncordon)) released.push(uncordon ? `uncordoned node ${nodeName(node)}` : `removed the marks of node ${nodeName(node)}`);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }
  for (const group of status.nodeGroups ?? []) {
    if (group.kind !== "SelfManaged") continue;
    group.nodes = (group.nodes ?? []).filter((node) => leaving.has(node.name));
    group.inFlight = group.nodes.length;
    if (!group.originalSize) continue;
    const original = group.originalSize;
    const restored = await restoreGroupSize(cloud, nodes, group.name, original);
    if (group.originalLaunchTemplate) await cloud.autoscaling.setLaunchTemplateVersion(group.name, group.originalLaunchTemplate.id, group.originalLaunchTemplate.version);
    await cloud.autoscaling.resumeProcesses(group.name, SUSPENDED_PROCESSES);
    await cloud.autoscaling.untagGroup(group.name, [ROLLING_TAG]);
    const kept = restored.keptFor.length
      ? ` (desired kept at ${restored.size.desired}, not ${original.desired}: ${restored.keptFor.join(", ")} run pods; drain them, then set the desired capacity yourself)`
      : "";
    released.push(
      `restored Auto Scaling group ${group.name} to min ${restored.size.min}, max ${restored.size.max}, desired ${restored.size.desired}${group.originalLaunchTemplate ? ` and launch template version ${group.originalLaunchTemplate.version}` : ""}${kept}`,
    );
    delete group.originalSize;
    delete group.originalLaunchTemplate;
    group.message = `released: ${released.filter((line) => line.includes(group.name)).join("; ")}`;
  }
  if (holdsKarpenterChanges(status.karpenter)) released.push(...(await restoreKarpenter(status.karpenter, nodes.karpenter())));
  return released;
}
