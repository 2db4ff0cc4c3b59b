// The drain engine against an in-memory Eviction API: what it evicts, in which order, and what it
// says holds each pod that stays.
import assert from "node:assert/strict";
import type { V1Pod, V1PodDisruptionBudget, V1ReplicaSet } from "@kubernetes/client-node";
import { BudgetAllowance, drainPass, type DrainOptions } from "../../../src/drain/engine.js";
import { emptySnapshot } from "../../support/fakes/cloud.js";
import { FakeCluster } from "../../support/fakes/cluster.js";

const replicaSets: V1ReplicaSet[] = [
  { metadata: { name: "web-1", namespace: "shop", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d1", controller: true }] } },
  { metadata: { name: "dns-1", namespace: "kube-system", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "coredns", uid: "d2", controller: true }] } },
];

function pod(name: string, node: string, options: { namespace?: string; app?: string; owner?: string; ownerKind?: string; critical?: boolean; doNotDisrupt?: boolean; phase?: string } = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: options.namespace ?? "shop",
      labels: { app: options.app ?? "web" },
      annotations: options.doNotDisrupt ? { "karpenter.sh/do-not-disrupt": "true" } : {},
      ownerReferences: options.owner === "" ? [] : [{ apiVersion: "apps/v1", kind: options.ownerKind ?? "ReplicaSet", name: options.owner ?? "web-1", uid: "u", controller: true }],
    },
    spec: { nodeName: node, containers: [{ name: "c" }], ...(options.critical ? { priorityClassName: "system-cluster-critical" } : {}) },
    status: { phase: options.phase ?? "Running" },
  };
}

