// Rolling the last control-plane hop back (spec.rollback). EKS takes a control plane back one
// minor, within 7 days of the upgrade, with UpdateClusterVersion to N-1 (an update of type
// VersionRollback); it rolls back neither node groups nor add-ons, and nodes may never be newer
// than the control plane. So the order is: managed node groups back to N-1, self-managed groups
// back to the launch template version they had before the hop (through the operator's own roll),
// add-ons back to versions that support N-1, then the control plane. Every update is started with
// a token stored in status.rollback first, and every roll keeps its state in its status.nodeGroups
// entry, like the forward path, so a restart follows the same updates and the same roll.
// A refusal is final for the spec.rollback it answered; changing spec.rollback (a new attempt
// value, an override, or a request after a refused automatic rollback) starts a new attempt.
import { compareMinor, minorsBehind } from "../../../api/v1alpha1/version.js";
import { ConditionType, Reason, type HopStatus, type NodeGroupStatus, type RollbackItem, type RollbackSpec, type RollbackStatus } from "../../../api/v1alpha1/types.js";
import { nodeName, releaseNode } from "../../../drain/cordon.js";
import { nodesOfGroup, startRollback } from "../../../nodegroups/self-managed-roll/plan.js";
import { describeError, isConflict, isValidation } from "../../../util/errors.js";
import { STOP, waitFor, type Step, type StepContext, type StepResult } from "../context.js";
import { chooseAddonVersion } from "./addons.js";
import { rollPass } from "./self-managed.js";
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

/** Codes of the refusals, kept in status.rollback.refusal. */
export const Refusal = {
  NoHopToUndo: "NO_HOP_TO_UNDO",
  MoreThanOneMinor: "MORE_THAN_ONE_MINOR",
  WindowExpired: "ROLLBACK_WINDOW_EXPIRED",
  SelfManagedNotRecorded: "SELF_MANAGED_NOT_RECORDED",
  LaunchTemplateChanged: "LAUNCH_TEMPLATE_CHANGED",
  LaunchTemplateVersionGone: "LAUNCH_TEMPLATE_VERSION_GONE",
  LaunchTemplateVersionAlias: "LAUNCH_TEMPLATE_VERSION_ALIAS",
  AddonNoVersion: "ADDON_NO_VERSION",
  Readiness: ROLLBACK_READINESS,
  EksRefused: "EKS_REFUSED",
} as const;
type RefusalCode = (typeof Refusal)[keyof typeof Refusal];

interface Refused {
  code: RefusalCode;
  why: string;
}

function refuse(context: StepContext, rollback: RollbackStatus, code: RefusalCode, why: string): StepResult {
  delete context.status.rollbackWindow;
  rollback.state = "Refused";
  rollback.refusal = code;
  rollback.message = why;
  rollback.finishedAt ??= context.now.toISOString();
  const again = `to ask again once the cause is fixed, set spec.rollback.attempt to a new value${code === Refusal.Readiness || code === Refusal.EksRefused ? " or set spec.rollback.overrideReadiness.reason" : ""}`;
  context.setCondition(ConditionType.RolledBack, "False", Reason.RollbackRefused, `rollback ${rollback.from} -> ${rollback.to} refused (${code}): ${why}; ${again}`);
  context.end(Reason.RollbackRefused, `rollback refused: ${why}`, `${why}; ${again}`);
  context.event("Warning", "RollbackRefused", `${code}: ${why}`);
  return STOP;
}

/**
 * Whether spec.rollback asks again after a refusal, and why; undefined when it does not. A refusal
 * answers the spec.rollback it was decided with: asking again needs a change of it that a user
 * makes on purpose (a new spec.rollback.attempt, an override, or a request by hand after a refused
 * automatic rollback), never a pass or a restart that merely sees the same spec once more.
 */
export function retryAsked(spec: RollbackSpec | undefined, rollback: RollbackStatus): string | undefined {
  if (rollback.state !== "Refused") return undefined;
  const automatic = rollback.trigger === "Automatic" && spec?.policy === "Automatic";
  if (!spec?.requested && !automatic) return undefined;
  const seen = rollback.decidedWith;
  if (spec?.attempt !== undefined && spec.attempt !== seen?.attempt) return `spec.rollback.attempt is now ${spec.attempt}`;
  // Refusals recorded before decidedWith existed are asked again through spec.rollback.attempt only.
  if (!seen) return undefined;
  const override = spec?.overrideReadiness?.reason;
  if (override && override !== seen.overrideReason) return `spec.rollback.overrideReadiness is set (${override})`;
  if (spec?.requested && !seen.requested) return "spec.rollback.requested is set after the automatic rollback was refused";
  return undefined;
}

