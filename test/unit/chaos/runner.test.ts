import assert from "node:assert/strict";
import { parseArguments } from "../../chaos/arguments.js";
import { CONDITIONS, derivedSeed, killSchedule, totalRate, type ChaosCondition } from "../../chaos/conditions.js";
import { countsSince } from "../../chaos/faults.js";
import { formatFailures, formatTable, replayCommand, rowPassed, type RowResult } from "../../chaos/report.js";

describe("chaos runner", () => {
  it("draws the same kill schedule from the same seed, another from another seed or condition", () => {
    const window = { minMs: 500, maxMs: 6_000 };
    const first = killSchedule(42, "kills", 20, window);
    assert.equal(first.length, 20);
    assert.ok(first.every((delay) => delay >= 500 && delay <= 6_000));
    assert.deepEqual(killSchedule(42, "kills", 20, window), first);
    assert.notDeepEqual(killSchedule(43, "kills", 20, window), first);
    assert.notDeepEqual(killSchedule(42, "both", 20, window), first);
    assert.equal(derivedSeed(42, "faults", "faults"), derivedSeed(42, "faults", "faults"));
    assert.throws(() => killSchedule(1, "kills", 1, { minMs: 5, maxMs: 1 }), /kill window 5-1 ms/);
  });

  it("asks for at least 20 kills in (a) and (c), 10 % faults in (b) and (c), 2 % hangs timed against the baseline in (d)", () => {
    const byId = Object.fromEntries(CONDITIONS.map((condition) => [condition.id, condition])) as Record<string, ChaosCondition>;
    const rate = (id: string): number => totalRate(byId[id].faults);
    assert.ok(byId.kills.kills >= 20 && byId.both.kills >= 20);
    assert.ok(byId.kills.maxKills > byId.kills.kills, "kills go on until the upgrades end");
    assert.ok(Math.abs(rate("faults") - 0.1) < 1e-9 && Math.abs(rate("both") - 0.1) < 1e-9);
    assert.equal(byId.hangs.faults.hang, 0.02);
    assert.equal(byId.hangs.timeBound, 2);
  });

  it("parses --seed, --conditions and --scenarios, adds the baseline a timed condition needs, and names the option at fault", () => {
    const parsed = parseArguments(["--seed", "77", "--conditions=hangs", "--scenarios", "inplace"], () => 1);
    assert.equal(parsed.seed, 77);
    assert.deepEqual(parsed.conditions.map((condition) => condition.id), ["baseline", "hangs"]);
    assert.deepEqual(parsed.scenarios, ["inplace"]);
    assert.equal(parseArguments([], () => 5).seed, 5, "a fresh seed when none is given");
    assert.deepEqual(parseArguments([], () => 5).conditions.map((condition) => condition.id), ["baseline", "kills", "faults", "both", "hangs"]);
    assert.throws(() => parseArguments(["--seed", "x"], () => 1), /--seed takes a whole number/);
    assert.throws(() => parseArguments(["--conditions", "kills,chaos"], () => 1), /--conditions: "chaos" is not one of baseline, kills, faults, both, hangs/);
    assert.throws(() => parseArguments(["--fast"], () => 1), /unknown option --fast/);
  });

  it("counts the faults of one condition from two readings of the proxy's counters", () => {
    assert.deepEqual(countsSince({ requests: 10, injected: { throttle: 1 } }, { requests: 25, injected: { throttle: 3, reset: 1 } }), { requests: 15, injected: { throttle: 2, reset: 1 } });
  });

  it("prints a row per condition and scenario, failing when any check fails, with the command that replays it", () => {
    const row = (ok: boolean): RowResult => ({
      condition: "kills",
      conditionTitle: "(a) >= 20 SIGKILLs",
      scenario: "inplace",
      seed: 9,
      durationMs: 123_400,
      phase: "Succeeded",
      kills: 21,
      faults: { requests: 200, injected: { throttle: 8 } },
      checks: { finished: { ok: true, detail: "" }, calls: { ok, detail: "demo: 2 different calls" }, route53: undefined },
      command: replayCommand(9, "kills", ["inplace", "bluegreen"]),
    });
    assert.equal(rowPassed(row(true)), true);
    assert.equal(rowPassed(row(false)), false);
    const table = formatTable([row(true), row(false)]).split("\n");
    assert.equal(table.length, 4);
    assert.match(table[2], /^\| \(a\) >= 20 SIGKILLs \| inplace +\| pass +\| ok +\| - +\| - +\| ok +\| - .*\| 123 s +\| 21 +\| 8 of 200 \(throttle 8\) +\| 9 +\|$/);
    assert.match(table[3], /\| FAIL +\| ok +\| - +\| - +\| FAIL/);
    assert.deepEqual(formatFailures([row(false)]), ["kills / inplace / calls: demo: 2 different calls"]);
    assert.equal(row(true).command, "npm run test:chaos -- --seed 9 --conditions kills");
    assert.equal(replayCommand(9, "hangs", ["inplace"]), "npm run test:chaos -- --seed 9 --conditions hangs --scenarios inplace");
  });
});
