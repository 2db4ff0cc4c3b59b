// The chaos suite's short variant (the whole one is npm run test:chaos, docs/reliability.md): the
// two-hop in-place upgrade of the chaos world's cluster demo, its managed and self-managed groups
// rolled, while the operator is killed 4 times at seeded moments and 10 % of its AWS requests are
// throttled, answered 5xx or reset. Every invariant of the full suite must hold. A failure prints
// the seed; EKSUP_CHAOS_SEED=N replays the same kill schedule and fault draws.
import assert from "node:assert/strict";
import { runCondition } from "../chaos/chaos.js";
import { freshSeed, SHORT_CONDITION } from "../chaos/conditions.js";
import { faultFactory } from "../chaos/proxy.js";
import { formatFailures, formatTable, rowPassed } from "../chaos/report.js";

describe("chaos, short variant (sandbox)", function () {
  this.timeout(6 * 60_000);

  it("a two-hop in-place upgrade survives 4 SIGKILLs and 10 % AWS faults with every invariant kept", async () => {
    const seed = process.env.EKSUP_CHAOS_SEED ? Number(process.env.EKSUP_CHAOS_SEED) : freshSeed();
    const faults = faultFactory();
    const rows = await runCondition(SHORT_CONDITION, {
      seed,
      scenarios: ["inplace"],
      faults,
      // Short gaps, so that the 4 kills land within the upgrade's first minute.
      killWindow: { minMs: 500, maxMs: 4_000 },
      trafficSteps: [100],
      stepInterval: "1s",
      timeoutMs: 5 * 60_000,
      log: () => undefined,
    });
    const row = rows[0];
    const report = `seed ${seed} (EKSUP_CHAOS_SEED=${seed} replays it)\n${formatTable(rows)}\n${formatFailures(rows).join("\n")}`;
    assert.equal(rows.length, 1);
    assert.ok(rowPassed(row), report);
    assert.ok(row.kills >= 4, report);
    assert.ok(row.faults && Object.keys(row.faults.injected).length > 0, `faults were injected: ${report}`);
  });
});
