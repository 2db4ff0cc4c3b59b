import assert from "node:assert/strict";
import { resolveSpec, weightSchedule } from "../../../src/api/v1alpha1/defaults.js";
import { validateSpec } from "../../../src/api/v1alpha1/validation.js";
import type { BlueGreenSpec } from "../../../src/api/v1alpha1/types.js";

const route53 = { hostedZoneId: "Z123", recordName: "app.example.com", blueSetIdentifier: "blue", greenSetIdentifier: "green" };

describe("spec defaults", () => {
  it("fills every default the CRD declares", () => {
    const spec = resolveSpec({ cluster: { name: "prod" }, targetVersion: "1.31" });
    assert.equal(spec.strategy, "InPlace");
    assert.equal(spec.drain.timeout, "15m");
    assert.equal(spec.drain.onTimeout, "Wait");
    assert.equal(spec.nodeGroups.maxUnavailable, 1);
    assert.equal(spec.addons.resolveConflicts, "PRESERVE");
    assert.equal(spec.expectedHopDuration, "15m");
    assert.deepEqual(spec.maintenanceWindows, []);
  });

  it("turns traffic percentages into Route53 weights on 0-255", () => {
    const blueGreen: BlueGreenSpec = { greenCluster: { name: "green" }, route53 };
    assert.deepEqual(weightSchedule(blueGreen), [
      { blue: 229, green: 26 },
      { blue: 191, green: 64 },
      { blue: 127, green: 128 },
      { blue: 0, green: 255 },
    ]);
    assert.deepEqual(weightSchedule({ ...blueGreen, weightSteps: [{ blue: 10, green: 1 }, { blue: 0, green: 1 }] }), [
      { blue: 10, green: 1 },
      { blue: 0, green: 1 },
    ]);
  });
});

describe("spec validation beyond the schema", () => {
  it("accepts a sound spec", () => {
    assert.deepEqual(
      validateSpec({
        cluster: { name: "prod" },
        targetVersion: "1.31",
        maintenanceWindows: [{ schedule: "0 22 * * 1-5", duration: "4h", timeZone: "Europe/Berlin" }],
        nodeGroups: { selfManaged: [{ autoScalingGroupName: "asg-a", amiId: "ami-0123456789abcdef0" }] },
      }),
      [],
    );
  });

  it("names the field of a bad cron, an unknown zone and an AMI keyed by something other than a version", () => {
    const problems = validateSpec({
      cluster: { name: "prod" },
      targetVersion: "1.31",
      maintenanceWindows: [
        { schedule: "61 22 * * *", duration: "1h" },
        { schedule: "0 22 * * *", duration: "1h", timeZone: "Mars/Olympus" },
      ],
      nodeGroups: { selfManaged: [{ autoScalingGroupName: "asg-a", amiIdsByVersion: { "1.3x": "ami-0123456789abcdef0" } }, { autoScalingGroupName: "asg-b" }] },
    });
    assert.deepEqual(
      problems.map((problem) => problem.field),
      ["spec.maintenanceWindows[0].schedule", "spec.maintenanceWindows[1].timeZone", "spec.nodeGroups.selfManaged[asg-a].amiIdsByVersion"],
    );
    assert.match(problems[0].message, /five fields/);
  });

  it("refuses a zero duration", () => {
    const problems = validateSpec({ cluster: { name: "prod" }, targetVersion: "1.31", drain: { timeout: "0s" } });
    assert.equal(problems[0]?.field, "spec.drain.timeout");
  });
});
