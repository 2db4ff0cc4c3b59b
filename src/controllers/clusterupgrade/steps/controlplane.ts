// One control-plane minor per hop (EKS refuses to skip a minor). The update is started once with
// a stored clientRequestToken and followed with DescribeUpdate; a recorded update id counts as in
// progress even while DescribeCluster still says ACTIVE.
import { parseDuration, formatDuration } from "../../../api/v1alpha1/duration.js";
import { compareMinor } from "../../../api/v1alpha1/version.js";
import { ConditionType, Reason, type HopStatus } from "../../../api/v1alpha1/types.js";
import { describeError, isConflict, isValidation } from "../../../util/errors.js";
import { waitFor, type StepContext, type StepResult } from "../context.js";
import { describeUpdateErrors, followTrackedUpdate, gateFailedRetry, recordUpdateFailure, remediationFor } from "./tracked-update.js";

/** Expected duration of the next control-plane hop: this cluster's own history first, then the spec. */
export function expectedHop(context: StepContext): { ms: number; from: "measured" | "spec" } {
  const measured = (context.status.hops ?? []).map((hop) => hop.controlPlaneSeconds).filter((seconds): seconds is number => seconds !== undefined);
  if (measured.length) return { ms: Math.max(...measured) * 1000, from: "measured" };
  return { ms: parseDuration(context.spec.expectedHopDuration), from: "spec" };
}

export function expectedHopMs(context: StepContext): number {
  return expectedHop(context).ms;
}

function recordFailure(context: StepContext, hop: HopStatus, errorsText: string, remediation: string): StepResult {
  return recordUpdateFailure(context, hop, {
    text: errorsText,
    condition: ConditionType.ControlPlaneUpgraded,
    conditionMessage: (next) => `upgrade of the control plane from ${hop.from} to ${hop.version} failed (attempt ${hop.attempts ?? 1}): ${errorsText}. To fix: ${remediation}. Next attempt at ${next}.`,
    event: { reason: "ControlPlaneUpgradeFailed", message: `${hop.from} -> ${hop.version}: ${errorsText}` },
    waiting: "control-plane update failed",
  });
}

/** Returns a result when the pass must stop here, undefined when the control plane of this hop is done. */
export async function advanceControlPlane(context: StepContext, hop: HopStatus, isLastHop: boolean): Promise<StepResult | undefined> {
  const clusterName = context.spec.cluster.name;
  if (!hop.updateId && compareMinor(context.cluster!.version, hop.version) >= 0) {
    // Reached already (an earlier pass whose status write was lost, or someone upgraded by hand).
    return undefined;
  }
  const backoff = gateFailedRetry(hop, context.now, "control-plane retry backoff");
  if (backoff) return backoff;
  if (!hop.updateId) {
    if (!context.newWorkAllowed) return waitFor(context.timings.idleRecheckMs, "outside maintenance window");
    const gate = checkWindowFit(context, hop);
    if (gate) return gate;
  }
  const calls = {
    start: (clientRequestToken: string) => context.cloud.eks.startClusterVersionUpdate({ clusterName, version: hop.version, clientRequestToken, force: context.spec.forceControlPlane }),
    describe: (updateId: string) => context.cloud.eks.describeUpdate(clusterName, updateId),
  };
  try {
    return await followTrackedUpdate<StepResult | undefined>(hop, calls, {
      minted: () => {
        context.setCondition(ConditionType.ControlPlaneUpgraded, "False", Reason.HopInProgress, `starting the control-plane upgrade ${hop.from} -> ${hop.version}`);
        return waitFor(0, "persist client request token");
      },
      inProgress: (update, justStarted) => {
        hop.state = "InProgress";
        hop.startedAt ??= context.now.toISOString();
        if (justStarted) context.event("Normal", "ControlPlaneUpgradeStarted", `${hop.from} -> ${hop.version}, EKS update ${update.id}`);
        context.setCondition(
          ConditionType.ControlPlaneUpgraded,
          "False",
          Reason.HopInProgress,
          `EKS update ${update.id} is upgrading the control plane ${hop.from} -> ${hop.version} since ${hop.startedAt}; it cannot be paused or cancelled`,
        );
        return waitFor(context.timings.controlPlanePollMs, "control-plane update in progress");
      },
      failed: (update) => recordFailure(context, hop, describeUpdateErrors(update.errors), remediationFor(update.errors)),
      succeeded: () => {
        const seconds = hop.startedAt ? Math.round((context.now.getTime() - Date.parse(hop.startedAt)) / 1000) : undefined;
        if (seconds !== undefined) hop.controlPlaneSeconds = seconds;
        context.status.currentVersion = hop.version;
        context.event("Normal", "ControlPlaneUpgraded", `control plane now at ${hop.version}${seconds !== undefined ? ` after ${formatDuration(seconds * 1000)}` : ""}`);
        context.setCondition(
          ConditionType.ControlPlaneUpgraded,
          isLastHop ? "True" : "False",
          isLastHop ? Reason.Upgraded : Reason.HopInProgress,
          isLastHop ? `control plane at the target ${hop.version}` : `control plane at ${hop.version}; the next hop starts after add-ons and node groups reach ${hop.version}`,
        );
        return undefined;
      },
    });
  } catch (error) {
    if (isConflict(error)) {
      context.setCondition(ConditionType.ControlPlaneUpgraded, "False", Reason.HopInProgress, `EKS refused to start ${hop.from} -> ${hop.version} because another update is in progress on cluster ${clusterName} (${describeError(error)}); waiting for it to finish`);
      return waitFor(context.timings.controlPlanePollMs, "another EKS update in progress");
    }
    if (isValidation(error)) return recordFailure(context, hop, describeError(error), "read EKS's message: a skipped minor, lagging node groups or an upgrade insight can cause it");
    throw error;
  }
}

/** A control-plane update cannot be stopped once started, so it starts only if it can finish inside the window. */
function checkWindowFit(context: StepContext, hop: HopStatus): StepResult | undefined {
  if (!context.windowClosesAt) return undefined;
  const left = context.windowClosesAt.getTime() - context.now.getTime();
  const expected = expectedHopMs(context);
  if (expected <= left) return undefined;
  context.setCondition(
    ConditionType.MaintenanceWindowOpen,
    "False",
    Reason.OutsideWindow,
    `the control-plane hop ${hop.from} -> ${hop.version} is expected to take ${formatDuration(expected)} but the window closes in ${formatDuration(left)} (${context.windowClosesAt.toISOString()}); it waits for the next window`,
  );
  return waitFor(left + 1000, "hop does not fit in the window");
}
