/**
 * Kubernetes objects for a scenario's workloads. Pure: seed.ts creates what this returns.
 * Pods get small requests so thousands fit on kwok nodes, a short grace period so drains finish
 * quickly (kwok deletes a terminating pod exactly when its grace period ends), and a nodeSelector
 * on the mirrored cluster's label so they only land on Nodes of the emulated node groups.
 */
import type { KubernetesObject, V1PodSpec, V1PodTemplateSpec } from "@kubernetes/client-node";
import { LABEL_CLUSTER } from "../eks-emulator/node-spec.js";
import type { PdbSpec, StandalonePdbSpec, WorkloadSpec } from "./schema.js";

/** eks-upgrade-facts "Drain ordering and opt-outs": this annotation blocks voluntary disruption. */
export const DO_NOT_DISRUPT_ANNOTATION = "karpenter.sh/do-not-disrupt";
/** Labels every seeded object carries, so tests and resets can find them. */
export const SCENARIO_LABEL = "sandbox.eks-upgrade-operator.io/scenario";
export const WORKLOAD_LABEL = "app.kubernetes.io/name";

export interface WorkloadObjects {
  namespaces: string[];
  objects: KubernetesObject[];
  /** Pods the workloads should end up with (DaemonSets excluded: their count follows the nodes). */
  expectedPods: number;
}

export function expandCopies(workload: WorkloadSpec): WorkloadSpec[] {
  if (workload.copies <= 1) return [workload];
  return Array.from({ length: workload.copies }, (_unused, index) => ({ ...workload, name: `${workload.name}-${index}`, copies: 1 }));
}

export function buildWorkloads(
  scenarioName: string,
  clusterName: string,
  workloads: readonly WorkloadSpec[],
  budgets: readonly StandalonePdbSpec[] = [],
): WorkloadObjects {
  const namespaces = [...new Set([...workloads, ...budgets].map((item) => item.namespace))].sort();
  const objects: KubernetesObject[] = budgets.map((budget) =>
    pdbObject({ name: budget.name, namespace: budget.namespace, labels: { [SCENARIO_LABEL]: scenarioName } }, budget.matchLabels, budget),
  );
  let expectedPods = 0;
  for (const workload of workloads.flatMap(expandCopies)) {
    objects.push(...buildWorkload(scenarioName, clusterName, workload));
    if (workload.kind === "Deployment" || workload.kind === "StatefulSet") expectedPods += workload.replicas;
    if (workload.kind === "Pod") expectedPods += 1;
  }
  return { namespaces, objects, expectedPods };
}

export function buildWorkload(scenarioName: string, clusterName: string, workload: WorkloadSpec): KubernetesObject[] {
  const selector = { [WORKLOAD_LABEL]: workload.name };
  const labels = { ...workload.labels, ...selector, [SCENARIO_LABEL]: scenarioName };
  const metadata = { name: workload.name, namespace: workload.namespace, labels };
  const template: V1PodTemplateSpec = {
    metadata: {
      labels,
      annotations: {
        ...workload.annotations,
        ...(workload.doNotDisrupt ? { [DO_NOT_DISRUPT_ANNOTATION]: "true" } : {}),
      },
    },
    spec: podSpec(clusterName, workload, selector),
  };
  const out: KubernetesObject[] = [];
  switch (workload.kind) {
    case "Deployment":
      out.push({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata,
        spec: { replicas: workload.replicas, selector: { matchLabels: selector }, template },
      } as KubernetesObject);
      break;
    case "StatefulSet":
      out.push({
        apiVersion: "v1",
        kind: "Service",
        metadata,
        spec: { clusterIP: "None", selector, ports: [{ name: "http", port: 80 }] },
      } as KubernetesObject);
      out.push({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata,
        spec: {
          replicas: workload.replicas,
          serviceName: workload.name,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: selector },
          template,
        },
      } as KubernetesObject);
      break;
    case "DaemonSet":
      out.push({
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata,
        spec: { selector: { matchLabels: selector }, template },
      } as KubernetesObject);
      break;
    case "Pod":
      // A singleton pod: no controller, so a drain needs force to remove it (eks-upgrade-facts "Draining").
      out.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { ...metadata, annotations: template.metadata?.annotations },
        spec: template.spec,
      } as KubernetesObject);
      break;
  }
  if (workload.pdb) out.push(pdbObject(metadata, selector, workload.pdb));
  return out;
}

function pdbObject(
  metadata: { name: string; namespace: string; labels: Record<string, string> },
  matchLabels: Record<string, string>,
  budget: PdbSpec,
): KubernetesObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata,
    spec: {
      selector: { matchLabels },
      minAvailable: budget.minAvailable,
      maxUnavailable: budget.maxUnavailable,
      unhealthyPodEvictionPolicy: budget.unhealthyPodEvictionPolicy,
    },
  } as KubernetesObject;
}

function podSpec(clusterName: string, workload: WorkloadSpec, selector: Record<string, string>): V1PodSpec {
  const spec: V1PodSpec = {
    containers: [
      {
        name: "app",
        image: "registry.k8s.io/pause:3.10",
        resources: { requests: { cpu: workload.cpu, memory: workload.memory } },
        volumeMounts: workload.emptyDir ? [{ name: "scratch", mountPath: "/scratch" }] : undefined,
      },
    ],
    terminationGracePeriodSeconds: workload.terminationGracePeriodSeconds,
    nodeSelector: { ...workload.nodeSelector, [LABEL_CLUSTER]: clusterName },
    priorityClassName: workload.priorityClassName,
    volumes: workload.emptyDir ? [{ name: "scratch", emptyDir: {} }] : undefined,
    // DaemonSet pods tolerate everything, as node agents do, so tainted groups still run them.
    tolerations: workload.kind === "DaemonSet" ? [{ operator: "Exists" }] : undefined,
  };
  if (workload.antiAffinity === "required") {
    spec.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" },
        ],
      },
    };
  } else if (workload.antiAffinity === "preferred") {
    spec.affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" } },
        ],
      },
    };
  }
  return spec;
}
