// The BlueGreen strategy: move traffic from blue (spec.cluster) to green by stepping Route53
// weights, each step one change batch followed to INSYNC and baked while the gates are read; a
// gate failing too often sends all traffic back to blue in one change. Every decision comes from
// src/bluegreen/ and status.cutover, so a restarted operator resumes the step it was on.
import { parseDuration } from "../../../api/v1alpha1/duration.js";
import { resolveGates, weightSchedule } from "../../../api/v1alpha1/defaults.js";
import { ConditionType, Reason, type ClusterUpgrade, type CutoverState, type CutoverStatus, type ReasonName, type WeightStep } from "../../../api/v1alpha1/types.js";
import {
  ALL_BLUE,
  splitText,
} from "../../../bluegreen/schedule.js";
import {
  approvalCommand,
  approvedThrough,
  bakeMs,
  beginStep,
  initialCutover,
  isFinal,
  nextAction,
  recordChange,
  recordInSync,
  returnAction,
  trafficInFlight,
} from "../../../bluegreen/cutover.js";
import { checkDue, describeFailing, judgeCheck, readGates } from "../../../bluegreen/gates.js";
import type { CloudPorts } from "../../../cloud/ports.js";
import type { Logger } from "../../../util/logger.js";
import { STOP, waitFor, type Step, type StepContext, type StepResult } from "../context.js";
import { retainBlue } from "./blue-retention.js";
import { applyWeights, readWeights, resolveRoute } from "../../../bluegreen/route.js";

/** Passes of the step machine in one reconcile: send, INSYNC, bake is the longest useful chain. */
const MAX_ACTIONS_PER_PASS = 4;

function greenName(context: StepContext): string {
  return context.spec.blueGreen!.greenCluster.name;
}

function stepLabel(cutover: CutoverStatus): string {
  return `step ${cutover.step}/${cutover.steps ?? "?"} (blue ${cutover.blueWeight} / green ${cutover.greenWeight}, split ${cutover.split})`;
}

function gateSummary(cutover: CutoverStatus, threshold: number): string {
  const gates = cutover.gates ?? [];
  if (gates.length === 0) return "no gates configured";
  const failing = gates.filter((gate) => !gate.healthy);
  const state = failing.length ? `failing now: ${describeFailing(failing)}` : `${gates.length} gate(s) healthy`;
  return `${state}; ${cutover.failures}/${threshold} failed checks`;
}

/** Moves a cutover to sending all traffic back to blue; the change itself is sent by returnToBlue. */
export function startReturn(cutover: CutoverStatus, state: Extract<CutoverState, "RollingBack" | "Aborting">, now: Date): void {
  cutover.state = state;
  cutover.blueWeight = ALL_BLUE.blue;
  cutover.greenWeight = ALL_BLUE.green;
  cutover.split = splitText(ALL_BLUE);
  cutover.stepStartedAt = now.toISOString();
  delete cutover.changeId;
  delete cutover.changeInSyncAt;
  delete cutover.approvalCommand;
}

/** Follows a return to blue (rollback or abort); true once Route53 reports it INSYNC. */
export async function returnToBlue(context: StepContext, cutover: CutoverStatus): Promise<boolean> {
  const route = resolveRoute(context.spec.blueGreen!.route53);
  const route53 = context.cloud.route53;
  let action = returnAction(cutover);
  if (action === "Send") {
    const changeId = await applyWeights(route53, route, ALL_BLUE);
    recordChange(cutover, changeId, context.now);
    context.event("Warning", "TrafficReturnedToBlue", `sent all traffic of ${route.recordName} back to blue (${route.blueSetIdentifier}=${ALL_BLUE.blue}, ${route.greenSetIdentifier}=${ALL_BLUE.green}) in Route53 change ${changeId}`);
    action = returnAction(cutover);
  }
  if (action === "WaitInSync") {
    if ((await route53.changeStatus(cutover.changeId!)) === "INSYNC") recordInSync(cutover, context.now);
    action = returnAction(cutover);
  }
  return action === "Done";
}

