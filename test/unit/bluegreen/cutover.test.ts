import assert from "node:assert/strict";
import type { CutoverStatus } from "../../../src/api/v1alpha1/types.js";
import { approvalCommand, approvedThrough, bakeMs, beginStep, initialCutover, nextAction, recordChange, recordInSync, returnAction, trafficInFlight, type CutoverClock } from "../../../src/bluegreen/cutover.js";
import { FakeClock } from "../../../src/util/clock.js";

const schedule = [
  { blue: 229, green: 26 },
  { blue: 127, green: 128 },
  { blue: 0, green: 255 },
];

function clockAt(clock: FakeClock, options: Partial<CutoverClock> = {}): CutoverClock {
  return { now: clock.date(), bakeMs: 60_000, manualApproval: false, approvedThrough: 0, ...options };
}

function started(): CutoverStatus {
  return initialCutover(schedule.length, { blue: 100, green: 0 }, "100/0");
}

describe("blue/green step machine", () => {
  it("bakes for the longer of the step interval and the record TTL", () => {
    assert.equal(bakeMs(30_000, 60), 60_000);
    assert.equal(bakeMs(300_000, 60), 300_000);
    assert.equal(bakeMs(5_000, undefined), 5_000);
  });

  it("walks send -> INSYNC -> bake -> next step -> promote, one step at a time", async () => {
    const clock = new FakeClock();
    const cutover = started();
    assert.deepEqual(nextAction(cutover, schedule, clockAt(clock)), { kind: "Send", step: 1, weights: schedule[0] });
    beginStep(cutover, 1, schedule[0], "90/10", clock.date());
    recordChange(cutover, "/change/C1", clock.date());
    assert.deepEqual(nextAction(cutover, schedule, clockAt(clock)), { kind: "WaitInSync", changeId: "/change/C1" });
    recordInSync(cutover, clock.date());
    assert.equal(nextAction(cutover, schedule, clockAt(clock)).kind, "Bake");
    await clock.advance(59_999);
    assert.equal(nextAction(cutover, schedule, clockAt(clock)).kind, "Bake", "one millisecond before the bake ends it still bakes");
    await clock.advance(1);
    assert.deepEqual(nextAction(cutover, schedule, clockAt(clock)), { kind: "Send", step: 2, weights: schedule[1] });
    for (const step of [2, 3]) {
      beginStep(cutover, step, schedule[step - 1], "x", clock.date());
      recordChange(cutover, `/change/C${step}`, clock.date());
      recordInSync(cutover, clock.date());
      await clock.advance(60_000);
    }
    assert.deepEqual(nextAction(cutover, schedule, clockAt(clock)), { kind: "Promote" });
    assert.deepEqual(cutover.changes?.map((change) => [change.step, change.changeId, Boolean(change.inSyncAt)]), [
      [1, "/change/C1", true],
      [2, "/change/C2", true],
      [3, "/change/C3", true],
    ]);
  });

  it("after a restart asks for the same step again: a recorded change is followed, never re-sent", async () => {
    const clock = new FakeClock();
    const cutover = started();
    beginStep(cutover, 2, schedule[1], "50/50", clock.date());
    recordChange(cutover, "/change/C7", clock.date());
    // What a new operator reads back from status.
    const restored = structuredClone(cutover);
    assert.deepEqual(nextAction(restored, schedule, clockAt(clock)), { kind: "WaitInSync", changeId: "/change/C7" });
    recordInSync(restored, clock.date());
    await clock.advance(30_000);
    const again = structuredClone(restored);
    assert.equal(nextAction(again, schedule, clockAt(clock)).kind, "Bake", "the bake keeps its start time across restarts");
  });

  it("a step chosen but whose change was never recorded is sent again as the same step, not the next", () => {
    const clock = new FakeClock();
    const cutover = started();
    beginStep(cutover, 2, schedule[1], "50/50", clock.date());
    assert.deepEqual(nextAction(cutover, schedule, clockAt(clock)), { kind: "Send", step: 2, weights: schedule[1] });
  });

  it("with manual approval waits before each step until the annotation names it", async () => {
    const clock = new FakeClock();
    const cutover = started();
    assert.deepEqual(nextAction(cutover, schedule, clockAt(clock, { manualApproval: true })), { kind: "AwaitApproval", step: 1 });
    assert.equal(nextAction(cutover, schedule, clockAt(clock, { manualApproval: true, approvedThrough: 1 })).kind, "Send");
    beginStep(cutover, 1, schedule[0], "90/10", clock.date());
    recordChange(cutover, "/change/C1", clock.date());
    recordInSync(cutover, clock.date());
    await clock.advance(60_000);
    assert.deepEqual(nextAction(cutover, schedule, clockAt(clock, { manualApproval: true, approvedThrough: 1 })), { kind: "AwaitApproval", step: 2 });
    assert.deepEqual(nextAction(cutover, schedule, clockAt(clock, { manualApproval: true, approvedThrough: 2 })), { kind: "Send", step: 2, weights: schedule[1] });
  });

  it("reads the approval annotation strictly and prints the command to set it", () => {
    assert.equal(approvedThrough({ "eksupgrade.io/approve-step": "3" }), 3);
    assert.equal(approvedThrough({ "eksupgrade.io/approve-step": "yes" }), 0);
    assert.equal(approvedThrough(undefined), 0);
    assert.equal(approvalCommand("shop", "cutover", 2), "kubectl annotate clusterupgrade cutover -n shop eksupgrade.io/approve-step=2 --overwrite");
  });

  it("follows a return to blue: send once, then wait for INSYNC, then done", () => {
    const clock = new FakeClock();
    const cutover: CutoverStatus = { ...started(), state: "RollingBack", step: 2 };
    assert.equal(returnAction(cutover), "Send");
    recordChange(cutover, "/change/C9", clock.date());
    assert.equal(cutover.changes?.at(-1)?.step, 0, "the return is recorded as step 0");
    assert.equal(returnAction(cutover), "WaitInSync");
    recordInSync(cutover, clock.date());
    assert.equal(returnAction(cutover), "Done");
  });

  it("marks the change in flight INSYNC even when Route53 (moto) reuses change ids", () => {
    const clock = new FakeClock();
    const cutover = started();
    for (const step of [1, 2]) {
      beginStep(cutover, step, schedule[step - 1], "x", clock.date());
      recordChange(cutover, "/change/SAME", clock.date());
      recordInSync(cutover, clock.date());
    }
    assert.deepEqual(cutover.changes?.map((change) => Boolean(change.inSyncAt)), [true, true]);
  });

  it("a change recorded is in effect only after GetChange says INSYNC, even for a step re-sent after a restart", () => {
    const clock = new FakeClock();
    const cutover = started();
    beginStep(cutover, 1, schedule[0], "90/10", clock.date());
    recordChange(cutover, "/change/FIRST", clock.date());
    recordInSync(cutover, clock.date());
    // The pass that sent step 2 was lost; step 2 is sent again and must wait for its own answer.
    beginStep(cutover, 2, schedule[1], "50/50", clock.date());
    recordChange(cutover, "/change/AGAIN", clock.date());
    assert.equal(cutover.changeInSyncAt, undefined);
    assert.deepEqual(nextAction(cutover, schedule, clockAt(clock)), { kind: "WaitInSync", changeId: "/change/AGAIN" });
    assert.equal(cutover.changes?.at(-1)?.inSyncAt, undefined);
  });

  it("says when traffic is split and an abort must return it", () => {
    const cutover = started();
    assert.equal(trafficInFlight(undefined), false);
    assert.equal(trafficInFlight(cutover), false, "nothing moved before step 1");
    cutover.step = 1;
    assert.equal(trafficInFlight(cutover), true);
    assert.equal(trafficInFlight({ ...cutover, state: "Promoted" }), false);
    assert.equal(trafficInFlight({ ...cutover, state: "RolledBack" }), false);
  });
});
