// One upgrade per cluster: the claim protocol through whole reconciles against fake EKS, Auto
// Scaling and Route53, an in-memory store and a fake clock. Two ClusterUpgrades on one cluster,
// races on the read-back, restarts, release on success, abort and deletion, breaking a claim.
import assert from "node:assert/strict";
import { API_VERSION, KIND, type ClusterUpgrade, type ClusterUpgradeSpec } from "../../../src/api/v1alpha1/types.js";
import { ClusterUpgradeController } from "../../../src/controllers/clusterupgrade/controller.js";
import { CLAIM_TAG, formatHolder, ownershipRecordName, parseHolder } from "../../../src/claims/holder.js";
import { FakeClock } from "../../../src/util/clock.js";
import { createSilentLogger } from "../../../src/util/logger.js";
import { healthyWorld, type FakeEks } from "../../support/fakes/cloud.js";
import type { FakeAutoScaling } from "../../support/fakes/autoscaling.js";
import { FakeCluster } from "../../support/fakes/cluster.js";
import { MemoryStore, RecordingEvents } from "../../support/fakes/store.js";
import type { FakeRoute53 } from "../../support/fakes/traffic.js";

const SETTLE_MS = 5_000;
const OTHER = { uid: "uid-elsewhere", operator: "mgmt-2", since: "2026-11-22T11:00:00Z", upgrade: "infra/prod-upgrade" };

interface World {
  eks: FakeEks;
  autoscaling: FakeAutoScaling;
  route53: FakeRoute53;
  store: MemoryStore;
  events: RecordingEvents;
  clock: FakeClock;
  controller: ClusterUpgradeController;
  add(name: string, spec?: Partial<ClusterUpgradeSpec>, annotations?: Record<string, string>): void;
  object(name: string): ClusterUpgrade;
  condition(name: string, type: string): { status: string; reason: string; message: string } | undefined;
  /** One pass of `name`; moves the clock by its requeue (capped), returns the requeue. */
  pass(name: string): Promise<number | undefined>;
  /** Passes of `name` until `until` holds or it asks for no requeue. */
  drive(name: string, until?: (upgrade: ClusterUpgrade) => boolean, limit?: number): Promise<void>;
  clusterClaim(): string | undefined;
}

function world(): World {
  const base = healthyWorld("1.29");
  const store = new MemoryStore();
  const events = new RecordingEvents();
  const clock = new FakeClock(Date.parse("2026-11-22T12:00:00Z"));
  const controller = new ClusterUpgradeController({
    store,
    events,
    cloud: () => base.ports,
    workloads: () => Promise.resolve(new FakeCluster(base.snapshot)),
    clock,
    logger: createSilentLogger(),
    defaultRegion: "us-east-1",
    timings: { claimSettleMs: SETTLE_MS },
    operatorIdentity: "mgmt-1",
  });
  const object = (name: string): ClusterUpgrade => store.current("default", name);
  const pass = async (name: string): Promise<number | undefined> => {
    const outcome = await controller.reconcile("default", name);
    if (outcome.requeueAfterMs !== undefined) await clock.advance(Math.min(outcome.requeueAfterMs, 60_000));
    return outcome.requeueAfterMs;
  };
  return {
    eks: base.eks,
    autoscaling: base.ports.autoscaling as FakeAutoScaling,
    route53: base.ports.route53 as FakeRoute53,
    store,
    events,
    clock,
    controller,
    add(name, spec = {}, annotations) {
      store.put({
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name, namespace: "default", ...(annotations ? { annotations } : {}) },
        spec: { cluster: { name: "prod" }, targetVersion: "1.31", ...spec },
      });
    },
    object,
    condition: (name, type) => object(name).status?.conditions?.find((entry) => entry.type === type),
    pass,
    async drive(name, until, limit = 200) {
      for (let index = 0; index < limit; index++) {
        const requeue = await pass(name);
        if (requeue === undefined || until?.(object(name))) return;
      }
    },
    clusterClaim: () => base.eks.clusters.get("prod")?.tags?.[CLAIM_TAG],
  };
}

const clusterUpdates = (eks: FakeEks): number => eks.count("startClusterVersionUpdate");

