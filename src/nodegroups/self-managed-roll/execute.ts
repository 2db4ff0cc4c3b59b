// The roll's executor: does what the planner chose, through the Auto Scaling, EC2 and node ports
// and the drain engine, and records in the group's status entry what it did. Every change is
// written to status before the next one depends on it (a token before the template version, the
// chosen nodes before any eviction, Terminating before waiting on the instance), which is what
// lets a restarted operator resume the same wave and never drain or decrement twice.
import { randomUUID } from "node:crypto";
import type { V1Node } from "@kubernetes/client-node";
import type { Logger } from "winston";
import type { ResolvedSpec } from "../../api/v1alpha1/defaults.js";
import type { NodeGroupStatus, NodeInFlight } from "../../api/v1alpha1/types.js";
import type { CloudPorts, GroupInstance } from "../../cloud/ports.js";
import { cordonForRoll, nodeName, protectFromScaleDown, releaseNode } from "../../drain/cordon.js";
import { BudgetAllowance, drainPass, type DrainInventory } from "../../drain/engine.js";
import type { NodeOperations } from "../../kube/nodes.js";
import { describeError, isNotFound, isValidation } from "../../util/errors.js";
import { restoreGroupSize, ROLLING_TAG, SUSPENDED_PROCESSES } from "./autoscaling.js";
import { judgeDrain, planNode, settleWave, summarizeHolds, type NodeOutcome, type RollAction, type RollObservation, type RollSettings } from "./plan.js";

/** What the executor acts with and on. */
export interface RollEnvironment {
  cloud: CloudPorts;
  nodes: NodeOperations;
  /** The ClusterUpgrade: its UID goes into node marks, its namespace/name onto the group and the template version. */
  upgrade: { uid: string; namespace: string | undefined; name: string };
  drain: ResolvedSpec["drain"];
  settings: RollSettings;
  event(type: "Normal" | "Warning", reason: string, message: string): void;
  log: Pick<Logger, "info">;
}

/**
 * What the pass does next. Continue: plan again, the observation now includes what was just done.
 * Wait: end the pass; `progress` is the condition's message, `after` the kind of delay.
 */
export type RollOutcome =
  | { kind: "Continue" }
  | { kind: "Done" }
  | { kind: "Wait"; after: "Now" | "Poll" | "Idle" | "DrainRetry"; reason: string; progress?: string }
  | { kind: "Fail"; message: string; remediation: string };

function recordOriginals(entry: NodeGroupStatus, action: { size: { min: number; max: number; desired: number }; template: { id: string; version: string } }): void {
  entry.state = "InProgress";
  entry.originalSize ??= { ...action.size };
  entry.originalLaunchTemplate ??= { ...action.template };
  // Kept past the roll's end: the way back if this hop is rolled back.
  entry.previousLaunchTemplate ??= { ...entry.originalLaunchTemplate };
}

async function createTemplateVersion(entry: NodeGroupStatus, imageId: string, env: RollEnvironment): Promise<RollOutcome> {
  const template = entry.originalLaunchTemplate!;
  const token = entry.launchTemplateToken!;
  const { version } = env.settings;
  // The token in the description lets a restarted operator find a version created just before a crash.
  const found = await env.cloud.ec2.findLaunchTemplateVersion(template.id, token);
  entry.launchTemplateVersion =
    found ??
    (await env.cloud.ec2.createLaunchTemplateVersion({
      templateId: template.id,
      sourceVersion: template.version,
      imageId,
      clientToken: token,
      description: `eks-upgrade-operator: Kubernetes ${version} for ${env.upgrade.namespace}/${env.upgrade.name} [${token}]`,
    }));
  entry.imageId = imageId;
  env.event(
    "Normal",
    "LaunchTemplateVersionCreated",
    `${env.settings.groupName}: launch template ${template.id} version ${entry.launchTemplateVersion} with AMI ${imageId} for ${version}${found ? " (found, created before a restart)" : ""}`,
  );
  // Persist the new version before the group is pointed at it.
  return { kind: "Wait", after: "Now", reason: "persist launch template version" };
}

