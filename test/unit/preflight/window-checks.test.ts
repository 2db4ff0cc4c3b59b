// Windows too short for any control-plane hop are a Blocking finding from the first preflight,
// not a wait that never ends.
import assert from "node:assert/strict";
import { checkWindowFit } from "../../../src/preflight/window-checks.js";

const FIFTEEN_MINUTES = 15 * 60_000;

describe("maintenance windows against the expected hop duration", () => {
  it("WIN001: every window shorter than a hop blocks, naming each window, the expected duration and the fix", () => {
    const findings = checkWindowFit({
      windows: [
        { schedule: "0 22 * * 1-4", duration: "10m", timeZone: "Europe/Berlin" },
        { schedule: "0 3 * * 6", duration: "14m", timeZone: "UTC" },
      ],
      pendingHops: ["1.29 -> 1.30", "1.30 -> 1.31"],
      expectedHopMs: FIFTEEN_MINUTES,
      expectedFrom: "spec",
    });
    assert.equal(findings.length, 1);
    const [finding] = findings;
    assert.equal(finding.code, "WIN001");
    assert.equal(finding.severity, "Blocking");
    assert.equal(finding.resource, "spec.maintenanceWindows[0],spec.maintenanceWindows[1]");
    assert.match(finding.message, /1\.29 -> 1\.30, 1\.30 -> 1\.31 can never start/);
    assert.match(finding.message, /expected to take 15m \(spec\.controlPlane\.expectedHopDuration\)/);
    assert.match(finding.message, /spec\.maintenanceWindows\[0\] "0 22 \* \* 1-4" \(Europe\/Berlin\) lasts 10m/);
    assert.match(finding.message, /spec\.maintenanceWindows\[1\] "0 3 \* \* 6" \(UTC\) lasts 14m/);
    assert.match(finding.remediation, /duration of 15m or more/);
    assert.match(finding.remediation, /lower spec\.controlPlane\.expectedHopDuration/);
  });

  it("one window long enough is enough; a window exactly as long as the hop fits", () => {
    const windows = [
      { schedule: "0 22 * * 1-4", duration: "10m", timeZone: "UTC" },
      { schedule: "0 3 * * 6", duration: "15m", timeZone: "UTC" },
    ];
    assert.deepEqual(checkWindowFit({ windows, pendingHops: ["1.30 -> 1.31"], expectedHopMs: FIFTEEN_MINUTES, expectedFrom: "spec" }), []);
  });

  it("no windows, or no control-plane hop left, is nothing to report", () => {
    assert.deepEqual(checkWindowFit({ windows: [], pendingHops: ["1.30 -> 1.31"], expectedHopMs: FIFTEEN_MINUTES, expectedFrom: "spec" }), []);
    assert.deepEqual(checkWindowFit({ windows: [{ schedule: "0 22 * * *", duration: "5m", timeZone: "UTC" }], pendingHops: [], expectedHopMs: FIFTEEN_MINUTES, expectedFrom: "spec" }), []);
  });

  it("a measured hop longer than every window says it was measured, and does not suggest lowering the estimate", () => {
    const [finding] = checkWindowFit({ windows: [{ schedule: "0 22 * * *", duration: "20m", timeZone: "UTC" }], pendingHops: ["1.30 -> 1.31"], expectedHopMs: 25 * 60_000, expectedFrom: "measured" });
    assert.match(finding.message, /slowest control-plane hop of this cluster so far took 25m/);
    assert.doesNotMatch(finding.remediation, /expectedHopDuration/);
  });
});
