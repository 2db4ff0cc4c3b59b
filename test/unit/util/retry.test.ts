import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { classifyAwsError } from "../../../src/util/classify.js";
import { NotFoundError, ThrottlingError, TransientError, ValidationError, isNotFound } from "../../../src/util/errors.js";
import { createLogger } from "../../../src/util/logger.js";
import { withRetry } from "../../../src/util/retry.js";

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

/** An operation that throws the given errors in turn, then returns "ok". */
function failingThen(errors: Error[]): { operation: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    operation: () => {
      const error = errors[calls++];
      return error === undefined ? Promise.resolve("ok") : Promise.reject(error);
    },
    calls: () => calls,
  };
}

function captureLogs(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  const logger = createLogger({ stream, level: "debug" });
  const lines = (): Array<Record<string, unknown>> =>
    chunks.join("").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

const fast = { minTimeoutMs: 1, maxTimeoutMs: 2 };

describe("withRetry", () => {
  it("retries throttling, 5xx and network errors until the call succeeds", async () => {
    const { operation, calls } = failingThen([
      awsError("ThrottlingException", 400),
      awsError("ServiceUnavailableException", 503),
      Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    ]);
    assert.equal(await withRetry("describing cluster prod", operation, fast), "ok");
    assert.equal(calls(), 4);
  });

  it("aborts at once on a validation error, thrown typed with the call name", async () => {
    const { operation, calls } = failingThen([awsError("InvalidParameterException", 400)]);
    await assert.rejects(withRetry("updating cluster version", operation, fast), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /^updating cluster version: InvalidParameterException/);
      return true;
    });
    assert.equal(calls(), 1);
  });

  it("aborts at once on NotFound", async () => {
    const { operation, calls } = failingThen([awsError("ResourceNotFoundException", 404)]);
    await assert.rejects(withRetry("describing nodegroup ng-1", operation, fast), (error: unknown) => isNotFound(error));
    assert.equal(calls(), 1);
  });

  it("gives up after the configured retries with the last typed error", async () => {
    const throttle = awsError("ThrottlingException", 400);
    const { operation, calls } = failingThen([throttle, throttle, throttle, throttle]);
    await assert.rejects(withRetry("listing addons", operation, { ...fast, retries: 2 }), ThrottlingError);
    assert.equal(calls(), 3);
  });

  it("uses the classifier it is given", async () => {
    const { operation, calls } = failingThen([new Error("custom flake"), new Error("custom flake")]);
    const classify = (err: unknown, context?: string): TransientError => new TransientError(`${context}: flaky`, { cause: err });
    assert.equal(await withRetry("calling custom", operation, { ...fast, classify }), "ok");
    assert.equal(calls(), 3);
  });

  it("passes already typed errors through the AWS classifier unchanged", async () => {
    const typed = new NotFoundError("nodegroup ng-1 not found");
    const { operation } = failingThen([typed]);
    await assert.rejects(withRetry("describing nodegroup ng-1", operation, { ...fast, classify: classifyAwsError }), (error) => error === typed);
  });

  it("logs each retry with the call name", async () => {
    const { logger, lines } = captureLogs();
    const { operation } = failingThen([awsError("ThrottlingException", 400), awsError("ThrottlingException", 400)]);
    await withRetry("describing update u-1", operation, { ...fast, logger });
    await new Promise((resolve) => setImmediate(resolve));
    const retries = lines().filter((line) => line.message === "retrying describing update u-1");
    assert.equal(retries.length, 2);
    assert.equal(retries[0].call, "describing update u-1");
    assert.equal(retries[0].throttled, true);
    assert.equal(retries[0].level, "warn");
  });
});
