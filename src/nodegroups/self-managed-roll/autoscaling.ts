// What the roll holds on its Auto Scaling group while it runs, and how it gives the group's size
// back: at the end of a roll, between waves while paused, and on abort (steps/release.ts).
import type { CloudPorts, GroupSize } from "../../cloud/ports.js";
import { nodeName } from "../../drain/cordon.js";
import { classifyPod } from "../../drain/pod-filters.js";
import type { NodeOperations } from "../../kube/nodes.js";
import { nodesOfGroup, sameSize } from "./plan.js";

/** Auto Scaling would otherwise launch and terminate instances to even out zones mid-roll. */
export const SUSPENDED_PROCESSES = ["AZRebalance"];
/** Tag on a group while this operator rolls it (the IAM policy allows eksupgrade.io/* tags only). */
export const ROLLING_TAG = "eksupgrade.io/rolling";

/**
 * Brings a group back to `original` without ever letting Auto Scaling pick a node to remove: its
 * default termination policy prefers the oldest launch template, that is the old nodes, which may
 * still run pods. Surplus instances are terminated by the operator, choosing only instances whose
 * node runs nothing but DaemonSet or mirror pods (or has no node yet). When too few are empty, the
 * group keeps the extra capacity and the answer says which nodes hold it.
 */
export async function restoreGroupSize(
  cloud: CloudPorts,
  ops: NodeOperations,
  groupName: string,
  original: GroupSize,
): Promise<{ size: GroupSize; keptFor: string[] }> {
  const group = await cloud.autoscaling.describeGroup(groupName);
  const active = group.instances.filter((instance) => !instance.lifecycleState.startsWith("Terminat"));
  let surplus = active.length - original.desired;
  const keptFor: string[] = [];
  let desired = group.size.desired;
  if (surplus > 0) {
    const nodes = nodesOfGroup(group, await ops.listNodes());
    const policy = { deleteEmptyDirData: false, evictUnmanagedPods: false };
    // Newest first: surge instances are the natural ones to give back.
    for (const instance of [...active].reverse()) {
      if (surplus === 0) break;
      const node = nodes.get(instance.id);
      const busy = node ? (await ops.podsOnNode(nodeName(node))).filter((pod) => classifyPod(pod, policy).action !== "leave" && !pod.metadata?.deletionTimestamp) : [];
      if (busy.length) {
        keptFor.push(`${node ? nodeName(node) : instance.id} (${busy.length} pod(s))`);
        continue;
      }
      // Each step starts from the size the last decrement left: resending the first read's desired
      // would launch a replacement, and the final resize would then let Auto Scaling pick the victim.
      await cloud.autoscaling.setSize(groupName, { min: Math.max(0, Math.min(original.min, desired - 1)), max: Math.max(original.max, group.size.max), desired });
      await cloud.autoscaling.terminateInstance(instance.id, true);
      desired--;
      surplus--;
    }
  }
  const target = original.desired + Math.max(0, surplus);
  const size = { min: Math.min(original.min, target), max: Math.max(original.max, target), desired: target };
  const now = await cloud.autoscaling.describeGroup(groupName);
  if (!sameSize(now.size, size)) await cloud.autoscaling.setSize(groupName, size);
  return { size, keptFor: surplus > 0 ? keptFor : [] };
}
