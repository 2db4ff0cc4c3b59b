// The operator's own cluster: once the budgets watch has synced, the drain's budgets come from it
// and no budget list reaches the API server; before that, they are listed as before. Budgets kept
// by the watch are slimmed as they arrive, listed or watched.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { LIST_PATHS } from "../../../src/kube/raw-list.js";
import { slimBudget } from "../../../src/kube/slim.js";
import { WatchedBudgetsReader, workloadReaderFor, type BudgetCache } from "../../../src/kube/workloads.js";
import { podDisruptionBudgetSource } from "../../../src/runtime/sources.js";

const LISTED: k8s.V1PodDisruptionBudget = {
  metadata: {
    name: "web",
    namespace: "shop",
    resourceVersion: "7",
    managedFields: [{ manager: "kubectl", operation: "Apply" }],
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
  },
  spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } },
  status: { currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3, observedGeneration: 1 },
};

describe("budgets of the operator's own cluster, read from its watch", () => {
  let server: Server;
  let kubeConfig: k8s.KubeConfig;
  const paths: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const requested = new URL(req.url ?? "/", "http://localhost");
      paths.push(requested.pathname);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ apiVersion: "policy/v1", kind: "PodDisruptionBudgetList", metadata: { resourceVersion: "8" }, items: [LISTED] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: "c", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (paths.length = 0));

  it("answers from the cache once it has synced, with no request", async () => {
    const cached = [slimBudget(LISTED)];
    const cache: BudgetCache = { hasSynced: () => true, list: () => cached };
    const reader = await workloadReaderFor(kubeConfig, "ops", undefined, undefined, cache);
    assert.ok(reader instanceof WatchedBudgetsReader);
    assert.equal(await reader.listBudgets(), cached);
    assert.deepEqual(paths, []);
  });

  it("lists budgets from the API server while the cache has not synced", async () => {
    const cache: BudgetCache = { hasSynced: () => false, list: () => assert.fail("an unsynced cache must not be read") };
    const budgets = await (await workloadReaderFor(kubeConfig, "ops", undefined, undefined, cache)).listBudgets();
    assert.deepEqual(budgets.map((budget) => budget.metadata?.name), ["web"]);
    assert.deepEqual(paths, [LIST_PATHS.budgets]);
  });

  it("never uses the operator's budgets for a cluster named by a kubeconfig Secret", async () => {
    // The Secret read fails here (the fake answers every path with a budget list): what matters is
    // that the own cluster's cache is not what comes back.
    const cache: BudgetCache = { hasSynced: () => true, list: () => assert.fail("another cluster's budgets are not the operator's") };
    await assert.rejects(workloadReaderFor(kubeConfig, "ops", { name: "target" }, undefined, cache));
  });

  it("keeps only what slim.ts keeps of each budget, listed or watched", async () => {
    const source = podDisruptionBudgetSource(kubeConfig, {}, slimBudget);
    const listed = await source.list();
    const watched = source.decode!(JSON.parse(JSON.stringify(LISTED)));
    for (const budget of [listed.items[0], watched]) {
      assert.equal(budget.metadata?.managedFields, undefined);
      assert.equal(budget.metadata?.annotations, undefined);
      assert.equal(budget.metadata?.resourceVersion, "7");
      assert.equal(budget.status?.disruptionsAllowed, 1);
      assert.deepEqual(budget.spec?.selector?.matchLabels, { app: "web" });
    }
    assert.equal(listed.metadata?.resourceVersion, "8");
  });
});
