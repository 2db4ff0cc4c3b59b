import assert from "node:assert/strict";
import { FakeClock, flushPromises } from "../../../src/util/clock.js";
import { LeaderElector } from "../../../src/runtime/leader-election.js";
import { hangUntilCancelled } from "../../support/fakes/cancellable.js";
import { FakeLeaseStore } from "./fakes.js";

interface Candidate {
  elector: LeaderElector;
  log: string[];
}

const timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function candidate(store: FakeLeaseStore, clock: FakeClock, identity: string): Candidate {
  const log: string[] = [];
  const elector = new LeaderElector({
    namespace: "operators",
    name: "eks-upgrade-operator",
    identity,
    client: store.client(),
    clock,
    random: () => 0,
    ...timings,
    callbacks: {
      onStartedLeading: () => log.push(`started@${clock.now()}`),
      onStoppedLeading: () => log.push(`stopped@${clock.now()}`),
    },
  });
  return { elector, log };
}

describe("LeaderElector", () => {
  it("creates the Lease and leads when nobody holds it", async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock(0);
    const a = candidate(store, clock, "a");
    a.elector.start();
    await flushPromises();
    assert.equal(a.elector.isLeader(), true);
    assert.deepEqual(a.log, ["started@0"]);
    assert.equal(store.holder(), "a");
    assert.equal(store.lease?.spec?.leaseDurationSeconds, 15);
    assert.equal(store.lease?.spec?.leaseTransitions, 0);
    assert.match(String(store.lease?.spec?.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, "MicroTime needs six fractional digits");
    await a.elector.stop();
  });

  it("keeps a standby waiting while the leader renews", async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock(0);
    const a = candidate(store, clock, "a");
    const b = candidate(store, clock, "b");
    a.elector.start();
    await flushPromises();
    b.elector.start();
    await clock.advance(60_000);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(b.elector.isLeader(), false);
    assert.deepEqual(b.log, []);
    assert.equal(b.elector.observedLeader(), "a");
    const renewTime = store.lease?.spec?.renewTime;
    await clock.advance(2_000);
    assert.notEqual(store.lease?.spec?.renewTime, renewTime, "the leader renews every retry period");
    await a.elector.stop();
    await b.elector.stop();
  });

  it("lets the standby take over once the Lease of a dead leader expires, not before", async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock(0);
    const a = candidate(store, clock, "a");
    const b = candidate(store, clock, "b");
    a.elector.start();
    await flushPromises();
    b.elector.start();
    await clock.advance(10_000);
    await a.elector.stop();
    const diedAt = clock.now();
    await clock.advance(timings.leaseDurationMs - timings.retryPeriodMs);
    assert.equal(b.elector.isLeader(), false, "the Lease has not expired yet");
    await clock.advance(timings.retryPeriodMs * 2);
    assert.equal(b.elector.isLeader(), true);
    const takeoverAt = Number(b.log[0].split("@")[1]);
    assert.ok(takeoverAt - diedAt <= timings.leaseDurationMs + timings.retryPeriodMs, `took ${takeoverAt - diedAt} ms`);
    assert.equal(store.holder(), "b");
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    await b.elector.stop();
  });

  it("hands over at the standby's next poll after a release", async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock(0);
    const a = candidate(store, clock, "a");
    const b = candidate(store, clock, "b");
    a.elector.start();
    await flushPromises();
    b.elector.start();
    await clock.advance(5_000);
    await a.elector.release();
    assert.equal(store.holder(), "");
    assert.equal(store.lease?.spec?.leaseDurationSeconds, 1);
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.log, ["started@0"], "a voluntary release is not reported as a loss");
    const releasedAt = clock.now();
    await clock.advance(timings.retryPeriodMs);
    assert.equal(b.elector.isLeader(), true);
    assert.ok(Number(b.log[0].split("@")[1]) - releasedAt <= timings.retryPeriodMs);
    await b.elector.stop();
  });

  it("stops leading when renewals fail past the renew deadline", async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock(0);
    const a = candidate(store, clock, "a");
    a.elector.start();
    await clock.advance(4_000);
    store.failing = true;
    const lastRenewal = clock.now();
    await clock.advance(timings.renewDeadlineMs - 1);
    assert.equal(a.elector.isLeader(), true, "still within the renew deadline");
    await clock.advance(timings.retryPeriodMs);
    assert.equal(a.elector.isLeader(), false);
    const stoppedAt = Number(a.log[1].split("@")[1]);
    assert.ok(stoppedAt - lastRenewal <= timings.renewDeadlineMs, `stepped down ${stoppedAt - lastRenewal} ms after the last renewal`);
    assert.ok(stoppedAt - lastRenewal < timings.leaseDurationMs, "before anyone else may take the Lease");
    store.failing = false;
    await clock.advance(60_000);
    assert.equal(a.elector.isLeader(), false, "a leader that lost the Lease does not campaign again");
  });

  it("survives failures shorter than the renew deadline", async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock(0);
    const a = candidate(store, clock, "a");
    a.elector.start();
    await clock.advance(4_000);
    store.failing = true;
    await clock.advance(6_000);
    store.failing = false;
    await clock.advance(30_000);
    assert.equal(a.elector.isLeader(), true);
    assert.deepEqual(a.log, ["started@0"]);
    await a.elector.stop();
  });

  it("stops leading by the deadline even when a renewal call hangs", async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock(0);
    const a = candidate(store, clock, "a");
    a.elector.start();
    await clock.advance(2_000);
    store.hanging = true;
    await clock.advance(timings.renewDeadlineMs + timings.retryPeriodMs);
    assert.equal(a.elector.isLeader(), false);
    assert.equal(a.log.length, 2);
  });

  it("aborts a hung Lease request after half the renew deadline, so a second attempt still fits", async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock(0);
    const client = store.client();
    const errors: Array<{ at: number; message: string }> = [];
    let hangNext = false;
    const log: string[] = [];
    const elector = new LeaderElector({
      namespace: "operators",
      name: "eks-upgrade-operator",
      identity: "a",
      clock,
      random: () => 0,
      ...timings,
      client: {
        ...client,
        replace: (lease) => {
          if (!hangNext) return client.replace(lease);
          hangNext = false;
          return hangUntilCancelled("renewing the lease").catch((error: unknown) => {
            errors.push({ at: clock.now(), message: (error as Error).message });
            throw error;
          });
        },
      },
      callbacks: { onStartedLeading: () => log.push(`started@${clock.now()}`), onStoppedLeading: () => log.push(`stopped@${clock.now()}`) },
    });
    elector.start();
    await flushPromises();
    hangNext = true;
    await clock.advance(2_000 + timings.renewDeadlineMs / 2);
    assert.deepEqual(errors, [{ at: 7_000, message: "renewing the lease: lease request timed out after 5 s" }]);
    await clock.advance(30_000);
    assert.equal(elector.isLeader(), true, "the next attempt, 2 s later, renewed within the deadline");
    assert.deepEqual(log, ["started@0"]);
    await elector.stop();
  });

  it("lets only one of two candidates win an expired Lease", async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock(0);
    const candidates = ["a", "b", "c"].map((identity) => candidate(store, clock, identity));
    for (const { elector } of candidates) elector.start();
    await clock.advance(120_000);
    assert.equal(candidates.filter(({ elector }) => elector.isLeader()).length, 1);
    for (const { elector } of candidates) await elector.stop();
  });

  it("refuses timings where the leader could outlive its Lease", () => {
    const store = new FakeLeaseStore();
    const base = { namespace: "n", name: "l", identity: "x", client: store.client(), callbacks: { onStartedLeading: () => undefined, onStoppedLeading: () => undefined } };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), RangeError);
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), RangeError);
  });
});
