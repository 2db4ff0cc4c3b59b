// Rolling the last control-plane hop back (spec.rollback). EKS takes a control plane back one
// minor, within 7 days of the upgrade, with UpdateClusterVersion to N-1 (an update of type
// VersionRollback); it rolls back neither node groups nor add-ons, and nodes may never be newer
// than the control plane. So the order is: managed node groups back to N-1, add-ons back to
// versions that support N-1, then the control plane. Every update is started with a token stored
// in status.rollback first, like the forward path, so a restart follows the same updates.
import { compareMinor, minorsBehind } from "../../../api/v1alpha1/version.js";
import { ConditionType, Reason, type HopStatus, type RollbackItem, type RollbackStatus } from "../../../api/v1alpha1/types.js";
import { describeError, isConflict, isValidation } from "../../../util/errors.js";
import { STOP, waitFor, type Step, type StepContext, type StepResult } from "../context.js";
import { chooseAddonVersion } from "./addons.js";
import { describeUpdateErrors, followTrackedUpdate, gateFailedRetry, recordUpdateFailure, remediationFor } from "./tracked-update.js";

/** EKS user guide, "Roll back a cluster upgrade": the way back stays open for 7 days after the upgrade. */
export const ROLLBACK_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
export const ROLLBACK_READINESS = "ROLLBACK_READINESS";

/** The hop whose control plane brought the cluster to its live version, if this upgrade made it. */
function hopToUndo(context: StepContext): HopStatus | undefined {
  const live = context.cluster?.version ?? context.status.currentVersion;
  return (context.status.hops ?? []).find((hop) => hop.from !== hop.version && hop.version === live && (hop.stage !== "ControlPlane" || hop.state === "Succeeded"));
}

/** When the control plane of a hop reached its version: the start of EKS's 7-day window. */
export function upgradedAt(hop: HopStatus): string | undefined {
  if (hop.startedAt && hop.controlPlaneSeconds !== undefined) return new Date(Date.parse(hop.startedAt) + hop.controlPlaneSeconds * 1000).toISOString();
  return hop.controlPlaneVerifiedAt ?? hop.startedAt;
}

/** "rollback possible until <time>", or undefined when the cluster has no hop of this upgrade to undo. */
export function rollbackPossibleUntil(hop: HopStatus): string | undefined {
  const at = upgradedAt(hop);
  return at ? new Date(Date.parse(at) + ROLLBACK_WINDOW_MS).toISOString() : undefined;
}

function refuse(context: StepContext, rollback: RollbackStatus, why: string): StepResult {
  delete context.status.rollbackWindow;
  rollback.state = "Refused";
  rollback.message = why;
  rollback.finishedAt ??= context.now.toISOString();
  context.setCondition(ConditionType.RolledBack, "False", Reason.RollbackRefused, `rollback ${rollback.from} -> ${rollback.to} refused: ${why}`);
  context.end(Reason.RollbackRefused, `rollback refused: ${why}`);
  context.event("Warning", "RollbackRefused", why);
  return STOP;
}

/**
 * Records the decision to roll back, once. The checks that need no call (the 7 days, one minor
 * back, self-managed nodes already moved) refuse at once, before anything is touched.
 */
