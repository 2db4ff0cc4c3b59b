// Self-managed Auto Scaling groups, rolled by the operator itself, one wave at a time:
//   1. a new launch template version with the hop's AMI; the group points at it; AZRebalance is
//      suspended so Auto Scaling does not move instances behind the operator's back;
//   2. surge: desired (and max if needed) raised so the wave's new nodes start first;
//   3. once they are Ready, the wave's old nodes (chosen deterministically, spread over zones) are
//      cordoned, marked, and drained by the drain engine through the Eviction API;
//   4. each drained node's instance is terminated through Auto Scaling, decrementing desired;
//   5. when no old node is left, the group's original min, max and desired are restored.
// Every decision is recorded in status.nodeGroups[] before the next change, so a restarted
// operator resumes the same wave, never drains a node twice and never decrements twice.
import { randomUUID } from "node:crypto";
import type { V1Node } from "@kubernetes/client-node";
import { compareMinor, parseMinor } from "../../../api/v1alpha1/version.js";
import { ConditionType, Reason, type HopStatus, type NodeGroupStatus, type NodeInFlight } from "../../../api/v1alpha1/types.js";
import type { AutoScalingGroupInfo, CloudPorts, GroupSize } from "../../../cloud/ports.js";
import { classifyPod, timeoutOutcome } from "../../../drain/pod-filters.js";
import { parseDuration } from "../../../api/v1alpha1/duration.js";
import { nextWave, orderForRoll } from "../../../drain/batches.js";
import { cordonForRoll, instanceIdOf, isNodeReady, nodeName, protectFromScaleDown, releaseNode } from "../../../drain/cordon.js";
import { drainPass, type DrainInventory } from "../../../drain/engine.js";
import type { NodeOperations } from "../../../kube/nodes.js";
import { zoneOf } from "../../../kube/workload-snapshot.js";
import { describeError, isNotFound, isValidation } from "../../../util/errors.js";
import { waitFor, type StepContext, type StepResult } from "../context.js";

/** Auto Scaling would otherwise launch and terminate instances to even out zones mid-roll. */
export const SUSPENDED_PROCESSES = ["AZRebalance"];
/** EKS gives up on nodes that do not join within about 15 minutes (NodeCreationFailure); so does the roll. */
export const NEW_NODES_READY_TIMEOUT_MS = 15 * 60_000;
/** Tag on a group while this operator rolls it (the IAM policy allows eksupgrade.io/* tags only). */
export const ROLLING_TAG = "eksupgrade.io/rolling";
/**
 * How long a terminated instance may stay in its group (Terminating, Terminating:Wait, ...) before
 * the roll fails and says so: an hour for a lifecycle hook's default heartbeat, with room to spare.
 */
export const TERMINATION_TIMEOUT_MS = 90 * 60_000;

/** What became of one node in flight: a failure says what and what to do about it. */
type NodeOutcome = "done" | "skipped" | "waiting" | { failure: string; remediation: string };

function sameSize(a: GroupSize, b: GroupSize): boolean {
  return a.min === b.min && a.max === b.max && a.desired === b.desired;
}

function kubeletOf(node: V1Node): string | undefined {
  return node.status?.nodeInfo?.kubeletVersion;
}

/** Nodes whose instances belong to the group, by instance id. */
export function nodesOfGroup(group: AutoScalingGroupInfo, nodes: V1Node[]): Map<string, V1Node> {
  const members = new Set(group.instances.map((instance) => instance.id));
  const byInstance = new Map<string, V1Node>();
  for (const node of nodes) {
    const id = instanceIdOf(node);
    if (id && members.has(id)) byInstance.set(id, node);
  }
  return byInstance;
}

/**
 * An instance still from before the roll. Once the roll has its AMI, any other AMI is old. Before
 * that: a kubelet below the hop's version, or an AMI other than the one the spec names for it.
 */
function isOld(entry: NodeGroupStatus, images: Record<string, string>, wantedImage: string | undefined, instanceId: string, node: V1Node | undefined, version: string): boolean {
  const image = images[instanceId];
  const target = entry.imageId ?? wantedImage;
  if (target && image) return image !== target;
  const kubelet = node ? kubeletOf(node) : undefined;
  return kubelet !== undefined && compareMinor(kubelet, version) < 0;
}

