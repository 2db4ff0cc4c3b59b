import assert from "node:assert/strict";
import { abortError, callSignal, CANCEL_REASONS, currentSignal, runWithSignal, throwIfCancelled, timeoutSetting } from "../../../src/runtime/cancellation.js";
import { CancelledError, isCancelled, TimedOutError } from "../../../src/util/errors.js";
import { classifyError, classifyKubeError } from "../../../src/util/classify.js";

describe("the cancellation context", () => {
  it("carries the signal through awaits and into calls started without awaiting", async () => {
    const controller = new AbortController();
    const seen: Array<AbortSignal | undefined> = [];
    await runWithSignal(controller.signal, async () => {
      await Promise.resolve();
      seen.push(currentSignal());
      await new Promise<void>((resolve) => setImmediate(() => resolve(void seen.push(currentSignal()))));
    });
    assert.deepEqual(seen, [controller.signal, controller.signal]);
    assert.equal(currentSignal(), undefined, "nothing outside");
  });

  it("throwIfCancelled refuses once the signal fired, naming the call and the reason", async () => {
    const controller = new AbortController();
    await runWithSignal(controller.signal, () => {
      throwIfCancelled("tagging EKS cluster prod");
      controller.abort(CANCEL_REASONS.leadershipLost());
      assert.throws(() => throwIfCancelled("tagging EKS cluster prod"), (error: unknown) => error instanceof CancelledError && error.message === "tagging EKS cluster prod: cancelled: leadership lost" && error.retryable);
      return Promise.resolve();
    });
  });

  it("tells a timeout from a cancellation", () => {
    const timedOut = new AbortController();
    timedOut.abort(CANCEL_REASONS.deadline(300_000));
    const timeout = abortError(timedOut.signal, "listing pods");
    assert.ok(timeout instanceof TimedOutError && !isCancelled(timeout));
    assert.equal(timeout.message, "listing pods: reconcile cancelled after its deadline of 300 s");
    const foreign = new AbortController();
    foreign.abort();
    assert.ok(isCancelled(abortError(foreign.signal, "x")));
  });

  it("a call signal fires on its timeout, and with its parent", async () => {
    const call = callSignal(20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(call.signal.aborted, true);
    assert.equal((call.signal.reason as Error).message, "timed out after 0.02 s");
    const parent = new AbortController();
    const child = callSignal(60_000, parent.signal);
    parent.abort(CANCEL_REASONS.shutdown(30_000));
    assert.equal(child.signal.aborted, true);
    assert.equal((child.signal.reason as Error).message, "cancelled: shutdown did not finish within 30 s");
    child.dispose();
  });

  it("classifies a raw AbortError by the current signal's reason", async () => {
    const abort = Object.assign(new Error("The user aborted a request."), { name: "AbortError" });
    const controller = new AbortController();
    controller.abort(CANCEL_REASONS.leadershipLost());
    const [kube, any] = await runWithSignal(controller.signal, () => Promise.resolve([classifyKubeError(abort, "patching node n"), classifyError(abort, "posting")]));
    assert.equal(kube.message, "patching node n: cancelled: leadership lost");
    assert.ok(isCancelled(any) && any.retryable);
    const timeout = classifyKubeError(abort, "listing nodes");
    assert.ok(timeout instanceof TimedOutError);
    assert.equal(timeout.message, "listing nodes: no answer from the API server within 30 s (KUBE_REQUEST_TIMEOUT_SECONDS)");
  });
});

describe("timeout settings from the environment", () => {
  it("reads seconds, defaults when unset, and refuses bad values naming the variable", async () => {
    assert.equal(timeoutSetting("X_SECONDS", undefined, 5_000), 5_000);
    assert.equal(timeoutSetting("X_SECONDS", "1.5", 5_000), 1_500);
    for (const bad of ["0", "-1", "ten", "7200"]) {
      assert.throws(() => timeoutSetting("X_SECONDS", bad, 5_000), new RegExp(`X_SECONDS must be a number of seconds greater than 0 and at most 3600, got "${bad}"; unset it to use 5 s`));
    }
    const { configFromEnvironment } = await import("../../../src/main.js");
    assert.equal(configFromEnvironment({}).reconcileTimeoutMs, 300_000);
    assert.equal(configFromEnvironment({ RECONCILE_TIMEOUT_SECONDS: "600" }).reconcileTimeoutMs, 600_000);
    assert.throws(() => configFromEnvironment({ RECONCILE_TIMEOUT_SECONDS: "never" }), /RECONCILE_TIMEOUT_SECONDS must be a number of seconds/);
    assert.throws(() => configFromEnvironment({ KUBE_REQUEST_TIMEOUT_SECONDS: "0" }), /KUBE_REQUEST_TIMEOUT_SECONDS must be a number of seconds/);
    assert.throws(() => configFromEnvironment({ AWS_CALL_TIMEOUT_SECONDS: "x" }), /AWS_CALL_TIMEOUT_SECONDS must be a number of seconds/);
    assert.throws(() => configFromEnvironment({ AWS_REQUEST_TIMEOUT_SECONDS: "90" }), /AWS_REQUEST_TIMEOUT_SECONDS \(90\) must not exceed AWS_CALL_TIMEOUT_SECONDS \(60\)/);
    assert.throws(() => configFromEnvironment({ RECONCILE_TIMEOUT_SECONDS: "30" }), /RECONCILE_TIMEOUT_SECONDS \(30\) must be at least AWS_CALL_TIMEOUT_SECONDS \(60\)/);
  });
});
