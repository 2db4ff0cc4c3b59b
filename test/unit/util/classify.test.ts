import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { classifyAwsError, classifyError, classifyKubeError, networkErrorCode } from "../../../src/util/classify.js";
import {
  AccessDeniedError,
  AlreadyExistsError,
  ConflictError,
  ExpiredError,
  NotFoundError,
  ThrottlingError,
  TransientError,
  UnknownError,
  ValidationError,
  describeError,
  isConflict,
  isNotFound,
  isTransient,
  serializeError,
} from "../../../src/util/errors.js";

/** Shaped like an AWS SDK v3 ServiceException. */
function awsError(name: string, status: number, extra: Record<string, unknown> = {}): Error {
  const error = new Error(`${name} happened`);
  Object.assign(error, { name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status }, ...extra });
  return error;
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code });
}

function kubeError(code: number, reason: string, headers: Record<string, string> = {}): k8s.ApiException<unknown> {
  const body = JSON.stringify({ kind: "Status", reason, message: `the thing: ${reason}`, code });
  return new k8s.ApiException(code, `HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ${body}`, body, headers);
}

describe("classifyAwsError", () => {
  const cases: Array<[string, Error, new (...args: never[]) => Error]> = [
    ["EKS ThrottlingException", awsError("ThrottlingException", 400), ThrottlingError],
    ["EC2 RequestLimitExceeded", awsError("RequestLimitExceeded", 503), ThrottlingError],
    ["Auto Scaling Throttling", awsError("Throttling", 400), ThrottlingError],
    ["a modelled retryable throttle", awsError("SomethingNew", 400, { $retryable: { throttling: true } }), ThrottlingError],
    ["HTTP 429", awsError("Whatever", 429), ThrottlingError],
    ["EKS ServerException", awsError("ServerException", 500), TransientError],
    ["a 503 of unknown name", awsError("Unnamed", 503), TransientError],
    ["SDK TimeoutError", awsError("TimeoutError", 0), TransientError],
    ["EKS ResourceNotFoundException", awsError("ResourceNotFoundException", 404), NotFoundError],
    ["EC2 InvalidInstanceID.NotFound", awsError("InvalidInstanceID.NotFound", 400), NotFoundError],
    ["Route 53 NoSuchHostedZone", awsError("NoSuchHostedZone", 404), NotFoundError],
    ["EKS InvalidParameterException", awsError("InvalidParameterException", 400), ValidationError],
    ["EKS InvalidRequestException", awsError("InvalidRequestException", 400), ValidationError],
    ["an unnamed 400", awsError("SomethingOdd", 400), ValidationError],
    ["EKS ResourceInUseException", awsError("ResourceInUseException", 409), ConflictError],
    ["AccessDeniedException", awsError("AccessDeniedException", 403), AccessDeniedError],
    ["EC2 UnauthorizedOperation", awsError("UnauthorizedOperation", 400), AccessDeniedError],
    ["EKS quota LimitExceededException", awsError("LimitExceededException", 400), ValidationError],
    ["ECONNRESET from the socket", networkError("ECONNRESET"), TransientError],
  ];
  for (const [label, raw, expected] of cases) {
    it(`maps ${label} to ${expected.name}`, () => {
      const typed = classifyAwsError(raw, "describing nodegroup ng-1");
      assert.ok(typed instanceof expected, `got ${typed.name}`);
      assert.equal(typed.cause, raw);
      assert.match(typed.message, /^describing nodegroup ng-1: /);
    });
  }

  it("marks only throttling and transient errors retryable", () => {
    assert.equal(classifyAwsError(awsError("ThrottlingException", 400)).retryable, true);
    assert.equal(classifyAwsError(awsError("ServerException", 500)).retryable, true);
    assert.equal(classifyAwsError(awsError("ResourceNotFoundException", 404)).retryable, false);
    assert.equal(classifyAwsError(awsError("InvalidParameterException", 400)).retryable, false);
  });

  it("leaves an already typed error alone", () => {
    const typed = new NotFoundError("cluster prod not found");
    assert.equal(classifyAwsError(typed), typed);
  });
});

