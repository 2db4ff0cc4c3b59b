// Fencing on lost leadership, with two replicas of the real manager and ClusterUpgrade controller
// over the fake ports, one Lease store and a fake clock: the leader is cut off from the API
// server while a reconcile waits on a hung AWS call right before it would start the upgrade.
import assert from "node:assert/strict";
import { API_VERSION, KIND } from "../../../src/api/v1alpha1/types.js";
import { ClusterUpgradeController } from "../../../src/controllers/clusterupgrade/controller.js";
import { Informer, splitObjectKey } from "../../../src/runtime/informer.js";
import type { LeaseClient } from "../../../src/runtime/leader-election.js";
import { Manager } from "../../../src/runtime/manager.js";
import { FakeClock, flushPromises } from "../../../src/util/clock.js";
import { isCancelled } from "../../../src/util/errors.js";
import { createSilentLogger } from "../../../src/util/logger.js";
import { hangUntilCancelled, observedPorts, type PortCall } from "../../support/fakes/cancellable.js";
import { healthyWorld } from "../../support/fakes/cloud.js";
import { FakeCluster } from "../../support/fakes/cluster.js";
import { MemoryStore, RecordingEvents } from "../../support/fakes/store.js";
import { FakeLeaseStore, FakeServer, type Item } from "./fakes.js";

interface Replica {
  manager: Manager<Item>;
  failures: Array<{ at: number; error: unknown }>;
  leadingSince: number | undefined;
}

describe("fencing on lost leadership (manager, controller, fake ports)", () => {
  it("cancels a reconcile hung in an AWS call when the Lease is lost, before a standby can take over, and sends nothing after it", async () => {
    const clock = new FakeClock(Date.parse("2026-11-22T12:00:00Z"));
    const world = healthyWorld("1.29");
    const upgrades = new MemoryStore();
    upgrades.put({ apiVersion: API_VERSION, kind: KIND, metadata: { name: "upgrade", namespace: "default" }, spec: { cluster: { name: "prod" }, targetVersion: "1.30" } });
    const leases = new FakeLeaseStore();
    const calls: PortCall[] = [];
    let leaderCutOff = false;
    let hungAt: string | undefined;
    // The hop's client request token is written in one pass and sent in the next: the first
    // describe of the cluster once the token is stored is in the pass that would start the update.
    const tokenStored = (): boolean => Boolean(upgrades.current("default", "upgrade")?.status?.hops?.[0]?.clientRequestToken);
    const hangBeforeUpdate = (call: string): boolean => {
      if (hungAt !== undefined || call !== "eks.describeCluster" || !tokenStored()) return false;
      hungAt = call;
      return true;
    };

    const replica = (identity: string, hang: (call: string) => boolean, leaseClient: LeaseClient): Replica => {
      const server = new FakeServer();
      server.lists.push({ items: [upgrades.current("default", "upgrade") as unknown as Item], metadata: { resourceVersion: "10" } });
      const primary = new Informer<Item>({ description: "clusterupgrades", watchPath: "/upgrades", list: server.list }, server.watch, { clock, random: () => 0 });
      const ports = observedPorts(world.ports, identity, calls, hang);
      const controller = new ClusterUpgradeController({
        store: upgrades,
        events: new RecordingEvents(),
        cloud: () => ports,
        workloads: () => Promise.resolve(new FakeCluster(world.snapshot, new Map())),
        clock,
        logger: createSilentLogger(),
        defaultRegion: "us-east-1",
        timings: { claimSettleMs: 0 },
      });
      const state: Replica = { manager: undefined as unknown as Manager<Item>, failures: [], leadingSince: undefined };
      state.manager = new Manager<Item>({
        name: "clusterupgrade",
        primary,
        clock,
        resyncPeriodMs: 0,
        leaderElection: { namespace: "operators", name: "lease", identity, client: leaseClient, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, random: () => 0 },
        onLeadershipChange: (leading) => {
          if (leading) state.leadingSince = clock.now();
        },
        reconcile: async (key) => {
          const { namespace, name } = splitObjectKey(key);
          try {
            return await controller.reconcile(namespace ?? "", name);
          } catch (error) {
            state.failures.push({ at: clock.now(), error });
            throw error;
          }
        },
      });
      return state;
    };

    const store = leases.client();
    // The leader's side of a network partition: its Lease requests get no answer.
    const leaderLeases: LeaseClient = {
      get: (namespace, name) => (leaderCutOff ? hangUntilCancelled("reading the lease") : store.get(namespace, name)),
      create: (lease) => (leaderCutOff ? hangUntilCancelled("creating the lease") : store.create(lease)),
      replace: (lease) => (leaderCutOff ? hangUntilCancelled("renewing the lease") : store.replace(lease)),
    };
    const leader = replica("one", hangBeforeUpdate, leaderLeases);
    const standby = replica("two", () => false, store);
    leader.manager.start();
    await flushPromises();
    standby.manager.start();

    const hung = (): boolean => hungAt !== undefined;
    for (let step = 0; step < 100 && !hung(); step++) await clock.advance(100);
    assert.ok(hung(), "the leader's reconcile reached the hung call");
    assert.equal(leader.manager.isLeader(), true);
    assert.equal(standby.manager.isLeader(), false);
    assert.ok(!calls.some((call) => call.call === "eks.startClusterVersionUpdate"), "the update was not started before the hang");
    const statusWritesAtHang = upgrades.statusWrites;

    leaderCutOff = true;
    const cutOffAt = clock.now();
    for (let step = 0; step < 300 && leader.failures.length === 0; step++) await clock.advance(100);
    assert.equal(leader.failures.length, 1, "the hung reconcile was cancelled");
    const [{ at: cancelledAt, error }] = leader.failures;
    assert.ok(isCancelled(error), `cancelled: ${String(error)}`);
    assert.match((error as Error).message, /^eks\.describeCluster: cancelled: leadership lost$/);
    assert.ok(cancelledAt - cutOffAt <= 10_000, `cancelled within the renew deadline, after ${cancelledAt - cutOffAt} ms`);
    assert.equal(upgrades.statusWrites, statusWritesAtHang, "the cancelled pass wrote no status");
    assert.equal(await leader.manager.done, "lost-leadership");

    for (let step = 0; step < 600 && upgrades.current("default", "upgrade").status?.phase !== "Succeeded"; step++) await clock.advance(1_000);
    assert.equal(upgrades.current("default", "upgrade").status?.phase, "Succeeded", "the standby finished the upgrade");
    assert.ok(standby.leadingSince !== undefined && standby.leadingSince > cancelledAt, `the standby led from ${standby.leadingSince}, after the leader cancelled at ${cancelledAt}`);

    const leaderCalls = calls.filter((call) => call.replica === "one");
    assert.equal(leaderCalls.at(-1)?.call, "eks.describeCluster", "the hung call was the leader's last");
    assert.ok(!leaderCalls.some((call) => call.afterCancel), "no call after cancellation");
    const updates = calls.filter((call) => call.call === "eks.startClusterVersionUpdate");
    assert.deepEqual(updates.map((call) => call.replica), ["two"], "one UpdateClusterVersion, by the new leader");
    await standby.manager.shutdown();
  });
});
