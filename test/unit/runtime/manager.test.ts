import assert from "node:assert/strict";
import { FakeClock, flushPromises } from "../../../src/util/clock.js";
import { Informer } from "../../../src/runtime/informer.js";
import { DEFAULT_RECONCILE_TIMEOUT_MS, Manager, secondaryWatch, specOrMetadataChanged, type LeaderElectionSettings } from "../../../src/runtime/manager.js";
import { TimedOutError } from "../../../src/util/errors.js";
import { hangUntilCancelled } from "../../support/fakes/cancellable.js";
import type { ReconcileResult } from "../../../src/runtime/workqueue.js";
import { OperatorMetrics } from "../../../src/observability/metrics.js";
import { FakeLeaseStore, FakeServer, item, type Item } from "./fakes.js";

interface Harness {
  manager: Manager<Item>;
  server: FakeServer;
  reconciled: string[];
  metrics: OperatorMetrics;
}

function harness(
  clock: FakeClock,
  leaderElection: LeaderElectionSettings | false,
  reconcile?: (key: string) => Promise<ReconcileResult | void>,
  items: Item[] = [item("ns", "a", "1"), item("ns", "b", "2")],
): Harness {
  const server = new FakeServer();
  server.lists.push({ items, metadata: { resourceVersion: "10" } });
  const primary = new Informer<Item>({ description: "items", watchPath: "/items", list: server.list }, server.watch, { clock, random: () => 0 });
  const reconciled: string[] = [];
  const metrics = new OperatorMetrics({ collectProcessMetrics: false });
  const manager = new Manager<Item>({
    name: "test",
    primary,
    leaderElection,
    clock,
    metrics,
    resyncPeriodMs: 0,
    reconcile: async (key) => {
      reconciled.push(key);
      return reconcile?.(key);
    },
  });
  return { manager, server, reconciled, metrics };
}

function election(store: FakeLeaseStore, identity: string): LeaderElectionSettings {
  return {
    namespace: "operators",
    name: "test-lease",
    identity,
    client: store.client(),
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    random: () => 0,
  };
}