/**
 * Decides one attempt. The checks that need no call (the 7 days, one minor back) refuse at once,
 * before anything is touched. `earlier`: the refused attempt this one follows.
 */
function startAttempt(context: StepContext, trigger: "Automatic" | "Manual", reason: string, earlier?: RollbackStatus): RollbackStatus {
  const live = context.cluster?.version ?? context.status.currentVersion ?? "";
  const hop = hopToUndo(context);
  const spec = context.spec.rollback;
  const attempt = earlier ? (earlier.attempt ?? 1) + 1 : 1;
  const rollback: RollbackStatus = {
    state: "NodeGroups",
    trigger,
    reason,
    from: live,
    to: hop?.from ?? live,
    requestedAt: context.now.toISOString(),
    attempt,
    decidedWith: {
      requested: Boolean(spec?.requested),
      ...(spec?.attempt !== undefined ? { attempt: spec.attempt } : {}),
      ...(spec?.overrideReadiness?.reason ? { overrideReason: spec.overrideReadiness.reason } : {}),
    },
  };
  if (earlier?.message) rollback.previousRefusal = earlier.message;
  const at = hop ? upgradedAt(hop) : undefined;
  if (at) rollback.upgradedAt = at;
  context.status.rollback = rollback;
  const who = trigger === "Automatic" ? "automatic" : "requested";
  context.event("Warning", "RollbackStarted", `${who} rollback ${rollback.from} -> ${rollback.to}${attempt > 1 ? `, attempt ${attempt}` : ""}: ${reason}`);
  if (!hop) {
    refuse(context, rollback, Refusal.NoHopToUndo, `this upgrade has not moved the control plane to ${live}, so there is no hop to roll back`);
  } else if (minorsBehind(hop.from, live) !== 1) {
    refuse(context, rollback, Refusal.MoreThanOneMinor, `EKS rolls a control plane back one minor only, and ${hop.from} is ${minorsBehind(hop.from, live)} minors below ${live}`);
  } else if (at && context.now.getTime() - Date.parse(at) > ROLLBACK_WINDOW_MS) {
    refuse(
      context,
      rollback,
      Refusal.WindowExpired,
      `the control plane reached ${live} at ${at}; EKS allows a rollback only within 7 days of the upgrade (until ${new Date(Date.parse(at) + ROLLBACK_WINDOW_MS).toISOString()})`,
    );
  }
  return rollback;
}

/** Records the decision to roll back, once; a decided rollback is returned as it stands. */
export function decideRollback(context: StepContext, trigger: "Automatic" | "Manual", reason: string): RollbackStatus {
  return context.status.rollback ?? startAttempt(context, trigger, reason);
}

function labelOf(item: RollbackItem): string {
  return { NodeGroup: "node group", SelfManagedGroup: "self-managed group", Addon: "add-on" }[item.kind];
}