function resolveAmi(context: StepContext, groupName: string, version: string): { imageId?: string; lookup: boolean } {
  const spec = context.spec.nodeGroups.selfManaged.find((group) => group.autoScalingGroupName === groupName);
  const byVersion = spec?.amiIdsByVersion?.[version];
  if (byVersion) return { imageId: byVersion, lookup: false };
  if (spec?.amiId && version === context.spec.targetVersion) return { imageId: spec.amiId, lookup: false };
  return { lookup: true };
}

function fail(context: StepContext, entry: NodeGroupStatus, message: string, remediation: string): StepResult {
  entry.state = "Failed";
  entry.message = message;
  context.setCondition(ConditionType.NodeGroupsUpgraded, "False", Reason.HopFailed, `self-managed group ${entry.name} -> ${entry.targetVersion}: ${message}. To fix: ${remediation}.`);
  context.event("Warning", "NodeGroupRollFailed", `${entry.name}: ${message}`);
  return waitFor(context.timings.idleRecheckMs, "self-managed group roll failed");
}

function progress(context: StepContext, entry: NodeGroupStatus, message: string): void {
  entry.message = message;
  context.setCondition(ConditionType.NodeGroupsUpgraded, "False", Reason.Reconciling, `self-managed group ${entry.name} -> ${entry.targetVersion}: ${message}`);
}

