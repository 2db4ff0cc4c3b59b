// The alerting rules of config/monitoring, checked by Prometheus' own promtool (built from the Go
// module proxy into the sandbox's cache on first use): the rules parse and lint clean, and
// tests/alerts.test.yaml's series raise exactly the alerts it expects, when it expects them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { ensureTool } from "../../../sandbox/runtime/tools.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const RULE = path.join(root, "config", "monitoring", "prometheus-rule.yaml");
const TESTS = path.join(root, "config", "monitoring", "tests", "alerts.test.yaml");

interface PrometheusRule {
  spec: { groups: { name: string; rules: { alert?: string; expr: string }[] }[] };
}

/** spec.groups as the plain rule file promtool reads, beside a copy of the tests that name it. */
function ruleDirectory(groups: PrometheusRule["spec"]["groups"]): string {
  const dir = mkdtempSync(path.join(tmpdir(), "eksup-promtool-"));
  writeFileSync(path.join(dir, "alerts.rules.yaml"), stringify({ groups }));
  copyFileSync(TESTS, path.join(dir, "alerts.test.yaml"));
  return dir;
}

function promtool(binary: string, args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(binary, args, { cwd, encoding: "utf8", timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("config/monitoring alerts (promtool)", function () {
  // A machine without the cached promtool builds it first (about 10 minutes on 2 cores).
  this.timeout(45 * 60_000);
  let binary: string;
  let rule: PrometheusRule;
  const dirs: string[] = [];

  before(() => {
    binary = ensureTool("promtool");
    rule = parse(readFileSync(RULE, "utf8")) as PrometheusRule;
  });

  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("has rules that parse and pass promtool's lint", () => {
    const dir = ruleDirectory(rule.spec.groups);
    dirs.push(dir);
    const check = promtool(binary, ["check", "rules", "--lint-fatal", "alerts.rules.yaml"], dir);
    assert.equal(check.status, 0, check.output);
    assert.match(check.output, /SUCCESS: 6 rules found/);
  });

  it("raises each alert when its test series say it must, and no other", () => {
    const alerts = rule.spec.groups.flatMap((group) => group.rules.map((entry) => entry.alert)).sort();
    assert.deepEqual(alerts, ["EksUpgradeAwsAccessDenied", "EksUpgradeAwsCallErrors", "EksUpgradeDrainPastTimeout", "EksUpgradeOperatorNotLeading", "EksUpgradeStuckInPhase", "EksUpgradeTrafficRolledBack"]);
    const tested = new Set([...readFileSync(TESTS, "utf8").matchAll(/alertname: (\w+)/g)].map((match) => match[1]));
    assert.deepEqual([...tested].sort(), alerts, "every alert needs a promtool test case");
    const dir = ruleDirectory(rule.spec.groups);
    dirs.push(dir);
    const run = promtool(binary, ["test", "rules", "alerts.test.yaml"], dir);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  });

  it("fails the tests when a threshold moves, so they hold the rules to what they say", () => {
    const groups = structuredClone(rule.spec.groups);
    const stuck = groups.flatMap((group) => group.rules).find((entry) => entry.alert === "EksUpgradeStuckInPhase")!;
    assert.match(stuck.expr, /> 3 \* 3600/);
    stuck.expr = stuck.expr.replace("> 3 * 3600", "> 2 * 3600");
    const dir = ruleDirectory(groups);
    dirs.push(dir);
    const run = promtool(binary, ["test", "rules", "alerts.test.yaml"], dir);
    assert.notEqual(run.status, 0, "promtool passed rules whose threshold no longer matches the tests");
    assert.match(run.output, /EksUpgradeStuckInPhase/);
  });
});
