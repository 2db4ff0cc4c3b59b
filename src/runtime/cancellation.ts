/**
 * The cancellation context of a reconcile: one AbortSignal per reconcile, carried to every
 * outbound call without being passed through the ports.
 *
 * The manager runs each reconcile inside runWithSignal(); the AWS call wrapper (awsCall), the
 * Kubernetes client hook (CancellableKubeConfig) and the webhook sender read currentSignal() and
 * hand it to their SDK. Why AsyncLocalStorage rather than a parameter on every port method
 * (docs/adr/0009-cancellation.md): the ports have about sixty methods, used by steps that must not
 * care about cancellation at all, and a parameter that one forgotten call site drops fails
 * silently, while the ambient signal reaches every call made in the reconcile's async context,
 * including ones written later. The signal is read only at the edges, where calls leave the
 * process.
 *
 * Calls made outside any reconcile (informer lists, Lease renewals, startup) see no reconcile
 * signal and are bounded by their own timeouts alone.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { CancelledError, OperatorError, TimedOutError } from "../util/errors.js";

const storage = new AsyncLocalStorage<AbortSignal>();

/** Runs `work` with `signal` as the current signal of every call it makes, awaited or not. */
export function runWithSignal<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return storage.run(signal, work);
}

/** The signal of the reconcile (or Lease attempt) this code runs in, if any. */
export function currentSignal(): AbortSignal | undefined {
  return storage.getStore();
}

/**
 * The error to throw for a call cut short by `signal`: its reason when that is one of ours
 * (CancelledError, TimedOutError), prefixed with what was being done; a generic CancelledError
 * otherwise.
 */
export function abortError(signal: AbortSignal, context: string): OperatorError {
  const reason: unknown = signal.reason;
  if (reason instanceof TimedOutError) return new TimedOutError(`${context}: ${reason.message}`, { cause: reason });
  if (reason instanceof OperatorError) return new CancelledError(`${context}: ${reason.message}`, { cause: reason });
  return new CancelledError(`${context}: cancelled`, { cause: reason });
}

/**
 * The fence: throws when the current reconcile has been cancelled, so that no further call (in
 * particular no mutating one) leaves the process after leadership is lost.
 */
export function throwIfCancelled(context: string): void {
  const signal = currentSignal();
  if (signal?.aborted) throw abortError(signal, context);
}

/** A signal for one outbound call: the current signal, plus a timeout. dispose() clears the timer. */
export interface CallSignal {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * Combines the current signal with a timeout of `timeoutMs` whose reason reads "timed out after
 * N s". The timer is unref'd: a pending call timeout never keeps the process alive on its own.
 */
export function callSignal(timeoutMs: number, parent: AbortSignal | undefined = currentSignal()): CallSignal {
  const timeout = new AbortController();
  const handle = setTimeout(() => timeout.abort(new TimedOutError(`timed out after ${formatSeconds(timeoutMs)}`)), timeoutMs);
  handle.unref();
  const signal = parent === undefined ? timeout.signal : AbortSignal.any([parent, timeout.signal]);
  return { signal, dispose: () => clearTimeout(handle) };
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Why the manager aborts a reconcile; the messages end up in logs and in the typed errors. */
export const CANCEL_REASONS = {
  leadershipLost: () => new CancelledError("cancelled: leadership lost"),
  shutdown: (timeoutMs: number) => new CancelledError(`cancelled: shutdown did not finish within ${formatSeconds(timeoutMs)}`),
  deadline: (timeoutMs: number) => new TimedOutError(`reconcile cancelled after its deadline of ${formatSeconds(timeoutMs)}`),
} as const;

/** One request to a Kubernetes API server, unless KUBE_REQUEST_TIMEOUT_SECONDS says otherwise. */
export const DEFAULT_KUBE_REQUEST_TIMEOUT_MS = 30_000;

/**
 * KUBE_REQUEST_TIMEOUT_SECONDS: the longest one Kubernetes API request may take (watches excepted).
 * Read here rather than in src/kube because the error classifier names it in its messages.
 */
export function kubeRequestTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  return timeoutSetting("KUBE_REQUEST_TIMEOUT_SECONDS", env.KUBE_REQUEST_TIMEOUT_SECONDS, DEFAULT_KUBE_REQUEST_TIMEOUT_MS);
}

/**
 * Reads a timeout setting given in seconds (`value` is the variable `name`'s): unset or empty gives
 * the default; anything but a positive number stops startup with a message naming the variable.
 */
/**
 * Reads a count setting (`value` is the variable `name`'s): unset or empty gives the default;
 * anything but a whole number from `min` to `max` stops startup with a message naming the
 * variable and, in `meaning`, what it counts.
 */
export function countSetting(name: string, value: string | undefined, fallback: number, min: number, max: number, meaning: string): number {
  const raw = value?.trim();
  if (raw === undefined || raw === "") return fallback;
  const count = Number(raw);
  if (!Number.isInteger(count) || count < min || count > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max} (${meaning}), got "${raw}"; unset it to use ${fallback}`);
  }
  return count;
}

export function timeoutSetting(name: string, value: string | undefined, defaultMs: number, maxSeconds = 3600): number {
  const raw = value?.trim();
  if (raw === undefined || raw === "") return defaultMs;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > maxSeconds) {
    throw new Error(`${name} must be a number of seconds greater than 0 and at most ${maxSeconds}, got "${raw}"; unset it to use ${formatSeconds(defaultMs)}`);
  }
  return seconds * 1000;
}