function summarizeHolds(node: NodeInFlight): string {
  const holds = node.podsLeft ?? [];
  if (holds.length === 0) return `${node.name} ${node.phase.toLowerCase()}`;
  const first = holds.slice(0, 3).map((hold) => `${hold.pod}: ${hold.heldBy}`).join("; ");
  return `${node.name} has ${holds.length} pod(s) left (${first}${holds.length > 3 ? "; ..." : ""})`;
}

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
    const replicaSets = await ops.listReplicaSets();
    const policy = { deleteEmptyDirData: false, evictUnmanagedPods: false };
    // Newest first: surge instances are the natural ones to give back.
    for (const instance of [...active].reverse()) {
      if (surplus === 0) break;
      const node = nodes.get(instance.id);
      const busy = node ? (await ops.podsOnNode(nodeName(node))).filter((pod) => classifyPod(pod, policy, replicaSets).action !== "leave" && !pod.metadata?.deletionTimestamp) : [];
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

/** Prepares the roll: records the original sizes and template, creates the new template version. */
async function prepare(context: StepContext, entry: NodeGroupStatus, group: AutoScalingGroupInfo, version: string): Promise<StepResult | undefined> {
  const template = group.launchTemplate;
  if (!template?.id || !template.version) {
    return fail(context, entry, `Auto Scaling group ${group.name} does not launch from a launch template (launch configurations and mixed-instance policies without one are not rolled)`, "move the group to a launch template, or exclude it in spec.nodeGroups.exclude and roll it yourself");
  }
  const ami = resolveAmi(context, group.name, version);
  const imageId = ami.imageId ?? (await context.cloud.ec2.eksOptimizedAmi(version));
  if (!imageId) {
    return fail(context, entry, `no AMI known for Kubernetes ${version}: none given in the spec and no EKS-optimized AMI found by name`, `set spec.nodeGroups.selfManaged[autoScalingGroupName=${group.name}].amiIdsByVersion["${version}"] (or amiId for the target version)`);
  }
  entry.originalSize ??= { ...group.size };
  entry.originalLaunchTemplate ??= { id: template.id, version: template.version };
  if (!entry.launchTemplateToken) {
    // Stored before the call: EC2 answers a repeated token with the same version, and the token in
    // the description lets a restarted operator find a version created just before a crash.
    entry.launchTemplateToken = randomUUID();
    return waitFor(0, "persist launch template token");
  }
  const found = await context.cloud.ec2.findLaunchTemplateVersion(entry.originalLaunchTemplate.id, entry.launchTemplateToken);
  entry.launchTemplateVersion =
    found ??
    (await context.cloud.ec2.createLaunchTemplateVersion({
      templateId: entry.originalLaunchTemplate.id,
      sourceVersion: entry.originalLaunchTemplate.version,
      imageId,
      clientToken: entry.launchTemplateToken,
      description: `eks-upgrade-operator: Kubernetes ${version} for ${context.upgrade.metadata.namespace}/${context.upgrade.metadata.name} [${entry.launchTemplateToken}]`,
    }));
  entry.imageId = imageId;
  context.event(
    "Normal",
    "LaunchTemplateVersionCreated",
    `${group.name}: launch template ${entry.originalLaunchTemplate.id} version ${entry.launchTemplateVersion} with AMI ${imageId} for ${version}${found ? " (found, created before a restart)" : ""}`,
  );
  // Persist the new version before the group is pointed at it.
  return waitFor(0, "persist launch template version");
}

async function advanceNode(
  context: StepContext,
  entry: NodeGroupStatus,
  node: NodeInFlight,
  live: V1Node | undefined,
  group: AutoScalingGroupInfo,
  ops: NodeOperations,
  inventory: DrainInventory,
): Promise<NodeOutcome> {
  const uid = context.upgrade.metadata.uid ?? "";
  const member = node.instanceId ? group.instances.find((instance) => instance.id === node.instanceId) : undefined;
  if (!live) {
    // The node object is gone: its instance was terminated (by us, or by someone else).
    context.event("Normal", "NodeReplaced", `${node.name} (${node.instanceId ?? "no instance"}) is gone from ${entry.name}`);
    return "done";
  }
  if (node.phase === "Cordoned" || node.phase === "Draining") {
    if (!live.spec?.unschedulable) await cordonForRoll(ops, live, uid);
    node.phase = "Draining";
    const elapsed = context.now.getTime() - Date.parse(node.since);
    const timedOut = elapsed > parseDuration(context.spec.drain.timeout);
    const afterTimeout = timeoutOutcome(context.spec.drain);
    if (timedOut && afterTimeout === "SkipNode") {
      await releaseNode(ops, live, uid, true);
      entry.skippedNodes = [...new Set([...(entry.skippedNodes ?? []), node.name])];
      context.event("Warning", "NodeSkipped", `${node.name} did not drain within ${context.spec.drain.timeout}; uncordoned and left on the old version (spec.drain.onTimeout SkipNode): ${summarizeHolds(node)}`);
      return "skipped";
    }
    // A pod whose eviction was denied is a fault to fix, never one for the timeout to delete.
    const denied = (node.podsLeft ?? []).some((hold) => hold.evictionDenied);
    const deleteRemaining = timedOut && afterTimeout === "DeletePods" && !denied;
    const pass = await drainPass(node.name, ops, inventory, {
      policy: { deleteEmptyDirData: context.spec.drain.deleteEmptyDirData, evictUnmanagedPods: context.spec.drain.evictUnmanagedPods },
      deleteRemaining,
      ...(context.spec.drain.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: context.spec.drain.gracePeriodSeconds } : {}),
    });
    node.evictions = (node.evictions ?? 0) + pass.evicted.length;
    node.podsLeft = pass.podsLeft;
    if (pass.deleted.length) context.event("Warning", "PodsDeleted", `${node.name}: drain timed out after ${context.spec.drain.timeout}; deleted ${pass.deleted.join(", ")} (spec.drain.onTimeout DeletePods)`);
    if (pass.denied.length) {
      node.message = `eviction denied on ${node.name}: ${pass.denied.map((entry) => `${entry.pod} (${entry.reason})`).join("; ")}`;
      return {
        failure: node.message,
        remediation: "let the operator evict these pods (RBAC: create on pods/eviction; or the admission webhook or policy that denies it); the drain goes on by itself once the eviction is allowed, and the timeout never deletes a denied pod",
      };
    }
    if (!pass.drained) {
      node.message = timedOut ? `drain past its ${context.spec.drain.timeout} timeout; spec.drain.onTimeout ${context.spec.drain.onTimeout} keeps waiting` : undefined;
      if (!node.message) delete node.message;
      return "waiting";
    }
    node.phase = "Drained";
    delete node.podsLeft;
    delete node.message;
    context.event("Normal", "NodeDrained", `${node.name} drained (${node.evictions} eviction(s))`);
  }
  if (node.phase === "Drained") {
    // Already leaving the group (a restart after the call): never terminate, or decrement, twice.
    if (member && !member.lifecycleState.startsWith("Terminating") && node.instanceId) {
      try {
        await context.cloud.autoscaling.terminateInstance(node.instanceId, true);
      } catch (error) {
        if (isNotFound(error)) {
          context.log.info("instance already gone from its group", { instance: node.instanceId, error: describeError(error) });
        } else if (isValidation(error)) {
          // Auto Scaling refused the call itself (a decrement below the minimum, ...): its words say why.
          node.message = `Auto Scaling refused to terminate ${node.instanceId} (${node.name}): ${describeError(error)}`;
          return { failure: node.message, remediation: `fix what Auto Scaling names (for a minimum size: lower the minimum of ${entry.name}); the roll tries the termination again by itself` };
        } else {
          throw error;
        }
      }
    }
    delete node.message;
    node.phase = "Terminating";
    node.since = context.now.toISOString();
    return "waiting";
  }
  // Terminating: done once the instance has left the group (the node object follows).
  if (!member) return "done";
  const leaving = context.now.getTime() - Date.parse(node.since);
  if (leaving > TERMINATION_TIMEOUT_MS) {
    node.message = `instance ${member.id} (${node.name}) has been ${member.lifecycleState || "in the group"} for ${Math.floor(leaving / 60_000)} minutes since the operator terminated it`;
    return {
      failure: node.message,
      remediation: `look at ${member.id}'s lifecycle hooks and scaling activities in Auto Scaling group ${entry.name} (complete or abandon a hook that waits); the roll goes on by itself once the instance has left`,
    };
  }
  return "waiting";
}

