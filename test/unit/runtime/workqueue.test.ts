import assert from "node:assert/strict";
import { FakeClock, flushPromises } from "../../../src/util/clock.js";
import { ExponentialBackoff, WorkQueue, type ProcessOutcome, type ReconcileResult } from "../../../src/runtime/workqueue.js";

/** A handler whose runs stay open until the test finishes them, recording what it saw. */
class ControlledHandler {
  readonly started: string[] = [];
  private readonly pending: Array<{ key: string; finish: (result?: ReconcileResult) => void; fail: (error: Error) => void }> = [];
  private running = new Map<string, number>();
  maxConcurrentSameKey = 0;
  maxConcurrent = 0;

  readonly handle = (key: string): Promise<ReconcileResult | void> => {
    this.started.push(key);
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    this.maxConcurrentSameKey = Math.max(this.maxConcurrentSameKey, this.running.get(key)!);
    this.maxConcurrent = Math.max(this.maxConcurrent, [...this.running.values()].reduce((a, b) => a + b, 0));
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.running.set(key, this.running.get(key)! - 1);
      };
      this.pending.push({
        key,
        finish: (result) => {
          done();
          resolve(result);
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
    });
  };

  runningKeys(): string[] {
    return this.pending.map((run) => run.key);
  }

  async finish(key: string, result?: ReconcileResult): Promise<void> {
    this.take(key).finish(result);
    await flushPromises();
  }

  async fail(key: string, message = "boom"): Promise<void> {
    this.take(key).fail(new Error(message));
    await flushPromises();
  }

  private take(key: string): { finish: (result?: ReconcileResult) => void; fail: (error: Error) => void } {
    const index = this.pending.findIndex((run) => run.key === key);
    assert.ok(index >= 0, `${key} is not running`);
    return this.pending.splice(index, 1)[0];
  }
}

function newQueue(concurrency = 1, observer = {}): { queue: WorkQueue; clock: FakeClock; handler: ControlledHandler } {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({ clock, concurrency, observer, backoff: { random: () => 0 } });
  const handler = new ControlledHandler();
  return { queue, clock, handler };
}

describe("WorkQueue", () => {
  it("merges duplicate adds of a waiting key into one pass", async () => {
    const { queue, handler } = newQueue();
    queue.add("ns/a");
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    assert.equal(queue.length(), 2);
    queue.start(handler.handle);
    await flushPromises();
    await handler.finish("ns/a");
    await handler.finish("ns/b");
    assert.deepEqual(handler.started, ["ns/a", "ns/b"]);
    assert.equal(queue.length(), 0);
  });

  it("never runs one key twice at once; an add during a run re-queues it after", async () => {
    const { queue, handler } = newQueue(4);
    queue.start(handler.handle);
    queue.add("ns/a");
    await flushPromises();
    assert.deepEqual(handler.runningKeys(), ["ns/a"]);
    queue.add("ns/a");
    queue.add("ns/a");
    await flushPromises();
    assert.deepEqual(handler.runningKeys(), ["ns/a"], "a second worker must not pick up the running key");
    assert.equal(queue.length(), 0, "the running key is not queued yet");
    await handler.finish("ns/a");
    assert.deepEqual(handler.runningKeys(), ["ns/a"], "re-queued once the first run finished");
    await handler.finish("ns/a");
    assert.deepEqual(handler.started, ["ns/a", "ns/a"], "the two adds during the run merged into one pass");
    assert.equal(handler.maxConcurrentSameKey, 1);
  });

  it("runs different keys in parallel up to the concurrency", async () => {
    const { queue, handler } = newQueue(2);
    queue.start(handler.handle);
    for (const key of ["a", "b", "c"]) queue.add(key);
    await flushPromises();
    assert.deepEqual(handler.runningKeys(), ["a", "b"]);
    assert.equal(queue.length(), 1);
    await handler.finish("b");
    assert.deepEqual(handler.runningKeys(), ["a", "c"]);
    assert.equal(handler.maxConcurrent, 2);
  });

  it("addAfter keeps the earliest due time", async () => {
    const { queue, clock, handler } = newQueue();
    queue.start(handler.handle);
    queue.addAfter("k", 10_000);
    queue.addAfter("k", 3_000);
    queue.addAfter("k", 7_000);
    assert.equal(queue.delayedUntil("k"), 3_000);
    await clock.advance(2_999);
    assert.deepEqual(handler.started, []);
    await clock.advance(1);
    assert.deepEqual(handler.started, ["k"]);
    await handler.finish("k");
    await clock.advance(20_000);
    assert.deepEqual(handler.started, ["k"], "the later delays were dropped, not kept as extra passes");
  });

  it("addAfter with no delay adds at once", async () => {
    const { queue, handler } = newQueue();
    queue.start(handler.handle);
    queue.addAfter("k", 0);
    await flushPromises();
    assert.deepEqual(handler.started, ["k"]);
  });

  it("requeues a key after the delay its handler asks for, with backoff reset", async () => {
    const outcomes: ProcessOutcome[] = [];
    const { queue, clock, handler } = newQueue(1, { onProcessed: (_key: string, outcome: ProcessOutcome) => outcomes.push(outcome) });
    queue.start(handler.handle);
    queue.addRateLimited("k");
    assert.equal(queue.numRequeues("k"), 1);
    await clock.advance(1_000);
    await handler.finish("k", { requeueAfterMs: 30_000 });
    assert.equal(queue.numRequeues("k"), 0, "a successful pass forgets the failures");
    assert.equal(queue.delayedUntil("k"), 31_000);
    await clock.advance(30_000);
    assert.deepEqual(handler.started, ["k", "k"]);
    await handler.finish("k");
    assert.deepEqual(outcomes, ["requeue", "success"]);
  });

  it("retries a failing key with growing backoff, and success resets it", async () => {
    const errors: Array<{ key: string; retryInMs: number }> = [];
    const { queue, clock, handler } = newQueue(1, { onError: (key: string, _error: unknown, retryInMs: number) => errors.push({ key, retryInMs }) });
    queue.start(handler.handle);
    queue.add("k");
    await flushPromises();
    await handler.fail("k");
    await clock.advance(1_000);
    await handler.fail("k");
    await clock.advance(1_999);
    assert.deepEqual(handler.started, ["k", "k"], "second retry waits 2 s");
    await clock.advance(1);
    await handler.fail("k");
    assert.deepEqual(errors.map((error) => error.retryInMs), [1_000, 2_000, 4_000]);
    await clock.advance(4_000);
    await handler.finish("k");
    assert.equal(queue.numRequeues("k"), 0);
    queue.add("k");
    await flushPromises();
    await handler.fail("k");
    assert.equal(errors.at(-1)!.retryInMs, 1_000, "backoff starts over after a success");
  });

  it("forget() resets the backoff of a key", () => {
    const { queue } = newQueue();
    assert.equal(queue.addRateLimited("k"), 1_000);
    assert.equal(queue.addRateLimited("k"), 2_000);
    queue.forget("k");
    assert.equal(queue.addRateLimited("k"), 1_000);
  });

  it("reports the depth on every change", async () => {
    const depths: number[] = [];
    const { queue, handler } = newQueue(1, { onDepthChange: (depth: number) => depths.push(depth) });
    queue.add("a");
    queue.add("b");
    queue.start(handler.handle);
    await flushPromises();
    assert.deepEqual(depths, [1, 2, 1]);
  });

  it("shutdown waits for running handlers, drops waiting keys and ignores later adds", async () => {
    const { queue, clock, handler } = newQueue(1);
    queue.start(handler.handle);
    queue.add("running");
    queue.add("waiting");
    queue.addAfter("delayed", 5_000);
    await flushPromises();
    let drained: boolean | undefined;
    const shutdown = queue.shutdown(10_000).then((result) => (drained = result));
    queue.add("late");
    await flushPromises();
    assert.equal(drained, undefined, "still waiting for the running handler");
    await handler.finish("running");
    await shutdown;
    assert.equal(drained, true);
    await clock.advance(10_000);
    assert.deepEqual(handler.started, ["running"]);
    assert.equal(clock.pendingTimerCount(), 0, "delayed adds were cancelled");
  });

  it("shutdown gives up after its timeout when a handler hangs", async () => {
    const { queue, clock, handler } = newQueue(1);
    queue.start(handler.handle);
    queue.add("stuck");
    await flushPromises();
    const shutdown = queue.shutdown(3_000);
    await clock.advance(3_000);
    assert.equal(await shutdown, false);
    assert.deepEqual(queue.inFlight(), ["stuck"]);
  });
});

