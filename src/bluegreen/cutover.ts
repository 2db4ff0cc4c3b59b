// The step machine of a blue/green cutover, as pure functions of the stored status and the clock.
// The controller step does the I/O each answer asks for (send a weight change, read GetChange,
// read the gates) and writes the outcome back into status.cutover, so a restarted operator asks
// the same question and gets the same answer: the step in flight is neither re-sent nor skipped.
import type { CutoverStatus, WeightStep } from "../api/v1alpha1/types.js";

/** The annotation a user sets to approve step n when spec.blueGreen.manualApproval is true. */
export const APPROVE_STEP_ANNOTATION = "eksupgrade.io/approve-step";

export type CutoverAction =
  /** Send this step's weights (one change batch covering both records). */
  | { kind: "Send"; step: number; weights: WeightStep }
  /** A change was sent; GetChange has not said INSYNC yet. */
  | { kind: "WaitInSync"; changeId: string }
  /** The step is in effect and bakes until `until`. */
  | { kind: "Bake"; until: Date }
  /** The next step needs the approval annotation first. */
  | { kind: "AwaitApproval"; step: number }
  /** The last step has baked: green carries all traffic. */
  | { kind: "Promote" }
  /** A final state: nothing more to do. */
  | { kind: "Done" };

export interface CutoverClock {
  now: Date;
  /** How long each step bakes once INSYNC: see bakeMs. */
  bakeMs: number;
  manualApproval: boolean;
  /** The highest step the approval annotation allows (0 when absent). */
  approvedThrough: number;
}

/**
 * A weight step is in effect only after INSYNC plus the record's TTL, since resolvers may keep the
 * old answer that long (Route53 developer guide, "Route53 weighted records" in the facts); the
 * step then bakes for stepInterval, so the longer of the two is waited after INSYNC.
 */
export function bakeMs(stepIntervalMs: number, ttlSeconds: number | undefined): number {
  return Math.max(stepIntervalMs, (ttlSeconds ?? 0) * 1000);
}

/** The state every cutover starts from, before its first change. */
export function initialCutover(steps: number, current: WeightStep, split: string): CutoverStatus {
  return { state: "Shifting", step: 0, steps, blueWeight: current.blue, greenWeight: current.green, split, failures: 0, changes: [] };
}

export function isFinal(cutover: CutoverStatus | undefined): boolean {
  return cutover?.state === "Promoted" || cutover?.state === "RolledBack" || cutover?.state === "Aborted";
}

/** True while traffic may be split between blue and green: what an abort or a deletion must undo. */
export function trafficInFlight(cutover: CutoverStatus | undefined): boolean {
  if (!cutover || isFinal(cutover)) return false;
  return cutover.step > 0 || cutover.state === "Aborting" || cutover.state === "RollingBack";
}

/** What to do next for a cutover that is shifting (or waiting for approval). */
export function nextAction(cutover: CutoverStatus, schedule: readonly WeightStep[], clock: CutoverClock): CutoverAction {
  if (isFinal(cutover)) return { kind: "Done" };
  const step = cutover.step;
  if (step >= 1 && !cutover.changeInSyncAt) {
    // The step was chosen; its change is either being followed or still has to be sent.
    if (cutover.changeId) return { kind: "WaitInSync", changeId: cutover.changeId };
    return { kind: "Send", step, weights: schedule[step - 1] };
  }
  if (step >= 1) {
    const until = new Date(Date.parse(cutover.changeInSyncAt!) + clock.bakeMs);
    if (clock.now.getTime() < until.getTime()) return { kind: "Bake", until };
    if (step >= schedule.length) return { kind: "Promote" };
  }
  const next = step + 1;
  if (clock.manualApproval && clock.approvedThrough < next) return { kind: "AwaitApproval", step: next };
  return { kind: "Send", step: next, weights: schedule[next - 1] };
}

/** What to do for a cutover sending traffic back to blue (rollback or abort). */
export function returnAction(cutover: CutoverStatus): "Send" | "WaitInSync" | "Done" {
  if (cutover.changeInSyncAt) return "Done";
  return cutover.changeId ? "WaitInSync" : "Send";
}

/** Steps approved by the annotation: its value n approves every step up to n. */
export function approvedThrough(annotations: Record<string, string> | undefined): number {
  const value = annotations?.[APPROVE_STEP_ANNOTATION]?.trim();
  return value && /^[0-9]+$/.test(value) ? Number(value) : 0;
}

export function approvalCommand(namespace: string, name: string, step: number): string {
  return `kubectl annotate clusterupgrade ${name} -n ${namespace} ${APPROVE_STEP_ANNOTATION}=${step} --overwrite`;
}

/** Moves the cutover to `step`: the weights are recorded before the change is sent. */
export function beginStep(cutover: CutoverStatus, step: number, weights: WeightStep, split: string, now: Date): void {
  cutover.step = step;
  cutover.blueWeight = weights.blue;
  cutover.greenWeight = weights.green;
  cutover.split = split;
  cutover.stepStartedAt = now.toISOString();
  delete cutover.changeId;
  delete cutover.changeInSyncAt;
  delete cutover.approvalCommand;
}

/**
 * Records a change sent for the current weights. It is never counted INSYNC here: only a GetChange
 * answer for this id (recordInSync) puts the step in effect.
 */
export function recordChange(cutover: CutoverStatus, changeId: string, now: Date): void {
  cutover.changeId = changeId;
  delete cutover.changeInSyncAt;
  const entry = { step: cutover.state === "Shifting" || cutover.state === "AwaitingApproval" ? cutover.step : 0, blueWeight: cutover.blueWeight, greenWeight: cutover.greenWeight, sentAt: now.toISOString() };
  cutover.changes = [...(cutover.changes ?? []), { ...entry, changeId }];
}

/** Records that GetChange said INSYNC for the change in flight. */
export function recordInSync(cutover: CutoverStatus, now: Date): void {
  cutover.changeInSyncAt = now.toISOString();
  // The change in flight is always the last one recorded; ids alone are not enough to find it
  // (moto, for one, answers every change with the same id).
  const entry = cutover.changes?.at(-1);
  if (entry && entry.changeId === cutover.changeId) entry.inSyncAt = now.toISOString();
}