/** Moves one self-managed group to `hop.version`. Undefined once the group is done. */
export async function advanceSelfManagedGroup(context: StepContext, entry: NodeGroupStatus, hop: HopStatus): Promise<StepResult | undefined> {
  const version = hop.version;
  if (entry.targetVersion !== version) {
    entry.targetVersion = version;
    entry.state = "Pending";
    entry.upgraded = 0;
    entry.inFlight = 0;
    delete entry.launchTemplateVersion;
    delete entry.launchTemplateToken;
    delete entry.imageId;
    delete entry.skippedNodes;
    delete entry.nodes;
    delete entry.message;
  }
  if (entry.state === "Succeeded") return undefined;
  const group = await context.cloud.autoscaling.describeGroup(entry.name);
  const ops = await context.workloads();
  const members = nodesOfGroup(group, await ops.listNodes());
  const uid = context.upgrade.metadata.uid ?? "";
  const inFlight = entry.nodes ?? [];
  const images = await context.cloud.ec2.instanceImages(group.instances.map((instance) => instance.id));
  const wantedImage = resolveAmi(context, group.name, version).imageId;
  const oldOnes = (): [string, V1Node][] => [...members.entries()].filter(([id, node]) => isOld(entry, images, wantedImage, id, node, version));

  if (!entry.launchTemplateVersion) {
    const stale = oldOnes();
    if (stale.length === 0 && inFlight.length === 0) {
      entry.state = "Succeeded";
      entry.total = group.size.desired;
      entry.upgraded = entry.total;
      entry.version = version;
      return undefined;
    }
    if (!context.newWorkAllowed) return waitFor(context.timings.idleRecheckMs, "no new node group roll outside the window or while paused");
    entry.state = "InProgress";
    return prepare(context, entry, group, version);
  }

  const settings = {
    originalDesired: entry.originalSize!.desired,
    originalMin: entry.originalSize!.min,
    originalMax: entry.originalSize!.max,
    maxSurge: context.spec.nodeGroups.maxSurge,
    maxUnavailable: context.spec.nodeGroups.maxUnavailable,
    maxParallelNodes: context.spec.drain.maxParallelNodes,
  };
  entry.total = settings.originalDesired;
  entry.upgraded = Math.min(entry.total, members.size - oldOnes().length);
  if (group.launchTemplate?.version !== entry.launchTemplateVersion) {
    await context.cloud.autoscaling.suspendProcesses(group.name, SUSPENDED_PROCESSES);
    await context.cloud.autoscaling.tagGroup(group.name, { [ROLLING_TAG]: `${context.upgrade.metadata.namespace}/${context.upgrade.metadata.name}` });
    await context.cloud.autoscaling.setLaunchTemplateVersion(group.name, entry.originalLaunchTemplate!.id, entry.launchTemplateVersion);
    context.event("Normal", "NodeGroupRollStarted", `${group.name}: rolling ${settings.originalDesired} node(s) to ${version} (maxSurge ${settings.maxSurge}, maxUnavailable ${settings.maxUnavailable})`);
  }

  // Nodes in flight first: they are the current safe unit, finished even when paused or outside a window.
  if (inFlight.length) {
    const nodesByName = new Map([...members.values()].map((node) => [nodeName(node), node]));
    const inventory: DrainInventory = { budgets: await ops.listBudgets(), replicaSets: await ops.listReplicaSets() };
    // The nodes of a wave drain side by side; each one's status entry is its own.
    const outcomes = await Promise.all(inFlight.map((node) => advanceNode(context, entry, node, nodesByName.get(node.name), group, ops, inventory)));
    const remaining = inFlight.filter((_, index) => outcomes[index] !== "done" && outcomes[index] !== "skipped");
    entry.nodes = remaining;
    entry.inFlight = remaining.length;
    const failures = outcomes.filter((outcome) => typeof outcome === "object");
    if (failures.length) {
      return fail(context, entry, failures.map((outcome) => outcome.failure).join("; "), [...new Set(failures.map((outcome) => outcome.remediation))].join("; "));
    }
    if (remaining.length) {
      progress(context, entry, `draining ${remaining.map(summarizeHolds).join("; ")}`);
      return waitFor(parseDuration(context.spec.drain.evictionRetryInterval), "nodes draining");
    }
    delete entry.nodes;
  }

  const skipped = new Set(entry.skippedNodes ?? []);
  const old = oldOnes().filter(([, node]) => !skipped.has(nodeName(node)));
  if (old.length === 0) return finish(context, entry, group, ops, members, version);
  if (!context.newWorkAllowed) {
    // Between waves is the safe point: the group waits at its original size, not mid-surge.
    if (!sameSize(group.size, entry.originalSize!)) await restoreGroupSize(context.cloud, ops, group.name, entry.originalSize!);
    progress(context, entry, `${old.length} old node(s) left; no new wave starts while paused or outside the maintenance window (group at its original size)`);
    return waitFor(context.timings.idleRecheckMs, "no new wave outside the window or while paused");
  }

  const wave = nextWave(old.length, settings);
  if (!sameSize(group.size, wave.size)) {
    await context.cloud.autoscaling.setSize(group.name, wave.size);
    progress(context, entry, `surge: desired ${group.size.desired} -> ${wave.size.desired} for ${wave.surge} new node(s) before ${wave.drain} old node(s) drain`);
    return waitFor(context.timings.updatePollMs, "waiting for surge instances");
  }
  // The wave's capacity must be there (every non-old instance with a Ready node) before anything drains.
  const fresh = group.instances.filter((instance) => !old.some(([id]) => id === instance.id));
  const notReady = fresh.filter((instance) => !instance.lifecycleState.startsWith("Terminating")).filter((instance) => {
    const node = members.get(instance.id);
    return !node || !isNodeReady(node);
  });
  const inService = group.instances.filter((instance) => instance.lifecycleState === "InService").length;
  if (notReady.length || inService < wave.size.desired) {
    entry.waitingForNodesSince ??= context.now.toISOString();
    const waiting = notReady.map((instance) => instance.id).join(", ") || `${wave.size.desired - inService} instance(s) still launching`;
    if (context.now.getTime() - Date.parse(entry.waitingForNodesSince) > NEW_NODES_READY_TIMEOUT_MS) {
      return fail(
        context,
        entry,
        `new instances have no Ready node after ${NEW_NODES_READY_TIMEOUT_MS / 60_000} minutes (${waiting}); nothing was drained`,
        "check the AMI, the launch template's user data, the instance profile and the security groups (EKS would report NodeCreationFailure); the roll goes on by itself once the nodes are Ready, or abort it with spec.abort",
      );
    }
    progress(context, entry, `waiting for new nodes to be Ready before draining: ${waiting}`);
    return waitFor(context.timings.updatePollMs, "waiting for new nodes");
  }
  delete entry.waitingForNodesSince;
  for (const instance of fresh) {
    const node = members.get(instance.id);
    if (node) await protectFromScaleDown(ops, node, uid);
  }
  const order = orderForRoll(
    old.map(([, node]) => ({ name: nodeName(node), uid: node.metadata?.uid ?? nodeName(node), zone: zoneOf(node) })),
    uid || context.upgrade.metadata.name,
  );
  const batch = order.slice(0, wave.drain);
  const now = context.now.toISOString();
  entry.nodes = [];
  for (const chosen of batch) {
    const [instanceId, node] = old.find(([, candidate]) => nodeName(candidate) === chosen.name)!;
    await cordonForRoll(ops, node, uid);
    entry.nodes.push({ name: chosen.name, zone: chosen.zone, instanceId, phase: "Cordoned", since: now });
  }
  entry.inFlight = entry.nodes.length;
  context.event("Normal", "NodesCordoned", `${group.name}: cordoned ${batch.map((node) => `${node.name} (${node.zone})`).join(", ")}; ${old.length - batch.length} old node(s) after them`);
  progress(context, entry, `cordoned ${batch.map((node) => node.name).join(", ")}; draining next`);
  // Persist the wave before any eviction: a restart resumes these nodes, never picks others.
  return waitFor(0, "persist cordoned nodes");
}