describe("classifyKubeError", () => {
  it("maps API statuses to typed errors, reading the Status body", () => {
    assert.ok(classifyKubeError(kubeError(404, "NotFound")) instanceof NotFoundError);
    assert.ok(classifyKubeError(kubeError(409, "Conflict")) instanceof ConflictError);
    assert.ok(classifyKubeError(kubeError(409, "AlreadyExists")) instanceof AlreadyExistsError);
    assert.ok(classifyKubeError(kubeError(410, "Expired")) instanceof ExpiredError);
    assert.ok(classifyKubeError(kubeError(422, "Invalid")) instanceof ValidationError);
    assert.ok(classifyKubeError(kubeError(400, "BadRequest")) instanceof ValidationError);
    assert.ok(classifyKubeError(kubeError(403, "Forbidden")) instanceof AccessDeniedError);
    assert.ok(classifyKubeError(kubeError(500, "InternalError")) instanceof TransientError);
    assert.ok(classifyKubeError(kubeError(503, "ServiceUnavailable")) instanceof TransientError);
    assert.ok(classifyKubeError(kubeError(418, "Teapot")) instanceof UnknownError);
  });

  it("keeps the server's message, not the client's multi-line dump", () => {
    const typed = classifyKubeError(kubeError(409, "Conflict"), "updating status of clusterupgrades.eksupgrade.io team/prod");
    assert.equal(typed.message, "updating status of clusterupgrades.eksupgrade.io team/prod: 409 Conflict: the thing: Conflict");
  });

  it("reads Retry-After on 429", () => {
    const typed = classifyKubeError(kubeError(429, "TooManyRequests", { "retry-after": "3" }));
    assert.ok(typed instanceof ThrottlingError);
    assert.equal(typed.retryAfterMs, 3_000);
  });

  it("classifies watch failures by statusCode", () => {
    const watchFailure = Object.assign(new Error("Gone"), { statusCode: 410 });
    assert.ok(classifyKubeError(watchFailure) instanceof ExpiredError);
  });

  it("classifies connection failures as transient", () => {
    const fetchFailure = new TypeError("fetch failed", { cause: networkError("ECONNREFUSED") });
    assert.ok(classifyKubeError(fetchFailure) instanceof TransientError);
  });
});

describe("classifyError", () => {
  it("dispatches on the error's shape", () => {
    assert.ok(classifyError(awsError("ThrottlingException", 400)) instanceof ThrottlingError);
    assert.ok(classifyError(kubeError(404, "NotFound")) instanceof NotFoundError);
    assert.ok(classifyError(networkError("ETIMEDOUT")) instanceof TransientError);
    assert.ok(classifyError(new Error("boom")) instanceof UnknownError);
  });

  it("does not treat a wrong host name as transient", () => {
    assert.ok(classifyError(networkError("ENOTFOUND")) instanceof UnknownError);
    assert.equal(networkErrorCode(networkError("ENOTFOUND")), undefined);
  });
});

describe("isX helpers and error formatting", () => {
  it("find a typed error anywhere in the cause chain", () => {
    const wrapped = new Error("reconciling team/prod", { cause: new Error("reading cluster", { cause: new NotFoundError("no cluster") }) });
    assert.equal(isNotFound(wrapped), true);
    assert.equal(isConflict(wrapped), false);
    assert.equal(isTransient(new ThrottlingError("slow down")), true, "throttling is a kind of transient");
  });

  it("describe and serialize the whole chain", () => {
    const error = new Error("describing nodegroup ng-1", { cause: new ValidationError("bad version") });
    assert.equal(describeError(error), "describing nodegroup ng-1: bad version");
    assert.deepEqual(serializeError(error), {
      name: "Error",
      message: "describing nodegroup ng-1",
      cause: { name: "ValidationError", message: "bad version" },
    });
    assert.equal(describeError({ code: 410 }), '{"code":410}');
  });
});
