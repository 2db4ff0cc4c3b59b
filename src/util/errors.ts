/**
 * Typed errors shared by the cloud adapters, the Kubernetes helpers and the controllers.
 *
 * Callers branch on what went wrong, not on which SDK said it: a ThrottlingError from EKS and a
 * 429 from the API server are handled the same way. The classifiers below turn raw SDK errors
 * into these types; the original error always stays reachable through `cause`.
 *
 * The isX helpers look through the whole cause chain, so wrapping an error with context
 * (`new Error("describing nodegroup ng-1", { cause })`) does not hide what it is.
 */

export interface ErrorOptions {
  cause?: unknown;
}

/** Base of every classified error. `retryable` says whether retrying the same call may succeed. */
export class OperatorError extends Error {
  override readonly name: string = "OperatorError";
  readonly retryable: boolean = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Network failures and server-side faults (5xx): the same call may well succeed later. */
export class TransientError extends OperatorError {
  override readonly name: string = "TransientError";
  override readonly retryable: boolean = true;
}

/** The service asked us to slow down (AWS throttling codes, HTTP 429). */
export class ThrottlingError extends TransientError {
  override readonly name: string = "ThrottlingError";
  /** Delay the server asked for (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * The work was called off before it finished: leadership was lost, the reconcile passed its
 * deadline, or the operator is shutting down. Retryable: the key goes back to the work queue (of
 * whichever replica leads by then), and every step is idempotent.
 */
export class CancelledError extends TransientError {
  override readonly name: string = "CancelledError";
}

/** A single call got no answer within its timeout; the connection may be hung or the service slow. */
export class TimedOutError extends TransientError {
  override readonly name: string = "TimedOutError";
}

/** The thing addressed does not exist (any more). */
export class NotFoundError extends OperatorError {
  override readonly name: string = "NotFoundError";
}

/** The request is wrong and will stay wrong: bad parameters, an invalid object, a refused spec. */
export class ValidationError extends OperatorError {
  override readonly name: string = "ValidationError";
}

/**
 * Someone else changed the object first (stale resourceVersion) or the resource is busy with
 * another operation. The caller should re-read and requeue, not report a failure.
 */
export class ConflictError extends OperatorError {
  override readonly name: string = "ConflictError";
}

/** A create found the object already there (Kubernetes 409 AlreadyExists). */
export class AlreadyExistsError extends OperatorError {
  override readonly name: string = "AlreadyExistsError";
}

/** The caller is not allowed to do this (401/403, AWS AccessDenied): fixing needs a human. */
export class AccessDeniedError extends OperatorError {
  override readonly name: string = "AccessDeniedError";
}

/** A Kubernetes list or watch asked for a resourceVersion the server no longer has (410 Gone). */
export class ExpiredError extends OperatorError {
  override readonly name: string = "ExpiredError";
}

/** Nothing recognisable: not retried in place, it goes back to the work queue with backoff. */
export class UnknownError extends OperatorError {
  override readonly name: string = "UnknownError";
}

type ErrorClass<T extends Error> = abstract new (...args: never[]) => T;

/** Walks `err` and its causes (bounded, cycles ignored) and returns the first instance of `type`. */
export function findInCauseChain<T extends Error>(err: unknown, type: ErrorClass<T>): T | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth++) {
    if (current instanceof type) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

export function isTransient(err: unknown): boolean {
  return findInCauseChain(err, TransientError) !== undefined;
}

export function isThrottling(err: unknown): boolean {
  return findInCauseChain(err, ThrottlingError) !== undefined;
}

/** True for CancelledError anywhere in the cause chain: the caller must stop, not try the next call. */
export function isCancelled(err: unknown): boolean {
  return findInCauseChain(err, CancelledError) !== undefined;
}

export function isNotFound(err: unknown): boolean {
  return findInCauseChain(err, NotFoundError) !== undefined;
}

export function isValidation(err: unknown): boolean {
  return findInCauseChain(err, ValidationError) !== undefined;
}

export function isConflict(err: unknown): boolean {
  return findInCauseChain(err, ConflictError) !== undefined;
}

export function isAlreadyExists(err: unknown): boolean {
  return findInCauseChain(err, AlreadyExistsError) !== undefined;
}

/** Plain fields for structured logs: message, name and the cause chain (Error objects log as {}). */
export interface SerializedError {
  name: string;
  message: string;
  cause?: SerializedError;
}

/** Text for a thrown non-Error value (a string, a Status object from a watch, …). */
function stringifyThrown(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { name: typeof err, message: stringifyThrown(err) };
  const serialized: SerializedError = { name: err.name, message: err.message };
  if (err.cause !== undefined && depth < 5) serialized.cause = serializeError(err.cause, depth + 1);
  return serialized;
}

/** Message of `err` followed by the messages of its causes, for one-line summaries. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 10 && current !== undefined; depth++) {
    parts.push(current instanceof Error ? current.message : stringifyThrown(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}
