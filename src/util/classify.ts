/**
 * Maps raw errors from the AWS SDK v3, @kubernetes/client-node and Node's network stack to the
 * typed errors of ./errors.ts. Every classifier returns an OperatorError whose `cause` is the
 * original error; an error that is already an OperatorError is returned unchanged.
 *
 * Only what is certainly transient is marked retryable: retrying a validation error or a missing
 * resource wastes the API budget and delays the real fix.
 */
import { abortError, currentSignal, formatSeconds, kubeRequestTimeoutMs } from "../runtime/cancellation.js";
import {
  AccessDeniedError,
  AlreadyExistsError,
  ConflictError,
  ExpiredError,
  NotFoundError,
  OperatorError,
  ThrottlingError,
  TimedOutError,
  TransientError,
  UnknownError,
  ValidationError,
} from "./errors.js";

/** Socket-level failures worth another try. ENOTFOUND is left out: it is usually a wrong host. */
const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

const TRANSIENT_HTTP_STATUSES = new Set([500, 502, 503, 504]);

/**
 * Throttling error names across the AWS query and JSON protocols (EKS, EC2, Auto Scaling,
 * Route 53, CloudWatch). LimitExceededException is deliberately absent: EKS uses it for service
 * quotas, which no amount of retrying fixes.
 */
const AWS_THROTTLING_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "SlowDown",
  "PriorRequestNotComplete",
  "ResourceContention",
]);

const AWS_TRANSIENT_NAMES = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalFailure",
  "InternalError",
  "InternalServerError",
  "InternalServerException",
  "ServerException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "ServiceFailure",
]);

const AWS_ACCESS_DENIED_NAMES = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "UnauthorizedException",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "ExpiredToken",
  "ExpiredTokenException",
  "AuthFailure",
  "SignatureDoesNotMatch",
]);

const AWS_CONFLICT_NAMES = new Set([
  "ResourceInUseException",
  "ConflictException",
  "ConcurrentModification",
  "ConcurrentModificationException",
  "InvalidChangeBatch",
]);

const AWS_VALIDATION_NAMES = new Set([
  "InvalidParameterException",
  "InvalidParameterValue",
  "InvalidParameterCombination",
  "InvalidRequestException",
  "InvalidRequest",
  "InvalidInput",
  "MissingParameter",
  "ValidationError",
  "ValidationException",
  "BadRequestException",
  "UnsupportedAvailabilityZoneException",
]);

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

function withContext(context: string | undefined, detail: string): string {
  return context ? `${context}: ${detail}` : detail;
}

/** The network error code of `err` or of one of its causes (fetch wraps socket errors). */
export function networkErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 10; depth++) {
    const record = asRecord(current);
    if (record === undefined) return undefined;
    for (const field of ["code", "errno"]) {
      const value = record[field];
      if (typeof value === "string" && TRANSIENT_NETWORK_CODES.has(value)) return value;
    }
    current = record.cause;
  }
  return undefined;
}

/** Classifies socket errors; anything else becomes UnknownError. */
export function classifyNetworkError(err: unknown, context?: string): OperatorError {
  if (err instanceof OperatorError) return err;
  const code = networkErrorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code !== undefined) return new TransientError(withContext(context, `${code}: ${message}`), { cause: err });
  return new UnknownError(withContext(context, message), { cause: err });
}

interface AwsErrorShape {
  name: string;
  message: string;
  httpStatusCode: number | undefined;
  retryable: { throttling: boolean } | undefined;
  fault: string | undefined;
}

function readAwsError(err: unknown): AwsErrorShape {
  const record = asRecord(err) ?? {};
  const metadata = asRecord(record.$metadata);
  const retryable = asRecord(record.$retryable);
  const status = metadata?.httpStatusCode;
  return {
    name: typeof record.name === "string" ? record.name : "Error",
    message: typeof record.message === "string" ? record.message : String(err),
    httpStatusCode: typeof status === "number" ? status : undefined,
    retryable: retryable ? { throttling: retryable.throttling === true } : undefined,
    fault: typeof record.$fault === "string" ? record.$fault : undefined,
  };
}

/**
 * True when `err` or one of its causes is the AWS error `name`. Classification folds several AWS
 * names into one type (ResourceInUseException and ConflictException both become ConflictError);
 * an adapter that must tell them apart asks for the name.
 */