function budget(name: string, app: string, allowed: number, namespace = "shop"): V1PodDisruptionBudget {
  return {
    metadata: { name, namespace },
    spec: { selector: { matchLabels: { app } }, maxUnavailable: 1 },
    status: { disruptionsAllowed: allowed, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
  };
}

const options: DrainOptions = { policy: { deleteEmptyDirData: false, evictUnmanagedPods: false }, deleteRemaining: false };

function cluster(pods: V1Pod[], pdbs: V1PodDisruptionBudget[]): FakeCluster {
  const state = emptySnapshot();
  state.pods = pods;
  state.pdbs = pdbs;
  state.replicaSets = replicaSets;
  return new FakeCluster(state);
}

describe("drain engine", () => {
  it("evicts as far as the budget allows, says which budget holds the rest, and finishes on later passes", async () => {
    const api = cluster([pod("web-a", "n1"), pod("web-b", "n1"), pod("web-c", "n2"), pod("agent", "n1", { owner: "agent", ownerKind: "DaemonSet" })], [budget("web", "web", 1)]);
    const inventory = { budgets: await api.listBudgets() };
    const first = await drainPass("n1", api, inventory, options);
    assert.equal(first.drained, false);
    assert.deepEqual(first.evicted, ["shop/web-a"]);
    assert.deepEqual(api.evictions, [
      { pod: "shop/web-a", status: 201 },
      { pod: "shop/web-b", status: 429 },
    ]);
    const held = first.podsLeft.find((hold) => hold.pod === "shop/web-b")!;
    assert.match(held.heldBy, /PodDisruptionBudget shop\/web allows 1 disruption\(s\) now \(healthy 3\/3, needs 2\)/);
    assert.ok(!first.podsLeft.some((hold) => hold.pod === "shop/agent"), "DaemonSet pods stay");
    // The evicted pod terminates, the budget recovers once its replacement is healthy elsewhere.
    api.settle();
    api.state.pdbs[0].status!.disruptionsAllowed = 1;
    const second = await drainPass("n1", api, { budgets: await api.listBudgets() }, options);
    assert.deepEqual(second.evicted, ["shop/web-b"]);
    api.settle();
    const third = await drainPass("n1", api, { budgets: await api.listBudgets() }, options);
    assert.equal(third.drained, true);
    assert.deepEqual(third.podsLeft, []);
  });

  it("with an allowance, sends only the evictions the budgets have room for, spread over the nodes draining together", async () => {
    const pods = [pod("web-a", "n1"), pod("web-b", "n1"), pod("web-c", "n2"), pod("web-d", "n2"), pod("dns-a", "n2", { namespace: "kube-system", app: "dns", owner: "dns-1" })];
    const api = cluster(pods, [budget("web", "web", 2), budget("dns", "dns", 0, "kube-system")]);
    const budgets = await api.listBudgets();
    const allowance = new BudgetAllowance(budgets);
    const inventory = { budgets };
    const [n1, n2] = await Promise.all([drainPass("n1", api, inventory, { ...options, allowance }), drainPass("n2", api, inventory, { ...options, allowance })]);
    assert.equal(api.evictions.length, 2, `two web evictions in all, no 429 asked for: ${JSON.stringify(api.evictions)}`);
    assert.ok(api.evictions.every((eviction) => eviction.status === 201));
    assert.equal(n1.evicted.length + n2.evicted.length, 2);
    const dns = n2.podsLeft.find((hold) => hold.pod === "kube-system/dns-a")!;
    assert.match(dns.heldBy, /PodDisruptionBudget kube-system\/dns allows 0 disruption\(s\) now .*evicted as soon as it allows one/);
    // Without an allowance every pod is tried and the API server refuses what the budgets do not allow.
    const unpaced = cluster(pods, [budget("web", "web", 2), budget("dns", "dns", 0, "kube-system")]);
    await Promise.all([drainPass("n1", unpaced, inventory, options), drainPass("n2", unpaced, inventory, options)]);
    assert.ok(unpaced.evictions.some((eviction) => eviction.status === 429), `refusals without pacing: ${JSON.stringify(unpaced.evictions)}`);
  });

  it("an allowance takes from every budget of a pod or from none", () => {
    const allowance = new BudgetAllowance([budget("a", "web", 1), budget("b", "web", 0)]);
    assert.equal(allowance.take([budget("a", "web", 1), budget("b", "web", 0)])?.metadata?.name, "b");
    assert.equal(allowance.take([budget("a", "web", 1)]), undefined, "a still has its one disruption");
    assert.equal(allowance.take([budget("a", "web", 1)])?.metadata?.name, "a");
  });

  it("never touches a node a do-not-disrupt or bare pod blocks, and names the blocker", async () => {
    const api = cluster([pod("web-a", "n1"), pod("batch", "n1", { doNotDisrupt: true })], [budget("web", "web", 1)]);
    const result = await drainPass("n1", api, { budgets: api.state.pdbs }, options);
    assert.equal(result.blockedByPolicy, true);
    assert.equal(api.evictions.length, 0, "no eviction on a node that cannot be emptied");
    assert.match(result.podsLeft.find((hold) => hold.pod === "shop/batch")!.heldBy, /karpenter.sh\/do-not-disrupt=true/);
    assert.match(result.podsLeft.find((hold) => hold.pod === "shop/web-a")!.heldBy, /another pod on this node blocks/);
    const bare = cluster([pod("scratch", "n1", { owner: "" })], []);
    const refused = await drainPass("n1", bare, { budgets: [] }, options);
    assert.match(refused.podsLeft[0].heldBy, /spec.drain.evictUnmanagedPods/);
    const forced = await drainPass("n1", bare, { budgets: [] }, { ...options, policy: { deleteEmptyDirData: false, evictUnmanagedPods: true } });
    assert.deepEqual(forced.evicted, ["shop/scratch"]);
  });

  it("evicts critical pods only after the other pods of the node are gone", async () => {
    const api = cluster([pod("dns", "n1", { namespace: "kube-system", app: "dns", owner: "dns-1", critical: true }), pod("web-a", "n1")], []);
    const first = await drainPass("n1", api, { budgets: [] }, options);
    assert.deepEqual(first.evicted, ["shop/web-a"]);
    assert.match(first.podsLeft.find((hold) => hold.pod === "kube-system/dns")!.heldBy, /critical pod/);
    const whileTerminating = await drainPass("n1", api, { budgets: [] }, options);
    assert.deepEqual(whileTerminating.evicted, [], "a terminating ordinary pod still holds the critical ones back");
    api.settle();
    const second = await drainPass("n1", api, { budgets: [] }, options);
    assert.deepEqual(second.evicted, ["kube-system/dns"]);
  });

  it("reports a pod under two budgets as a misconfiguration, and a vanished pod as done", async () => {
    const api = cluster([pod("web-a", "n1")], [budget("web", "web", 1), budget("web-too", "web", 1)]);
    const result = await drainPass("n1", api, { budgets: api.state.pdbs }, options);
    assert.match(result.podsLeft[0].heldBy, /2 PodDisruptionBudgets \(shop\/web, shop\/web-too\).*keep one budget per pod/);
    const gone = cluster([pod("web-a", "n1")], []);
    gone.evictPod = () => Promise.resolve({ status: 404, message: "not found" });
    const done = await drainPass("n1", gone, { budgets: [] }, options);
    assert.equal(done.drained, true);
  });

  it("reports a denied eviction (RBAC or an admission webhook) as a failure naming the pod and the API server's reason", async () => {
    const api = cluster([pod("web-a", "n1"), pod("web-b", "n1"), pod("web-c", "n1")], [budget("web", "web", 3)]);
    api.scripted.set("shop/web-a", { status: 403, message: 'pods "web-a" is forbidden: User "system:serviceaccount:ops:op" cannot create resource "pods/eviction" in API group "" in the namespace "shop"' });
    api.scripted.set("shop/web-b", { status: 400, message: 'admission webhook "guard.example.com" denied the request: web-b is pinned' });
    const result = await drainPass("n1", api, { budgets: api.state.pdbs }, options);
    assert.deepEqual(result.evicted, ["shop/web-c"]);
    assert.deepEqual(
      result.denied.map((entry) => entry.pod),
      ["shop/web-a", "shop/web-b"],
    );
    assert.match(result.denied[0].reason, /HTTP 403: .*cannot create resource "pods\/eviction"/);
    assert.match(result.denied[1].reason, /HTTP 400: admission webhook "guard.example.com" denied the request: web-b is pinned/);
    const held = result.podsLeft.find((hold) => hold.pod === "shop/web-a")!;
    assert.equal(held.evictionDenied, true);
    assert.doesNotMatch(held.heldBy, /PodDisruptionBudget/);
  });

  it("reads a 500 as two budgets only in the API server's words and with two budgets matching; other 5xx are transient", async () => {
    const api = cluster([pod("web-a", "n1"), pod("web-b", "n1"), pod("web-c", "n1")], [budget("web", "web", 3)]);
    api.scripted.set("shop/web-a", { status: 500, message: "Internal error occurred: etcdserver: request timed out" });
    api.scripted.set("shop/web-b", { status: 503, message: "the server is currently unable to handle the request" });
    api.scripted.set("shop/web-c", { status: 500, message: "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." });
    const result = await drainPass("n1", api, { budgets: api.state.pdbs }, options);
    const heldBy = (name: string): string => result.podsLeft.find((hold) => hold.pod === name)!.heldBy;
    assert.match(heldBy("shop/web-a"), /^transient API server error \(HTTP 500\).*etcdserver: request timed out/);
    assert.match(heldBy("shop/web-b"), /^transient API server error \(HTTP 503\)/);
    // The budgets read for the pass show one: the API server's words are reported, not a count it did not give.
    assert.match(heldBy("shop/web-c"), /refuses to evict it \(HTTP 500\): .*more than one PodDisruptionBudget/);
    assert.doesNotMatch(heldBy("shop/web-c"), /covered by/);
    assert.deepEqual(result.denied, []);
    assert.equal(result.drained, false);
    // A later pass, with the server back, evicts them.
    api.scripted.clear();
    const next = await drainPass("n1", api, { budgets: api.state.pdbs }, options);
    assert.deepEqual(next.evicted, ["shop/web-a", "shop/web-b", "shop/web-c"]);
  });

  it("deletes what is left only when told the timeout policy allows it", async () => {
    const api = cluster([pod("web-a", "n1"), pod("batch", "n1", { doNotDisrupt: true })], [budget("web", "web", 0)]);
    const result = await drainPass("n1", api, { budgets: api.state.pdbs }, { ...options, deleteRemaining: true, gracePeriodSeconds: 5 });
    assert.deepEqual(api.deletions.sort(), ["shop/batch", "shop/web-a"]);
    assert.equal(api.evictions.length, 0);
    assert.deepEqual(result.deleted.sort(), ["shop/batch", "shop/web-a"]);
  });
});
