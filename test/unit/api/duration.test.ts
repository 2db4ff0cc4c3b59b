import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../../src/api/v1alpha1/duration.js";

describe("durations", () => {
  it("parses the Kubernetes notation", () => {
    assert.equal(parseDuration("90s"), 90_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("250ms"), 250);
    assert.equal(parseDuration("1.5h"), 5_400_000);
  });

  it("rejects anything else with a hint", () => {
    assert.throws(() => parseDuration("15"), /expected a form like/);
    assert.throws(() => parseDuration("1d"), /not a duration/);
  });

  it("formats for messages", () => {
    assert.equal(formatDuration(5_400_000), "1h30m");
    assert.equal(formatDuration(61_000), "1m1s");
    assert.equal(formatDuration(0), "0ms");
  });
});
