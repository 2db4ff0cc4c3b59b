// Self-managed Auto Scaling groups, rolled by the operator itself, node after node in a pipeline (the roll
// lives in src/nodegroups/self-managed-roll/; docs/adr/0010). This step only orchestrates a pass:
// it observes the group once, asks the planner for the next action, has the executor do it, and
// plans again until the pass must end; then it turns the outcome into the group's condition,
// Event and requeue delay.
import { parseDuration } from "../../../api/v1alpha1/duration.js";
import { ConditionType, Reason, type HopStatus, type NodeGroupStatus } from "../../../api/v1alpha1/types.js";
import { executeRoll, type RollEnvironment, type RollOutcome } from "../../../nodegroups/self-managed-roll/execute.js";
import { observeRoll } from "../../../nodegroups/self-managed-roll/observe.js";
import { amiFromSpec, planRoll, rollCounts, startHop, type RollSettings } from "../../../nodegroups/self-managed-roll/plan.js";
import { waitFor, type StepContext, type StepResult } from "../context.js";

/**
 * A pass plans again only after an action that taught it something (the AMI looked up, the group
 * pointed at its template, the nodes in flight moved, the group resized); more rounds than this
 * mean the planner is looping.
 */
const MAX_ROUNDS_PER_PASS = 8;

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

function rollSettings(context: StepContext, entry: NodeGroupStatus, version: string): RollSettings {
  const { spec } = context;
  const specImage = amiFromSpec(spec.nodeGroups.selfManaged, spec.targetVersion, entry.name, version);
  return {
    groupName: entry.name,
    version,
    ...(specImage ? { specImage } : {}),
    newWorkAllowed: context.newWorkAllowed,
    now: context.now,
    maxSurge: spec.nodeGroups.maxSurge,
    maxUnavailable: spec.nodeGroups.maxUnavailable,
    maxParallelNodes: spec.drain.maxParallelNodes,
    drain: { timeout: spec.drain.timeout, timeoutMs: parseDuration(spec.drain.timeout), onTimeout: spec.drain.onTimeout, allowForceDelete: spec.drain.allowForceDelete },
    orderKey: context.upgrade.metadata.uid || context.upgrade.metadata.name,
  };
}

function delayOf(context: StepContext, after: Extract<RollOutcome, { kind: "Wait" }>["after"]): number {
  switch (after) {
    case "Now":
      return 0;
    case "Poll":
      return context.timings.updatePollMs;
    case "Idle":
      return context.timings.idleRecheckMs;
    case "DrainRetry":
      return parseDuration(context.spec.drain.evictionRetryInterval);
  }
}

/** What one pass of a group's roll came to: done, failed (with what to do), or a wait with its delay. */
export type RollPassResult = { kind: "Done" } | { kind: "Fail"; message: string; remediation: string } | { kind: "Wait"; delayMs: number; reason: string; progress?: string };

/**
 * One pass of the roll of `entry` to `version`: observe once, then plan and execute until the pass
 * must end. Shared by the forward roll and the rollback (steps/rollback.ts), which differ only in
 * the launch template version the entry aims at and in how they report.
 */
export async function rollPass(context: StepContext, entry: NodeGroupStatus, version: string): Promise<RollPassResult> {
  const nodes = await context.workloads();
  const seen = await observeRoll(context.cloud, nodes, entry.name);
  const settings = rollSettings(context, entry, version);
  if (entry.launchTemplateVersion) Object.assign(entry, rollCounts(entry, seen, settings));
  const environment: RollEnvironment = {
    cloud: context.cloud,
    nodes,
    upgrade: { uid: context.upgrade.metadata.uid ?? "", namespace: context.upgrade.metadata.namespace, name: context.upgrade.metadata.name },
    drain: context.spec.drain,
    settings,
    event: (type, reason, message) => context.event(type, reason, message),
    log: context.log,
  };
  for (let round = 1; round <= MAX_ROUNDS_PER_PASS; round++) {
    const action = planRoll(entry, seen, settings);
    const outcome = await executeRoll(action, entry, seen, environment);
    switch (outcome.kind) {
      case "Continue":
        continue;
      case "Done":
      case "Fail":
        return outcome;
      case "Wait":
        return { kind: "Wait", delayMs: delayOf(context, outcome.after), reason: outcome.reason, ...(outcome.progress !== undefined ? { progress: outcome.progress } : {}) };
    }
  }
  throw new Error(`self-managed group ${entry.name}: the roll planned ${MAX_ROUNDS_PER_PASS} actions in one pass without ending it; last status ${JSON.stringify({ state: entry.state, nodes: entry.nodes })}`);
}

/** Moves one self-managed group to `hop.version`. Undefined once the group is done. */
export async function advanceSelfManagedGroup(context: StepContext, entry: NodeGroupStatus, hop: HopStatus): Promise<StepResult | undefined> {
  startHop(entry, hop.version);
  if (entry.state === "Succeeded") return undefined;
  const outcome = await rollPass(context, entry, hop.version);
  switch (outcome.kind) {
    case "Done":
      return undefined;
    case "Fail":
      return fail(context, entry, outcome.message, outcome.remediation);
    case "Wait":
      if (outcome.progress !== undefined) progress(context, entry, outcome.progress);
      return waitFor(outcome.delayMs, outcome.reason);
  }
}
