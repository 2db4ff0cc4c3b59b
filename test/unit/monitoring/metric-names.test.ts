// The dashboard and the alerts may only query metrics the operator exports, and every metric it
// exports is documented; the chart ships the same dashboard and rules as config/monitoring.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { OperatorMetrics } from "../../../src/observability/metrics.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const read = (file: string): string => readFileSync(path.join(root, file), "utf8");

/** PromQL words that are not metric names. */
const PROMQL_WORDS = new Set([
  "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
  "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
  "rate", "irate", "increase", "delta", "idelta", "deriv", "time", "vector", "scalar", "absent", "absent_over_time",
  "histogram_quantile", "clamp_min", "clamp_max", "abs", "ceil", "floor", "round", "label_replace", "label_join",
  "max_over_time", "min_over_time", "avg_over_time", "sum_over_time", "count_over_time", "last_over_time", "changes", "resets", "timestamp", "sort", "sort_desc",
]);

/** The metric names a PromQL expression selects (label matchers, label lists, ranges, strings and numbers left out). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\w+/g, " ");
  const words = bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(words.filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word)))].sort();
}

/** Every series name the operator's registry exposes, histogram series included. */
function exportedNames(): Set<string> {
  const metrics = new OperatorMetrics();
  const names = new Set<string>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    names.add(metric.name);
    if (metric.constructor.name === "Histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

interface Dashboard {
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { query?: string }[] };
}

interface PrometheusRule {
  spec: { groups: { rules: { alert: string; expr: string }[] }[] };
}

describe("config/monitoring: dashboard and alerts against the exported metrics", () => {
  const exported = exportedNames();
  const dashboard = JSON.parse(read("config/monitoring/grafana-dashboard.json")) as Dashboard;
  const rule = parse(read("config/monitoring/prometheus-rule.yaml")) as PrometheusRule;

  it("reads metric names out of PromQL, leaving labels, functions and ranges alone", () => {
    assert.deepEqual(
      metricNames('histogram_quantile(0.95, sum by (le, job) (rate(eksupgrade_reconcile_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))'),
      ["eksupgrade_reconcile_duration_seconds_bucket"],
    );
    assert.deepEqual(metricNames("(time() - max by (node) (a_seconds)) > on (namespace, name) group_left () max by (name) (b_seconds) or vector(0)"), ["a_seconds", "b_seconds"]);
  });

  it("queries in the dashboard only metrics the operator exports", () => {
    const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr })));
    for (const variable of dashboard.templating.list) {
      const query = /label_values\((\w+)/.exec(variable.query ?? "");
      if (query) expressions.push({ where: "a template variable", expr: query[1] });
    }
    assert.ok(expressions.length > 10, "the dashboard has no queries");
    for (const { where, expr } of expressions) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where} selects no metric: ${expr}`);
      for (const name of names) assert.ok(exported.has(name), `${where} queries ${name}, which the operator does not export (src/observability/metrics.ts)`);
    }
  });

  it("alerts only on metrics the operator exports", () => {
    for (const entry of rule.spec.groups.flatMap((group) => group.rules)) {
      const names = metricNames(entry.expr);
      assert.ok(names.length > 0, `${entry.alert} selects no metric`);
      for (const name of names) assert.ok(exported.has(name), `${entry.alert} uses ${name}, which the operator does not export (src/observability/metrics.ts)`);
    }
  });

  it("documents every metric of its own in docs/monitoring.md", () => {
    const docs = read("docs/monitoring.md");
    const own = new OperatorMetrics({ collectProcessMetrics: false }).registry.getMetricsAsArray().map((metric) => metric.name);
    assert.ok(own.length >= 14);
    for (const name of own) assert.ok(docs.includes(`\`${name}\``), `docs/monitoring.md does not document ${name}`);
    for (const documented of docs.matchAll(/`(eksupgrade_[a-z_]+)`/g)) assert.ok(own.includes(documented[1]), `docs/monitoring.md documents ${documented[1]}, which the operator does not export`);
  });

  it("ships the same rules and dashboard in the Helm chart", () => {
    assert.equal(read("charts/eks-upgrade-operator/files/prometheus-rule.yaml"), read("config/monitoring/prometheus-rule.yaml"), "copy config/monitoring/prometheus-rule.yaml to charts/eks-upgrade-operator/files/");
    assert.equal(read("charts/eks-upgrade-operator/files/grafana-dashboard.json"), read("config/monitoring/grafana-dashboard.json"), "copy config/monitoring/grafana-dashboard.json to charts/eks-upgrade-operator/files/");
  });
});