export function decideRollback(context: StepContext, trigger: "Automatic" | "Manual", reason: string): RollbackStatus {
  if (context.status.rollback) return context.status.rollback;
  const live = context.cluster?.version ?? context.status.currentVersion ?? "";
  const hop = hopToUndo(context);
  const rollback: RollbackStatus = { state: "NodeGroups", trigger, reason, from: live, to: hop?.from ?? live, requestedAt: context.now.toISOString() };
  const at = hop ? upgradedAt(hop) : undefined;
  if (at) rollback.upgradedAt = at;
  context.status.rollback = rollback;
  context.event("Warning", "RollbackStarted", `${trigger === "Automatic" ? "automatic" : "requested"} rollback ${rollback.from} -> ${rollback.to}: ${reason}`);
  if (!hop) {
    refuse(context, rollback, `this upgrade has not moved the control plane to ${live}, so there is no hop to roll back`);
  } else if (minorsBehind(hop.from, live) !== 1) {
    refuse(context, rollback, `EKS rolls a control plane back one minor only, and ${hop.from} is ${minorsBehind(hop.from, live)} minors below ${live}`);
  } else if (at && context.now.getTime() - Date.parse(at) > ROLLBACK_WINDOW_MS) {
    refuse(context, rollback, `the control plane reached ${live} at ${at}; EKS allows a rollback only within 7 days of the upgrade (until ${new Date(Date.parse(at) + ROLLBACK_WINDOW_MS).toISOString()})`);
  } else {
    const movedSelfManaged = (context.status.nodeGroups ?? []).filter((group) => group.kind === "SelfManaged" && group.state !== "Pending" && group.targetVersion === live);
    if (movedSelfManaged.length) {
      refuse(context, rollback, `self-managed group(s) ${movedSelfManaged.map((group) => group.name).join(", ")} already moved to ${live}; this operator does not roll self-managed groups back yet: roll them back to launch template version ${movedSelfManaged.map((group) => group.originalLaunchTemplate?.version ?? "?").join(", ")} first`);
    }
  }
  return rollback;
}

function failItem(context: StepContext, item: RollbackItem, text: string, remediation: string): StepResult {
  return recordUpdateFailure(context, item, {
    text,
    condition: ConditionType.RolledBack,
    conditionMessage: (next) => `rolling ${item.kind === "NodeGroup" ? "node group" : "add-on"} ${item.name} back ${item.fromVersion} -> ${item.toVersion} failed: ${text}. To fix: ${remediation}. Next attempt at ${next}.`,
    event: { reason: "RollbackStepFailed", message: `${item.name} -> ${item.toVersion}: ${text}` },
    waiting: "rollback update failed",
  });
}

async function advanceItem(context: StepContext, item: RollbackItem): Promise<StepResult | undefined> {
  if (item.state === "Succeeded" || item.state === "Skipped") return undefined;
  const backoff = gateFailedRetry(item, context.now, "rollback retry backoff");
  if (backoff) return backoff;
  if (!item.updateId && !context.newWorkAllowed) return waitFor(context.timings.idleRecheckMs, "outside maintenance window");
  const clusterName = context.spec.cluster.name;
  const scope = item.kind === "NodeGroup" ? { nodegroupName: item.name } : { addonName: item.name };
  const calls = {
    start: (clientRequestToken: string) =>
      item.kind === "NodeGroup"
        ? context.cloud.eks.startNodegroupVersionUpdate({
            clusterName,
            nodegroupName: item.name,
            clientRequestToken,
            force: context.spec.nodeGroups.force,
            // A launch template names its own AMI: only its version is given. Otherwise the version, and the release when known.
            ...(item.launchTemplateVersion ? { launchTemplateVersion: item.launchTemplateVersion } : { version: item.toVersion, ...(item.releaseVersion ? { releaseVersion: item.releaseVersion } : {}) }),
          })
        : context.cloud.eks.startAddonUpdate({ clusterName, addonName: item.name, version: item.toVersion, resolveConflicts: context.spec.addons.resolveConflicts, clientRequestToken }),
    describe: (updateId: string) => context.cloud.eks.describeUpdate(clusterName, updateId, scope),
  };
  const label = item.kind === "NodeGroup" ? "node group" : "add-on";
  try {
    return await followTrackedUpdate<StepResult | undefined>(item, calls, {
      minted: () => waitFor(0, "persist client request token"),
      inProgress: (update, justStarted) => {
        item.state = "InProgress";
        if (justStarted) context.event("Normal", "RollbackStepStarted", `${label} ${item.name} ${item.fromVersion} -> ${item.toVersion}, EKS update ${update.id}`);
        context.setCondition(ConditionType.RolledBack, "False", Reason.RollingBack, `EKS update ${update.id} takes ${label} ${item.name} back from ${item.fromVersion} to ${item.toVersion}`);
        return waitFor(context.timings.updatePollMs, "rollback update in progress");
      },
      failed: (update) => failItem(context, item, describeUpdateErrors(update.errors), remediationFor(update.errors)),
      succeeded: () => {
        item.state = "Succeeded";
        context.event("Normal", "RollbackStepDone", `${label} ${item.name} back at ${item.toVersion}`);
        return undefined;
      },
    });
  } catch (error) {
    if (isConflict(error)) {
      context.setCondition(ConditionType.RolledBack, "False", Reason.RollingBack, `${label} ${item.name} is busy with another update (${describeError(error)}); waiting`);
      return waitFor(context.timings.updatePollMs, "busy");
    }
    if (isValidation(error)) return failItem(context, item, describeError(error), "read EKS's message");
    throw error;
  }
}

