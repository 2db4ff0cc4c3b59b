// `npm run demo` must finish wherever the scheduler puts each pod. Every pod of the default
// scenario is placed, one by one, on a node of every group it may land on, and judged by the
// preflight under the demo ClusterUpgrade's own spec: nothing may block, and every budget must be
// able to allow an eviction. The same world under the defaults of spec.drain does block, which
// shows the check looks at the placements that matter.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { KubernetesObject, V1Node, V1Pod, V1PodDisruptionBudget, V1PodTemplateSpec } from "@kubernetes/client-node";
import { parse } from "yaml";
import { resolveSpec, type ResolvedSpec } from "../../../src/api/v1alpha1/defaults.js";
import type { ClusterUpgrade } from "../../../src/api/v1alpha1/types.js";
import type { Finding } from "../../../src/preflight/findings.js";
import { checkPodDisruptionBudgets, neverAllowsEviction } from "../../../src/preflight/pdb-checks.js";
import { LABEL_NODEGROUP, LABEL_SELF_MANAGED_GROUP, type WorkloadSnapshot } from "../../../src/kube/workload-snapshot.js";
import { checkPods } from "../../../src/preflight/workload-checks.js";
import { parseScenarioText, type ClusterSpec } from "../../../sandbox/scenario/schema.js";
import { buildWorkloads } from "../../../sandbox/scenario/workloads.js";
import { emptySnapshot } from "../../support/fakes/cloud.js";

const root = join(import.meta.dirname, "..", "..", "..");
const manifest = parse(readFileSync(join(root, "sandbox", "demo", "clusterupgrade.yaml"), "utf8")) as ClusterUpgrade;
const scenario = parseScenarioText(readFileSync(join(root, "sandbox", "scenarios", "default.yaml"), "utf8"), "default.yaml");
const cluster = scenario.clusters.find((candidate) => candidate.name === manifest.spec.cluster.name)!;

interface Group {
  /** The name the operator knows the group by: the managed node group's, or the Auto Scaling group's. */
  name: string;
  labels: Record<string, string>;
  drainer?: "Operator" | "EKS";
}

/** The cluster's groups as the operator sees them under `spec`, with who drains each one it rolls. */
function groupsOf(clusterSpec: ClusterSpec, spec: ResolvedSpec): Group[] {
  const excluded = new Set(spec.nodeGroups.exclude);
  const selfManaged = new Set(spec.nodeGroups.selfManaged.map((group) => group.autoScalingGroupName));
  return clusterSpec.nodeGroups.map((group) => {
    const name = group.kind === "managed" ? group.name : `${clusterSpec.name}-${group.name}`;
    const rolled = !excluded.has(name) && (group.kind === "managed" || selfManaged.has(name));
    return { name, labels: group.labels, ...(rolled ? { drainer: group.kind === "managed" ? ("EKS" as const) : ("Operator" as const) } : {}) };
  });
}

function node(group: Group): V1Node {
  const label = group.drainer === "Operator" ? LABEL_SELF_MANAGED_GROUP : LABEL_NODEGROUP;
  return { metadata: { name: `${group.name}-1`, labels: { ...group.labels, [label]: group.name } }, status: { conditions: [{ type: "Ready", status: "True" }] } };
}

interface Placed {
  workload: string;
  pod: V1Pod;
  nodeSelector: Record<string, string>;
}

/** One pod per workload, owned the way its controller owns it (Deployments through a ReplicaSet). */
function podsOf(objects: KubernetesObject[]): { pods: Placed[]; replicaSets: WorkloadSnapshot["replicaSets"] } {
  const pods: Placed[] = [];
  const replicaSets: WorkloadSnapshot["replicaSets"] = [];
  for (const object of objects) {
    const { kind, metadata } = object;
    if (kind === "PodDisruptionBudget" || kind === "Service") continue;
    const namespace = metadata?.namespace ?? "";
    const name = metadata?.name ?? "";
    const template = kind === "Pod" ? (object as unknown as V1PodTemplateSpec) : (object as unknown as { spec: { template: V1PodTemplateSpec } }).spec.template;
    const ownerKind = kind === "Deployment" ? "ReplicaSet" : kind;
    if (kind === "Deployment") replicaSets.push({ metadata: { name: `${name}-1`, namespace, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: "d", controller: true }] } });
    const ownerReferences = kind === "Pod" ? [] : [{ apiVersion: "apps/v1", kind: ownerKind!, name: kind === "Deployment" ? `${name}-1` : name, uid: "o", controller: true }];
    pods.push({
      workload: `${kind}/${namespace}/${name}`,
      nodeSelector: template.spec?.nodeSelector ?? {},
      pod: { metadata: { name: `${name}-0`, namespace, labels: template.metadata?.labels, annotations: template.metadata?.annotations, ownerReferences }, spec: { ...template.spec!, nodeName: "" }, status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] } },
    });
  }
  return { pods, replicaSets };
}

