// The preflight and the drain engine judge pods with the same decision: every pod the drain would
// refuse under the upgrade's own policy is a Blocking finding naming the pod, its node, its node
// group and the field that lets it go; the same pod under a policy that lets it go is not. The
// table at the end runs the real engine against an in-memory Eviction API for every pod kind and
// policy, and pins "the preflight passes" to "the roll of that node finishes".
import assert from "node:assert/strict";
import type { V1Node, V1Pod, V1PodDisruptionBudget, V1ReplicaSet } from "@kubernetes/client-node";
import { drainPass } from "../../../src/drain/engine.js";
import { timeoutOutcome } from "../../../src/drain/pod-filters.js";
import type { Finding } from "../../../src/preflight/findings.js";
import { checkPodDisruptionBudgets } from "../../../src/preflight/pdb-checks.js";
import { LABEL_SELF_MANAGED_GROUP, type WorkloadSnapshot } from "../../../src/kube/workload-snapshot.js";
import { checkPods, type PodCheckScope } from "../../../src/preflight/workload-checks.js";
import { emptySnapshot } from "../../support/fakes/cloud.js";
import { FakeCluster } from "../../support/fakes/cluster.js";

const GROUP = "demo-legacy";
const NODE = "legacy-1";
const replicaSets: V1ReplicaSet[] = [{ metadata: { name: "web-1", namespace: "shop", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d", controller: true }] } }];

type Drain = PodCheckScope["drain"];
const drain = (overrides: Partial<Drain> = {}): Drain => ({ deleteEmptyDirData: false, evictUnmanagedPods: false, timeout: "15m", onTimeout: "Wait", allowForceDelete: false, ...overrides });

interface PodShape {
  owner?: "Deployment" | "StatefulSet" | "DaemonSet" | "none";
  emptyDir?: boolean;
  doNotDisrupt?: boolean;
  mirror?: boolean;
  phase?: string;
}

function pod(name: string, shape: PodShape): V1Pod {
  const owner = shape.owner ?? "Deployment";
  const ownerReferences =
    owner === "none"
      ? []
      : [{ apiVersion: "apps/v1", kind: owner === "Deployment" ? "ReplicaSet" : owner, name: owner === "Deployment" ? "web-1" : name.replace(/-\d+$/, ""), uid: "u", controller: true }];
  return {
    metadata: {
      name,
      namespace: "shop",
      labels: { app: name.replace(/-\d+$/, "") },
      annotations: { ...(shape.doNotDisrupt ? { "karpenter.sh/do-not-disrupt": "true" } : {}), ...(shape.mirror ? { "kubernetes.io/config.mirror": "hash" } : {}) },
      ownerReferences,
    },
    spec: { nodeName: NODE, containers: [{ name: "c" }], volumes: shape.emptyDir ? [{ name: "scratch", emptyDir: {} }] : [] },
    status: { phase: shape.phase ?? "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
}

/** A node of a self-managed group, named the way the preflight names it (in memory). */
function selfManagedNode(name: string, group: string): V1Node {
  return { metadata: { name, uid: `uid-${name}`, labels: { [LABEL_SELF_MANAGED_GROUP]: group, "topology.kubernetes.io/zone": "us-east-1a" } }, status: { conditions: [{ type: "Ready", status: "True" }] } };
}

function world(pods: V1Pod[], pdbs: V1PodDisruptionBudget[] = []): WorkloadSnapshot {
  const snapshot = emptySnapshot();
  snapshot.nodes = [selfManagedNode(NODE, GROUP), selfManagedNode("other-1", "kept")];
  snapshot.pods = pods;
  snapshot.pdbs = pdbs;
  snapshot.replicaSets = replicaSets;
  return snapshot;
}

const operatorRolls = (group = GROUP): Map<string, "Operator" | "EKS"> => new Map([[group, "Operator"]]);

function preflight(snapshot: WorkloadSnapshot, policy: Drain, rolled = operatorRolls()): Finding[] {
  return [...checkPodDisruptionBudgets(snapshot, new Set(rolled.keys())), ...checkPods(snapshot, { rolledGroups: rolled, drain: policy })];
}

const blockingFor = (findings: Finding[]): Finding[] => findings.filter((finding) => finding.severity === "Blocking");

describe("preflight agrees with the drain", () => {
  const refusals: { kind: string; shape: PodShape; code: string; field: RegExp; allowing: Partial<Drain>; warning?: string }[] = [
    { kind: "emptyDir without deleteEmptyDirData", shape: { owner: "StatefulSet", emptyDir: true }, code: "POD004", field: /spec\.drain\.deleteEmptyDirData: true/, allowing: { deleteEmptyDirData: true }, warning: "POD003" },
    { kind: "no controller without evictUnmanagedPods", shape: { owner: "none" }, code: "POD005", field: /spec\.drain\.evictUnmanagedPods: true/, allowing: { evictUnmanagedPods: true }, warning: "POD001" },
    { kind: "karpenter.sh/do-not-disrupt", shape: { doNotDisrupt: true }, code: "POD002", field: /remove the karpenter\.sh\/do-not-disrupt annotation/, allowing: { onTimeout: "DeletePods", allowForceDelete: true } },
  ];

  for (const refusal of refusals) {
    it(`${refusal.kind}: Blocking ${refusal.code} naming the pod, its node, its group and the field that lets it go`, () => {
      const snapshot = world([pod("cache-1", refusal.shape)]);
      const findings = blockingFor(preflight(snapshot, drain()));
      assert.deepEqual(findings.map((finding) => finding.code), [refusal.code]);
      const [finding] = findings;
      assert.equal(finding.resource, "Pod/shop/cache-1");
      assert.match(finding.message, /pod shop\/cache-1 on node legacy-1 \(node group demo-legacy\)/);
      assert.match(finding.remediation, refusal.field);
      assert.match(finding.remediation, /add node group demo-legacy to spec\.nodeGroups\.exclude/);
    });

    it(`${refusal.kind}: not Blocking under a policy that lets the pod go`, () => {
      const snapshot = world([pod("cache-1", refusal.shape)]);
      const findings = preflight(snapshot, drain(refusal.allowing));
      assert.deepEqual(blockingFor(findings), []);
      if (refusal.warning) assert.deepEqual(findings.map((finding) => finding.code), [refusal.warning]);
      else assert.match(findings[0].message, /deleted after spec\.drain\.timeout 15m/);
    });

    it(`${refusal.kind}: nothing when the pod's node group is not rolled (excluded or unknown)`, () => {
      const snapshot = world([pod("cache-1", { ...refusal.shape })]);
      snapshot.pods[0].spec!.nodeName = "other-1";
      assert.deepEqual(preflight(snapshot, drain()), []);
    });
  }

  it("one pod refused for several reasons gets one Blocking finding per reason, so one look says all that must change", () => {
    const snapshot = world([pod("debug", { owner: "none", emptyDir: true })]);
    assert.deepEqual(blockingFor(preflight(snapshot, drain())).map((finding) => finding.code).sort(), ["POD004", "POD005"]);
  });

  it("onTimeout SkipNode: a refused pod is a Warning saying its node stays on the old version", () => {
    const [finding] = preflight(world([pod("cache-1", { owner: "StatefulSet", emptyDir: true })]), drain({ onTimeout: "SkipNode" }));
    assert.equal(finding.severity, "Warning");
    assert.match(finding.message, /node legacy-1, which is uncordoned and stays on its old version/);
  });

  it("a group EKS drains takes emptyDir and bare pods (warnings) but still blocks on do-not-disrupt", () => {
    const snapshot = world([pod("cache-1", { owner: "StatefulSet", emptyDir: true }), pod("bare", { owner: "none" }), pod("batch", { doNotDisrupt: true })]);
    const findings = preflight(snapshot, drain(), new Map([[GROUP, "EKS"]]));
    assert.deepEqual(findings.map((finding) => [finding.code, finding.severity]).sort(), [["POD001", "Warning"], ["POD002", "Blocking"], ["POD003", "Warning"]]);
  });

  it("a budget that can never allow an eviction blocks, naming its pods, node and group, only when those pods are on rolled nodes", () => {
    const never: V1PodDisruptionBudget = {
      metadata: { name: "cache", namespace: "shop" },
      spec: { selector: { matchLabels: { app: "cache" } }, minAvailable: 2 },
      status: { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 },
    };
    const snapshot = world([pod("cache-0", { owner: "StatefulSet" }), pod("cache-1", { owner: "StatefulSet" })], [never]);
    const [finding] = blockingFor(preflight(snapshot, drain()));
    assert.equal(finding.code, "PDB002");
    assert.match(finding.message, /shop\/cache-0 on legacy-1/);
    assert.match(finding.message, /node group\(s\) demo-legacy/);
    assert.deepEqual(preflight(snapshot, drain(), operatorRolls("kept")), []);
  });

  describe("table: the engine's roll of the node finishes exactly when the preflight passes", () => {
    const pods: { name: string; shape: PodShape }[] = [
      { name: "web", shape: {} },
      { name: "cache", shape: { owner: "StatefulSet", emptyDir: true } },
      { name: "bare", shape: { owner: "none" } },
      { name: "bare-scratch", shape: { owner: "none", emptyDir: true } },
      { name: "batch", shape: { doNotDisrupt: true } },
      { name: "batch-scratch", shape: { doNotDisrupt: true, emptyDir: true } },
      { name: "agent", shape: { owner: "DaemonSet", emptyDir: true } },
      { name: "static", shape: { owner: "none", mirror: true } },
      { name: "done", shape: { owner: "none", emptyDir: true, phase: "Succeeded" } },
    ];
    const policies: Drain[] = [];
    for (const deleteEmptyDirData of [false, true]) {
      for (const evictUnmanagedPods of [false, true]) {
        policies.push(drain({ deleteEmptyDirData, evictUnmanagedPods }));
        policies.push(drain({ deleteEmptyDirData, evictUnmanagedPods, onTimeout: "DeletePods", allowForceDelete: true }));
      }
    }

    /** Runs the drain engine on the node until it is empty or stuck, then once more past the timeout. */
    async function rollFinishes(snapshot: WorkloadSnapshot, policy: Drain): Promise<{ beforeTimeout: boolean; atAll: boolean }> {
      const api = new FakeCluster(structuredClone(snapshot));
      const inventory = { budgets: api.state.pdbs };
      for (let pass = 0; pass < 5; pass++) {
        const result = await drainPass(NODE, api, inventory, { policy, deleteRemaining: false });
        if (result.drained) return { beforeTimeout: true, atAll: true };
        api.settle();
      }
      const late = await drainPass(NODE, api, inventory, { policy, deleteRemaining: timeoutOutcome(policy) === "DeletePods" });
      api.settle();
      const after = await drainPass(NODE, api, inventory, { policy, deleteRemaining: false });
      return { beforeTimeout: false, atAll: late.drained || after.drained };
    }

    for (const subject of pods) {
      for (const policy of policies) {
        const label = `deleteEmptyDirData ${policy.deleteEmptyDirData}, evictUnmanagedPods ${policy.evictUnmanagedPods}, onTimeout ${policy.onTimeout}`;
        it(`${subject.name} under ${label}`, async () => {
          const snapshot = world([pod(subject.name, subject.shape), pod("web-0", {})]);
          const findings = preflight(snapshot, policy);
          const finishes = await rollFinishes(snapshot, policy);
          const blocks = blockingFor(findings).length > 0;
          assert.equal(!blocks, finishes.atAll, `preflight ${blocks ? "blocks" : "passes"} but the roll ${finishes.atAll ? "finishes" : "never finishes"}: ${JSON.stringify(findings)}`);
          // A roll that finishes only once the timeout deletes the pod is announced, never silent.
          if (finishes.atAll && !finishes.beforeTimeout) assert.ok(findings.some((finding) => /deleted after spec\.drain\.timeout/.test(finding.message)), JSON.stringify(findings));
          if (finishes.beforeTimeout) assert.ok(!findings.some((finding) => /POD00[245]/.test(finding.code)), JSON.stringify(findings));
        });
      }
    }
  });
});