export function hasAwsErrorName(err: unknown, name: string): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth++) {
    if (readAwsError(current).name === name) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

function isAwsNotFoundName(name: string): boolean {
  // ResourceNotFoundException, NotFoundException, InvalidInstanceID.NotFound, NoSuchHostedZone…
  return /NotFound(Exception)?$/.test(name) || name.startsWith("NoSuch");
}

/**
 * Classifies an AWS SDK v3 error by its name, `$retryable` and `$metadata.httpStatusCode`,
 * in this order: throttling, transient, not found, access denied, conflict, validation.
 */
export function classifyAwsError(err: unknown, context?: string): OperatorError {
  if (err instanceof OperatorError) return err;
  if (networkErrorCode(err) !== undefined) return classifyNetworkError(err, context);
  const aws = readAwsError(err);
  const message = withContext(context, `${aws.name}: ${aws.message}`);
  const status = aws.httpStatusCode;
  const options = { cause: err };
  if (aws.retryable?.throttling || AWS_THROTTLING_NAMES.has(aws.name) || status === 429) {
    return new ThrottlingError(message, options);
  }
  if (aws.retryable || AWS_TRANSIENT_NAMES.has(aws.name) || (status !== undefined && TRANSIENT_HTTP_STATUSES.has(status))) {
    return new TransientError(message, options);
  }
  if (isAwsNotFoundName(aws.name) || status === 404) return new NotFoundError(message, options);
  if (AWS_ACCESS_DENIED_NAMES.has(aws.name) || status === 401 || status === 403) {
    return new AccessDeniedError(message, options);
  }
  if (AWS_CONFLICT_NAMES.has(aws.name) || status === 409) return new ConflictError(message, options);
  if (AWS_VALIDATION_NAMES.has(aws.name) || status === 400) return new ValidationError(message, options);
  return new UnknownError(message, options);
}

interface KubeErrorShape {
  statusCode: number | undefined;
  reason: string | undefined;
  message: string;
  retryAfterSeconds: number | undefined;
}

function parseBody(body: unknown): Record<string, unknown> | undefined {
  if (typeof body === "string") {
    try {
      return asRecord(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return asRecord(body);
}

function readRetryAfter(headers: unknown): number | undefined {
  const record = asRecord(headers);
  const value = record?.["retry-after"] ?? record?.["Retry-After"];
  const seconds = typeof value === "string" ? Number(value) : typeof value === "number" ? value : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/**
 * Reads the HTTP status and the Status body of an ApiException (`code`), of a watch failure
 * (`statusCode`) or of a Status object delivered as a watch ERROR event (`code` with `reason`).
 */
export function readKubeError(err: unknown): KubeErrorShape {
  const record = asRecord(err) ?? {};
  const code = typeof record.code === "number" ? record.code : undefined;
  const statusCode = code ?? (typeof record.statusCode === "number" ? record.statusCode : undefined);
  const body = parseBody(record.body) ?? (record.kind === "Status" ? record : undefined);
  const bodyMessage = typeof body?.message === "string" ? body.message : undefined;
  const fallbackMessage = typeof record.message === "string" ? record.message.split("\n")[0] : String(err);
  return {
    statusCode,
    reason: typeof body?.reason === "string" ? body.reason : undefined,
    message: bodyMessage ?? fallbackMessage,
    retryAfterSeconds: readRetryAfter(record.headers),
  };
}

function describeKubeError(kube: KubeErrorShape): string {
  const prefix = [kube.statusCode, kube.reason].filter((part) => part !== undefined).join(" ");
  return prefix ? `${prefix}: ${kube.message}` : kube.message;
}

function isAbortError(err: unknown): boolean {
  return asRecord(err)?.name === "AbortError";
}

/**
 * A Kubernetes request aborted by its signal (see CancellableKubeConfig): the fetch library drops
 * the signal's reason, so it is read back from the current signal, which is the reconcile's (or
 * the Lease attempt's). When that has not fired, only the request timeout can have.
 */
function classifyKubeAbort(err: unknown, context: string | undefined): OperatorError {
  const signal = currentSignal();
  if (signal?.aborted) return abortError(signal, context ?? "Kubernetes request");
  return new TimedOutError(withContext(context, `no answer from the API server within ${formatSeconds(kubeRequestTimeoutMs())} (KUBE_REQUEST_TIMEOUT_SECONDS)`), { cause: err });
}

/** Classifies an error from @kubernetes/client-node by HTTP status and Status reason. */
export function classifyKubeError(err: unknown, context?: string): OperatorError {
  if (err instanceof OperatorError) return err;
  if (isAbortError(err)) return classifyKubeAbort(err, context);
  if (networkErrorCode(err) !== undefined) return classifyNetworkError(err, context);
  const kube = readKubeError(err);
  const status = kube.statusCode;
  const message = withContext(context, describeKubeError(kube));
  const options = { cause: err };
  switch (status) {
    case 404:
      return new NotFoundError(message, options);
    case 409:
      return kube.reason === "AlreadyExists" ? new AlreadyExistsError(message, options) : new ConflictError(message, options);
    case 410:
      return new ExpiredError(message, options);
    case 400:
    case 422:
      return new ValidationError(message, options);
    case 401:
    case 403:
      return new AccessDeniedError(message, options);
    case 429: {
      const retryAfterMs = kube.retryAfterSeconds === undefined ? undefined : kube.retryAfterSeconds * 1000;
      return new ThrottlingError(message, { ...options, retryAfterMs });
    }
  }
  if (status !== undefined && TRANSIENT_HTTP_STATUSES.has(status)) return new TransientError(message, options);
  return new UnknownError(message, options);
}

function looksLikeAwsError(err: unknown): boolean {
  const record = asRecord(err);
  return record !== undefined && ("$metadata" in record || "$fault" in record);
}

function looksLikeKubeError(err: unknown): boolean {
  const record = asRecord(err);
  return record !== undefined && (typeof record.code === "number" || typeof record.statusCode === "number");
}

/** Picks the classifier from the error's shape: AWS, Kubernetes, then plain network errors. */
export function classifyError(err: unknown, context?: string): OperatorError {
  if (err instanceof OperatorError) return err;
  if (isAbortError(err)) {
    const signal = currentSignal();
    return signal?.aborted ? abortError(signal, context ?? "request") : new TimedOutError(withContext(context, "request aborted before an answer came"), { cause: err });
  }
  if (looksLikeAwsError(err)) return classifyAwsError(err, context);
  if (looksLikeKubeError(err)) return classifyKubeError(err, context);
  return classifyNetworkError(err, context);
}
