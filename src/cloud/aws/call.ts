// Every AWS call goes through here: transient failures (throttling, 5xx, network) are retried in
// place with backoff, everything else is thrown at once as a typed error naming the call.
import { classifyAwsError } from "../../util/classify.js";
import type { Logger } from "../../util/logger.js";
import { withRetry } from "../../util/retry.js";

let retryLogger: Logger | undefined;

/** Lets main.ts route retry warnings (which name the AWS call) to the operator's log. */
export function setAwsRetryLogger(logger: Logger): void {
  retryLogger = logger;
}

export function awsCall<T>(context: string, operation: () => Promise<T>): Promise<T> {
  return withRetry(context, operation, { classify: classifyAwsError, ...(retryLogger ? { logger: retryLogger } : {}) });
}
