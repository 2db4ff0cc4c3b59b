/**
 * In-place retries for single calls that can fail transiently.
 *
 * Only errors the classifier marks retryable (throttling, 5xx, network) are retried, with
 * exponential backoff and jitter; everything else is thrown at once, already classified, so
 * the caller can branch with isNotFound() and friends. Failures that outlast the retries go
 * back to the work queue, whose own backoff takes over: retries here stay short (seconds), so
 * a reconcile never sits on one call for long.
 *
 * Not for AWS SDK calls: those clients retry by themselves (cloud/aws/client-config.ts) and
 * awsCall only classifies. This is for calls with no retry of their own, such as webhook posts.
 */
import pRetry, { AbortError } from "p-retry";
import { classifyError } from "./classify.js";
import { describeError, OperatorError, isThrottling, serializeError } from "./errors.js";
import { createSilentLogger, type Logger } from "./logger.js";

export interface RetryOptions {
  /** Retries after the first attempt. Default 4. */
  retries?: number;
  /** First delay; doubled each retry, then randomised by up to 2x. Default 200 ms. */
  minTimeoutMs?: number;
  /** Upper bound of a single delay. Default 5 s. */
  maxTimeoutMs?: number;
  /** Turns a raw error into a typed one. Default classifyError (AWS, Kubernetes, network). */
  classify?: (err: unknown, context?: string) => OperatorError;
  /** Receives one warning per retry, naming the call. */
  logger?: Logger;
  /** Stops retrying (rejects with the signal's reason) when aborted, e.g. on shutdown. */
  signal?: AbortSignal;
}

const DEFAULT_RETRIES = 4;
const DEFAULT_MIN_TIMEOUT_MS = 200;
const DEFAULT_MAX_TIMEOUT_MS = 5_000;

/**
 * Runs `operation`, retrying transient failures. `name` is a lowercase description of the call
 * ("describing nodegroup ng-1"); it prefixes the message of the typed error thrown.
 */
export async function withRetry<T>(name: string, operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const classify = options.classify ?? classifyError;
  const logger = options.logger ?? createSilentLogger();
  const attempt = async (): Promise<T> => {
    try {
      return await operation();
    } catch (err) {
      const typed = classify(err, name);
      // AbortError makes p-retry stop and reject with `typed` itself.
      if (!typed.retryable) throw new AbortError(typed);
      throw typed;
    }
  };
  return pRetry(attempt, {
    retries: options.retries ?? DEFAULT_RETRIES,
    minTimeout: options.minTimeoutMs ?? DEFAULT_MIN_TIMEOUT_MS,
    maxTimeout: options.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS,
    factor: 2,
    randomize: true,
    signal: options.signal,
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft <= 0) return;
      logger.warn(`retrying ${name}`, {
        call: name,
        attempt: attemptNumber,
        retriesLeft,
        throttled: isThrottling(error),
        error: serializeError(error),
        reason: describeError(error),
      });
    },
  });
}
