import assert from "node:assert/strict";
import { FakeClock, RealClock, raceWithTimeout } from "../../../src/util/clock.js";

describe("FakeClock", () => {
  it("starts at the given time and moves only on advance()", async () => {
    const clock = new FakeClock(1_000);
    assert.equal(clock.now(), 1_000);
    assert.equal(clock.date().getTime(), 1_000);
    await clock.advance(250);
    assert.equal(clock.now(), 1_250);
  });

  it("fires due timers in due-time order, ties in scheduling order", async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("c@30"), 30);
    clock.setTimer(() => fired.push("a@10"), 10);
    clock.setTimer(() => fired.push("b1@20"), 20);
    clock.setTimer(() => fired.push("b2@20"), 20);
    clock.setTimer(() => fired.push("late@100"), 100);
    await clock.advance(30);
    assert.deepEqual(fired, ["a@10", "b1@20", "b2@20", "c@30"]);
    assert.equal(clock.pendingTimerCount(), 1);
    assert.equal(clock.nextDueAt(), 100);
  });

  it("runs each timer at its own due time", async () => {
    const clock = new FakeClock(0);
    const seenAt: number[] = [];
    clock.setTimer(() => seenAt.push(clock.now()), 5);
    clock.setTimer(() => seenAt.push(clock.now()), 17);
    await clock.advance(100);
    assert.deepEqual(seenAt, [5, 17]);
    assert.equal(clock.now(), 100);
  });

  it("fires timers scheduled by callbacks when they fall inside the window", async () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.setTimer(() => {
      fired.push(clock.now());
      clock.setTimer(() => fired.push(clock.now()), 10);
    }, 10);
    await clock.advance(15);
    assert.deepEqual(fired, [10]);
    await clock.advance(5);
    assert.deepEqual(fired, [10, 20]);
  });

  it("does not fire cancelled timers", async () => {
    const clock = new FakeClock(0);
    let fired = false;
    const timer = clock.setTimer(() => (fired = true), 10);
    timer.cancel();
    await clock.advance(20);
    assert.equal(fired, false);
    assert.equal(clock.pendingTimerCount(), 0);
  });

  it("resumes sleepers so that loops of sleeps progress within one advance", async () => {
    const clock = new FakeClock(0);
    const wakeups: number[] = [];
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        wakeups.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(300);
    await done;
    assert.deepEqual(wakeups, [100, 200, 300]);
  });

  it("ends a sleep early when its signal aborts", async () => {
    const clock = new FakeClock(0);
    const controller = new AbortController();
    const sleeping = clock.sleep(10_000, controller.signal);
    controller.abort();
    await sleeping;
    assert.equal(clock.now(), 0);
    assert.equal(clock.pendingTimerCount(), 0);
  });

  it("refuses to go backwards", async () => {
    await assert.rejects(new FakeClock(0).advance(-1), RangeError);
  });
});

describe("RealClock", () => {
  it("sleeps for about the requested time", async () => {
    const clock = new RealClock();
    const start = clock.now();
    await clock.sleep(20);
    assert.ok(clock.now() - start >= 15, `slept ${clock.now() - start} ms`);
  });
});

describe("raceWithTimeout", () => {
  it("returns the promise's value when it settles first and clears the timer", async () => {
    const clock = new FakeClock(0);
    const value = await raceWithTimeout(clock, Promise.resolve("done"), 1_000, "timeout");
    assert.equal(value, "done");
    assert.equal(clock.pendingTimerCount(), 0);
  });

  it("returns the fallback once the timeout passes first", async () => {
    const clock = new FakeClock(0);
    const never = new Promise<string>(() => undefined);
    const racing = raceWithTimeout(clock, never, 1_000, "timeout");
    await clock.advance(1_000);
    assert.equal(await racing, "timeout");
  });
});
