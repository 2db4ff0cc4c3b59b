import assert from "node:assert/strict";
import { weightSchedule } from "../../../src/api/v1alpha1/defaults.js";
import { validateSpec } from "../../../src/api/v1alpha1/validation.js";
import type { ClusterUpgradeSpec } from "../../../src/api/v1alpha1/types.js";
import { greenPercent, splitText, validateWeightSchedule } from "../../../src/bluegreen/schedule.js";

const route53 = { hostedZoneId: "Z123", recordName: "www.example.com", blueSetIdentifier: "blue", greenSetIdentifier: "green" };

function blueGreenSpec(blueGreen: Partial<NonNullable<ClusterUpgradeSpec["blueGreen"]>> = {}): ClusterUpgradeSpec {
  return { cluster: { name: "blue" }, targetVersion: "1.31", strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, ...blueGreen } };
}

describe("blue/green weight schedule", () => {
  it("accepts the default schedule and reads it as splits", () => {
    const schedule = weightSchedule({ greenCluster: { name: "green" }, route53 });
    assert.deepEqual(validateWeightSchedule(schedule), []);
    assert.deepEqual(schedule.map(splitText), ["90/10", "75/25", "50/50", "0/100"]);
  });

  it("reads both weights at 0 as the equal split Route53 makes of it", () => {
    assert.equal(greenPercent({ blue: 0, green: 0 }), 50);
    assert.equal(splitText({ blue: 255, green: 0 }), "100/0");
  });

  it("refuses a schedule whose green share falls, even when green's weight grows", () => {
    // green 10 of 20 is 50%, green 20 of 275 is 7%: CEL only sees 10 < 20.
    const problems = validateWeightSchedule([{ blue: 10, green: 10 }, { blue: 255, green: 20 }, { blue: 0, green: 255 }]);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /step 2 .*green's share \(7%\) must be larger than at step 1 \(50%\)/);
  });

  it("refuses a schedule that does not end with all traffic on green", () => {
    assert.match(validateWeightSchedule([{ blue: 200, green: 55 }, { blue: 100, green: 155 }]).join("\n"), /last step \(blue 100, green 155\) must send all traffic to green/);
  });

  it("refuses weights outside 0-255 and non-integers", () => {
    const problems = validateWeightSchedule([{ blue: 300, green: 10 }, { blue: 0, green: 2.5 }]);
    assert.ok(problems.some((problem) => /step 1 .*blue weight must be an integer from 0 to 255/.test(problem)));
    assert.ok(problems.some((problem) => /step 2 .*green weight must be an integer from 0 to 255/.test(problem)));
  });

  it("refuses a step with both weights 0 and a step giving green nothing", () => {
    assert.match(validateWeightSchedule([{ blue: 0, green: 0 }, { blue: 0, green: 255 }]).join("\n"), /step 1 .*both weights are 0/);
    assert.match(validateWeightSchedule([{ blue: 255, green: 0 }, { blue: 0, green: 255 }]).join("\n"), /step 1 .*sends no traffic to green/);
  });

  it("refuses an empty schedule", () => {
    assert.match(validateWeightSchedule([]).join(""), /no step/);
  });

  it("turns schedule problems into spec problems on the field the user wrote", () => {
    const fromWeights = validateSpec(blueGreenSpec({ weightSteps: [{ blue: 100, green: 200 }, { blue: 100, green: 100 }] }));
    assert.ok(fromWeights.every((problem) => problem.field === "spec.blueGreen.weightSteps"));
    assert.ok(fromWeights.length >= 2, JSON.stringify(fromWeights));
    const fromPercent = validateSpec(blueGreenSpec({ trafficSteps: [50, 25, 100] }));
    assert.deepEqual(fromPercent.map((problem) => problem.field), ["spec.blueGreen.trafficSteps"]);
    assert.deepEqual(validateSpec(blueGreenSpec({ trafficSteps: [5, 50, 100] })), []);
  });

  it("accepts createGreen, scaleDown and deleteBlue, and refuses green named as blue or cloned into another region", () => {
    assert.deepEqual(validateSpec(blueGreenSpec({ createGreen: true, blueRetention: { scaleDown: true, deleteBlue: true } })), []);
    const same = validateSpec(blueGreenSpec({ greenCluster: { name: "blue" } }));
    assert.deepEqual(same.map((problem) => problem.field), ["spec.blueGreen.greenCluster.name"]);
    assert.match(same[0].message, /green must be another cluster than blue/);
    const elsewhere = validateSpec({ ...blueGreenSpec({ createGreen: true, greenCluster: { name: "green", region: "eu-west-1" } }), cluster: { name: "blue", region: "us-east-1" } });
    assert.deepEqual(elsewhere.map((problem) => problem.field), ["spec.blueGreen.greenCluster.region"]);
    assert.match(elsewhere[0].message, /clones blue into blue's own region/);
  });

  it("refuses zero durations for the step interval, check interval and retention", () => {
    const problems = validateSpec(blueGreenSpec({ stepInterval: "0s", gates: { checkInterval: "0m" }, blueRetention: { keepFor: "0h" } }));
    assert.deepEqual(problems.map((problem) => problem.field), ["spec.blueGreen.stepInterval", "spec.blueGreen.gates.checkInterval", "spec.blueGreen.blueRetention.keepFor"]);
  });
});
