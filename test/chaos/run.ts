// npm run test:chaos: starts a sandbox, runs the chaos conditions on the chaos world, prints the
// table of invariants and writes the results as JSON. Exits 1 when any check failed, 2 on bad
// arguments. See docs/reliability.md.
//
//   npm run test:chaos -- [--seed N] [--conditions baseline,kills,faults,both,hangs]
//                         [--scenarios inplace,bluegreen] [--out FILE]
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeMix, freshSeed, type ChaosCondition } from "./conditions.js";
import { runCondition, type ChaosOptions } from "./chaos.js";
import { faultFactory } from "./proxy.js";
import { formatFailures, formatTable, rowPassed, type RowResult } from "./report.js";
import { parseArguments } from "./arguments.js";
import { acquireSandbox, operatorPermissionFailure, releaseSandbox } from "../support/global-sandbox.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArguments(process.argv.slice(2), freshSeed);
  } catch (error) {
    process.stderr.write(`test:chaos: ${(error as Error).message}\n`);
    return 2;
  }
  const { seed, conditions, scenarios } = parsed;
  const out = resolve(repoRoot, parsed.out ?? `.chaos/chaos-${seed}.json`);
  log(`chaos run, seed ${seed} (replay: npm run test:chaos -- --seed ${seed})`);
  for (const condition of conditions) log(`  ${condition.id}: ${condition.kills > 0 ? `kills until the upgrades end (each must see ${condition.kills})` : "no kills"}, AWS faults ${describeMix(condition.faults)}${condition.timeBound ? `, within ${condition.timeBound}x the fault-free time` : ""}`);

  const startedAt = Date.now();
  await acquireSandbox();
  const faults = faultFactory();
  const options: ChaosOptions = {
    seed,
    scenarios,
    faults,
    // A control-plane hop of 18 s instead of 4.8 s: the in-place upgrade then lasts long enough for
    // the 20 kills condition (c) asks of it (a kill, a restart and the lease's expiry take about 7 s).
    controlPlaneUpdateSeconds: 1800,
    killWindow: { minMs: 300, maxMs: 3_000 },
    // 20 steps (the most the CRD allows) of 7 s: a little longer than the in-place upgrade, so
    // that both live through at least 20 kills.
    trafficSteps: Array.from({ length: 20 }, (_unused, index) => (index + 1) * 5),
    stepInterval: "7s",
    timeoutMs: 20 * 60_000,
    log,
  };
  const rows: RowResult[] = [];
  const errors: string[] = [];
  let permissions: string | undefined;
  try {
    const reference: Partial<Record<string, number>> = {};
    for (const condition of conditions) {
      try {
        const result = await runCondition(condition, options, reference);
        rows.push(...result);
        if (condition.id === "baseline") for (const row of result) if (row.phase === "Succeeded") reference[row.scenario] = row.durationMs;
      } catch (error) {
        errors.push(`${condition.id}: ${(error as Error).stack ?? String(error)}`);
        log(`condition ${condition.id} could not run: ${(error as Error).message}`);
      }
    }
    permissions = operatorPermissionFailure()?.message;
  } finally {
    await releaseSandbox();
  }

  const passed = rows.filter(rowPassed).length;
  const ok = errors.length === 0 && permissions === undefined && passed === rows.length && rows.length > 0;
  process.stdout.write(`\nchaos run, seed ${seed}, ${Math.round((Date.now() - startedAt) / 60_000)} min\n\n${formatTable(rows)}\n\n`);
  for (const line of formatFailures(rows)) process.stdout.write(`failed: ${line}\n`);
  for (const error of errors) process.stdout.write(`error: ${error}\n`);
  if (permissions) process.stdout.write(`failed: least privilege: ${permissions}\n`);
  process.stdout.write(`${passed} of ${rows.length} row(s) passed${errors.length > 0 ? `, ${errors.length} condition(s) could not run` : ""}; results in ${out}\n`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ seed, startedAt: new Date(startedAt).toISOString(), minutes: (Date.now() - startedAt) / 60_000, ok, conditions: conditions.map(describeCondition), rows, errors, permissions: permissions ?? "ok" }, null, 2)}\n`,
  );
  return ok ? 0 : 1;
}

function describeCondition(condition: ChaosCondition): Record<string, unknown> {
  return { id: condition.id, title: condition.title, kills: condition.kills, faults: condition.faults, timeBound: condition.timeBound };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`test:chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
