// Giving back a self-managed group's surplus: the operator picks each instance to remove, never
// Auto Scaling, and every step starts from the size the previous one left.
import assert from "node:assert/strict";
import type { CloudPorts } from "../../../../src/cloud/ports.js";
import { restoreGroupSize } from "../../../../src/nodegroups/self-managed-roll/autoscaling.js";
import { FakeAutoScaling } from "../../../support/fakes/autoscaling.js";
import { emptySnapshot } from "../../../support/fakes/cloud.js";
import { FakeCluster } from "../../../support/fakes/cluster.js";

describe("self-managed group size restore", () => {
  for (const surplus of [2, 3]) {
    it(`removes a surplus of ${surplus} newest-first itself, one decrement each, and never lets Auto Scaling choose or relaunch`, async () => {
      const autoscaling = new FakeAutoScaling();
      const original = { min: 2, max: 4, desired: 3 };
      autoscaling.addGroup("legacy", { min: 2, max: 3 + surplus, desired: 3 + surplus }, { id: "lt-legacy", version: "2" });
      const before = autoscaling.groups.get("legacy")!.instances.map((instance) => instance.id);
      const cloud = { autoscaling } as unknown as CloudPorts;
      // No node objects: nothing runs pods, so every surplus instance may go.
      const restored = await restoreGroupSize(cloud, new FakeCluster(emptySnapshot()), "legacy", original);
      const group = autoscaling.groups.get("legacy")!;
      assert.deepEqual(restored, { size: original, keptFor: [] });
      assert.deepEqual(group.size, original);
      assert.deepEqual(group.instances.map((instance) => instance.id), before.slice(0, 3), "the oldest instances stay");
      const terminated = autoscaling.calls.filter((call) => call.method === "terminateInstance").map((call) => call.args);
      assert.deepEqual(terminated, before.slice(3).reverse().map((id) => [id, true]));
      assert.deepEqual(autoscaling.scaledIn, [], "Auto Scaling removed no instance of its own choosing");
      // Every resize keeps the desired capacity the last decrement left, or lowers it.
      let desired = 3 + surplus;
      for (const call of autoscaling.calls) {
        if (call.method === "terminateInstance") desired--;
        if (call.method !== "setSize") continue;
        const size = call.args[1] as { desired: number };
        assert.ok(size.desired <= desired, `setSize raised desired to ${size.desired} after it was ${desired}`);
        desired = size.desired;
      }
    });
  }
});
