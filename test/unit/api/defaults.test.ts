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

  it("asks each dangerous switch for what makes it deliberate, as the CRD's rules do", () => {
    const base = { cluster: { name: "prod" }, targetVersion: "1.31" };
    const route53 = { hostedZoneId: "Z1", recordName: "app.example.com", blueSetIdentifier: "blue", greenSetIdentifier: "green" };
    const fields = (spec: Parameters<typeof validateSpec>[0]): string[] => validateSpec(spec).map((problem) => problem.field);
    assert.deepEqual(fields({ ...base, controlPlane: { force: true } }), ["spec.controlPlane.force"]);
    assert.deepEqual(fields({ ...base, controlPlane: { force: true }, preflight: { insightOverrides: [] } }), ["spec.controlPlane.force"]);
    assert.deepEqual(fields({ ...base, controlPlane: { force: true }, preflight: { insightOverrides: [{ insightId: "i-1", reason: "checked with the team" }] } }), []);
    assert.deepEqual(fields({ ...base, drain: { gracePeriodSeconds: 0 } }), ["spec.drain.gracePeriodSeconds"]);
    assert.deepEqual(fields({ ...base, drain: { gracePeriodSeconds: 0, allowForceDelete: true } }), []);
    assert.deepEqual(fields({ ...base, drain: { gracePeriodSeconds: 1 } }), []);
    const blueGreen = (keepFor: string | undefined): Parameters<typeof validateSpec>[0] => ({
      ...base,
      strategy: "BlueGreen",
      blueGreen: { greenCluster: { name: "green" }, route53, blueRetention: { scaleDown: true, deleteBlue: true, ...(keepFor ? { keepFor } : {}) } },
    });
    assert.deepEqual(fields(blueGreen("59m59s")), ["spec.blueGreen.blueRetention.keepFor"]);
    assert.match(validateSpec(blueGreen("30m"))[0].message, /at least 1h \(it is 30m\)/);
    assert.deepEqual(fields(blueGreen("1h")), []);
    assert.deepEqual(fields(blueGreen(undefined)), [], "the 24h default");
  });
});