function failItem(context: StepContext, item: RollbackItem, text: string, remediation: string): StepResult {
  return recordUpdateFailure(context, item, {
    text,
    condition: ConditionType.RolledBack,
    conditionMessage: (next) => `rolling ${labelOf(item)} ${item.name} back ${item.fromVersion} -> ${item.toVersion} failed: ${text}. To fix: ${remediation}. Next attempt at ${next}.`,
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
  const label = labelOf(item);
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

/**
 * Node groups newer than the rollback's target, listed once so a restart follows the same list:
 * the managed ones, then the self-managed ones. A refusal comes before anything is touched.
 */
async function planNodeGroups(context: StepContext, rollback: RollbackStatus): Promise<RollbackItem[] | Refused> {
  const clusterName = context.spec.cluster.name;
  const excluded = new Set(context.spec.nodeGroups.exclude);
  const items: RollbackItem[] = [];
  const managed = await context.cloud.eks.listNodegroups(clusterName);
  for (const name of managed.filter((group) => !excluded.has(group)).sort()) {
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
  const selfManaged = await planSelfManaged(context, rollback, new Set([...managed, ...excluded]));
  return "code" in selfManaged ? selfManaged : [...items, ...selfManaged];
}

/**
 * Self-managed groups with nodes newer than the rollback's target (or pointed at a newer template
 * version), each with the launch template version it launched from before the hop undone. The
 * version must still exist and give the AMI, which is what tells the nodes already back.
 */
async function planSelfManaged(context: StepContext, rollback: RollbackStatus, skip: Set<string>): Promise<RollbackItem[] | Refused> {
  const names = context.spec.nodeGroups.selfManaged.map((group) => group.autoScalingGroupName).filter((name) => !skip.has(name)).sort();
  if (names.length === 0) return [];
  const nodes = await (await context.workloads()).listNodes();
  const items: RollbackItem[] = [];
  const { from, to } = rollback;
  for (const name of names) {
    const entry = (context.status.nodeGroups ?? []).find((group) => group.name === name && group.kind === "SelfManaged");
    const group = await context.cloud.autoscaling.describeGroup(name);
    const newer = [...nodesOfGroup(group, nodes).values()].filter((node) => {
      const kubelet = node.status?.nodeInfo?.kubeletVersion;
      return kubelet !== undefined && compareMinor(kubelet, to) > 0;
    });
    const previous = entry?.targetVersion === from ? entry.previousLaunchTemplate : undefined;
    const pointedAway = previous !== undefined && (group.launchTemplate?.id !== previous.id || group.launchTemplate.version !== previous.version);
    if (newer.length === 0 && !pointedAway) continue;
    const named = `${newer.slice(0, 3).map(nodeName).join(", ")}${newer.length > 3 ? ", ..." : ""}`;
    if (!previous) {
      return {
        code: Refusal.SelfManagedNotRecorded,
        why: `self-managed group ${name} has ${newer.length} node(s) newer than ${to} (${named}), and this upgrade recorded no launch template version from before ${from} for it (it did not roll the group to ${from}); roll the group back to a ${to} AMI yourself, then ask again`,
      };
    }
    if (group.launchTemplate?.id && group.launchTemplate.id !== previous.id) {
      return {
        code: Refusal.LaunchTemplateChanged,
        why: `self-managed group ${name} now launches from launch template ${group.launchTemplate.id}, not ${previous.id} that it used before ${from}; point it back at ${previous.id} (or roll it back yourself), then ask again`,
      };
    }
    // $Latest and $Default name whichever version is latest or default now: the forward roll's own, by then.
    if (previous.version.startsWith("$")) {
      return {
        code: Refusal.LaunchTemplateVersionAlias,
        why: `self-managed group ${name} launched from launch template ${previous.id} version ${previous.version} before ${from}, which now names another version than it did then; point ${name} at the numbered version with its ${to} AMI and roll it yourself, then ask again`,
      };
    }
    const version = await context.cloud.ec2.describeLaunchTemplateVersion(previous.id, previous.version);
    if (!version?.imageId) {
      return {
        code: Refusal.LaunchTemplateVersionGone,
        why: `self-managed group ${name} launched from launch template ${previous.id} version ${previous.version} before ${from}, and that version ${version ? "names no AMI" : "no longer exists"}; add a version with a ${to} AMI and roll ${name} to it yourself, then ask again`,
      };
    }
    items.push({
      name,
      kind: "SelfManagedGroup",
      fromVersion: from,
      toVersion: to,
      launchTemplateId: previous.id,
      launchTemplateVersion: previous.version,
      imageId: version.imageId,
      state: "Pending",
    });
  }
  return items;
}

/**
 * A forward roll cut short by the rollback leaves nodes cordoned for it: those not yet leaving run
 * the old version, the rollback's target, and go back into service.
 */
async function releaseForwardRoll(context: StepContext, entry: NodeGroupStatus): Promise<string[]> {
  const waiting = (entry.nodes ?? []).filter((node) => node.phase !== "Terminating");
  if (waiting.length === 0) return [];
  const uid = context.upgrade.metadata.uid ?? "";
  const operations = await context.workloads();
  const names = new Set(waiting.map((node) => node.name));
  const released: string[] = [];
  for (const node of await operations.listNodes()) {
    if (names.has(nodeName(node)) && (await releaseNode(operations, node, uid, true))) released.push(nodeName(node));
  }
  return released;
}

/**
 * Takes one self-managed group back through the roll the forward path uses: the group is turned
 * around once (its status entry aimed at the earlier launch template version and AMI, persisted
 * before anything moves), then each pass surges, cordons and drains within the same budgets,
 * pauses and windows. Undefined once the group is back.
 */
async function advanceSelfManaged(context: StepContext, item: RollbackItem): Promise<StepResult | undefined> {
  if (item.state === "Succeeded" || item.state === "Skipped") return undefined;
  const entry = (context.status.nodeGroups ?? []).find((group) => group.name === item.name && group.kind === "SelfManaged");
  if (!entry) throw new Error(`rollback of self-managed group ${item.name}: it has no entry in status.nodeGroups`);
  const template = `launch template ${item.launchTemplateId} version ${item.launchTemplateVersion}`;
  if (entry.targetVersion !== item.toVersion) {
    if (!context.newWorkAllowed) return waitFor(context.timings.idleRecheckMs, "outside maintenance window");
    const group = await context.cloud.autoscaling.describeGroup(item.name);
    const released = await releaseForwardRoll(context, entry);
    startRollback(
      entry,
      { version: item.toVersion, launchTemplate: { id: item.launchTemplateId!, version: item.launchTemplateVersion! }, imageId: item.imageId! },
      { size: group.size, launchTemplate: { id: group.launchTemplate?.id ?? item.launchTemplateId!, version: group.launchTemplate?.version ?? item.launchTemplateVersion! } },
    );
    item.state = "InProgress";
    item.message = `rolling back to ${template} (AMI ${item.imageId})`;
    const tail = released.length ? `; uncordoned ${released.join(", ")}, which the cut-short forward roll had cordoned` : "";
    context.event("Normal", "RollbackStepStarted", `self-managed group ${item.name} ${item.fromVersion} -> ${item.toVersion}: back to ${template} (AMI ${item.imageId}) through the surge, cordon and drain roll${tail}`);
    context.setCondition(ConditionType.RolledBack, "False", Reason.RollingBack, `self-managed group ${item.name} goes back to ${item.toVersion} with ${template}`);
    // The turned-around entry is stored before the group is touched.
    return waitFor(0, "persist the self-managed group's rollback");
  }
  const outcome = await rollPass(context, entry, item.toVersion);
  item.total = entry.total;
  item.replaced = entry.upgraded;
  switch (outcome.kind) {
    case "Done":
      item.state = "Succeeded";
      item.message = `back at ${item.toVersion} with ${template}`;
      context.event("Normal", "RollbackStepDone", `self-managed group ${item.name} back at ${item.toVersion} (${template})`);
      return undefined;
    case "Fail":
      item.state = "Failed";
      entry.state = "Failed";
      item.message = entry.message = outcome.message;
      context.setCondition(
        ConditionType.RolledBack,
        "False",
        Reason.HopFailed,
        `rolling self-managed group ${item.name} back to ${item.toVersion} (${template}) failed: ${outcome.message}. To fix: ${outcome.remediation}.`,
      );
      context.event("Warning", "RollbackStepFailed", `self-managed group ${item.name} -> ${item.toVersion}: ${outcome.message}`);
      return waitFor(context.timings.idleRecheckMs, "self-managed group rollback failed");
    case "Wait":
      item.state = "InProgress";
      entry.state = "InProgress";
      if (outcome.progress !== undefined) item.message = entry.message = outcome.progress;
      context.setCondition(ConditionType.RolledBack, "False", Reason.RollingBack, `self-managed group ${item.name} back to ${item.toVersion} (${template}), ${item.replaced ?? 0}/${item.total ?? "?"} node(s) back: ${item.message ?? outcome.reason}`);
      return waitFor(outcome.delayMs, outcome.reason);
  }
}

/**
 * Add-ons whose installed version does not run on the rollback's target, each with the version it
 * goes back to. EKS takes an add-on version only if it supports the cluster's current version, so
 * before the control plane goes back (beforeControlPlane) the target must support both minors; an
 * add-on with no such version (kube-proxy is built per minor) goes back right after the control plane.
 */
async function planAddons(context: StepContext, rollback: RollbackStatus, beforeControlPlane: boolean): Promise<RollbackItem[] | Refused> {
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
    if (!target) return { code: Refusal.AddonNoVersion, why: `add-on ${name} has no version that supports ${rollback.to}` };
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
      return refuse(context, rollback, Refusal.Readiness, `${ROLLBACK_READINESS} insights in ERROR: ${errors.join("; ")}. Resolve them, or set spec.rollback.overrideReadiness.reason to roll back anyway (EKS force)`);
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
    if (isValidation(error)) return refuse(context, rollback, Refusal.EksRefused, `EKS refused UpdateClusterVersion to ${rollback.to}: ${describeError(error)}`);
    throw error;
  }
}

function rolledBack(context: StepContext, rollback: RollbackStatus): StepResult {
  const first = rollback.state !== "RolledBack";
  rollback.state = "RolledBack";
  delete context.status.rollbackWindow;
  rollback.finishedAt ??= context.now.toISOString();
  context.status.currentVersion = rollback.to;
  const moved = (rollback.items ?? []).filter((item) => item.state === "Succeeded").map((item) => `${labelOf(item)} ${item.name} ${item.toVersion}`);
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
    let decided = false;
    if (!context.status.rollback && context.spec.rollback?.requested) {
      decideRollback(context, "Manual", "spec.rollback.requested is true");
      decided = true;
    }
    let rollback = context.status.rollback;
    if (!rollback) {
      context.setCondition(ConditionType.RolledBack, "False", Reason.NotRequested, "no rollback asked for");
      return { outcome: "continue" };
    }
    if (rollback.state === "Refused") {
      const again = retryAsked(context.spec.rollback, rollback);
      if (!again) return STOP;
      const earlier = rollback;
      context.event("Normal", "RollbackRetried", `${again}: rollback ${earlier.from} -> ${earlier.to} asked again after attempt ${earlier.attempt ?? 1} was refused (${earlier.refusal ?? "refused"}: ${earlier.message ?? ""})`);
      rollback = startAttempt(context, context.spec.rollback?.requested ? "Manual" : earlier.trigger, again, earlier);
      if (rollback.state === "Refused") return STOP;
      decided = true;
    }
    if (rollback.state === "RolledBack") return rolledBack(context, rollback);
    const doing = { NodeGroups: "node groups (managed, then self-managed)", Addons: "add-ons that run on both minors", ControlPlane: "control plane", LateAddons: "add-ons built for the old minor" }[rollback.state];
    context.setCondition(ConditionType.Progressing, "True", Reason.RollingBack, `rolling back ${rollback.from} -> ${rollback.to}: ${doing}`);
    context.setCondition(ConditionType.Ready, "False", Reason.RollingBack, `rolling back ${rollback.from} -> ${rollback.to}: ${rollback.reason}`);
    if (decided) {
      // The decision is stored before any change, so that the claims are taken again first (an
      // upgrade that ended, or a refused rollback, gave them back).
      context.setCondition(ConditionType.RolledBack, "False", Reason.RollingBack, `rollback ${rollback.from} -> ${rollback.to} decided${(rollback.attempt ?? 1) > 1 ? ` (attempt ${rollback.attempt})` : ""}: ${rollback.reason}`);
      return waitFor(0, "persist the rollback decision");
    }
    if (rollback.state === "NodeGroups") {
      if (!rollback.items) {
        const planned = await planNodeGroups(context, rollback);
        if ("code" in planned) return refuse(context, rollback, planned.code, planned.why);
        rollback.items = planned;
      }
      for (const item of rollback.items.filter((entry) => entry.kind === "NodeGroup")) {
        const result = await advanceItem(context, item);
        if (result) return result;
      }
      for (const item of rollback.items.filter((entry) => entry.kind === "SelfManagedGroup")) {
        const result = await advanceSelfManaged(context, item);
        if (result) return result;
      }
      const addons = await planAddons(context, rollback, true);
      if ("code" in addons) return refuse(context, rollback, addons.code, addons.why);
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
    if ("code" in late) return refuse(context, rollback, late.code, late.why);
    rollback.items = [...(rollback.items ?? []), ...late];
    for (const item of rollback.items.filter((entry) => entry.kind === "Addon")) {
      const result = await advanceItem(context, item);
      if (result) return result;
    }
    return rolledBack(context, rollback);
  },
};