async function terminate(entry: NodeGroupStatus, node: NodeInFlight, env: RollEnvironment): Promise<NodeOutcome | undefined> {
  try {
    await env.cloud.autoscaling.terminateInstance(node.instanceId!, true);
  } catch (error) {
    if (isNotFound(error)) {
      env.log.info("instance already gone from its group", { instance: node.instanceId, error: describeError(error) });
    } else if (isValidation(error)) {
      // Auto Scaling refused the call itself (a decrement below the minimum, ...): its words say why.
      node.message = `Auto Scaling refused to terminate ${node.instanceId} (${node.name}): ${describeError(error)}`;
      return { failure: node.message, remediation: `fix what Auto Scaling names (for a minimum size: lower the minimum of ${entry.name}); the roll tries the termination again by itself` };
    } else {
      throw error;
    }
  }
  return undefined;
}

/** Moves one node in flight as far as this pass allows: a drained node is terminated in the same pass. */
async function advanceNode(
  entry: NodeGroupStatus,
  node: NodeInFlight,
  live: V1Node | undefined,
  member: GroupInstance | undefined,
  env: RollEnvironment,
  inventory: DrainInventory & { allowance: BudgetAllowance },
  onTerminated: (instanceId: string) => void,
): Promise<NodeOutcome> {
  const { uid } = env.upgrade;
  const { drain } = env;
  for (;;) {
    const action = planNode(node, live, member, env.settings);
    switch (action.kind) {
      case "Gone":
        env.event("Normal", "NodeReplaced", `${node.name} (${node.instanceId ?? "no instance"}) is gone from ${entry.name}`);
        return "done";
      case "Skip":
        if (action.cordonAgain) await cordonForRoll(env.nodes, live!, uid);
        node.phase = "Draining";
        await releaseNode(env.nodes, live!, uid, true);
        entry.skippedNodes = [...new Set([...(entry.skippedNodes ?? []), node.name])];
        env.event("Warning", "NodeSkipped", `${node.name} did not drain within ${drain.timeout}; uncordoned and left on the old version (spec.drain.onTimeout SkipNode): ${summarizeHolds(node)}`);
        return "skipped";
      case "Drain": {
        if (action.cordonAgain) await cordonForRoll(env.nodes, live!, uid);
        node.phase = "Draining";
        const pass = await drainPass(node.name, env.nodes, inventory, {
          policy: { deleteEmptyDirData: drain.deleteEmptyDirData, evictUnmanagedPods: drain.evictUnmanagedPods },
          allowance: inventory.allowance,
          deleteRemaining: action.deleteRemaining,
          ...(drain.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: drain.gracePeriodSeconds } : {}),
        });
        node.evictions = (node.evictions ?? 0) + pass.evicted.length;
        node.podsLeft = pass.podsLeft;
        if (pass.deleted.length) env.event("Warning", "PodsDeleted", `${node.name}: drain timed out after ${drain.timeout}; deleted ${pass.deleted.join(", ")} (spec.drain.onTimeout DeletePods)`);
        const verdict = judgeDrain(node, pass, action.timedOut, env.settings);
        if (verdict.kind === "Denied") {
          node.message = verdict.message;
          return { failure: verdict.message, remediation: verdict.remediation };
        }
        if (verdict.kind === "Undrained") {
          if (verdict.message) node.message = verdict.message;
          else delete node.message;
          return "waiting";
        }
        node.phase = "Drained";
        delete node.podsLeft;
        delete node.message;
        env.event("Normal", "NodeDrained", `${node.name} drained (${node.evictions} eviction(s))`);
        continue;
      }
      case "Terminate": {
        const refused = action.call ? await terminate(entry, node, env) : undefined;
        if (refused) return refused;
        if (action.call) onTerminated(node.instanceId!);
        delete node.message;
        node.phase = "Terminating";
        node.since = env.settings.now.toISOString();
        return "waiting";
      }
      case "Left":
        return "done";
      case "AwaitLeaving":
        return "waiting";
      case "Stuck":
        node.message = action.message;
        return { failure: action.message, remediation: action.remediation };
    }
  }
}

