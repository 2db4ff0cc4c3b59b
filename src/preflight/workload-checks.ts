// Pods a drain treats specially and workloads a drain will hurt (EKS best practices guide,
// reliability section). Warnings never block unless spec.preflight.warningsBlock says so.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { classifyPod, emptyDirVolumes, timeoutOutcome, type DrainPolicy, type DrainRefusal } from "../drain/pod-filters.js";
import { blocking, warning, type Finding } from "./findings.js";
import {
  DO_NOT_DISRUPT,
  budgetsFor,
  controllerOf,
  evictablePods,
  findNode,
  isFinished,
  nodeGroupOf,
  ownerOf,
  podName,
  workloadKey,
  zoneOf,
  type WorkloadSnapshot,
} from "../kube/workload-snapshot.js";

function nodeOf(snapshot: WorkloadSnapshot, pod: V1Pod): V1Node | undefined {
  return findNode(snapshot.nodes, pod.spec?.nodeName);
}

/**
 * EKS drains a managed node group with the Eviction API alone (eks-upgrade-facts, "Managed node
 * group update"): it asks no opt-in for emptyDir data or pods without a controller.
 */
export const EKS_MANAGED_DRAIN_POLICY: DrainPolicy = { deleteEmptyDirData: true, evictUnmanagedPods: true };

export interface PodCheckScope {
  /** The node groups this upgrade rolls, and who drains each: the operator (self-managed) or EKS (managed). */
  rolledGroups: Map<string, "Operator" | "EKS">;
  /** The resolved spec.drain: the policy the operator's drain engine applies, and what it does on timeout. */
  drain: DrainPolicy & { timeout: string; onTimeout: "Wait" | "SkipNode" | "DeletePods"; allowForceDelete: boolean };
}

const FINDING_CODE: Record<DrainRefusal["reason"], string> = { DoNotDisrupt: "POD002", EmptyDir: "POD004", Unmanaged: "POD005" };

function refusalFinding(pod: V1Pod, where: string, group: string, drainer: "Operator" | "EKS", refusal: DrainRefusal, drain: PodCheckScope["drain"]): Finding {
  const name = podName(pod);
  const node = pod.spec?.nodeName ?? "?";
  const resource = `Pod/${name}`;
  const exclude = `add node group ${group} to spec.nodeGroups.exclude and roll it yourself`;
  const release = refusal.field ? `set ${refusal.field}: true` : `remove the ${DO_NOT_DISRUPT} annotation once the pod may move`;
  const what =
    refusal.reason === "DoNotDisrupt"
      ? `is marked ${DO_NOT_DISRUPT}=true: its node may not be disrupted`
      : refusal.reason === "EmptyDir"
        ? `keeps data in emptyDir volume(s) ${emptyDirVolumes(pod).join(", ")}, and ${refusal.field} is false: the operator's drain refuses to evict it`
        : `has no controller, and ${refusal.field} is false: the operator's drain refuses to evict it`;
  // EKS's own drain ignores the annotation; the operator holds the upgrade so the owner decides.
  if (drainer === "EKS") return blocking(FINDING_CODE[refusal.reason], resource, `pod ${name} ${where} ${what}`, `${release}, or ${exclude}`);
  const outcome = timeoutOutcome(drain);
  if (outcome === "Wait") {
    return blocking(FINDING_CODE[refusal.reason], resource, `pod ${name} ${where} ${what}; the roll of ${group} would wait on it forever (spec.drain.onTimeout ${drain.onTimeout})`, `${release}, or ${exclude}`);
  }
  const after = outcome === "DeletePods" ? `deleted after spec.drain.timeout ${drain.timeout} (spec.drain.onTimeout DeletePods)` : `left on node ${node}, which is uncordoned and stays on its old version after spec.drain.timeout ${drain.timeout} (spec.drain.onTimeout SkipNode)`;
  return warning(FINDING_CODE[refusal.reason], resource, `pod ${name} ${where} ${what}; it is ${after}`, release);
}

/**
 * Every pod on a node the upgrade rolls, judged by classifyPod, the drain engine's own decision,
 * under the policy of whoever drains that node. A pod the drain would refuse is a Blocking finding
 * (a passing preflight means the roll can finish); a pod it takes but loses something with is a
 * Warning. Pods on nodes the upgrade does not roll are none of its business.
 */
export function checkPods(snapshot: WorkloadSnapshot, scope: PodCheckScope): Finding[] {
  const findings: Finding[] = [];
  for (const pod of snapshot.pods) {
    if (!pod.spec?.nodeName) continue;
    const node = nodeOf(snapshot, pod);
    const group = nodeGroupOf(node);
    const drainer = scope.rolledGroups.get(group);
    if (!drainer) continue;
    const policy = drainer === "Operator" ? scope.drain : EKS_MANAGED_DRAIN_POLICY;
    const disposition = classifyPod(pod, policy);
    // Finished pods go first with no budget to ask; terminating ones are already leaving: the
    // engine waits for both without holding the node, so they say nothing here either.
    if (disposition.action === "leave" || isFinished(pod) || pod.metadata?.deletionTimestamp) continue;
    const where = `on node ${pod.spec.nodeName} (node group ${group})`;
    const refusals = disposition.action === "block" ? disposition.refusals : [];
    for (const refusal of refusals) findings.push(refusalFinding(pod, where, group, drainer, refusal, scope.drain));
    const refused = new Set(refusals.map((refusal) => refusal.reason));
    if (!controllerOf(pod) && !refused.has("Unmanaged")) {
      findings.push(warning("POD001", `Pod/${podName(pod)}`, `pod ${podName(pod)} ${where} has no controller: once evicted it is gone for good`, "run it under a Deployment or StatefulSet, or recreate it after the roll"));
    }
    const emptyDirs = emptyDirVolumes(pod);
    if (emptyDirs.length && !refused.has("EmptyDir")) {
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
  // Pods grouped by owner once, rather than every pod looked at for every controller.
  const byOwner = new Map<string, V1Pod[]>();
  for (const pod of pods) {
    const owner = ownerOf(pod, snapshot.replicaSets);
    if (!owner) continue;
    const key = workloadKey(owner);
    const owned = byOwner.get(key);
    if (owned) owned.push(pod);
    else byOwner.set(key, [pod]);
  }
  for (const controller of controllers) {
    const namespace = controller.object.metadata?.namespace ?? "";
    const name = controller.object.metadata?.name ?? "";
    const key = workloadKey({ kind: controller.kind, namespace, name });
    const owned = byOwner.get(key) ?? [];
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