/** Managed node groups newer than the rollback's target, listed once so a restart follows the same list. */
async function planNodeGroups(context: StepContext, rollback: RollbackStatus): Promise<RollbackItem[]> {
  const clusterName = context.spec.cluster.name;
  const excluded = new Set(context.spec.nodeGroups.exclude);
  const items: RollbackItem[] = [];
  for (const name of (await context.cloud.eks.listNodegroups(clusterName)).filter((group) => !excluded.has(group)).sort()) {
    const live = await context.cloud.eks.describeNodegroup(clusterName, name);
    if (compareMinor(live.version, rollback.to) <= 0) continue;
    // The release (or launch template version) recorded before the hop that is undone, if this upgrade moved the group.
    const recorded = (context.status.nodeGroups ?? []).find((group) => group.name === name && group.kind === "Managed" && group.targetVersion === rollback.from)?.previousRelease;
    const previous =
      recorded?.launchTemplateVersion && live.launchTemplate
        ? { launchTemplateVersion: recorded.launchTemplateVersion }
        : recorded?.releaseVersion?.startsWith(`${rollback.to}.`)
          ? { releaseVersion: recorded.releaseVersion }
          : {};
    items.push({ name, kind: "NodeGroup", fromVersion: live.version, toVersion: rollback.to, ...previous, state: "Pending" });
  }
  return items;
}

/**
 * Add-ons whose installed version does not run on the rollback's target, each with the version it
 * goes back to. EKS takes an add-on version only if it supports the cluster's current version, so
 * before the control plane goes back (beforeControlPlane) the target must support both minors; an
 * add-on with no such version (kube-proxy is built per minor) goes back right after the control plane.
 */
async function planAddons(context: StepContext, rollback: RollbackStatus, beforeControlPlane: boolean): Promise<RollbackItem[] | string> {
  const clusterName = context.spec.cluster.name;
  const skipped = new Set(context.spec.addons.skip);
  const items: RollbackItem[] = [];
  for (const name of (await context.cloud.eks.listAddons(clusterName)).filter((addon) => !skipped.has(addon)).sort()) {
    if ((rollback.items ?? []).some((item) => item.kind === "Addon" && item.name === name && item.state !== "Succeeded" && item.state !== "Skipped")) continue;
    const current = await context.cloud.eks.describeAddon(clusterName, name);
    const onTarget = await context.cloud.eks.listAddonVersions(name, rollback.to);
    if (onTarget.some((version) => version.version === current.version)) continue;
    let candidates = onTarget;
    if (beforeControlPlane) {
      const onCurrent = new Set((await context.cloud.eks.listAddonVersions(name, rollback.from)).map((version) => version.version));
      candidates = onTarget.filter((version) => onCurrent.has(version.version));
      if (candidates.length === 0) continue;
    }
    const target = chooseAddonVersion(candidates, "Default");
    if (!target) return `add-on ${name} has no version that supports ${rollback.to}`;
    items.push({ name, kind: "Addon", fromVersion: current.version, toVersion: target, state: "Pending" });
  }
  return items;
}

