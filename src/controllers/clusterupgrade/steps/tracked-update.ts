// The one way this operator starts and follows an EKS update (control plane, add-on, node group):
// the clientRequestToken is written to status before the call, so a retry or a restarted operator
// reuses it and EKS answers with the same update instead of starting a second one; a recorded
// update id is followed with DescribeUpdate by requeueing, never by sleeping.
import { randomUUID } from "node:crypto";
import { Reason, type ConditionTypeName, type StepState, type UpdateError } from "../../../api/v1alpha1/types.js";
import type { UpdateInfo } from "../../../cloud/ports.js";
import { waitFor, type StepContext, type StepResult } from "../context.js";

export interface TrackedUpdate {
  clientRequestToken?: string;
  updateId?: string;
  attempts?: number;
  errors?: UpdateError[];
}

export type TrackedUpdateState =
  /** A token was just minted: persist status before calling EKS. */
  | { state: "TokenMinted" }
  | { state: "InProgress"; update: UpdateInfo; justStarted: boolean }
  | { state: "Successful"; update: UpdateInfo }
  | { state: "Failed"; update: UpdateInfo };

export interface TrackedUpdateCalls {
  start(clientRequestToken: string): Promise<UpdateInfo>;
  describe(updateId: string): Promise<UpdateInfo>;
}

/** What the caller does in each state of a tracked update; each returns the pass's outcome. */
export interface TrackedUpdateOutcomes<R> {
  /** A token was minted and must be written to status before EKS is called with it. */
  minted(): R;
  inProgress(update: UpdateInfo, justStarted: boolean): R | Promise<R>;
  succeeded(update: UpdateInfo): R | Promise<R>;
  /** Failed or Cancelled; the errors are already copied into the tracked entry. */
  failed(update: UpdateInfo): R | Promise<R>;
}

/** Advances a tracked update by one call and hands its state to the matching outcome. */
export async function followTrackedUpdate<R>(tracked: TrackedUpdate, calls: TrackedUpdateCalls, outcomes: TrackedUpdateOutcomes<R>): Promise<R> {
  const progress = await advanceTrackedUpdate(tracked, calls);
  switch (progress.state) {
    case "TokenMinted":
      return outcomes.minted();
    case "InProgress":
      return outcomes.inProgress(progress.update, progress.justStarted);
    case "Successful":
      return outcomes.succeeded(progress.update);
    case "Failed":
      return outcomes.failed(progress.update);
  }
}

/** An entry of status that follows an EKS update and retries it with backoff when it fails. */
export interface RetriedUpdate extends TrackedUpdate {
  state: StepState;
  nextAttemptAt?: string;
  message?: string;
}

export interface UpdateFailure {
  /** What failed, kept in the entry's message. */
  text: string;
  condition: ConditionTypeName;
  /** The condition's message, told when the next attempt is. */
  conditionMessage(nextAttemptAt: string): string;
  event: { reason: string; message: string };
  /** Why the pass waits, for the logs. */
  waiting: string;
}

/**
 * The one way a failed update is recorded: the entry is Failed with its message and the time of
 * the next attempt (backoff doubling per attempt), the condition and a Warning Event say what
 * failed, and the pass waits until the backoff is over (gateFailedRetry then starts again).
 */
export function recordUpdateFailure(context: StepContext, entry: RetriedUpdate, failure: UpdateFailure): StepResult {
  const backoff = failureBackoffMs(entry.attempts ?? 1, context.timings.failedUpdateBackoffMs, context.timings.failedUpdateMaxBackoffMs);
  entry.state = "Failed";
  entry.message = failure.text;
  entry.nextAttemptAt = new Date(context.now.getTime() + backoff).toISOString();
  context.setCondition(failure.condition, "False", Reason.HopFailed, failure.conditionMessage(entry.nextAttemptAt));
  context.event("Warning", failure.event.reason, failure.event.message);
  return waitFor(backoff, failure.waiting);
}

async function advanceTrackedUpdate(tracked: TrackedUpdate, calls: TrackedUpdateCalls): Promise<TrackedUpdateState> {
  if (!tracked.updateId && !tracked.clientRequestToken) {
    tracked.clientRequestToken = randomUUID();
    tracked.attempts = (tracked.attempts ?? 0) + 1;
    return { state: "TokenMinted" };
  }
  let justStarted = false;
  let update: UpdateInfo;
  if (!tracked.updateId) {
    update = await calls.start(tracked.clientRequestToken!);
    tracked.updateId = update.id;
    justStarted = true;
  } else {
    update = await calls.describe(tracked.updateId);
  }
  if (update.status === "Successful") return { state: "Successful", update };
  if (update.status === "Failed" || update.status === "Cancelled") {
    tracked.errors = update.errors;
    return { state: "Failed", update };
  }
  return { state: "InProgress", update, justStarted };
}

/** Forget a failed update so the next attempt mints a new token (EKS would replay the failed one). */
export function resetForRetry(tracked: TrackedUpdate): void {
  delete tracked.clientRequestToken;
  delete tracked.updateId;
}

export function describeUpdateErrors(errors: UpdateError[] | undefined): string {
  if (!errors?.length) return "EKS gave no error details";
  return errors
    .map((error) => `${error.errorCode}: ${error.errorMessage}${error.resourceIds?.length ? ` (${error.resourceIds.join(", ")})` : ""}`)
    .join("; ");
}

/** What a user can do about each EKS update error code (EKS API reference, ErrorDetail). */
export function remediationFor(errors: UpdateError[] | undefined): string {
  const codes = new Set((errors ?? []).map((error) => error.errorCode));
  const advice: string[] = [];
  if (codes.has("InsufficientFreeAddresses") || codes.has("IpNotAvailable"))
    advice.push("free IP addresses in the cluster's subnets (EKS needs at least 5 per subnet in two zones)");
  if (codes.has("SubnetNotFound")) advice.push("restore the subnets the cluster was created with, or update the cluster's VPC configuration");
  if (codes.has("SecurityGroupNotFound")) advice.push("restore the security groups the cluster was created with");
  if (codes.has("EniLimitReached")) advice.push("raise the ENI limit of the account or free network interfaces");
  if (codes.has("AccessDenied")) advice.push("give the cluster role the permissions EKS needs");
  if (codes.has("PodEvictionFailure")) advice.push("fix the PodDisruptionBudgets that block eviction, or allow a forced node group update");
  if (codes.has("NodeCreationFailure")) advice.push("check the node group's launch template, AMI and instance capacity");
  if (advice.length === 0) advice.push("read the EKS error above, fix its cause");
  return `${advice.join("; ")}; the operator retries by itself with backoff`;
}

/**
 * For an update that failed: a wait while its backoff runs; once it is over, the entry is reset
 * to Pending (a new token next time) and undefined is returned so the caller starts again.
 */
export function gateFailedRetry(entry: RetriedUpdate, now: Date, reason: string): StepResult | undefined {
  if (entry.state !== "Failed") return undefined;
  if (entry.nextAttemptAt && Date.parse(entry.nextAttemptAt) > now.getTime()) return waitFor(Date.parse(entry.nextAttemptAt) - now.getTime(), reason);
  resetForRetry(entry);
  entry.state = "Pending";
  delete entry.errors;
  return undefined;
}

export function failureBackoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}