describe("claims (controller, fakes)", () => {
  it("claims the EKS cluster before its first change, and relies on it only once it reads back as ours after the settle time", async () => {
    const w = world();
    w.add("first");
    await w.controller.reconcile("default", "first");
    assert.equal(clusterUpdates(w.eks), 0, "nothing may change before the claim is read back");
    assert.equal(w.condition("first", "Claimed")?.reason, "Claiming");
    assert.deepEqual(parseHolder(w.clusterClaim()), { uid: "uid-first", operator: "mgmt-1", since: "2026-11-22T12:00:00Z", upgrade: "default/first" });
    assert.equal(w.object("first").status?.claims?.[0]?.state, "Taking");
    await w.clock.advance(SETTLE_MS);
    await w.controller.reconcile("default", "first");
    assert.equal(w.condition("first", "Claimed")?.status, "True");
    assert.deepEqual(w.object("first").status?.claims?.map((claim) => [claim.resource, claim.state]), [["EKSCluster/us-east-1/prod", "Held"]]);
    await w.drive("first", (upgrade) => upgrade.status?.phase === "UpgradingControlPlane");
    const tagged = w.eks.calls.findIndex((call) => call.method === "tagCluster");
    const updated = w.eks.calls.findIndex((call) => call.method === "startClusterVersionUpdate");
    assert.ok(tagged >= 0 && updated > tagged, "the tag comes before UpdateClusterVersion");
  });

  it("backs off when the read-back shows another holder that wrote over it, and waits in Blocked naming that holder", async () => {
    const w = world();
    w.add("first");
    await w.controller.reconcile("default", "first");
    // Another operator, in another management cluster, wrote its claim between our write and our read-back.
    w.eks.clusters.get("prod")!.tags = { [CLAIM_TAG]: formatHolder(OTHER) };
    await w.clock.advance(SETTLE_MS);
    await w.controller.reconcile("default", "first");
    const upgrade = w.object("first");
    assert.equal(upgrade.status?.phase, "Blocked");
    const claimed = w.condition("first", "Claimed");
    assert.equal(claimed?.reason, "HeldByAnother");
    assert.match(claimed.message, /EKS cluster prod \(us-east-1\)/);
    assert.match(claimed.message, /infra\/prod-upgrade \(UID uid-elsewhere\) of the operator in management cluster mgmt-2/);
    assert.match(claimed.message, /eksupgrade\.io\/break-claim=uid-elsewhere/);
    assert.deepEqual(upgrade.status?.claims?.map((claim) => [claim.state, claim.heldByUid]), [["Waiting", "uid-elsewhere"]]);
    assert.equal(clusterUpdates(w.eks), 0);
    assert.ok(w.events.reasons().includes("ClaimLost"));
    assert.equal(w.clusterClaim(), formatHolder(OTHER), "the other holder's claim is left alone");
  });

  it("two upgrades of one cluster: the second waits in Blocked naming the first, sends no update, and goes on once the first has succeeded", async () => {
    const w = world();
    w.add("first");
    w.add("second");
    await w.pass("first");
    await w.pass("second");
    assert.equal(w.object("second").status?.phase, "Blocked");
    assert.match(w.condition("second", "Claimed")!.message, /claimed by ClusterUpgrade default\/first \(UID uid-first\) of the operator in management cluster mgmt-1/);
    // The first runs to the end while the second keeps looking.
    for (let round = 0; round < 100; round++) {
      await w.pass("first");
      if (w.object("first").status?.phase === "Succeeded") break;
      await w.controller.reconcile("default", "second");
      assert.equal(w.object("second").status?.phase, "Blocked");
    }
    assert.equal(w.object("first").status?.phase, "Succeeded");
    assert.equal(clusterUpdates(w.eks), 2, "one UpdateClusterVersion per hop, none from the blocked upgrade");
    assert.ok(w.eks.calls.filter((call) => call.method === "startClusterVersionUpdate").every((call) => (call.args[0] as { clientRequestToken: string }).clientRequestToken !== undefined));
    assert.equal(w.clusterClaim(), undefined, "the first released its claim when it succeeded");
    assert.equal(w.condition("first", "Claimed")?.reason, "ClaimsReleased");
    assert.ok(w.events.messages("ClaimReleased").some((message) => message.includes("EKS cluster prod")));
    await w.drive("second", (upgrade) => upgrade.status?.phase === "Succeeded");
    assert.equal(w.object("second").status?.phase, "Succeeded");
    assert.equal(clusterUpdates(w.eks), 2, "the second found the cluster at its target and sent nothing");
    assert.equal(w.clusterClaim(), undefined);
  });

  it("a restarted operator recognises its own claim by UID and neither writes it again nor waits on it", async () => {
    const w = world();
    w.add("first");
    await w.pass("first");
    await w.pass("first");
    assert.equal(w.condition("first", "Claimed")?.status, "True");
    const writes = w.eks.count("tagCluster");
    // As if the status write that recorded the claim had been lost before a restart.
    const stored = w.store.current("default", "first");
    await w.store.updateStatus(stored, { ...stored.status, claims: [] });
    await w.clock.advance(SETTLE_MS);
    await w.controller.reconcile("default", "first");
    assert.equal(w.eks.count("tagCluster"), writes);
    assert.equal(w.condition("first", "Claimed")?.status, "True");
    assert.equal(w.object("first").status?.claims?.[0]?.state, "Held");
  });

  it("abort gives the claims back", async () => {
    const w = world();
    w.add("first");
    await w.drive("first", (upgrade) => upgrade.status?.phase === "UpgradingControlPlane");
    assert.ok(w.clusterClaim());
    w.store.editSpec("default", "first", (upgrade) => (upgrade.spec.abort = true));
    await w.controller.reconcile("default", "first");
    assert.equal(w.object("first").status?.phase, "Aborted");
    assert.equal(w.clusterClaim(), undefined);
    assert.deepEqual(w.object("first").status?.claims?.map((claim) => claim.state), ["Released"]);
    const removals = w.eks.count("untagCluster");
    await w.controller.reconcile("default", "first");
    assert.equal(w.eks.count("untagCluster"), removals, "released once, not on every later pass");
  });

  it("deletion gives the claims back before the finalizer goes, but never another holder's", async () => {
    const w = world();
    w.add("first");
    w.add("second");
    await w.drive("first", (upgrade) => upgrade.status?.phase === "UpgradingControlPlane");
    await w.pass("second");
    assert.equal(w.object("second").status?.phase, "Blocked");
    w.store.markDeleted("default", "second", "2026-11-22T12:30:00Z");
    await w.controller.reconcile("default", "second");
    assert.equal(w.store.exists("default", "second"), false);
    assert.equal(parseHolder(w.clusterClaim())?.uid, "uid-first", "deleting the waiting upgrade leaves the holder's claim");
    w.store.markDeleted("default", "first", "2026-11-22T12:31:00Z");
    await w.controller.reconcile("default", "first");
    assert.equal(w.store.exists("default", "first"), false);
    assert.equal(w.clusterClaim(), undefined);
  });

  it("deleting an upgrade whose spec never checked out reads no claim: nothing can hold it up", async () => {
    const w = world();
    w.add("typo", { cluster: { name: "prdo" } });
    await w.pass("typo");
    assert.equal(w.object("typo").status?.phase, "InvalidSpec");
    const reads = w.eks.count("describeCluster");
    w.store.markDeleted("default", "typo", "2026-11-22T12:30:00Z");
    await w.controller.reconcile("default", "typo");
    assert.equal(w.store.exists("default", "typo"), false);
    assert.equal(w.eks.count("describeCluster"), reads);
  });

  it("breaks a claim with eksupgrade.io/break-claim only when the annotation names the exact current holder", async () => {
    const w = world();
    w.eks.clusters.get("prod")!.tags = { [CLAIM_TAG]: formatHolder(OTHER) };
    w.add("first", {}, { "eksupgrade.io/break-claim": "uid-someone-else" });
    await w.pass("first");
    assert.equal(w.object("first").status?.phase, "Blocked");
    assert.equal(w.clusterClaim(), formatHolder(OTHER));
    w.store.editSpec("default", "first", (upgrade) => (upgrade.metadata.annotations = { "eksupgrade.io/break-claim": "uid-elsewhere" }));
    await w.pass("first");
    assert.equal(parseHolder(w.clusterClaim())?.uid, "uid-first");
    const claim = w.object("first").status?.claims?.[0];
    assert.equal(claim?.broke?.how, "Annotation");
    assert.match(claim?.broke?.holder ?? "", /infra\/prod-upgrade \(UID uid-elsewhere\)/);
    assert.match(w.events.messages("ClaimBroken")[0] ?? "", /broke the claim of ClusterUpgrade infra\/prod-upgrade .* on EKS cluster prod .*eksupgrade\.io\/break-claim=uid-elsewhere/);
    await w.drive("first", (upgrade) => upgrade.status?.phase === "UpgradingControlPlane");
    assert.equal(w.object("first").status?.phase, "UpgradingControlPlane");
  });

  it("breaks by itself a claim whose holder is gone from this management cluster, never one held from another", async () => {
    const w = world();
    w.eks.clusters.get("prod")!.tags = { [CLAIM_TAG]: formatHolder({ ...OTHER, operator: "mgmt-1", upgrade: "default/deleted-long-ago" }) };
    w.add("first");
    await w.pass("first");
    assert.equal(parseHolder(w.clusterClaim())?.uid, "uid-first");
    assert.equal(w.object("first").status?.claims?.[0]?.broke?.how, "HolderGone");

    const v = world();
    v.eks.clusters.get("prod")!.tags = { [CLAIM_TAG]: formatHolder(OTHER) };
    v.add("first");
    await v.pass("first");
    await v.pass("first");
    assert.equal(v.object("first").status?.phase, "Blocked", "a holder in another management cluster cannot be known to be gone");
    assert.equal(v.clusterClaim(), formatHolder(OTHER));

    const alive = world();
    alive.add("holder");
    alive.add("first");
    await alive.pass("holder");
    await alive.pass("first");
    assert.equal(alive.object("first").status?.phase, "Blocked", "a holder that still exists here is waited for");
  });

  it("a dry run claims nothing", async () => {
    const w = world();
    w.add("first", { dryRun: true });
    await w.drive("first");
    assert.equal(w.object("first").status?.phase, "Planned");
    assert.equal(w.eks.count("tagCluster"), 0);
    assert.equal(w.clusterClaim(), undefined);
    assert.equal(w.condition("first", "Claimed")?.reason, "NotApplicable");
    assert.equal(w.object("first").status?.claims, undefined);
  });

  it("claims the self-managed Auto Scaling groups too, and waits when one of them is held", async () => {
    const w = world();
    w.autoscaling.addGroup("legacy", { min: 1, max: 3, desired: 0 }, { id: "lt-legacy", version: "1" });
    w.autoscaling.groups.get("legacy")!.tags[CLAIM_TAG] = formatHolder(OTHER);
    w.add("first", { nodeGroups: { selfManaged: [{ autoScalingGroupName: "legacy" }] } });
    await w.pass("first");
    assert.equal(w.object("first").status?.phase, "Blocked");
    assert.match(w.condition("first", "Claimed")!.message, /Auto Scaling group legacy \(us-east-1\) is claimed by ClusterUpgrade infra\/prod-upgrade/);
    assert.equal(w.autoscaling.count("setSize"), 0);
    delete w.autoscaling.groups.get("legacy")!.tags[CLAIM_TAG];
    await w.pass("first");
    await w.pass("first");
    assert.equal(parseHolder(w.autoscaling.groups.get("legacy")!.tags[CLAIM_TAG])?.uid, "uid-first");
    assert.deepEqual(w.object("first").status?.claims?.map((claim) => [claim.resource, claim.state]), [
      ["AutoScalingGroup/us-east-1/legacy", "Held"],
      ["EKSCluster/us-east-1/prod", "Held"],
    ]);
  });

  it("BlueGreen claims the Route53 record with an ownership TXT record written by compare-and-swap, and the green cluster", async () => {
    const w = world();
    w.eks.clusters.set("green", { name: "green", version: "1.31", status: "ACTIVE", subnetIds: ["subnet-a"], securityGroupIds: ["sg-1"] });
    const blueGreen = {
      greenCluster: { name: "green" },
      route53: { hostedZoneId: "Z0SHOP", recordName: "www.shop.example.com", blueSetIdentifier: "blue", greenSetIdentifier: "green" },
    };
    const txtName = ownershipRecordName("www.shop.example.com", "CNAME");
    assert.equal(txtName, "_eksupgrade-claim-cname.www.shop.example.com");
    w.route53.txtRecords.set(`Z0SHOP|${txtName}`, { ttl: 300, values: [`"${formatHolder(OTHER)}"`] });
    w.add("first", { strategy: "BlueGreen", blueGreen });
    await w.pass("first");
    assert.equal(w.object("first").status?.phase, "Blocked");
    assert.match(w.condition("first", "Claimed")!.message, /Route53 CNAME record www\.shop\.example\.com \(hosted zone Z0SHOP\) is claimed by/);
    assert.equal(w.route53.count("setWeights"), 0);
    // A swap based on a stale read changes nothing: Route53's batch is all or nothing.
    assert.equal(await w.route53.replaceTxtRecord("Z0SHOP", txtName, { ttl: 300, values: ['"stale"'] }, { ttl: 300, values: ['"mine"'] }), false);
    w.store.editSpec("default", "first", (upgrade) => (upgrade.metadata.annotations = { "eksupgrade.io/break-claim": "uid-elsewhere" }));
    await w.pass("first");
    await w.pass("first");
    const record = w.route53.txtRecords.get(`Z0SHOP|${txtName}`);
    assert.equal(parseHolder(record?.values[0]?.slice(1, -1))?.uid, "uid-first");
    assert.equal(parseHolder(w.eks.clusters.get("green")?.tags?.[CLAIM_TAG])?.uid, "uid-first");
    assert.deepEqual(w.object("first").status?.claims?.map((claim) => claim.resource), [
      "EKSCluster/us-east-1/green",
      "EKSCluster/us-east-1/prod",
      "Route53Record/Z0SHOP/www.shop.example.com/CNAME",
    ]);
    w.store.editSpec("default", "first", (upgrade) => (upgrade.spec.abort = true));
    await w.controller.reconcile("default", "first");
    assert.equal(w.route53.txtRecords.has(`Z0SHOP|${txtName}`), false, "the ownership record goes with an abort");
    assert.equal(w.eks.clusters.get("green")?.tags?.[CLAIM_TAG], undefined);
  });
});