/** ROLLBACK_READINESS insights in ERROR, read just before the control plane goes back (nodes and add-ons are back by then). */
async function readinessErrors(context: StepContext, rollback: RollbackStatus): Promise<string[]> {
  const insights = await context.cloud.eks.listInsights(context.spec.cluster.name, [ROLLBACK_READINESS]);
  return insights
    .filter((insight) => (insight.category ?? ROLLBACK_READINESS) === ROLLBACK_READINESS && insight.status === "ERROR" && (!insight.kubernetesVersion || insight.kubernetesVersion === rollback.to))
    .map((insight) => `${insight.name} (${insight.id})${insight.reason ? `: ${insight.reason}` : ""}`);
}

async function advanceControlPlane(context: StepContext, rollback: RollbackStatus): Promise<StepResult | undefined> {
  const clusterName = context.spec.cluster.name;
  const entry = (rollback.controlPlane ??= { state: "Pending" });
  if (!entry.updateId && !entry.clientRequestToken) {
    if (!context.newWorkAllowed) return waitFor(context.timings.idleRecheckMs, "outside maintenance window");
    const errors = await readinessErrors(context, rollback);
    const override = context.spec.rollback?.overrideReadiness;
    if (errors.length && !override) {
      return refuse(context, rollback, `${ROLLBACK_READINESS} insights in ERROR: ${errors.join("; ")}. Resolve them, or set spec.rollback.overrideReadiness.reason to roll back anyway (EKS force)`);
    }
    if (errors.length && override && !rollback.overridden) {
      rollback.overridden = `${errors.join("; ")} overridden: ${override.reason}`;
      context.event("Warning", "RollbackReadinessOverridden", rollback.overridden);
    }
  }
  const force = Boolean(rollback.overridden);
  try {
    return await followTrackedUpdate<StepResult | undefined>(entry, {
      start: (clientRequestToken) => context.cloud.eks.startClusterVersionUpdate({ clusterName, version: rollback.to, clientRequestToken, force }),
      describe: (updateId) => context.cloud.eks.describeUpdate(clusterName, updateId),
    }, {
      minted: () => waitFor(0, "persist client request token"),
      inProgress: (update, justStarted) => {
        entry.state = "InProgress";
        if (justStarted) context.event("Normal", "ControlPlaneRollbackStarted", `${rollback.from} -> ${rollback.to}, EKS update ${update.id} (${update.type})`);
        context.setCondition(ConditionType.RolledBack, "False", Reason.RollingBack, `EKS update ${update.id} (${update.type}) takes the control plane back from ${rollback.from} to ${rollback.to}; it cannot be paused or cancelled`);
        return waitFor(context.timings.controlPlanePollMs, "control-plane rollback in progress");
      },
      failed: (update) => {
        entry.state = "Failed";
        const text = describeUpdateErrors(update.errors);
        // A failed VersionRollback leaves the control plane on N: a new attempt needs a new token.
        delete entry.clientRequestToken;
        delete entry.updateId;
        context.setCondition(ConditionType.RolledBack, "False", Reason.HopFailed, `the control-plane rollback ${rollback.from} -> ${rollback.to} failed: ${text}. To fix: ${remediationFor(update.errors)}.`);
        context.event("Warning", "ControlPlaneRollbackFailed", text);
        return waitFor(context.timings.failedUpdateBackoffMs, "control-plane rollback failed");
      },
      succeeded: () => {
        entry.state = "Succeeded";
        return undefined;
      },
    });
  } catch (error) {
    if (isConflict(error)) {
      context.setCondition(ConditionType.RolledBack, "False", Reason.RollingBack, `EKS refused to start the rollback because another update is in progress (${describeError(error)}); waiting`);
      return waitFor(context.timings.controlPlanePollMs, "another EKS update in progress");
    }
    // EKS's own refusals (the 7 days, the minor, its readiness checks) are final for this rollback.
    if (isValidation(error)) return refuse(context, rollback, `EKS refused UpdateClusterVersion to ${rollback.to}: ${describeError(error)}`);
    throw error;
  }
}