async function checkGates(context: StepContext, cutover: CutoverStatus): Promise<boolean> {
  const blueGreen = context.spec.blueGreen!;
  const gates = resolveGates(blueGreen.gates);
  const readers = { route53: context.cloud.route53, cloudwatch: context.cloudIn(blueGreen.greenCluster.region).cloudwatch, probe: context.probeHttp };
  const results = await readGates(readers, gates, context.now);
  const verdict = judgeCheck(results, cutover.failures, gates.failureThreshold);
  cutover.gates = results;
  cutover.lastCheckAt = context.now.toISOString();
  cutover.failures = verdict.failures;
  if (verdict.failing.length === 0) return false;
  const failing = describeFailing(verdict.failing);
  context.log.warn("blue/green gate check failed", { failing, failures: verdict.failures, failureThreshold: gates.failureThreshold });
  if (!verdict.rollBack) {
    context.event("Warning", "GateCheckFailed", `check ${verdict.failures}/${gates.failureThreshold} failed at ${stepLabel(cutover)}: ${failing}`);
    return false;
  }
  cutover.failedGate = failing;
  cutover.rolledBack = true;
  cutover.message = `rolled back at ${stepLabel(cutover)}: ${failing} (failed check ${verdict.failures}, failureThreshold ${gates.failureThreshold})`;
  startReturn(cutover, "RollingBack", context.now);
  context.event("Warning", "GateFailed", cutover.message);
  return true;
}

function finishRollback(context: StepContext, cutover: CutoverStatus): StepResult {
  cutover.state = "RolledBack";
  context.status.finishedAt ??= context.now.toISOString();
  cutover.message = `rolled back to blue at step ${cutover.step}: ${cutover.failedGate ?? "a gate failed"}`;
  const change = cutover.changes?.at(-1);
  const how = change?.changeId ? `Route53 change ${change.changeId} INSYNC at ${cutover.changeInSyncAt}` : "the weights were already on blue";
  const message = `all traffic is back on blue (split ${cutover.split}; ${how}) because at step ${cutover.step}/${cutover.steps ?? "?"} ${cutover.failedGate ?? "a gate failed"}. Green cluster ${greenName(context)} was left as it is: fix it, then delete and re-create this ClusterUpgrade to try again.`;
  context.setCondition(ConditionType.TrafficShifted, "False", Reason.RolledBack, message);
  context.end(Reason.RolledBack, message, "All traffic is on blue");
  return STOP;
}

async function promote(context: StepContext, cutover: CutoverStatus): Promise<StepResult> {
  const firstTime = cutover.state !== "Promoted";
  cutover.state = "Promoted";
  cutover.promotedAt ??= context.now.toISOString();
  delete cutover.approvalCommand;
  context.status.finishedAt ??= context.now.toISOString();
  const retention = context.spec.blueGreen!.blueRetention;
  const keepFor = retention?.keepFor ?? "24h";
  const keepUntil = new Date(Date.parse(cutover.promotedAt) + parseDuration(keepFor)).toISOString();
  const afterwards = retention?.scaleDown ? `then scaled to zero${retention.deleteBlue ? " and deleted" : ""} as blueRetention asks` : "the operator never scales it down or deletes it (blueRetention.scaleDown is false)";
  const message = `green cluster ${greenName(context)} (${context.spec.targetVersion}) carries all traffic (split ${cutover.split}) since ${cutover.promotedAt}; blue cluster ${context.spec.cluster.name} receives no traffic and is kept as the fallback until ${keepUntil} (blueRetention.keepFor ${keepFor}); ${afterwards}.`;
  cutover.message = message;
  context.setCondition(ConditionType.TrafficShifted, "True", Reason.Promoted, message);
  context.end(Reason.Succeeded, message, "The cutover is complete");
  if (firstTime) context.event("Normal", "UpgradeSucceeded", message);
  return retainBlue(context, cutover);
}

/** The earliest of: the next gate check, and the moment the current wait is over. */
function nextWake(context: StepContext, cutover: CutoverStatus, untilMs: number): number {
  const checkIntervalMs = parseDuration(resolveGates(context.spec.blueGreen!.gates).checkInterval);
  const nextCheck = cutover.lastCheckAt ? Date.parse(cutover.lastCheckAt) + checkIntervalMs - context.now.getTime() : 0;
  return Math.max(0, Math.min(untilMs, cutover.step >= 1 ? nextCheck : untilMs));
}

