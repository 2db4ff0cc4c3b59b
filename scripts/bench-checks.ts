// npm run bench:checks [-- --pods 60000 --budgets 2000 --nodes 2000]
//
// How long the preflight's workload checks take on a large snapshot once it is read, with no API
// server involved: the world of bench:scale (Deployments of 30 replicas, a PodDisruptionBudget
// each, all in one namespace, pods round robin over the nodes), built in memory in the shape
// slim.ts keeps. Two rows answer the question every check asks of each pod, "which budgets cover
// it": matching the pod against every budget of its namespace (what budgetsFor did before it had
// an index), and budgetsFor itself. Then each check over the whole snapshot, as the preflight
// calls it for an upgrade that rolls every node.
import { parseArgs } from "node:util";
import type { V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { budgetsFor, type WorkloadSnapshot } from "../src/kube/workload-snapshot.js";
import { checkPodDisruptionBudgets, checkReplicaSpread } from "../src/preflight/pdb-checks.js";
import { checkPods, checkWorkloadResilience } from "../src/preflight/workload-checks.js";
import { checkKubeletSkew } from "../src/preflight/version-checks.js";
import { resolveSpec } from "../src/api/v1alpha1/defaults.js";
import { budgetsByScan } from "../test/support/budget-scan.js";

const { values } = parseArgs({ options: { pods: { type: "string", default: "60000" }, budgets: { type: "string", default: "2000" }, nodes: { type: "string", default: "2000" } } });
const podCount = Number(values.pods);
const budgetCount = Number(values.budgets);
const nodeCount = Number(values.nodes);
for (const [name, value] of Object.entries({ pods: podCount, budgets: budgetCount, nodes: nodeCount })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1`);
}
const NAMESPACE = "bench";
const GROUPS = ["managed-1", "managed-2", "managed-3", "managed-4"];

function world(): WorkloadSnapshot {
  const ready = [{ type: "Ready", status: "True" }];
  const nodes: V1Node[] = Array.from({ length: nodeCount }, (_, index) => ({
    metadata: {
      name: `node-${index}`,
      labels: { "eks.amazonaws.com/nodegroup": GROUPS[index % GROUPS.length], "topology.kubernetes.io/zone": `us-east-1${"abc"[index % 3]}` },
    },
    spec: { providerID: `aws:///us-east-1a/i-${String(index).padStart(17, "0")}` },
    status: { conditions: ready, nodeInfo: { kubeletVersion: "v1.31.4-eks-1234567" } as NonNullable<V1Node["status"]>["nodeInfo"] },
  }));
  const perWorkload = Math.ceil(podCount / budgetCount);
  const snapshot: WorkloadSnapshot = { nodes, pods: [], pdbs: [], deployments: [], statefulSets: [], replicaSets: [], daemonSets: [] };
  for (let workload = 0; workload < budgetCount; workload++) {
    const name = `svc-${String(workload).padStart(5, "0")}`;
    const labels = { app: name };
    const template = { metadata: { labels }, spec: { containers: [{ name: "app", readinessProbe: { exec: { command: ["true"] } } }] } };
    snapshot.deployments.push({ metadata: { name, namespace: NAMESPACE }, spec: { replicas: perWorkload, selector: { matchLabels: labels }, template } });
    snapshot.replicaSets.push({ metadata: { name: `${name}-bench`, namespace: NAMESPACE, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: `uid-${name}`, controller: true }] } });
    const pdb: V1PodDisruptionBudget = {
      metadata: { name, namespace: NAMESPACE },
      spec: { maxUnavailable: "10%", selector: { matchLabels: labels } },
      status: { currentHealthy: perWorkload, desiredHealthy: perWorkload - 3, disruptionsAllowed: 3, expectedPods: perWorkload, observedGeneration: 1 },
    };
    snapshot.pdbs.push(pdb);
    const owner = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `${name}-bench`, uid: `uid-${name}-bench`, controller: true }];
    for (let replica = 0; replica < perWorkload && snapshot.pods.length < podCount; replica++) {
      const pod: V1Pod = {
        metadata: { name: `${name}-${replica}`, namespace: NAMESPACE, labels: { ...labels, "pod-template-hash": "bench" }, ownerReferences: owner },
        spec: { nodeName: `node-${snapshot.pods.length % nodeCount}`, containers: [{ name: "app" }] },
        status: { phase: "Running", qosClass: "Burstable", conditions: ready },
      };
      snapshot.pods.push(pod);
    }
  }
  return snapshot;
}

function timed<T>(work: () => T): { seconds: number; value: T } {
  const started = process.hrtime.bigint();
  const value = work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, value };
}

function main(): void {
  const built = timed(world);
  const snapshot = built.value;
  process.stderr.write(`world: ${snapshot.nodes.length} nodes, ${snapshot.pods.length} pods, ${snapshot.pdbs.length} budgets in one namespace (built in ${built.seconds.toFixed(1)} s)\n`);
  const rows: [string, number, string][] = [];
  const scan = timed(() => snapshot.pods.reduce((sum, pod) => sum + budgetsByScan(pod, snapshot.pdbs).length, 0));
  rows.push(["each pod's budgets, matched against every budget of the namespace (before)", scan.seconds, `${scan.value} matches`]);
  const index = timed(() => snapshot.pods.reduce((sum, pod) => sum + budgetsFor(pod, snapshot.pdbs).length, 0));
  rows.push(["each pod's budgets through budgetsFor's label index (now)", index.seconds, `${index.value} matches`]);
  if (index.value !== scan.value) throw new Error(`the index found ${index.value} matches, the scan ${scan.value}`);
  const groups = new Set(GROUPS);
  const drain = resolveSpec({ cluster: { name: "bench" }, targetVersion: "1.32" }).drain;
  const checks: [string, () => unknown[]][] = [
    ["checkPodDisruptionBudgets", () => checkPodDisruptionBudgets(snapshot, groups)],
    ["checkReplicaSpread", () => checkReplicaSpread(snapshot, new Map(GROUPS.map((group) => [group, 1])))],
    ["checkPods", () => checkPods(snapshot, { rolledGroups: new Map(GROUPS.map((group) => [group, "Operator" as const])), drain })],
    ["checkWorkloadResilience", () => checkWorkloadResilience(snapshot, { criticalNamespaces: [] })],
    ["checkKubeletSkew", () => checkKubeletSkew(snapshot.nodes, ["1.32"], "1.31", groups)],
  ];
  let all = 0;
  for (const [name, check] of checks) {
    const run = timed(check);
    all += run.seconds;
    rows.push([`${name} over the snapshot`, run.seconds, `${run.value.length} finding(s)`]);
  }
  rows.push(["the five checks together", all, ""]);
  const lines = [
    `| ${snapshot.pods.length} pods, ${snapshot.pdbs.length} budgets, ${snapshot.nodes.length} nodes | Seconds | Result |`,
    "| --- | ---: | --- |",
    ...rows.map(([name, seconds, result]) => `| ${name} | ${seconds.toFixed(2)} | ${result} |`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main();