describe("ExponentialBackoff", () => {
  it("doubles from 1 s and stays within [80 %, 100 %] of the nominal delay", () => {
    const backoff = new ExponentialBackoff();
    for (let failures = 0; failures < 12; failures++) {
      const nominal = backoff.nominalDelay(failures);
      const delay = backoff.next("k");
      assert.ok(delay >= Math.floor(nominal * 0.8) && delay <= nominal, `delay ${delay} outside [${nominal * 0.8}, ${nominal}]`);
    }
    assert.equal(backoff.nominalDelay(0), 1_000);
    assert.equal(backoff.nominalDelay(3), 8_000);
  });

  it("grows strictly until the 5 minute cap, which it never exceeds", () => {
    const backoff = new ExponentialBackoff();
    const delays = Array.from({ length: 20 }, () => backoff.next("k"));
    const firstCapped = delays.findIndex((delay) => delay >= 5 * 60_000 * 0.8);
    for (let i = 1; i < firstCapped; i++) assert.ok(delays[i] > delays[i - 1], `delay ${i} did not grow: ${delays.join(", ")}`);
    assert.ok(delays.every((delay) => delay <= 5 * 60_000));
    assert.equal(backoff.nominalDelay(1_000), 5 * 60_000, "huge failure counts stay finite and capped");
  });

  it("spreads delays with jitter", () => {
    const delays = new Set<number>();
    for (let i = 0; i < 20; i++) delays.add(new ExponentialBackoff().next("k"));
    assert.ok(delays.size > 1, "twenty first delays were all identical");
  });

  it("keeps keys independent and forgets them", () => {
    const backoff = new ExponentialBackoff({ random: () => 0 });
    backoff.next("a");
    backoff.next("a");
    assert.equal(backoff.next("b"), 1_000);
    assert.equal(backoff.failureCount("a"), 2);
    backoff.forget("a");
    assert.equal(backoff.failureCount("a"), 0);
    assert.equal(backoff.next("a"), 1_000);
  });

  it("refuses jitter that could break monotonic growth", () => {
    assert.throws(() => new ExponentialBackoff({ jitter: 0.5 }), RangeError);
  });
});