describe("Manager", () => {
  it("is not ready until its caches sync, then reconciles every existing object", async () => {
    const clock = new FakeClock(0);
    const { manager, server, reconciled } = harness(clock, false);
    assert.equal(manager.readiness().ok, false);
    const lists = server.lists.splice(0);
    manager.start();
    await flushPromises();
    assert.deepEqual(manager.readiness(), { ok: false, detail: "1 informer cache(s) not synced" });
    assert.deepEqual(reconciled, []);
    server.lists.push(...lists);
    await clock.advance(1_000);
    assert.deepEqual(manager.readiness(), { ok: true, detail: "leader" });
    assert.deepEqual(reconciled.sort(), ["ns/a", "ns/b"]);
    await manager.shutdown();
  });

  it("reconciles keys of watch events and honours requeueAfterMs", async () => {
    const clock = new FakeClock(0);
    const { manager, server, reconciled } = harness(clock, false, (key) => Promise.resolve(key === "ns/c" ? { requeueAfterMs: 30_000 } : {}), []);
    manager.start();
    await flushPromises();
    server.lastWatch().emit("ADDED", item("ns", "c", "11"));
    await flushPromises();
    assert.deepEqual(reconciled, ["ns/c"]);
    await clock.advance(29_999);
    assert.deepEqual(reconciled, ["ns/c"]);
    await clock.advance(1);
    assert.deepEqual(reconciled, ["ns/c", "ns/c"]);
    server.lastWatch().emit("DELETED", item("ns", "c", "12"));
    await flushPromises();
    assert.equal(reconciled.length, 3, "a delete is reconciled too (finalizers, cleanup)");
    await manager.shutdown();
  });

  it("records reconcile metrics and retries failures with backoff", async () => {
    const clock = new FakeClock(0);
    let failures = 1;
    const { manager, reconciled, metrics } = harness(
      clock,
      false,
      () => (failures-- > 0 ? Promise.reject(new Error("aws down")) : Promise.resolve({})),
      [item("ns", "a", "1")],
    );
    manager.start();
    await flushPromises();
    assert.deepEqual(reconciled, ["ns/a"]);
    await clock.advance(1_000);
    assert.deepEqual(reconciled, ["ns/a", "ns/a"]);
    const text = await metrics.render();
    assert.match(text, /eksupgrade_reconcile_total\{controller="test",result="error"\} 1/);
    assert.match(text, /eksupgrade_reconcile_total\{controller="test",result="success"\} 1/);
    assert.match(text, /eksupgrade_leader 1/);
    await manager.shutdown();
  });

  it("runs reconciles only on the leader; the standby is ready and idle", async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const leader = harness(clock, election(store, "one"));
    const standby = harness(clock, election(store, "two"));
    leader.manager.start();
    await flushPromises();
    standby.manager.start();
    await clock.advance(30_000);
    assert.equal(leader.manager.isLeader(), true);
    assert.equal(standby.manager.isLeader(), false);
    assert.deepEqual(standby.manager.readiness(), { ok: true, detail: "standby" });
    assert.deepEqual(leader.reconciled.sort(), ["ns/a", "ns/b"]);
    standby.server.lastWatch().emit("MODIFIED", item("ns", "a", "20"));
    await flushPromises();
    assert.deepEqual(standby.reconciled, [], "the standby drops events");
    await leader.manager.shutdown();
    await standby.manager.shutdown();
  });

  it("on shutdown finishes the running reconcile before releasing the Lease", async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    let finishReconcile!: () => void;
    const running = new Promise<void>((resolve) => (finishReconcile = resolve));
    const leader = harness(clock, election(store, "one"), () => running, [item("ns", "a", "1")]);
    const standby = harness(clock, election(store, "two"), undefined, [item("ns", "a", "1")]);
    leader.manager.start();
    await flushPromises();
    standby.manager.start();
    await clock.advance(4_000);
    let stopped = false;
    const shutdown = leader.manager.shutdown().then(() => (stopped = true));
    await clock.advance(4_000);
    assert.equal(stopped, false);
    assert.equal(store.holder(), "one", "the Lease is kept while a reconcile runs");
    assert.equal(leader.manager.readiness().ok, false, "not ready while stopping");
    finishReconcile();
    await shutdown;
    assert.equal(store.holder(), "", "released after the reconcile finished");
    assert.equal(await leader.manager.done, "shutdown");
    await clock.advance(2_000);
    assert.equal(standby.manager.isLeader(), true);
    assert.deepEqual(standby.reconciled, ["ns/a"], "the new leader starts with a full pass");
    await standby.manager.shutdown();
  });

  it("stops and reports when leadership is lost", async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const { manager, server, reconciled } = harness(clock, election(store, "one"), undefined, [item("ns", "a", "1")]);
    manager.start();
    await clock.advance(2_000);
    assert.equal(manager.isLeader(), true);
    store.failing = true;
    await clock.advance(12_000);
    assert.equal(await manager.done, "lost-leadership");
    assert.equal(manager.isLeader(), false);
    assert.deepEqual(manager.liveness(), { ok: false, detail: "lost leadership" });
    const before = reconciled.length;
    server.lastWatch().emit("MODIFIED", item("ns", "a", "2"));
    await clock.advance(10_000);
    assert.equal(reconciled.length, before, "no reconcile after losing the Lease");
  });

  it("cancels a reconcile that outlives its deadline, and retries it with backoff", async () => {
    const clock = new FakeClock(0);
    const errors: unknown[] = [];
    let passes = 0;
    const { manager } = harness(clock, false, async () => {
      if (++passes > 1) return;
      try {
        await hangUntilCancelled("describing EKS cluster prod");
      } catch (error) {
        errors.push(error);
        throw error;
      }
    }, [item("ns", "a", "1")]);
    manager.start();
    await clock.advance(DEFAULT_RECONCILE_TIMEOUT_MS - 1);
    assert.deepEqual(errors, [], "still running just before the deadline");
    await clock.advance(1);
    assert.equal(errors.length, 1);
    const [error] = errors as unknown[];
    assert.ok(error instanceof TimedOutError && error.retryable);
    assert.equal(error.message, "describing EKS cluster prod: reconcile cancelled after its deadline of 300 s");
    await clock.advance(2_000);
    assert.equal(passes, 2, "retried after the backoff");
    await manager.shutdown();
  });

  it("on shutdown, cancels reconciles still running after the shutdown timeout, then releases the Lease", async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const errors: unknown[] = [];
    const { manager } = harness(clock, election(store, "one"), () => hangUntilCancelled("draining node n").catch((error: unknown) => {
      errors.push(error);
      throw error;
    }), [item("ns", "a", "1")]);
    manager.start();
    await clock.advance(2_000);
    const stopped = manager.shutdown();
    await clock.advance(29_999);
    assert.deepEqual(errors, [], "given the whole shutdown timeout to finish");
    assert.equal(store.holder(), "one");
    await clock.advance(1);
    await stopped;
    assert.equal((errors[0] as Error).message, "draining node n: cancelled: shutdown did not finish within 30 s");
    assert.equal(store.holder(), "", "released once the cancelled reconcile unwound");
  });

  it("maps secondary objects to primary keys", async () => {
    const clock = new FakeClock(0);
    const primaryServer = new FakeServer();
    primaryServer.lists.push({ items: [item("ns", "upgrade", "1")], metadata: { resourceVersion: "1" } });
    const nodeServer = new FakeServer();
    nodeServer.lists.push({ items: [], metadata: { resourceVersion: "1" } });
    const reconciled: string[] = [];
    const manager = new Manager<Item>({
      name: "test",
      primary: new Informer<Item>({ description: "upgrades", watchPath: "/u", list: primaryServer.list }, primaryServer.watch, { clock }),
      secondary: [
        secondaryWatch(
          new Informer<Item>({ description: "nodes", watchPath: "/n", list: nodeServer.list }, nodeServer.watch, { clock }),
          (node) => (node.data ? [node.data] : []),
        ),
      ],
      leaderElection: false,
      clock,
      resyncPeriodMs: 0,
      reconcile: (key) => {
        reconciled.push(key);
        return Promise.resolve();
      },
    });
    manager.start();
    await flushPromises();
    nodeServer.lastWatch().emit("MODIFIED", item(undefined, "node-1", "5", "ns/upgrade"));
    nodeServer.lastWatch().emit("ADDED", item(undefined, "node-2", "6"));
    await flushPromises();
    assert.deepEqual(reconciled, ["ns/upgrade", "ns/upgrade"]);
    await manager.shutdown();
  });

  it("maps only the secondary updates its filter lets through (a budget allowing more disruptions)", async () => {
    const clock = new FakeClock(0);
    const primaryServer = new FakeServer();
    primaryServer.lists.push({ items: [item("ns", "upgrade", "1")], metadata: { resourceVersion: "1" } });
    const budgetServer = new FakeServer();
    budgetServer.lists.push({ items: [item("ns", "pdb", "1", "0")], metadata: { resourceVersion: "1" } });
    const reconciled: string[] = [];
    const manager = new Manager<Item>({
      name: "test",
      primary: new Informer<Item>({ description: "upgrades", watchPath: "/u", list: primaryServer.list }, primaryServer.watch, { clock }),
      secondary: [
        secondaryWatch(
          new Informer<Item>({ description: "budgets", watchPath: "/b", list: budgetServer.list }, budgetServer.watch, { clock }),
          () => ["ns/upgrade"],
          (previous, current) => Number(current.data) > Number(previous.data),
        ),
      ],
      leaderElection: false,
      clock,
      resyncPeriodMs: 0,
      reconcile: (key) => {
        reconciled.push(key);
        return Promise.resolve();
      },
    });
    manager.start();
    await flushPromises();
    assert.deepEqual(reconciled, ["ns/upgrade"], "the start-up pass");
    budgetServer.lastWatch().emit("MODIFIED", item("ns", "pdb", "2", "0"));
    await flushPromises();
    assert.deepEqual(reconciled, ["ns/upgrade"], "no rise, no pass");
    budgetServer.lastWatch().emit("MODIFIED", item("ns", "pdb", "3", "2"));
    await flushPromises();
    assert.deepEqual(reconciled, ["ns/upgrade", "ns/upgrade"], "a rise wakes the upgrade");
    await manager.shutdown();
  });

  it("re-enqueues every primary object each resync period", async () => {
    const clock = new FakeClock(0);
    const server = new FakeServer();
    server.lists.push({ items: [item("ns", "a", "1")], metadata: { resourceVersion: "1" } });
    const reconciled: string[] = [];
    const manager = new Manager<Item>({
      name: "test",
      primary: new Informer<Item>({ description: "items", watchPath: "/i", list: server.list }, server.watch, { clock }),
      leaderElection: false,
      clock,
      resyncPeriodMs: 60_000,
      reconcile: (key) => {
        reconciled.push(key);
        return Promise.resolve();
      },
    });
    manager.start();
    await flushPromises();
    await clock.advance(120_000);
    assert.deepEqual(reconciled, ["ns/a", "ns/a", "ns/a"]);
    await manager.shutdown();
  });

  it("with specOrMetadataChanged, ignores status-only writes and reconciles spec, annotation and deletion changes", async () => {
    const clock = new FakeClock(0);
    const server = new FakeServer();
    const versioned = (resourceVersion: string, generation: number, extra: Record<string, unknown> = {}): Item =>
      ({ metadata: { name: "a", namespace: "ns", resourceVersion, generation, ...extra } }) as Item;
    server.lists.push({ items: [versioned("1", 1)], metadata: { resourceVersion: "1" } });
    const reconciled: string[] = [];
    const manager = new Manager<Item>({
      name: "test",
      primary: new Informer<Item>({ description: "items", watchPath: "/i", list: server.list }, server.watch, { clock }),
      leaderElection: false,
      clock,
      resyncPeriodMs: 0,
      primaryUpdateFilter: specOrMetadataChanged,
      reconcile: (key) => {
        reconciled.push(key);
        return Promise.resolve();
      },
    });
    manager.start();
    await flushPromises();
    assert.equal(reconciled.length, 1);
    server.lastWatch().emit("MODIFIED", versioned("2", 1));
    await flushPromises();
    assert.equal(reconciled.length, 1, "a status write (same generation) does not wake the controller");
    server.lastWatch().emit("MODIFIED", versioned("3", 2));
    await flushPromises();
    assert.equal(reconciled.length, 2, "a spec change does");
    server.lastWatch().emit("MODIFIED", versioned("4", 2, { annotations: { "eksupgrade.io/approve": "2" } }));
    await flushPromises();
    assert.equal(reconciled.length, 3, "an annotation change does");
    server.lastWatch().emit("MODIFIED", versioned("5", 2, { annotations: { "eksupgrade.io/approve": "2" }, deletionTimestamp: "2026-01-01T00:00:00Z" }));
    await flushPromises();
    assert.equal(reconciled.length, 4, "a deletion does");
    await manager.shutdown();
  });
});
