// The one place AWS SDK clients get their retry behaviour. Retrying lives in the SDK alone: its
// standard strategy backs off with jitter, keeps a retry quota so a throttled account is not
// hammered, and waits at least as long as a Retry-After / x-amz-retry-after answer asks (the SDK
// caps that wait at its own backoff plus 5 s; longer pauses are left to the work queue, which
// requeues the reconcile). awsCall adds no retries on top, so one call costs at most maxAttempts
// sends.

/** Sends per AWS call, first one included, unless AWS_MAX_ATTEMPTS says otherwise. */
export const DEFAULT_AWS_MAX_ATTEMPTS = 5;

export type AwsRetryMode = "standard" | "adaptive";

export interface AwsClientConfig {
  region: string;
  maxAttempts: number;
  retryMode: AwsRetryMode;
}

type Env = Record<string, string | undefined>;

/**
 * AWS_MAX_ATTEMPTS and AWS_RETRY_MODE are the SDK's own settings; they are read here so the
 * operator's default (5 attempts, standard mode) applies when they are unset, and a bad value
 * stops startup with a message instead of being ignored.
 */
export function awsClientConfig(region: string, env: Env = process.env): AwsClientConfig {
  return { region, maxAttempts: awsMaxAttempts(env), retryMode: awsRetryMode(env) };
}

export function awsMaxAttempts(env: Env = process.env): number {
  const raw = env.AWS_MAX_ATTEMPTS?.trim();
  if (raw === undefined || raw === "") return DEFAULT_AWS_MAX_ATTEMPTS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 20) {
    throw new Error(`AWS_MAX_ATTEMPTS must be a whole number from 1 to 20 (sends per AWS call, first one included), got "${raw}"; unset it to use ${DEFAULT_AWS_MAX_ATTEMPTS}`);
  }
  return value;
}

export function awsRetryMode(env: Env = process.env): AwsRetryMode {
  const raw = env.AWS_RETRY_MODE?.trim();
  if (raw === undefined || raw === "") return "standard";
  if (raw === "standard" || raw === "adaptive") return raw;
  throw new Error(`AWS_RETRY_MODE must be "standard" or "adaptive", got "${raw}"; unset it to use "standard"`);
}