function rolledBack(context: StepContext, rollback: RollbackStatus): StepResult {
  const first = rollback.state !== "RolledBack";
  rollback.state = "RolledBack";
  delete context.status.rollbackWindow;
  rollback.finishedAt ??= context.now.toISOString();
  context.status.currentVersion = rollback.to;
  const moved = (rollback.items ?? []).filter((item) => item.state === "Succeeded").map((item) => `${item.kind === "NodeGroup" ? "node group" : "add-on"} ${item.name} ${item.toVersion}`);
  const message = `rolled back ${rollback.from} -> ${rollback.to} (${rollback.trigger === "Automatic" ? "automatic" : "requested"}: ${rollback.reason})${moved.length ? `; ${moved.join(", ")}` : ""}`;
  rollback.message = message;
  context.setCondition(ConditionType.RolledBack, "True", Reason.RolledBack, message);
  context.end(Reason.RolledBack, `the cluster was rolled back to ${rollback.to}`);
  if (first) context.event("Normal", "RolledBack", message);
  return STOP;
}

/** Runs the rollback once one is decided (or asked for with spec.rollback.requested). */
export const rollbackStep: Step = {
  name: "rollback",
  async run(context) {
    if (!context.status.rollback && context.spec.rollback?.requested) decideRollback(context, "Manual", "spec.rollback.requested is true");
    const rollback = context.status.rollback;
    if (!rollback) {
      context.setCondition(ConditionType.RolledBack, "False", Reason.NotRequested, "no rollback asked for");
      return { outcome: "continue" };
    }
    if (rollback.state === "Refused") return STOP;
    if (rollback.state === "RolledBack") return rolledBack(context, rollback);
    const doing = { NodeGroups: "node groups", Addons: "add-ons that run on both minors", ControlPlane: "control plane", LateAddons: "add-ons built for the old minor" }[rollback.state];
    context.setCondition(ConditionType.Progressing, "True", Reason.RollingBack, `rolling back ${rollback.from} -> ${rollback.to}: ${doing}`);
    context.setCondition(ConditionType.Ready, "False", Reason.RollingBack, `rolling back ${rollback.from} -> ${rollback.to}: ${rollback.reason}`);
    if (rollback.state === "NodeGroups") {
      rollback.items ??= await planNodeGroups(context, rollback);
      for (const item of rollback.items.filter((entry) => entry.kind === "NodeGroup")) {
        const result = await advanceItem(context, item);
        if (result) return result;
      }
      const addons = await planAddons(context, rollback, true);
      if (typeof addons === "string") return refuse(context, rollback, addons);
      rollback.items.push(...addons);
      rollback.state = "Addons";
    }
    if (rollback.state === "Addons") {
      for (const item of (rollback.items ?? []).filter((entry) => entry.kind === "Addon")) {
        const result = await advanceItem(context, item);
        if (result) return result;
      }
      rollback.state = "ControlPlane";
    }
    if (rollback.state === "ControlPlane") {
      const result = await advanceControlPlane(context, rollback);
      if (result) return result;
      rollback.state = "LateAddons";
      context.status.currentVersion = rollback.to;
    }
    // The control plane is back: what could not go back before it goes now (re-planned from the live add-ons).
    const late = await planAddons(context, rollback, false);
    if (typeof late === "string") return refuse(context, rollback, late);
    rollback.items = [...(rollback.items ?? []), ...late];
    for (const item of rollback.items.filter((entry) => entry.kind === "Addon")) {
      const result = await advanceItem(context, item);
      if (result) return result;
    }
    return rolledBack(context, rollback);
  },
};