async function sendStep(context: StepContext, cutover: CutoverStatus, step: number, weights: WeightStep): Promise<void> {
  const route = resolveRoute(context.spec.blueGreen!.route53);
  if (cutover.step !== step) {
    beginStep(cutover, step, weights, splitText(weights), context.now);
    cutover.state = "Shifting";
  }
  const changeId = await applyWeights(context.cloud.route53, route, weights);
  recordChange(cutover, changeId, context.now);
  context.event("Normal", "TrafficStep", `${stepLabel(cutover)} for ${route.recordName}: Route53 change ${changeId}`);
}

async function shift(context: StepContext, cutover: CutoverStatus): Promise<StepResult> {
  const blueGreen = context.spec.blueGreen!;
  const schedule = weightSchedule(blueGreen);
  const threshold = resolveGates(blueGreen.gates).failureThreshold;
  const clock = {
    now: context.now,
    bakeMs: bakeMs(parseDuration(blueGreen.stepInterval ?? "5m"), cutover.recordTtlSeconds),
    manualApproval: blueGreen.manualApproval ?? false,
    approvedThrough: approvedThrough(context.upgrade.metadata.annotations),
  };
  for (let pass = 0; pass < MAX_ACTIONS_PER_PASS; pass++) {
    const action = nextAction(cutover, schedule, clock);
    switch (action.kind) {
      case "Done":
        return STOP;
      case "Promote":
        return promote(context, cutover);
      case "Send":
        if (action.step !== cutover.step && !context.newWorkAllowed) {
          // Outside a window (or while stopping): the step in effect has baked; the next one waits.
          const message = `${stepLabel(cutover)} baked; step ${action.step}/${schedule.length} waits for the next maintenance window; ${gateSummary(cutover, threshold)}`;
          cutover.message = message;
          context.setCondition(ConditionType.TrafficShifted, "False", Reason.ShiftingTraffic, message);
          // Not progressing: the phase reads WaitingForWindow while traffic holds at this split.
          context.setCondition(ConditionType.Progressing, "False", Reason.OutsideWindow, message);
          return waitFor(nextWake(context, cutover, context.timings.idleRecheckMs), "next traffic step outside the maintenance window");
        }
        await sendStep(context, cutover, action.step, action.weights);
        continue;
      case "WaitInSync": {
        if ((await context.cloud.route53.changeStatus(action.changeId)) === "INSYNC") {
          recordInSync(cutover, context.now);
          continue;
        }
        const message = `${stepLabel(cutover)}: waiting for Route53 change ${action.changeId} to be INSYNC; ${gateSummary(cutover, threshold)}`;
        reportShifting(context, cutover, message);
        return waitFor(nextWake(context, cutover, context.timings.updatePollMs), `Route53 change ${action.changeId} PENDING`);
      }
      case "Bake": {
        const message = `${stepLabel(cutover)} in effect since ${cutover.changeInSyncAt} (change ${cutover.changeId ?? "found applied"} INSYNC); baking until ${action.until.toISOString()}; ${gateSummary(cutover, threshold)}`;
        reportShifting(context, cutover, message);
        return waitFor(nextWake(context, cutover, action.until.getTime() - context.now.getTime()), "traffic step baking");
      }
      case "AwaitApproval": {
        cutover.state = "AwaitingApproval";
        cutover.approvalCommand = approvalCommand(context.upgrade.metadata.namespace, context.upgrade.metadata.name, action.step);
        const at = cutover.step >= 1 ? `${stepLabel(cutover)} baked; ` : "";
        const message = `${at}step ${action.step}/${schedule.length} waits for approval: run \`${cutover.approvalCommand}\`; ${gateSummary(cutover, threshold)}`;
        reportShifting(context, cutover, message, Reason.AwaitingApproval);
        return waitFor(nextWake(context, cutover, context.timings.idleRecheckMs), `approval of step ${action.step}`);
      }
    }
  }
  return waitFor(0, "next cutover action");
}

function reportShifting(context: StepContext, cutover: CutoverStatus, message: string, reason: ReasonName = Reason.ShiftingTraffic): void {
  cutover.message = message;
  context.setCondition(ConditionType.TrafficShifted, "False", reason, message);
  context.setCondition(ConditionType.Progressing, "True", Reason.ShiftingTraffic, message);
}

