// Pods a drain treats specially and workloads a drain will hurt (EKS best practices guide,
// reliability section). Warnings never block unless spec.preflight.warningsBlock says so.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { blocking, warning, type Finding } from "./findings.js";
import {
  DO_NOT_DISRUPT,
  budgetsFor,
  evictablePods,
  nodeGroupOf,
  ownerOf,
  podName,
  workloadKey,
  zoneOf,
  type WorkloadSnapshot,
} from "./snapshot.js";

function nodeOf(snapshot: WorkloadSnapshot, pod: V1Pod): V1Node | undefined {
  return snapshot.nodes.find((node) => node.metadata?.name === pod.spec?.nodeName);
}

export function checkPods(snapshot: WorkloadSnapshot, options: { excludedNodeGroups: Set<string> }): Finding[] {
  const findings: Finding[] = [];
  for (const pod of evictablePods(snapshot)) {
    const node = nodeOf(snapshot, pod);
    const group = nodeGroupOf(node);
    if (options.excludedNodeGroups.has(group)) continue;
    const where = `on node ${pod.spec?.nodeName} (node group ${group})`;
    if (pod.metadata?.annotations?.[DO_NOT_DISRUPT] === "true") {
      findings.push(blocking("POD002", `Pod/${podName(pod)}`, `pod ${podName(pod)} ${where} is marked ${DO_NOT_DISRUPT}=true: its node may not be disrupted`, `remove the annotation once the pod may move, or add node group ${group} to spec.nodeGroups.exclude`));
    }
    if (!ownerOf(pod, snapshot.replicaSets)) {
      findings.push(warning("POD001", `Pod/${podName(pod)}`, `pod ${podName(pod)} ${where} has no controller: once evicted it is gone for good`, "run it under a Deployment or StatefulSet, or recreate it after the roll"));
    }
    const emptyDirs = (pod.spec?.volumes ?? []).filter((volume) => volume.emptyDir).map((volume) => volume.name);
    if (emptyDirs.length) {
      findings.push(warning("POD003", `Pod/${podName(pod)}`, `pod ${podName(pod)} ${where} keeps data in emptyDir volume(s) ${emptyDirs.join(", ")}: a drain loses it`, "move the data to a persistent volume if it matters"));
    }
  }
  return findings;
}

export function checkWorkloadResilience(snapshot: WorkloadSnapshot, options: { criticalNamespaces: string[] }): Finding[] {
  const findings: Finding[] = [];
  const controllers = [
    ...snapshot.deployments.map((deployment) => ({ kind: "Deployment" as const, object: deployment, replicas: deployment.spec?.replicas ?? 1, template: deployment.spec?.template })),
    ...snapshot.statefulSets.map((statefulSet) => ({ kind: "StatefulSet" as const, object: statefulSet, replicas: statefulSet.spec?.replicas ?? 1, template: statefulSet.spec?.template })),
  ];
  const pods = evictablePods(snapshot);
  for (const controller of controllers) {
    const namespace = controller.object.metadata?.namespace ?? "";
    const name = controller.object.metadata?.name ?? "";
    const key = workloadKey({ kind: controller.kind, namespace, name });
    const owned = pods.filter((pod) => {
      const owner = ownerOf(pod, snapshot.replicaSets);
      return owner?.kind === controller.kind && owner.namespace === namespace && owner.name === name;
    });
    if (controller.replicas === 0) continue;
    if (controller.replicas === 1) {
      findings.push(warning("WRK001", key, `${key} has a single replica: a drain takes it down until its replacement is Ready`, "run at least 2 replicas"));
    }
    if (owned.length && owned.every((pod) => budgetsFor(pod, snapshot.pdbs).length === 0)) {
      findings.push(warning("WRK002", key, `${key} has no PodDisruptionBudget: a roll may evict all its replicas at once`, "add a PodDisruptionBudget (for example maxUnavailable: 1)"));
    }
    const containers = controller.template?.spec?.containers ?? [];
    if (containers.length && containers.some((container) => !container.readinessProbe)) {
      findings.push(warning("WRK003", key, `${key} has containers without a readiness probe: its replacements take traffic before they can serve it`, "add readiness probes"));
    }
    if (owned.length >= 2) {
      const nodes = new Set(owned.map((pod) => pod.spec?.nodeName));
      const zones = new Set(owned.map((pod) => zoneOf(nodeOf(snapshot, pod))));
      if (nodes.size === 1) {
        findings.push(warning("WRK004", key, `all ${owned.length} replicas of ${key} run on node ${[...nodes][0]}: draining it stops the workload`, "add pod anti-affinity or a topology spread constraint on kubernetes.io/hostname"));
      } else if (zones.size === 1) {
        findings.push(warning("WRK005", key, `all ${owned.length} replicas of ${key} run in zone ${[...zones][0]}`, "add a topology spread constraint on topology.kubernetes.io/zone"));
      }
    }
  }
  const critical = new Set(options.criticalNamespaces);
  for (const pod of pods) {
    if (!critical.has(pod.metadata?.namespace ?? "") || pod.status?.qosClass !== "BestEffort") continue;
    findings.push(warning("WRK006", `Pod/${podName(pod)}`, `pod ${podName(pod)} in critical namespace ${pod.metadata?.namespace} is BestEffort: on a crowded replacement node it is the first to be evicted again`, "set CPU and memory requests"));
  }
  return findings;
}
