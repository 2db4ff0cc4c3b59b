// The chaos run's results: one row per condition and scenario, printed as a table and written as
// JSON. Pure formatting, so that it is unit tested.
import type { ConditionId } from "./conditions.js";
import type { FaultCounts } from "./faults.js";
import { injectedTotal } from "./faults.js";
import type { Verdict } from "./invariants.js";
import type { InvariantId, ScenarioId } from "./world.js";

/** Checks of the run itself besides the invariants: it ended Succeeded, got its kills, kept its time bound. */
export type RunCheckId = "finished" | "killed" | "time";

export type CheckId = RunCheckId | InvariantId;

export const COLUMNS: readonly CheckId[] = ["finished", "killed", "time", "calls", "budgets", "nodes", "groups", "templates", "route53", "notified", "secrets"];

export interface RowResult {
  condition: ConditionId;
  conditionTitle: string;
  scenario: ScenarioId;
  seed: number;
  /** Apply to the end phase, when it ended. */
  durationMs: number | undefined;
  phase: string;
  /** SIGKILLs while this upgrade ran. */
  kills: number;
  /** Faults the proxy injected during the condition (both upgrades together); undefined without a proxy. */
  faults: FaultCounts | undefined;
  /** An undefined check does not apply to this row. */
  checks: Partial<Record<CheckId, Verdict>>;
  /** The command that runs this row again. */
  command: string;
}

export function rowPassed(row: RowResult): boolean {
  return Object.values(row.checks).every((check) => check === undefined || check.ok);
}

function cell(check: Verdict | undefined): string {
  return check === undefined ? "-" : check.ok ? "ok" : "FAIL";
}

export function seconds(ms: number | undefined): string {
  return ms === undefined ? "-" : `${Math.round(ms / 1000)} s`;
}

function faultCell(faults: FaultCounts | undefined): string {
  if (!faults) return "-";
  const total = injectedTotal(faults);
  const kinds = Object.entries(faults.injected)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  return total === 0 ? `0 of ${faults.requests}` : `${total} of ${faults.requests} (${kinds})`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, index) => Math.max(title.length, ...rows.map((row) => row[index].length)));
  const line = (cells: string[]): string => `| ${cells.map((text, index) => text.padEnd(widths[index])).join(" | ")} |`;
  return [line(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** The results table (Markdown, so it can go into docs/reliability.md as it is). */
export function formatTable(rows: readonly RowResult[]): string {
  const header = ["condition", "scenario", "result", ...COLUMNS, "duration", "kills", "faults injected (of AWS requests)", "seed"];
  return table(
    header,
    rows.map((row) => [
      row.conditionTitle,
      row.scenario,
      rowPassed(row) ? "pass" : "FAIL",
      ...COLUMNS.map((column) => cell(row.checks[column])),
      seconds(row.durationMs),
      String(row.kills),
      faultCell(row.faults),
      String(row.seed),
    ]),
  );
}

/** Every failed check with what was seen, one line each. */
export function formatFailures(rows: readonly RowResult[]): string[] {
  return rows.flatMap((row) =>
    Object.entries(row.checks)
      .filter(([, check]) => check !== undefined && !check.ok)
      .map(([id, check]) => `${row.condition} / ${row.scenario} / ${id}: ${check.detail}`),
  );
}

/** The command that runs one condition of a seed again. */
export function replayCommand(seed: number, condition: ConditionId, scenarios: readonly ScenarioId[]): string {
  const only = scenarios.length === 1 ? ` --scenarios ${scenarios[0]}` : "";
  return `npm run test:chaos -- --seed ${seed} --conditions ${condition}${only}`;
}