async function finish(
  context: StepContext,
  entry: NodeGroupStatus,
  group: AutoScalingGroupInfo,
  ops: NodeOperations,
  members: Map<string, V1Node>,
  version: string,
): Promise<StepResult | undefined> {
  const original = entry.originalSize!;
  if (!sameSize(group.size, original)) {
    const restored = await restoreGroupSize(context.cloud, ops, group.name, original);
    const kept = restored.keptFor.length ? `; desired stays at ${restored.size.desired} while ${restored.keptFor.join(", ")} run pods` : "";
    progress(context, entry, `every old node replaced; restoring min ${original.min}, max ${original.max}, desired ${original.desired}${kept}`);
    return waitFor(context.timings.updatePollMs, "restoring group size");
  }
  const ready = [...members.values()].filter((node) => isNodeReady(node)).length;
  if (ready < original.desired) {
    progress(context, entry, `waiting for ${original.desired - ready} node(s) to be Ready at the original size`);
    return waitFor(context.timings.updatePollMs, "waiting for the group's nodes");
  }
  const uid = context.upgrade.metadata.uid ?? "";
  for (const node of members.values()) await releaseNode(ops, node, uid, false);
  await context.cloud.autoscaling.resumeProcesses(group.name, SUSPENDED_PROCESSES);
  await context.cloud.autoscaling.untagGroup(group.name, [ROLLING_TAG]);
  entry.state = "Succeeded";
  entry.version = version;
  entry.upgraded = entry.total;
  entry.inFlight = 0;
  const skipped = entry.skippedNodes?.length ? `; ${entry.skippedNodes.length} node(s) skipped after their drain timed out: ${entry.skippedNodes.join(", ")}` : "";
  entry.message = `rolled to ${version} with launch template version ${entry.launchTemplateVersion}${skipped}`;
  context.event(entry.skippedNodes?.length ? "Warning" : "Normal", "NodeGroupUpdated", `${group.name} now at ${version}${skipped}`);
  // The next hop starts from the sizes and template this hop leaves.
  delete entry.originalSize;
  delete entry.originalLaunchTemplate;
  return undefined;
}

/**
 * Whether a self-managed group moves in this hop. In lock-step with the control plane by default;
 * with allowSelfManagedSkew only when its kubelets would otherwise fall more than `maxSkew` minors
 * behind the next hop, and always in the last one.
 */
export function rollsInHop(hops: HopStatus[], index: number, oldestKubelet: string | undefined, allowSkew: boolean, maxSkew: number): boolean {
  if (!allowSkew || index === hops.length - 1 || !oldestKubelet) return true;
  const next = hops[index + 1];
  return parseMinor(next.version).minor - parseMinor(oldestKubelet).minor > maxSkew;
}
