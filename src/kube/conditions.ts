/**
 * Pure helpers for status conditions with the semantics of metav1.Condition:
 *
 * - lastTransitionTime changes only when `status` changes. A new reason, message or
 *   observedGeneration updates those fields and keeps the time, so "since when is this False"
 *   stays true.
 * - `reason` is CamelCase (a letter, then letters and digits), because tools and alerts match
 *   on it; a bad reason is a programming error and throws a ValidationError.
 * - Every known type is present from the first pass: ensureConditions() adds the missing ones
 *   as Unknown with reason "Pending" (and says so in the message) rather than leaving readers
 *   to guess whether a missing condition means "fine" or "not looked at yet".
 *
 * Functions never mutate their input; they return a new list (the same order, new types
 * appended), so a caller can compare before and after with conditionsEqual() and skip no-op
 * patches.
 */
import { ValidationError } from "../util/errors.js";

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  /** When the status last changed, not the message; RFC 3339 with second precision (as metav1.Time). */
  lastTransitionTime: string;
}

export type ConditionInput = Omit<Condition, "lastTransitionTime">;

/** Reason used by ensureConditions() for a condition not evaluated yet. */
export const PENDING_REASON = "Pending";
export const PENDING_MESSAGE = "not evaluated yet";

const CAMEL_CASE = /^[A-Z][A-Za-z0-9]*$/;
// metav1.Condition's type pattern: an optional DNS-subdomain prefix, then a qualified name.
const CONDITION_TYPE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const MAX_REASON_LENGTH = 1024;
const MAX_TYPE_LENGTH = 316;
/** The API server rejects longer messages; cut them rather than fail the whole status write. */
export const MAX_MESSAGE_LENGTH = 32_768;
const STATUSES: readonly ConditionStatus[] = ["True", "False", "Unknown"];

export function isCamelCaseReason(reason: string): boolean {
  return reason.length <= MAX_REASON_LENGTH && CAMEL_CASE.test(reason);
}

/** Throws a ValidationError naming the first invalid field of `input`. */
export function validateCondition(input: ConditionInput): void {
  if (input.type.length > MAX_TYPE_LENGTH || !CONDITION_TYPE.test(input.type)) {
    throw new ValidationError(`invalid condition type "${input.type}"`);
  }
  if (!STATUSES.includes(input.status)) {
    throw new ValidationError(`invalid status "${String(input.status)}" for condition ${input.type} (expected True, False or Unknown)`);
  }
  if (!isCamelCaseReason(input.reason)) {
    throw new ValidationError(`reason "${input.reason}" of condition ${input.type} is not CamelCase`);
  }
  if (input.observedGeneration !== undefined && (!Number.isInteger(input.observedGeneration) || input.observedGeneration < 0)) {
    throw new ValidationError(`invalid observedGeneration ${input.observedGeneration} for condition ${input.type}`);
  }
}

/** metav1.Time format: RFC 3339 in UTC without fractional seconds. */
export function formatConditionTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function truncateMessage(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...`;
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === "True";
}

export function isFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === "False";
}

/** True when the condition is Unknown or absent: both mean "not known". */
export function isUnknown(conditions: readonly Condition[] | undefined, type: string): boolean {
  const condition = getCondition(conditions, type);
  return condition === undefined || condition.status === "Unknown";
}

/**
 * Sets a condition, returning a new list. The existing entry keeps its position and its
 * lastTransitionTime unless the status changes; a new type is appended with `now`.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, now: Date): Condition[] {
  validateCondition(input);
  const list = conditions ?? [];
  const existing = getCondition(list, input.type);
  const next = buildCondition(existing, input, now);
  if (existing === undefined) return [...list, next];
  return list.map((condition) => (condition.type === input.type ? next : condition));
}

function buildCondition(existing: Condition | undefined, input: ConditionInput, now: Date): Condition {
  const transitioned = existing === undefined || existing.status !== input.status;
  const condition: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: truncateMessage(input.message),
    lastTransitionTime: transitioned ? formatConditionTime(now) : existing.lastTransitionTime,
  };
  const observedGeneration = input.observedGeneration ?? existing?.observedGeneration;
  if (observedGeneration !== undefined) condition.observedGeneration = observedGeneration;
  return condition;
}

/** Returns a new list without `type`. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}

/**
 * Adds every type of `knownTypes` that is missing as Unknown / "Pending". Existing conditions
 * are left untouched (including their order); missing ones are appended in `knownTypes` order.
 */
export function ensureConditions(
  conditions: readonly Condition[] | undefined,
  knownTypes: readonly string[],
  now: Date,
  observedGeneration?: number,
): Condition[] {
  let result = [...(conditions ?? [])];
  for (const type of knownTypes) {
    if (getCondition(result, type) !== undefined) continue;
    result = setCondition(result, { type, status: "Unknown", reason: PENDING_REASON, message: PENDING_MESSAGE, observedGeneration }, now);
  }
  return result;
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastTransitionTime === b.lastTransitionTime &&
    a.observedGeneration === b.observedGeneration
  );
}

/** True when both lists hold the same conditions, in any order: nothing to patch. */
export function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;
  return left.every((condition) => {
    const other = getCondition(right, condition.type);
    return other !== undefined && sameCondition(condition, other);
  });
}
