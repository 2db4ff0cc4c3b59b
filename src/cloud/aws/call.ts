// Every AWS call goes through here. Retries are not done here: the SDK client already retried
// throttling, 5xx and network failures (see client-config.ts), so another retry loop on top would
// multiply the sends per call and ignore Retry-After. What this adds is the typed error naming the
// call, so callers can branch with isNotFound() and friends, and one warning when a retryable
// failure outlasted the SDK's attempts and goes back to the work queue.
import { classifyAwsError } from "../../util/classify.js";
import { describeError, serializeError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";

let retryLogger: Logger | undefined;

/** Lets main.ts route warnings about exhausted retries (which name the AWS call) to the operator's log. */
export function setAwsRetryLogger(logger: Logger): void {
  retryLogger = logger;
}

export async function awsCall<T>(context: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    const typed = classifyAwsError(err, context);
    if (typed.retryable && retryLogger) {
      const attempts = (err as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
      retryLogger.warn(`giving up on ${context} for this pass`, {
        call: context,
        ...(attempts !== undefined ? { attempts } : {}),
        error: serializeError(typed),
        reason: describeError(typed),
      });
    }
    throw typed;
  }
}