/** The groups whose labels satisfy the pod's node selector (the cluster's own label is on every node). */
function placements(placed: Placed, groups: Group[]): Group[] {
  return groups.filter((group) => Object.entries(placed.nodeSelector).every(([key, value]) => key.startsWith("sandbox.") || group.labels[key] === value));
}

function findingsEverywhere(spec: ResolvedSpec): { where: string; findings: Finding[] }[] {
  const groups = groupsOf(cluster, spec);
  const built = buildWorkloads(scenario.name, cluster.name, cluster.workloads, cluster.podDisruptionBudgets);
  const { pods, replicaSets } = podsOf(built.objects);
  const drainers = new Map(groups.filter((group) => group.drainer).map((group) => [group.name, group.drainer!]));
  const results: { where: string; findings: Finding[] }[] = [];
  for (const placed of pods) {
    for (const group of placements(placed, groups)) {
      const snapshot = emptySnapshot();
      snapshot.nodes = [node(group)];
      snapshot.pods = [{ ...placed.pod, spec: { ...placed.pod.spec!, nodeName: snapshot.nodes[0].metadata!.name! } }];
      snapshot.replicaSets = replicaSets;
      results.push({ where: `${placed.workload} on ${group.name}`, findings: checkPods(snapshot, { rolledGroups: drainers, drain: spec.drain }) });
    }
  }
  return results;
}

describe("the demo's world and its ClusterUpgrade", () => {
  const spec = resolveSpec(manifest.spec);

  it("rolls a self-managed group with the operator's drain and a managed one with EKS's", () => {
    assert.deepEqual(
      groupsOf(cluster, spec).map((group) => [group.name, group.drainer]),
      [
        ["general", "EKS"],
        ["demo-legacy", "Operator"],
      ],
    );
  });

  it("no pod of the default scenario blocks the demo's preflight, on whichever node it lands", () => {
    const results = findingsEverywhere(spec);
    assert.ok(results.some((result) => result.where.includes("StatefulSet/shop/cache on demo-legacy")), results.map((result) => result.where).join(", "));
    const blocked = results.flatMap((result) => result.findings.filter((finding) => finding.severity === "Blocking").map((finding) => `${result.where}: ${finding.code} ${finding.message}`));
    assert.deepEqual(blocked, []);
    // The cache's emptyDir goes with its pod, and the preflight says so.
    const cache = results.find((result) => result.where === "StatefulSet/shop/cache on demo-legacy")!;
    assert.deepEqual(cache.findings.map((finding) => [finding.code, finding.severity]), [["POD003", "Warning"]]);
  });

  it("under the defaults of spec.drain the same world blocks on the cache pod wherever it sits on demo-legacy", () => {
    const strict = resolveSpec({ ...manifest.spec, drain: { ...manifest.spec.drain, deleteEmptyDirData: false } });
    const cache = findingsEverywhere(strict).find((result) => result.where === "StatefulSet/shop/cache on demo-legacy")!;
    assert.deepEqual(cache.findings.map((finding) => [finding.code, finding.severity]), [["POD004", "Blocking"]]);
  });

  it("every budget of the default scenario can allow an eviction with the pods it covers", () => {
    const built = buildWorkloads(scenario.name, cluster.name, cluster.workloads, cluster.podDisruptionBudgets);
    const budgets = built.objects.filter((object) => object.kind === "PodDisruptionBudget") as V1PodDisruptionBudget[];
    assert.ok(budgets.length >= 3);
    for (const budget of budgets) {
      const workload = cluster.workloads.find((candidate) => candidate.name === budget.metadata?.name && candidate.namespace === budget.metadata?.namespace);
      assert.ok(workload, `budget ${budget.metadata?.name} belongs to a workload`);
      assert.equal(neverAllowsEviction(budget, workload.replicas), false, `budget ${budget.metadata?.namespace}/${budget.metadata?.name} can never allow an eviction`);
      const snapshot = emptySnapshot();
      snapshot.pdbs = [budget];
      assert.deepEqual(checkPodDisruptionBudgets(snapshot), []);
    }
  });
});
