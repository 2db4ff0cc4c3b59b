// Where the summary of a ClusterUpgrade is computed, from what the steps recorded: the two summary
// conditions (Ready and, at the end, Progressing), the phase, and the short progress text shown by
// `kubectl get cu`.
//
// The other conditions (ControlPlaneUpgraded, AddonsUpgraded, NodeGroupsUpgraded, Verified, ...)
// are set by the step that owns that part of the upgrade. Their messages carry what only that
// step knows at that moment (an EKS update id, the pod a drain waits for, the gate that failed);
// deriving them here would mean storing every such detail in status first, for no gain.
import type { ClusterUpgradeStatus, Condition, ConditionStatus, Phase, ReasonName } from "../../api/v1alpha1/types.js";
import { ConditionType, Reason } from "../../api/v1alpha1/types.js";
import { AccessDeniedError, findInCauseChain, NotFoundError, ThrottlingError, TimedOutError, TransientError, ValidationError } from "../../util/errors.js";
import { trafficInFlight } from "../../bluegreen/cutover.js";

function find(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/** Progressing reasons that name what the operator is doing right now. */
const ACTIVITY_PHASES: Record<string, Phase> = {
  [Reason.UpgradingControlPlane]: "UpgradingControlPlane",
  [Reason.UpgradingAddons]: "UpgradingAddons",
  [Reason.UpgradingNodeGroups]: "UpgradingNodeGroups",
  [Reason.CreatingGreen]: "CreatingGreen",
  [Reason.ShiftingTraffic]: "ShiftingTraffic",
  [Reason.RollingBack]: "RollingBack",
  [Reason.Baking]: "Baking",
};

function hasUpdateInFlight(status: ClusterUpgradeStatus): boolean {
  return (
    (status.hops ?? []).some((hop) => hop.state === "InProgress" && Boolean(hop.updateId) && hop.stage === "ControlPlane") ||
    (status.addons ?? []).some((addon) => addon.state === "InProgress") ||
    (status.nodeGroups ?? []).some((group) => group.state === "InProgress") ||
    trafficInFlight(status.cutover) ||
    (status.rollback?.items ?? []).some((item) => item.state === "InProgress") ||
    status.rollback?.controlPlane?.state === "InProgress" ||
    status.green?.state === "Creating" ||
    status.green?.state === "NodeGroups"
  );
}

/** How an upgrade (or a dry run) ends. Each ending is also the reason on Ready and Progressing. */
export type Ending = typeof Reason.Succeeded | typeof Reason.Aborted | typeof Reason.RolledBack | typeof Reason.RollbackRefused | typeof Reason.DryRun;

const ENDINGS: Record<Ending, { ready: ConditionStatus; progressing: string }> = {
  [Reason.Succeeded]: { ready: "True", progressing: "the upgrade is complete; nothing more is changed" },
  [Reason.Aborted]: { ready: "False", progressing: "aborted by spec.abort; nothing more is changed" },
  [Reason.RolledBack]: { ready: "False", progressing: "rolled back; nothing more is changed" },
  [Reason.RollbackRefused]: { ready: "False", progressing: "the rollback was refused; nothing more is changed" },
  [Reason.DryRun]: { ready: "False", progressing: "dry run; nothing is changed" },
};

export interface SummaryCondition {
  type: typeof ConditionType.Ready | typeof ConditionType.Progressing;
  status: ConditionStatus;
  reason: ReasonName;
  message: string;
}

/**
 * The two summary conditions of an ending: Ready (True only for Succeeded) with `message`, and
 * Progressing False, whose message says that nothing more is changed, plus `detail` if given.
 */
export function endingConditions(ending: Ending, message: string, detail?: string): [SummaryCondition, SummaryCondition] {
  const { ready, progressing } = ENDINGS[ending];
  return [
    { type: ConditionType.Ready, status: ready, reason: ending, message },
    { type: ConditionType.Progressing, status: "False", reason: ending, message: detail ? `${progressing}. ${detail}` : progressing },
  ];
}

function isEnding(reason: string | undefined): boolean {
  return reason !== undefined && Object.hasOwn(ENDINGS, reason);
}

/**
 * Ready while the upgrade has not ended: False, with the first other condition that is False as
 * the message (what holds the upgrade), or "upgrading to <target>". The reason is the error's kind
 * when the pass failed (`failedWith`), Reconciling otherwise. Undefined once an ending was set:
 * an ending's Ready stays as the step that ended the upgrade wrote it.
 */
export function readyWhileRunning(status: ClusterUpgradeStatus, targetVersion: string, failedWith: ReasonName | undefined): SummaryCondition | undefined {
  const ready = find(status.conditions, ConditionType.Ready);
  if (ready && isEnding(ready.reason)) return undefined;
  const blocking = status.conditions?.find(
    (condition) =>
      condition.status === "False" &&
      condition.type !== ConditionType.Ready &&
      condition.type !== ConditionType.Paused &&
      condition.reason !== Reason.NotApplicable &&
      condition.reason !== Reason.Resumed &&
      condition.reason !== Reason.NotRequested,
  );
  return {
    type: ConditionType.Ready,
    status: "False",
    reason: failedWith ?? Reason.Reconciling,
    message: blocking ? `${blocking.type}: ${blocking.message}` : `upgrading to ${targetVersion}`,
  };
}

/** Derives the phase from the conditions, most decisive first. */
export function derivePhase(status: ClusterUpgradeStatus): Phase {
  const conditions = status.conditions;
  const is = (type: string, value: string, reason?: string): boolean => {
    const condition = find(conditions, type);
    return condition?.status === value && (reason === undefined || condition.reason === reason);
  };
  if (is(ConditionType.Ready, "True")) return "Succeeded";
  if (is(ConditionType.SpecValid, "False")) return "InvalidSpec";
  if (is(ConditionType.Progressing, "False", Reason.Aborted)) return "Aborted";
  if (is(ConditionType.Progressing, "True", Reason.Aborting)) return "Aborting";
  if (is(ConditionType.RolledBack, "True", Reason.RolledBack)) return "RolledBack";
  if (is(ConditionType.RolledBack, "False", Reason.RollbackRefused)) return "Failed";
  if (is(ConditionType.Paused, "True")) return "Paused";
  if (is(ConditionType.Ready, "False", Reason.DryRun)) return "Planned";
  // Another upgrade holds the cluster (or a group, record or green cluster this one needs).
  if (is(ConditionType.Claimed, "False", Reason.HeldByAnother)) return "Blocked";
  if (is(ConditionType.PreflightPassed, "False")) return "Blocked";
  if (is(ConditionType.ControlPlaneUpgraded, "False", Reason.HopFailed)) return "Failed";
  if (is(ConditionType.AddonsUpgraded, "False", Reason.HopFailed)) return "Failed";
  if (is(ConditionType.NodeGroupsUpgraded, "False", Reason.HopFailed)) return "Failed";
  if (is(ConditionType.TrafficShifted, "False", Reason.StepUnavailable)) return "Blocked";
  if (is(ConditionType.TrafficShifted, "False", Reason.RolledBack)) return "Failed";
  if (is(ConditionType.GreenCreated, "False", Reason.GreenCreationFailed)) return "Failed";
  if (is(ConditionType.NodeGroupsUpgraded, "False", Reason.StepUnavailable)) return "Blocked";
  const progressing = find(conditions, ConditionType.Progressing);
  const windowClosed = is(ConditionType.MaintenanceWindowOpen, "False");
  const activity = progressing?.status === "True" ? ACTIVITY_PHASES[progressing.reason] : undefined;
  // Outside a window the phase says so, unless an EKS update started earlier is still being followed.
  if (windowClosed && !hasUpdateInFlight(status)) return "WaitingForWindow";
  if (activity) return activity;
  if (windowClosed) return "WaitingForWindow";
  if (find(conditions, ConditionType.PreflightPassed)?.status !== "True") return "Preflight";
  return "Pending";
}

/** "cp 1/2, addons 3/3, nodes 4/10": what has been done out of what is planned. */
export function describeProgress(status: ClusterUpgradeStatus): string {
  const parts: string[] = [];
  const hops = status.hops ?? [];
  const controlPlaneHops = hops.filter((hop) => hop.from !== hop.version);
  const controlPlaneDone = controlPlaneHops.filter((hop) => hop.state === "Succeeded" || (hop.stage !== undefined && hop.stage !== "ControlPlane"));
  if (controlPlaneHops.length) parts.push(`cp ${controlPlaneDone.length}/${controlPlaneHops.length}`);
  const addons = status.addons ?? [];
  if (addons.length) parts.push(`addons ${addons.filter((addon) => addon.state === "Succeeded" || addon.state === "Skipped").length}/${addons.length}`);
  const groups = status.nodeGroups ?? [];
  if (groups.length) {
    const total = groups.reduce((sum, group) => sum + group.total, 0);
    const upgraded = groups.reduce((sum, group) => sum + group.upgraded, 0);
    parts.push(`nodes ${upgraded}/${total}`);
  }
  if (status.cutover) parts.push(`traffic ${status.cutover.split}`);
  return parts.join(", ");
}

/**
 * The reason a pass that ended in an error gives on Progressing and Ready: what kind of failure it
 * was, so `kubectl get` tells throttling from a missing permission without reading the message.
 */
export function errorReason(error: unknown): ReasonName {
  if (findInCauseChain(error, ThrottlingError)) return Reason.Throttled;
  if (findInCauseChain(error, TimedOutError)) return Reason.TimedOut;
  if (findInCauseChain(error, TransientError)) return Reason.ServiceUnavailable;
  if (findInCauseChain(error, AccessDeniedError)) return Reason.AccessDenied;
  if (findInCauseChain(error, NotFoundError)) return Reason.NotFound;
  if (findInCauseChain(error, ValidationError)) return Reason.RequestRefused;
  return Reason.UnexpectedError;
}
