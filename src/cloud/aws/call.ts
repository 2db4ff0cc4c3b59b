// Every AWS call goes through here. Retries are not done here: the SDK client already retried
// throttling, 5xx and network failures (see client-config.ts), so another retry loop on top would
// multiply the sends per call and ignore Retry-After. What this adds:
// - the fence: once the current reconcile is cancelled (leadership lost, deadline, shutdown), no
//   call is sent at all, so a replica that lost the Lease sends nothing more to AWS;
// - the call's AbortSignal, handed to the SDK's send(): the reconcile's signal plus a timeout for
//   the whole call, retries and their back-off included (AWS_CALL_TIMEOUT_SECONDS). The SDK stops
//   its retry loop on an abort; each single attempt is also bounded by the request handler's own
//   requestTimeout (client-config.ts);
// - the typed error naming the call, so callers can branch with isNotFound() and friends; an
//   aborted call becomes a TimedOutError or CancelledError that says which call and why;
// - one warning when a retryable failure outlasted the SDK's attempts and goes back to the work
//   queue;
// - a count of every failed call by error class, for the metrics and the AWS-errors alert.
import { abortError, callSignal, throwIfCancelled } from "../../runtime/cancellation.js";
import { classifyAwsError } from "../../util/classify.js";
import { describeError, isCancelled, serializeError, type OperatorError } from "../../util/errors.js";
import type { Logger } from "../../util/logger.js";
import { awsCallTimeoutMs } from "./client-config.js";

let retryLogger: Logger | undefined;
let errorObserver: ((errorClass: string) => void) | undefined;

/** Lets main.ts route warnings about exhausted retries (which name the AWS call) to the operator's log. */
export function setAwsRetryLogger(logger: Logger): void {
  retryLogger = logger;
}

/** Lets main.ts count failed AWS calls (eksupgrade_aws_call_errors_total); cancelled calls are not failures. */
export function setAwsCallErrorObserver(observer: ((errorClass: string) => void) | undefined): void {
  errorObserver = observer;
}

/** What every adapter passes as the second argument of `client.send(command, options)`. */
export interface AwsCallOptions {
  abortSignal: AbortSignal;
}

export async function awsCall<T>(context: string, operation: (options: AwsCallOptions) => Promise<T>): Promise<T> {
  throwIfCancelled(context);
  const timeoutMs = awsCallTimeoutMs();
  const call = callSignal(timeoutMs);
  try {
    return await operation({ abortSignal: call.signal });
  } catch (err) {
    const typed: OperatorError = call.signal.aborted ? abortError(call.signal, context) : classifyAwsError(err, context);
    if (!isCancelled(typed)) errorObserver?.(typed.name);
    if (typed.retryable && retryLogger && !isCancelled(typed)) {
      const attempts = (err as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
      retryLogger.warn(`giving up on ${context} for this pass`, {
        call: context,
        ...(attempts !== undefined ? { attempts } : {}),
        error: serializeError(typed),
        reason: describeError(typed),
      });
    }
    throw typed;
  } finally {
    call.dispose();
  }
}
