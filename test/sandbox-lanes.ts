// The sandbox suite split across lanes: each lane is a mocha process with a sandbox of its own
// (its own etcd, kube-apiserver, kwok, moto and EKS emulator on free ports) and a share of the spec
// files of .mocharc.sandbox.json. Most of a sandbox test is waiting on controllers, kwok and the
// emulator's clock, so on two cores four lanes take well under half the time of one.
//
// The least-privilege check needs the whole suite: each lane reports what the operator's
// ServiceAccount did in its sandbox (test/support/global-sandbox.ts, EKSUP_LANE_REPORT), and the
// merge below judges the union, exactly as a single run judges its own audit log.
//
//   node --import tsx test/sandbox-lanes.ts [--lanes N] [--logs DIR]
//   EKSUP_TEST_LANES=N     lanes when --lanes is not given (default 4)
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { grantedKeys, NOT_EXERCISED_IN_SANDBOX, sandboxSpecFiles } from "./support/audit.js";
import { buildIsFresh, buildForTests } from "./support/build.js";
import type { LaneReport } from "./support/global-sandbox.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/**
 * Roughly how long each file takes in one lane (seconds, measured on the suite's reference
 * machine), so that the lanes end close together. A file missing here counts as a minute.
 */
const EXPECTED_SECONDS: Readonly<Record<string, number>> = {
  "test/e2e/inplace-upgrade.test.ts": 364,
  "test/e2e/blue-green.test.ts": 236,
  "test/e2e/rollback.test.ts": 176,
  "test/e2e/node-roll.test.ts": 157,
  "test/e2e/chaos.test.ts": 97,
  "test/e2e/karpenter.test.ts": 165,
  "test/e2e/preflight.test.ts": 67,
  "test/e2e/lost-leadership.test.ts": 60,
  "test/e2e/faults.test.ts": 56,
  "test/integration/eks-emulator/nodegroup-update.test.ts": 54,
  "test/e2e/kubectl-plugin.test.ts": 44,
  "test/e2e/claims.test.ts": 36,
  "test/e2e/helm-install.test.ts": 20,
  "test/integration/helm/chart.test.ts": 20,
  "test/integration/sandbox/eviction.test.ts": 25,
  "test/integration/sandbox/pod-encoding.test.ts": 10,
  "test/integration/runtime/leader-election.test.ts": 20,
};
const UNKNOWN_FILE_SECONDS = 60;
const SMALL_FILE_SECONDS = 10;

/** Longest files first, each to the lane that ends soonest: good enough for a dozen lanes' worth. */
export function assignLanes(files: readonly string[], lanes: number, expected: Readonly<Record<string, number>> = EXPECTED_SECONDS): string[][] {
  const weight = (file: string): number => expected[file] ?? (file.startsWith("test/integration/") ? SMALL_FILE_SECONDS : UNKNOWN_FILE_SECONDS);
  const sorted = [...files].sort((left, right) => weight(right) - weight(left) || left.localeCompare(right));
  const result = Array.from({ length: lanes }, () => ({ files: [] as string[], seconds: 0 }));
  for (const file of sorted) {
    const lightest = result.reduce((best, lane) => (lane.seconds < best.seconds ? lane : best));
    lightest.files.push(file);
    lightest.seconds += weight(file);
  }
  return result.map((lane) => lane.files.sort()).filter((lane) => lane.length > 0);
}

interface LaneOutcome {
  index: number;
  files: string[];
  code: number;
  logPath: string;
  reportPath: string;
  seconds: number;
}

const children = new Set<ReturnType<typeof spawn>>();

/** Ctrl-C or a SIGTERM to this runner reaches every lane, whose root hooks then stop their sandboxes. */
function forwardSignals(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      for (const child of children) child.kill(signal);
    });
  }
}

function runLane(index: number, files: string[], logDir: string): Promise<LaneOutcome> {
  const logPath = join(logDir, `lane-${index + 1}.log`);
  const reportPath = join(logDir, `lane-${index + 1}.json`);
  const log = createWriteStream(logPath);
  const started = Date.now();
  const mocha = join(repoRoot, "node_modules", "mocha", "bin", "mocha.js");
  // The settings of .mocharc.sandbox.json, with this lane's files instead of its spec patterns.
  const config = JSON.parse(readFileSync(join(repoRoot, ".mocharc.sandbox.json"), "utf8")) as { timeout: number; require: string[]; reporter: string };
  // tsx given to this node directly: mocha then runs in it, rather than in a child it would spawn for a --node-option.
  const args = ["--import", "tsx", mocha, "--no-config", ...config.require.flatMap((file) => ["--require", file]), "--timeout", String(config.timeout), "--reporter", config.reporter, "--exit", ...files];
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, EKSUP_LANE_REPORT: reportPath, EKSUP_SANDBOX_PORT_BLOCK: String(index) }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("close", () => children.delete(child));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return new Promise((resolve) => {
    child.once("close", (code) => {
      log.end(() => resolve({ index, files, code: code ?? 1, logPath, reportPath, seconds: (Date.now() - started) / 1000 }));
    });
  });
}