async function advanceNodes(entry: NodeGroupStatus, seen: RollObservation, env: RollEnvironment): Promise<RollOutcome> {
  const inFlight = entry.nodes ?? [];
  const nodesByName = new Map([...seen.members.values()].map((node) => [nodeName(node), node]));
  const budgets = await env.nodes.listBudgets();
  // One allowance for all the nodes in flight: the budgets' disruptions go to whichever node has
  // their pods, and no eviction is sent that a budget has no room for.
  const inventory: DrainInventory & { allowance: BudgetAllowance } = { budgets, allowance: new BudgetAllowance(budgets) };
  // A termination with decrement takes one from the desired capacity: the observation says so, so
  // that the planner sizes the group from what it is now.
  const terminated = (instanceId: string): void => {
    seen.group = {
      ...seen.group,
      size: { ...seen.group.size, desired: seen.group.size.desired - 1 },
      instances: seen.group.instances.map((instance) => (instance.id === instanceId ? { ...instance, lifecycleState: "Terminating" } : instance)),
    };
  };
  // The nodes of a wave drain side by side; each one's status entry is its own.
  const outcomes = await Promise.all(
    inFlight.map((node) =>
      advanceNode(entry, node, nodesByName.get(node.name), node.instanceId ? seen.group.instances.find((instance) => instance.id === node.instanceId) : undefined, env, inventory, terminated),
    ),
  );
  const { remaining, verdict } = settleWave(inFlight, outcomes);
  entry.nodes = remaining;
  entry.inFlight = remaining.length;
  if (verdict.kind === "Fail") return { kind: "Fail", message: verdict.message, remediation: verdict.remediation };
  if (!remaining.length) delete entry.nodes;
  seen.advanced = true;
  return { kind: "Continue" };
}

async function complete(entry: NodeGroupStatus, seen: RollObservation, env: RollEnvironment): Promise<RollOutcome> {
  const { version, groupName } = env.settings;
  for (const node of seen.members.values()) await releaseNode(env.nodes, node, env.upgrade.uid, false);
  await env.cloud.autoscaling.resumeProcesses(groupName, SUSPENDED_PROCESSES);
  await env.cloud.autoscaling.untagGroup(groupName, [ROLLING_TAG]);
  entry.state = "Succeeded";
  entry.version = version;
  entry.upgraded = entry.total;
  entry.inFlight = 0;
  const skipped = entry.skippedNodes?.length ? `; ${entry.skippedNodes.length} node(s) skipped after their drain timed out: ${entry.skippedNodes.join(", ")}` : "";
  entry.message = `rolled to ${version} with launch template version ${entry.launchTemplateVersion}${skipped}`;
  env.event(entry.skippedNodes?.length ? "Warning" : "Normal", "NodeGroupUpdated", `${groupName} now at ${version}${skipped}`);
  // The next hop starts from the sizes and template this hop leaves.
  delete entry.originalSize;
  delete entry.originalLaunchTemplate;
  return { kind: "Done" };
}

async function cordonWave(entry: NodeGroupStatus, action: Extract<RollAction, { kind: "CordonWave" }>, seen: RollObservation, env: RollEnvironment): Promise<RollOutcome> {
  const { uid } = env.upgrade;
  delete entry.waitingForNodesSince;
  for (const instanceId of action.protect) await protectFromScaleDown(env.nodes, seen.members.get(instanceId)!, uid);
  const now = env.settings.now.toISOString();
  entry.nodes = [...(entry.nodes ?? [])];
  for (const chosen of action.batch) {
    await cordonForRoll(env.nodes, seen.members.get(chosen.instanceId)!, uid);
    entry.nodes.push({ name: chosen.name, zone: chosen.zone, instanceId: chosen.instanceId, phase: "Cordoned", since: now });
  }
  entry.inFlight = entry.nodes.length;
  env.event("Normal", "NodesCordoned", `${env.settings.groupName}: cordoned ${action.batch.map((node) => `${node.name} (${node.zone})`).join(", ")}; ${action.after} old node(s) after them`);
  // Persist the chosen nodes before any eviction: a restart resumes them, never picks others.
  return { kind: "Wait", after: "Now", reason: "persist cordoned nodes", progress: `cordoned ${action.batch.map((node) => node.name).join(", ")}; draining next` };
}

