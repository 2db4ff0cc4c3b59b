// The pure parts of the claim protocol: the holder text, the ownership record's name, decisions.
import assert from "node:assert/strict";
import { decide, parseTargetKey, targetKey, type ClaimTarget } from "../../../src/claims/decide.js";
import { formatHolder, operatorIdentityProblem, ownershipRecordName, parseHolder } from "../../../src/claims/holder.js";

const US = { uid: "uid-us", operator: "mgmt-1", since: "2026-11-22T12:00:00Z", upgrade: "default/us" };
const THEM = { uid: "uid-them", operator: "mgmt-2", since: "2026-11-22T11:00:00Z", upgrade: "infra/them" };
const NOW = new Date("2026-11-22T12:00:03Z");

describe("claim holder text", () => {
  it("round-trips and fits a tag value, cutting only the upgrade's name and marking the cut", () => {
    assert.deepEqual(parseHolder(formatHolder(US)), US);
    const long = { ...US, upgrade: `default/${"x".repeat(300)}` };
    const text = formatHolder(long);
    assert.equal(text.length, 255);
    assert.ok(text.endsWith("+"));
    assert.equal(parseHolder(text)?.uid, "uid-us");
    assert.match(text, /^[A-Za-z0-9 +\-=._:/@]+$/, "only characters EKS and Auto Scaling accept in tag values");
  });

  it("reads anything without a uid as not ours to interpret", () => {
    assert.equal(parseHolder("owned"), undefined);
    assert.equal(parseHolder(""), undefined);
  });

  it("refuses operator identities that cannot go into a tag, naming the variable", () => {
    assert.equal(operatorIdentityProblem("mgmt-eu-1"), undefined);
    assert.match(operatorIdentityProblem("my cluster") ?? "", /OPERATOR_IDENTITY "my cluster"/);
    assert.ok(operatorIdentityProblem("x".repeat(65)));
  });

  it("names the ownership record beside the weighted one, wildcards included", () => {
    assert.equal(ownershipRecordName("app.example.com.", "A"), "_eksupgrade-claim-a.app.example.com");
    assert.equal(ownershipRecordName("*.example.com", "CNAME"), "_eksupgrade-claim-cname._wildcard.example.com");
  });

  it("turns status keys back into targets", () => {
    const targets: ClaimTarget[] = [
      { kind: "EKSCluster", region: "eu-west-1", name: "prod" },
      { kind: "AutoScalingGroup", region: "eu-west-1", name: "legacy/a" },
      { kind: "Route53Record", hostedZoneId: "Z1", name: "app.example.com", type: "A" },
    ];
    for (const target of targets) assert.deepEqual(parseTargetKey(targetKey(target)), target);
  });
});

describe("claim decisions", () => {
  const free = { exists: true };
  const ours = { exists: true, value: formatHolder(US), holder: US };
  const theirs = { exists: true, value: formatHolder(THEM), holder: THEM };

  it("skips what does not exist, takes what is free", () => {
    assert.equal(decide({ observed: { exists: false }, uid: "uid-us", now: NOW, settleMs: 5000 }).action, "skip");
    assert.equal(decide({ observed: free, uid: "uid-us", now: NOW, settleMs: 5000 }).action, "take");
  });

  it("holds its own claim only once it has read back as ours for the settle time", () => {
    const entry = { resource: "EKSCluster/r/prod", state: "Taking" as const, since: US.since };
    assert.deepEqual(decide({ observed: ours, uid: "uid-us", entry, now: NOW, settleMs: 5000 }), { action: "settle", remainingMs: 2000, since: US.since });
    assert.equal(decide({ observed: ours, uid: "uid-us", entry, now: new Date("2026-11-22T12:00:05Z"), settleMs: 5000 }).action, "hold");
    // After a restart without the status entry, the claim's own time counts.
    assert.equal(decide({ observed: ours, uid: "uid-us", now: new Date("2026-11-22T12:10:00Z"), settleMs: 5000 }).action, "hold");
  });

  it("waits for another holder, breaks it only for the named UID or a holder known to be gone", () => {
    assert.equal(decide({ observed: theirs, uid: "uid-us", now: NOW, settleMs: 5000 }).action, "wait");
    assert.equal(decide({ observed: theirs, uid: "uid-us", now: NOW, settleMs: 5000, breakUid: "uid-other" }).action, "wait");
    assert.deepEqual(decide({ observed: theirs, uid: "uid-us", now: NOW, settleMs: 5000, breakUid: "uid-them" }), { action: "break", holder: THEM, how: "Annotation" });
    assert.equal(decide({ observed: theirs, uid: "uid-us", now: NOW, settleMs: 5000, holderGone: false }).action, "wait");
    assert.deepEqual(decide({ observed: theirs, uid: "uid-us", now: NOW, settleMs: 5000, holderGone: true }), { action: "break", holder: THEM, how: "HolderGone" });
  });

  it("knows when a claim it held was taken over", () => {
    const entry = { resource: "EKSCluster/r/prod", state: "Held" as const, since: US.since };
    assert.deepEqual(decide({ observed: theirs, uid: "uid-us", entry, now: NOW, settleMs: 5000 }), { action: "wait", holder: THEM, lost: true });
    assert.deepEqual(decide({ observed: { exists: true, value: "somebody" }, uid: "uid-us", now: NOW, settleMs: 5000 }), { action: "wait", lost: false });
  });
});

describe("claim settings from the environment", () => {
  it("reads OPERATOR_IDENTITY, falls back to CLUSTER_ID, and refuses a value a tag cannot carry", async function () {
    // The first import of src/main.ts transpiles the whole operator (about 3 s of CPU), which a
    // loaded machine can stretch past the unit suite's 10 s.
    this.timeout(60_000);
    const { configFromEnvironment } = await import("../../../src/main.js");
    assert.equal(configFromEnvironment({ OPERATOR_IDENTITY: "mgmt-eu-1", CLUSTER_ID: "other" }).operatorIdentity, "mgmt-eu-1");
    assert.equal(configFromEnvironment({ CLUSTER_ID: "mgmt-us-2" }).operatorIdentity, "mgmt-us-2");
    assert.equal(configFromEnvironment({}).operatorIdentity, undefined, "unset: the kube-system namespace UID is read at start-up");
    assert.throws(() => configFromEnvironment({ OPERATOR_IDENTITY: "prod cluster" }), /OPERATOR_IDENTITY "prod cluster" cannot be written into an AWS tag/);
    assert.equal(configFromEnvironment({ CLAIM_SETTLE_SECONDS: "2" }).timings.claimSettleMs, 2000);
  });
});
