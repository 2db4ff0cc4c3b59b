import assert from "node:assert/strict";
import { groupsRestored, nodesClean, noSecretsIn, onePerHop, phasesNotifiedOnce, templateVersionsAsNeeded, weightsAt, type Delivery } from "../../chaos/invariants.js";
import type { EmulatorCall } from "../../support/upgrades.js";

const call = (version: string, token: string | undefined, status = 200): EmulatorCall => ({
  operation: "UpdateClusterVersion",
  clusterName: "demo",
  request: { version, ...(token ? { clientRequestToken: token } : {}) },
  status,
});

describe("chaos invariants", () => {
  describe("one call per hop", () => {
    it("passes one call per hop, and a resend with the same token after a lost answer", () => {
      const verdict = onePerHop([call("1.30", "a"), call("1.30", "a"), call("1.31", "b")], "UpdateClusterVersion", ["1.30", "1.31"], "demo");
      assert.equal(verdict.ok, true, verdict.detail);
      assert.match(verdict.detail, /1 resend\(s\) with the same token/);
    });

    it("fails a second token for a hop, a missing hop, a hop never accepted and a version not planned", () => {
      assert.match(onePerHop([call("1.30", "a"), call("1.30", "b"), call("1.31", "c")], "UpdateClusterVersion", ["1.30", "1.31"], "demo").detail, /2 different UpdateClusterVersion calls for 1.30/);
      assert.match(onePerHop([call("1.30", "a")], "UpdateClusterVersion", ["1.30", "1.31"], "demo").detail, /no UpdateClusterVersion for 1.31/);
      assert.match(onePerHop([call("1.30", "a", 503)], "UpdateClusterVersion", ["1.30"], "demo").detail, /never accepted/);
      assert.match(onePerHop([call("1.30", "a")], "UpdateClusterVersion", [], "blue").detail, /unexpected UpdateClusterVersion for 1.30/);
      // Calls without a token cannot be told apart from new ones.
      assert.equal(onePerHop([call("1.30", undefined), call("1.30", undefined)], "UpdateClusterVersion", ["1.30"], "demo").ok, false);
    });

    it("counts only the operation asked for", () => {
      const other = { ...call("1.30", "x"), operation: "UpdateNodegroupVersion" };
      assert.equal(onePerHop([call("1.30", "a"), other], "UpdateClusterVersion", ["1.30"], "demo").ok, true);
    });
  });

  it("Auto Scaling groups: sizes and suspended processes as before", () => {
    const group = { name: "demo-legacy", min: 2, max: 4, desired: 2, suspended: [] as string[] };
    assert.equal(groupsRestored([group], [{ ...group }]).ok, true);
    assert.match(groupsRestored([group], [{ ...group, desired: 3 }]).detail, /demo-legacy at min 2, max 4, desired 3, was min 2, max 4, desired 2/);
    assert.match(groupsRestored([group], [{ ...group, suspended: ["AZRebalance"] }]).detail, /still has AZRebalance suspended/);
    assert.match(groupsRestored([group], []).detail, /demo-legacy is gone/);
  });

  it("launch templates: exactly the versions the roll needs", () => {
    const before = { lt1: { name: "legacy", latest: 1 }, lt2: { name: "blue", latest: 1 } };
    assert.equal(templateVersionsAsNeeded(before, { lt1: { name: "legacy", latest: 3 }, lt2: { name: "blue", latest: 1 } }, { lt1: 2 }).ok, true);
    assert.match(templateVersionsAsNeeded(before, { lt1: { name: "legacy", latest: 4 }, lt2: { name: "blue", latest: 1 } }, { lt1: 2 }).detail, /legacy has 3 new version\(s\), the roll needs 2/);
    assert.match(templateVersionsAsNeeded(before, { lt1: { name: "legacy", latest: 3 }, lt2: { name: "blue", latest: 2 } }, { lt1: 2 }).detail, /blue has 1 new version/);
  });

  it("nodes: none cordoned or carrying an eksupgrade.io/ key", () => {
    assert.equal(nodesClean([{ name: "n1", unschedulable: false, keys: ["kubernetes.io/hostname"] }]).ok, true);
    assert.match(nodesClean([{ name: "n1", unschedulable: true, keys: [] }]).detail, /n1 cordoned/);
    assert.match(nodesClean([{ name: "n2", unschedulable: false, keys: ["eksupgrade.io/drain"] }]).detail, /n2 carries eksupgrade.io\/drain/);
  });

  describe("notifications", () => {
    const delivery = (sequence: number, previousPhase: string, phase: string): Delivery => {
      const key = `uid-1/${sequence}/${phase}`;
      return { header: key, body: { idempotencyKey: key, previousPhase, phase } };
    };
    const done = (sequence: number, phase: string) => ({ sequence, pending: [], lastNotified: { phase, key: `uid-1/${sequence}/${phase}` } });

    it("passes each change once, repeats of a key allowed", () => {
      const deliveries = [delivery(1, "Pending", "Preflight"), delivery(1, "Pending", "Preflight"), delivery(2, "Preflight", "Succeeded")];
      const verdict = phasesNotifiedOnce(deliveries, done(2, "Succeeded"), "Succeeded");
      assert.equal(verdict.ok, true, verdict.detail);
      assert.match(verdict.detail, /2 change\(s\) once each \(Preflight -> Succeeded\), 1 repeat/);
    });

    it("fails a change never delivered, a change under two keys, a mismatched header and a final phase not notified", () => {
      assert.match(phasesNotifiedOnce([delivery(2, "Preflight", "Succeeded")], done(2, "Succeeded"), "Succeeded").detail, /keys delivered for changes 2, status recorded 2/);
      const twice = [delivery(1, "Pending", "Preflight"), delivery(2, "Pending", "Preflight"), delivery(3, "Preflight", "Succeeded")];
      assert.match(phasesNotifiedOnce(twice, done(3, "Succeeded"), "Succeeded").detail, /change 2 is Pending -> Preflight, but the one before went to Preflight/);
      const forged = { header: "other", body: { idempotencyKey: "uid-1/1/Preflight", phase: "Preflight", previousPhase: "Pending" } };
      assert.match(phasesNotifiedOnce([forged], done(1, "Preflight"), "Preflight").detail, /header \(other\) differs/);
      assert.match(phasesNotifiedOnce([delivery(1, "Pending", "Preflight")], done(1, "Preflight"), "Succeeded").detail, /the last change notified is Preflight, the upgrade ended Succeeded/);
      assert.match(phasesNotifiedOnce([delivery(1, "Pending", "Succeeded")], { sequence: 1, pending: [{}] }, "Succeeded").detail, /1 change\(s\) still pending/);
    });
  });

  it("secrets: none in any log, and refuses to look for one too short to mean anything", () => {
    const secrets = [{ what: "the token", value: "s3cr3t-token-value" }];
    assert.equal(noSecretsIn([{ path: "a.log", text: "nothing here" }], secrets).ok, true);
    assert.match(noSecretsIn([{ path: "a.log", text: "x" }, { path: "b.log", text: "bearer s3cr3t-token-value" }], secrets).detail, /the token in 1 log\(s\), e.g. b.log/);
    assert.throws(() => noSecretsIn([], [{ what: "the key", value: "testing" }]), /the key is too short/);
  });

  it("Route53 weights where the schedule ends", () => {
    assert.equal(weightsAt({ blue: 0, green: 255 }, { blue: 0, green: 255 }).ok, true);
    assert.match(weightsAt({ blue: 127, green: 128 }, { blue: 0, green: 255 }).detail, /weights blue 127, green 128, the schedule ends at blue 0, green 255/);
  });
});
