// One upgrade per cluster on the sandbox: two ClusterUpgrades of one EKS cluster. The second waits
// in Blocked naming the first while the first upgrades, sends no UpdateClusterVersion of its own,
// and goes on by itself once the first has succeeded and released its claim.
import assert from "node:assert/strict";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { condition, emulatorCalls, UpgradeWorld } from "../support/upgrades.js";

describe("one upgrade per cluster end to end (sandbox)", function () {
  this.timeout(10 * 60_000);
  let world: UpgradeWorld;
  const operators: OperatorProcess[] = [];

  beforeEach(async function () {
    this.timeout(3 * 60_000);
    world = await UpgradeWorld.prepare("default");
  });

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((running) => running.stop()));
  });

  it("a second ClusterUpgrade of cluster demo waits in Blocked naming the first, and proceeds once the first has succeeded", async () => {
    operators.push(startOperatorProcess({ OPERATOR_IDENTITY: "e2e-management" }));
    const spec = { cluster: { name: "demo" }, targetVersion: "1.30", nodeGroups: { order: ["general"] } };
    await world.apply("first", spec);
    const holding = await world.waitFor("first", "its claim held", (upgrade) => condition(upgrade, "Claimed")?.status === "True");
    assert.deepEqual(holding.status?.claims?.map((claim) => [claim.resource, claim.state]), [["EKSCluster/us-east-1/demo", "Held"]]);
    await world.apply("second", spec);
    const blocked = await world.waitForPhase("second", "Blocked");
    const claimed = condition(blocked, "Claimed");
    assert.equal(claimed?.reason, "HeldByAnother");
    assert.match(claimed.message, new RegExp(`EKS cluster demo \\(us-east-1\\) is claimed by ClusterUpgrade e2e/first \\(UID ${holding.metadata.uid}\\) of the operator in management cluster e2e-management`));
    assert.equal(blocked.status?.claims?.[0]?.heldByUid, holding.metadata.uid);

    const done = await world.waitForPhase("first", "Succeeded");
    assert.equal(done.status?.currentVersion, "1.30");
    assert.equal(condition(done, "Claimed")?.reason, "ClaimsReleased");
    const second = await world.waitForPhase("second", "Succeeded");
    assert.equal(condition(second, "Claimed")?.reason, "ClaimsReleased");

    const updates = await emulatorCalls("demo", "UpdateClusterVersion");
    assert.deepEqual(updates.map((call) => call.request.version), ["1.30"], "exactly one UpdateClusterVersion for the one hop, none from the second upgrade");
    // The claim came first: the first TagResource precedes the UpdateClusterVersion; each upgrade tagged and untagged once.
    const calls = await emulatorCalls("demo");
    const first = (operation: string): number => calls.findIndex((call) => call.operation === operation);
    assert.ok(first("TagResource") >= 0 && first("TagResource") < first("UpdateClusterVersion"));
    const tags = calls.filter((call) => call.operation === "TagResource").map((call) => JSON.stringify(call.request.tags));
    assert.equal(tags.length, 2, `TagResource calls: ${tags.join(", ")}`);
    assert.match(tags[0], /upgrade=e2e\/first/);
    assert.match(tags[1], /upgrade=e2e\/second/);
    assert.equal(calls.filter((call) => call.operation === "UntagResource").length, 2);
  });
});
