import assert from "node:assert/strict";
import type * as k8s from "@kubernetes/client-node";
import { healthyPerBudget, selects, type BudgetDemand } from "../../support/budgets.js";

const pod = (namespace: string, labels: Record<string, string>, ready: boolean, deleting = false): k8s.V1Pod => ({
  metadata: { namespace, labels, ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
});

describe("budget watcher", () => {
  it("matches label selectors as the API server does", () => {
    assert.equal(selects({ matchLabels: { app: "web" } }, { app: "web", tier: "front" }), true);
    assert.equal(selects({ matchLabels: { app: "web" } }, { app: "api" }), false);
    assert.equal(selects({ matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }] }, { app: "api" }), true);
    assert.equal(selects({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }, { app: "web" }), false);
    assert.equal(selects({ matchExpressions: [{ key: "app", operator: "Exists" }] }, {}), false);
    assert.equal(selects({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, {}), true);
    assert.equal(selects({}, { any: "thing" }), true, "an empty selector selects every pod");
    assert.equal(selects(undefined, { any: "thing" }), false, "no selector selects none");
  });

  it("counts healthy pods per budget in its namespace: Ready and not being deleted", () => {
    const demand: BudgetDemand = { namespace: "shop", name: "web", selector: { matchLabels: { app: "web" } }, desiredHealthy: 2, expectedPods: 3 };
    const pods = [pod("shop", { app: "web" }, true), pod("shop", { app: "web" }, true, true), pod("shop", { app: "web" }, false), pod("other", { app: "web" }, true), pod("shop", { app: "web" }, true)];
    assert.deepEqual(healthyPerBudget([demand], pods), [2]);
  });
});
