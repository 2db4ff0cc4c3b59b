// The one place AWS SDK clients get their retry behaviour. Retrying lives in the SDK alone: its
// standard strategy backs off with jitter, keeps a retry quota so a throttled account is not
// hammered, and waits at least as long as a Retry-After / x-amz-retry-after answer asks (the SDK
// caps that wait at its own backoff plus 5 s; longer pauses are left to the work queue, which
// requeues the reconcile). awsCall adds no retries on top, so one call costs at most maxAttempts
// sends.
//
// Timeouts, so that a hung connection costs a bounded time instead of stalling the work queue:
// each attempt is bounded by the SDK's own request handler (connectionTimeout, and requestTimeout
// with throwOnRequestTimeout, without which the handler only logs a warning); its TimeoutError is
// one the SDK retries on a new connection. awsCall bounds the whole call, retries included.

import { countSetting, timeoutSetting } from "../../runtime/cancellation.js";

/** Sends per AWS call, first one included, unless AWS_MAX_ATTEMPTS says otherwise. */
export const DEFAULT_AWS_MAX_ATTEMPTS = 5;

/**
 * One attempt (one HTTP request) of an AWS call, unless AWS_REQUEST_TIMEOUT_SECONDS says otherwise.
 * The SDK applies it as the socket's idle time, so a large answer still arriving is not cut; 10 s
 * of silence is far beyond what the EKS, EC2, Auto Scaling and Route53 APIs take to answer, and
 * a hung connection then costs one retry, not a stalled upgrade.
 */
export const DEFAULT_AWS_REQUEST_TIMEOUT_MS = 10_000;
/** A whole AWS call, retries included, unless AWS_CALL_TIMEOUT_SECONDS says otherwise. */
export const DEFAULT_AWS_CALL_TIMEOUT_MS = 60_000;
/** Opening a TCP/TLS connection; never longer than the request timeout. */
const AWS_CONNECTION_TIMEOUT_MS = 5_000;

export type AwsRetryMode = "standard" | "adaptive";

/** The options the SDK's Node request handler is built from (NodeHttpHandler.create). */
export interface AwsRequestHandlerOptions {
  connectionTimeout: number;
  requestTimeout: number;
  throwOnRequestTimeout: true;
}

export interface AwsClientConfig {
  region: string;
  maxAttempts: number;
  retryMode: AwsRetryMode;
  requestHandler: AwsRequestHandlerOptions;
}

type Env = Record<string, string | undefined>;

/**
 * AWS_MAX_ATTEMPTS and AWS_RETRY_MODE are the SDK's own settings; they are read here so the
 * operator's default (5 attempts, standard mode) applies when they are unset, and a bad value
 * stops startup with a message instead of being ignored.
 */
export function awsClientConfig(region: string, env: Env = process.env): AwsClientConfig {
  const requestTimeout = awsRequestTimeoutMs(env);
  return {
    region,
    maxAttempts: awsMaxAttempts(env),
    retryMode: awsRetryMode(env),
    requestHandler: { connectionTimeout: Math.min(AWS_CONNECTION_TIMEOUT_MS, requestTimeout), requestTimeout, throwOnRequestTimeout: true },
  };
}

/** AWS_REQUEST_TIMEOUT_SECONDS: the longest one HTTP request to AWS may take before it is retried. */
export function awsRequestTimeoutMs(env: Env = process.env): number {
  return timeoutSetting("AWS_REQUEST_TIMEOUT_SECONDS", env.AWS_REQUEST_TIMEOUT_SECONDS, DEFAULT_AWS_REQUEST_TIMEOUT_MS);
}

/** AWS_CALL_TIMEOUT_SECONDS: the longest one AWS call may take, all its attempts included. */
export function awsCallTimeoutMs(env: Env = process.env): number {
  return timeoutSetting("AWS_CALL_TIMEOUT_SECONDS", env.AWS_CALL_TIMEOUT_SECONDS, DEFAULT_AWS_CALL_TIMEOUT_MS);
}

export function awsMaxAttempts(env: Env = process.env): number {
  return countSetting("AWS_MAX_ATTEMPTS", env.AWS_MAX_ATTEMPTS, DEFAULT_AWS_MAX_ATTEMPTS, 1, 20, "sends per AWS call, first one included");
}

export function awsRetryMode(env: Env = process.env): AwsRetryMode {
  const raw = env.AWS_RETRY_MODE?.trim();
  if (raw === undefined || raw === "") return "standard";
  if (raw === "standard" || raw === "adaptive") return raw;
  throw new Error(`AWS_RETRY_MODE must be "standard" or "adaptive", got "${raw}"; unset it to use "standard"`);
}