async function startCutover(context: StepContext): Promise<CutoverStatus> {
  const blueGreen = context.spec.blueGreen!;
  const { weights, ttlSeconds } = await readWeights(context.cloud.route53, resolveRoute(blueGreen.route53));
  const cutover = initialCutover(weightSchedule(blueGreen).length, weights, splitText(weights));
  cutover.recordTtlSeconds = ttlSeconds;
  context.status.cutover = cutover;
  context.status.startedAt ??= context.now.toISOString();
  return cutover;
}

export async function advanceCutover(context: StepContext): Promise<StepResult> {
  const cutover = context.status.cutover ?? (await startCutover(context));
  if (cutover.state === "Promoted") return promote(context, cutover);
  if (cutover.state === "RolledBack") return finishRollback(context, cutover);
  if (isFinal(cutover)) return STOP;
  if (cutover.state !== "RollingBack" && cutover.step >= 1) {
    const checkIntervalMs = parseDuration(resolveGates(context.spec.blueGreen!.gates).checkInterval);
    if (checkDue(cutover.lastCheckAt, context.now, checkIntervalMs)) await checkGates(context, cutover);
  }
  if (cutover.state === "RollingBack") {
    if (await returnToBlue(context, cutover)) return finishRollback(context, cutover);
    const message = `sending all traffic back to blue: ${cutover.failedGate ?? "a gate failed"}; waiting for Route53 change ${cutover.changeId ?? "(not sent yet)"} to be INSYNC`;
    cutover.message = message;
    context.setCondition(ConditionType.TrafficShifted, "False", Reason.RollingBack, message);
    context.setCondition(ConditionType.Progressing, "True", Reason.RollingBack, message);
    return waitFor(context.timings.updatePollMs, `rollback change ${cutover.changeId ?? ""} PENDING`);
  }
  return shift(context, cutover);
}

export const blueGreenStep: Step = {
  name: "blueGreen",
  async run(context) {
    return advanceCutover(context);
  },
};

/**
 * spec.abort during a cutover: traffic goes back to blue with one change, followed to INSYNC.
 * Returns a wait while that change is in flight, undefined once traffic is on blue (or was never
 * moved, or the cutover had already finished) so the abort can complete.
 */
export async function abortCutover(context: StepContext): Promise<StepResult | undefined> {
  const cutover = context.status.cutover;
  if (context.spec.strategy !== "BlueGreen" || !cutover || !trafficInFlight(cutover)) return undefined;
  if (cutover.state === "Shifting" || cutover.state === "AwaitingApproval") {
    cutover.message = `aborted at ${stepLabel(cutover)} by spec.abort`;
    startReturn(cutover, "Aborting", context.now);
  }
  if (!(await returnToBlue(context, cutover))) {
    const message = `aborting: sending all traffic back to blue${cutover.changeId ? `, waiting for Route53 change ${cutover.changeId} to be INSYNC` : ""}`;
    context.setCondition(ConditionType.TrafficShifted, "False", Reason.Aborting, message);
    context.setCondition(ConditionType.Progressing, "True", Reason.Aborting, message);
    return waitFor(context.timings.updatePollMs, "abort: return to blue PENDING");
  }
  const rolledBack = cutover.state === "RollingBack";
  cutover.state = rolledBack ? "RolledBack" : "Aborted";
  const change = cutover.changes?.at(-1);
  context.setCondition(
    ConditionType.TrafficShifted,
    "False",
    Reason.Aborted,
    `aborted: all traffic is back on blue (split ${cutover.split}${change?.changeId ? `, Route53 change ${change.changeId} INSYNC at ${cutover.changeInSyncAt}` : ", the weights were already on blue"})`,
  );
  return undefined;
}

/** Deletion of a ClusterUpgrade mid-cutover: one change puts all traffic back on blue first. */
export async function returnTrafficOnDeletion(upgrade: ClusterUpgrade, cloud: CloudPorts, log: Logger): Promise<void> {
  const blueGreen = upgrade.spec.blueGreen;
  if (upgrade.spec.strategy !== "BlueGreen" || !blueGreen || !trafficInFlight(upgrade.status?.cutover)) return;
  const route = resolveRoute(blueGreen.route53);
  const changeId = await applyWeights(cloud.route53, route, ALL_BLUE);
  log.warn("deleted during a blue/green cutover: all traffic sent back to blue", { record: route.recordName, changeId });
}