/** Performs `action` for the group whose status entry is `entry`. */
export async function executeRoll(action: RollAction, entry: NodeGroupStatus, seen: RollObservation, env: RollEnvironment): Promise<RollOutcome> {
  const { cloud, settings } = env;
  const { groupName, version } = settings;
  switch (action.kind) {
    case "MarkRolled":
      entry.state = "Succeeded";
      entry.total = action.total;
      entry.upgraded = entry.total;
      entry.version = version;
      return { kind: "Done" };
    case "HoldBeforeStart":
      return { kind: "Wait", after: "Idle", reason: "no new node group roll outside the window or while paused" };
    case "Fail":
      return { kind: "Fail", message: action.message, remediation: action.remediation };
    case "LookUpAmi":
      entry.state = "InProgress";
      seen.eksOptimizedAmi = (await cloud.ec2.eksOptimizedAmi(version)) ?? null;
      return { kind: "Continue" };
    case "MintTemplateToken":
      recordOriginals(entry, action);
      entry.launchTemplateToken = randomUUID();
      return { kind: "Wait", after: "Now", reason: "persist launch template token" };
    case "CreateTemplateVersion":
      recordOriginals(entry, action);
      return createTemplateVersion(entry, action.imageId, env);
    case "PointGroupAtTemplate":
      await cloud.autoscaling.suspendProcesses(groupName, SUSPENDED_PROCESSES);
      await cloud.autoscaling.tagGroup(groupName, { [ROLLING_TAG]: `${env.upgrade.namespace}/${env.upgrade.name}` });
      await cloud.autoscaling.setLaunchTemplateVersion(groupName, action.templateId, action.templateVersion);
      env.event("Normal", "NodeGroupRollStarted", `${groupName}: rolling ${entry.originalSize!.desired} node(s) to ${version} (maxSurge ${settings.maxSurge}, maxUnavailable ${settings.maxUnavailable})`);
      seen.group = { ...seen.group, launchTemplate: { ...seen.group.launchTemplate, version: action.templateVersion } };
      return { kind: "Continue" };
    case "AdvanceNodes":
      return advanceNodes(entry, seen, env);
    case "RestoreSize": {
      const { original } = action;
      const restored = await restoreGroupSize(cloud, env.nodes, groupName, original);
      const kept = restored.keptFor.length ? `; desired stays at ${restored.size.desired} while ${restored.keptFor.join(", ")} run pods` : "";
      return { kind: "Wait", after: "Poll", reason: "restoring group size", progress: `every old node replaced; restoring min ${original.min}, max ${original.max}, desired ${original.desired}${kept}` };
    }
    case "AwaitReadyAtOriginalSize":
      return { kind: "Wait", after: "Poll", reason: "waiting for the group's nodes", progress: `waiting for ${action.missing} node(s) to be Ready at the original size` };
    case "Complete":
      return complete(entry, seen, env);
    case "HoldBetweenWaves":
      if (action.restore) await restoreGroupSize(cloud, env.nodes, groupName, action.original);
      return {
        kind: "Wait",
        after: "Idle",
        reason: "no new wave outside the window or while paused",
        progress: `${action.oldLeft} old node(s) left; no new wave starts while paused or outside the maintenance window (group at its original size)`,
      };
    case "Surge":
      await cloud.autoscaling.setSize(groupName, action.wave.size);
      env.log.info("surge", { group: groupName, from: action.from, to: action.wave.size.desired });
      // The new size is known; the instances it launches show up in a later pass.
      seen.group = { ...seen.group, size: { ...action.wave.size } };
      return { kind: "Continue" };
    case "AwaitInFlight":
      return { kind: "Wait", after: "DrainRetry", reason: "nodes draining", progress: action.message };
    case "AwaitNewNodes":
      entry.waitingForNodesSince ??= settings.now.toISOString();
      return { kind: "Wait", after: "Poll", reason: "waiting for new nodes", progress: `waiting for new nodes to be Ready before draining: ${action.waiting}` };
    case "CordonWave":
      return cordonWave(entry, action, seen, env);
  }
}