/** The least-privilege verdict over every lane: the problems, empty when it passes. */
export function judgeLanes(reports: readonly LaneReport[], allFiles: readonly string[], granted: ReadonlySet<string> = grantedKeys()): string[] {
  const problems: string[] = [];
  const ran = new Set(reports.flatMap((report) => report.files));
  const notRun = allFiles.filter((file) => !ran.has(file));
  const used = new Set(reports.flatMap((report) => report.used));
  const notGranted = [...new Set(reports.flatMap((report) => report.usedNotGranted))].sort();
  const denied = [...new Set(reports.flatMap((report) => report.denied))].sort();
  if (notGranted.length > 0) problems.push(`used but not granted by config/rbac (refused in a real cluster): ${notGranted.join(", ")}`);
  if (denied.length > 0) problems.push(`refused by the API server (403): ${denied.join(", ")}`);
  const filtered = reports.some((report) => report.filters.length > 0);
  if (notRun.length === 0 && !filtered) {
    const unused = [...granted].filter((key) => !used.has(key) && !(key in NOT_EXERCISED_IN_SANDBOX)).sort();
    if (unused.length > 0) {
      problems.push(`granted by config/rbac but never used by the whole sandbox suite (remove the verb, or add it with its reason to NOT_EXERCISED_IN_SANDBOX in test/support/audit.ts): ${unused.join(", ")}`);
    }
  } else if (notRun.length > 0) {
    problems.push(`spec files no lane ran (so unused grants cannot be judged): ${notRun.join(", ")}`);
  }
  return problems;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { lanes: { type: "string" }, logs: { type: "string" } } });
  const lanes = Number(values.lanes ?? process.env.EKSUP_TEST_LANES ?? "4");
  if (!Number.isInteger(lanes) || lanes < 1 || lanes > 8) {
    process.stderr.write(`--lanes (or EKSUP_TEST_LANES) must be a whole number from 1 to 8, got "${values.lanes ?? process.env.EKSUP_TEST_LANES}"\n`);
    return 2;
  }
  const logDir = values.logs ?? mkdtempSync(join(tmpdir(), "eksup-lanes-"));
  mkdirSync(logDir, { recursive: true });
  // Every lane starts operators from the test build: build it once here rather than in each lane at once.
  if (!buildIsFresh()) {
    const build = await buildForTests();
    process.stdout.write(`compiled for the tests in ${(build.ms / 1000).toFixed(1)} s${build.status !== 0 ? " (with type errors)" : ""}\n`);
  }
  const files = sandboxSpecFiles();
  const plan = assignLanes(files, lanes);
  forwardSignals();
  const started = Date.now();
  process.stdout.write(`${files.length} spec files in ${plan.length} lane(s), each with its own sandbox; logs in ${logDir}\n`);
  plan.forEach((laneFiles, index) => process.stdout.write(`  lane ${index + 1}: ${laneFiles.join(", ")}\n`));
  const outcomes = await Promise.all(
    plan.map(async (laneFiles, index) => {
      const outcome = await runLane(index, laneFiles, logDir);
      process.stdout.write(`lane ${index + 1} ended after ${outcome.seconds.toFixed(0)} s with exit code ${outcome.code}\n`);
      return outcome;
    }),
  );
  for (const outcome of outcomes) {
    process.stdout.write(`\n===== lane ${outcome.index + 1} (${outcome.seconds.toFixed(0)} s): ${outcome.files.join(", ")}\n`);
    process.stdout.write(readFileSync(outcome.logPath, "utf8"));
  }
  const reports = outcomes.filter((outcome) => existsSync(outcome.reportPath)).map((outcome) => JSON.parse(readFileSync(outcome.reportPath, "utf8")) as LaneReport);
  const missing = outcomes.filter((outcome) => !existsSync(outcome.reportPath)).map((outcome) => `lane ${outcome.index + 1}`);
  const problems = judgeLanes(reports, files);
  if (missing.length > 0) problems.push(`no audit report from ${missing.join(", ")} (it ended before its root hook ran)`);
  const requests = reports.reduce((sum, report) => sum + report.requests, 0);
  const used = new Set(reports.flatMap((report) => report.used)).size;
  process.stdout.write(`\nleast privilege over ${reports.length} lane(s): ${requests} request(s) by the operator's ServiceAccount, ${used} distinct permission(s) used\n`);
  for (const problem of problems) process.stdout.write(`  FAILED: ${problem}\n`);
  const perFile = reports.flatMap((report) => Object.entries(report.fileSeconds)).sort((left, right) => right[1] - left[1]);
  process.stdout.write(`time per spec file:\n${perFile.map(([file, seconds]) => `  ${String(seconds).padStart(5)} s  ${file}`).join("\n")}\n`);
  process.stdout.write(`sandbox suite: ${((Date.now() - started) / 1000).toFixed(0)} s over ${plan.length} lane(s)\n`);
  return outcomes.every((outcome) => outcome.code === 0) && problems.length === 0 ? 0 : 1;
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
