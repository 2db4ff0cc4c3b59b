// budgetsFor answers from an index of the budgets' labels: it must give exactly what matching every
// budget of the pod's namespace gives, in the order of the list, for every shape of selector.
import assert from "node:assert/strict";
import type { V1LabelSelector, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { budgetsFor, budgetName } from "../../../src/kube/workload-snapshot.js";
import { budgetsByScan } from "../../support/budget-scan.js";

function budget(name: string, namespace: string, selector: V1LabelSelector | undefined): V1PodDisruptionBudget {
  return { metadata: { name, namespace }, spec: { maxUnavailable: 1, ...(selector ? { selector } : {}) } };
}

function pod(name: string, namespace: string, labels: Record<string, string> | undefined): V1Pod {
  return { metadata: { name, namespace, ...(labels ? { labels } : {}) } };
}

/** A small deterministic generator (mulberry32), so a failure names a case that reproduces. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("budgetsFor", () => {
  it("finds the budgets of a pod through the labels their matchLabels name, in the order of the list", () => {
    const pdbs = [
      budget("web", "shop", { matchLabels: { app: "web" } }),
      budget("everything", "shop", {}),
      budget("tiered", "shop", { matchLabels: { app: "web", tier: "front" } }),
      budget("by-expression", "shop", { matchExpressions: [{ key: "tier", operator: "In", values: ["front", "back"] }] }),
      budget("no-selector", "shop", undefined),
      budget("elsewhere", "other", { matchLabels: { app: "web" } }),
      budget("all-of-empty-labels", "shop", { matchLabels: {} }),
    ];
    const front = pod("web-1", "shop", { app: "web", tier: "front" });
    assert.deepEqual(budgetsFor(front, pdbs).map(budgetName), ["shop/web", "shop/everything", "shop/tiered", "shop/by-expression", "shop/all-of-empty-labels"]);
    assert.deepEqual(budgetsFor(pod("api-1", "shop", { app: "api" }), pdbs).map(budgetName), ["shop/everything", "shop/all-of-empty-labels"]);
    assert.deepEqual(budgetsFor(pod("bare", "shop", undefined), pdbs).map(budgetName), ["shop/everything", "shop/all-of-empty-labels"]);
    assert.deepEqual(budgetsFor(pod("web-9", "other", { app: "web" }), pdbs).map(budgetName), ["other/elsewhere"]);
    assert.deepEqual(budgetsFor(pod("web-9", "nowhere", { app: "web" }), pdbs), []);
  });

  it("agrees with matching every budget of the namespace on generated budgets and pods", () => {
    const random = generator(20261129);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const keys = ["app", "tier", "team", "track"];
    const values = ["a", "b", "c"];
    const namespaces = ["one", "two"];
    const selector = (): V1LabelSelector | undefined => {
      const shape = random();
      if (shape < 0.05) return undefined;
      if (shape < 0.1) return {};
      const matchLabels: Record<string, string> = {};
      for (const key of keys) if (random() < 0.35) matchLabels[key] = pick(values);
      const matchExpressions =
        random() < 0.3 ? [{ key: pick(keys), operator: pick(["In", "NotIn", "Exists", "DoesNotExist"]), values: [pick(values), pick(values)] }] : undefined;
      return { ...(Object.keys(matchLabels).length || random() < 0.5 ? { matchLabels } : {}), ...(matchExpressions ? { matchExpressions } : {}) };
    };
    const pdbs = Array.from({ length: 300 }, (_, index) => budget(`b${index}`, pick(namespaces), selector()));
    let matched = 0;
    for (let index = 0; index < 2000; index++) {
      const labels: Record<string, string> = {};
      for (const key of keys) if (random() < 0.6) labels[key] = pick(values);
      const candidate = pod(`p${index}`, pick(namespaces), labels);
      const expected = budgetsByScan(candidate, pdbs);
      assert.deepEqual(budgetsFor(candidate, pdbs).map(budgetName), expected.map(budgetName), `pod ${JSON.stringify(candidate.metadata)}`);
      matched += expected.length;
    }
    // The generated cases cover pods with several budgets, not only the empty answer.
    assert.ok(matched > 2000, `only ${matched} matches in 2,000 pods`);
  });

  it("sees a budget pushed to the list after an earlier question", () => {
    const pdbs = [budget("web", "shop", { matchLabels: { app: "web" } })];
    const web = pod("web-1", "shop", { app: "web" });
    assert.equal(budgetsFor(web, pdbs).length, 1);
    pdbs.push(budget("web-too", "shop", { matchLabels: { app: "web" } }));
    assert.deepEqual(budgetsFor(web, pdbs).map(budgetName), ["shop/web", "shop/web-too"]);
  });
});
