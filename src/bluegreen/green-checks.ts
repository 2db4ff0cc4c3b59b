// Green must be ready before any traffic moves: control plane ACTIVE at the target version, its
// managed node groups ACTIVE, and the workloads the spec names present with every replica
// available. Pure: the caller reads EKS and green's API server and passes what it found.
import type { V1DaemonSet, V1Deployment, V1StatefulSet } from "@kubernetes/client-node";
import type { BlueGreenSpec, Finding } from "../api/v1alpha1/types.js";
import type { ClusterInfo, ManagedNodeGroupInfo, WeightedRecord } from "../cloud/ports.js";
import { blocking, warning } from "../preflight/findings.js";
import type { WorkloadSnapshot } from "../kube/workload-snapshot.js";

export interface GreenObservation {
  clusterName: string;
  targetVersion: string;
  /** Undefined when EKS has no such cluster. */
  cluster: ClusterInfo | undefined;
  nodeGroups: ManagedNodeGroupInfo[];
  /** Green's workloads; only read when the cluster itself looks usable. */
  snapshot?: WorkloadSnapshot;
  verify: BlueGreenSpec["verify"];
}

export function checkGreenCluster(observed: GreenObservation): Finding[] {
  const { clusterName, cluster, targetVersion } = observed;
  const resource = `EKSCluster/${clusterName}`;
  if (!cluster) {
    return [blocking("BG001", resource, `green cluster ${clusterName} was not found`, "create the green cluster at the target version with your infrastructure code, or fix spec.blueGreen.greenCluster.name and region")];
  }
  const findings: Finding[] = [];
  if (cluster.status !== "ACTIVE") findings.push(blocking("BG002", resource, `green cluster ${clusterName} is ${cluster.status}, not ACTIVE`, "wait for the green cluster to become ACTIVE; the operator checks again by itself"));
  if (cluster.version !== targetVersion) {
    findings.push(blocking("BG003", resource, `green cluster ${clusterName} runs ${cluster.version}, not the target ${targetVersion}`, `upgrade or re-create green at ${targetVersion}, or set spec.targetVersion to ${cluster.version}`));
  }
  for (const group of observed.nodeGroups) {
    if (group.status !== "ACTIVE") {
      findings.push(blocking("BG004", `NodeGroup/${clusterName}/${group.name}`, `green node group ${group.name} is ${group.status}, not ACTIVE`, "wait for the node group to become ACTIVE, or fix its health issues in EKS"));
    }
  }
  return findings;
}

type Kind = "Deployment" | "StatefulSet" | "DaemonSet";

interface Availability {
  wanted: number;
  available: number;
}

interface Found {
  namespace: string;
  name: string;
  availability: Availability;
}

function deployments(snapshot: WorkloadSnapshot): Found[] {
  return snapshot.deployments.map((object: V1Deployment) => ({
    namespace: object.metadata?.namespace ?? "",
    name: object.metadata?.name ?? "",
    availability: { wanted: object.spec?.replicas ?? 1, available: object.status?.availableReplicas ?? 0 },
  }));
}

function statefulSets(snapshot: WorkloadSnapshot): Found[] {
  // availableReplicas exists since Kubernetes 1.22; readyReplicas covers older API servers.
  return snapshot.statefulSets.map((object: V1StatefulSet) => ({
    namespace: object.metadata?.namespace ?? "",
    name: object.metadata?.name ?? "",
    availability: { wanted: object.spec?.replicas ?? 1, available: object.status?.availableReplicas ?? object.status?.readyReplicas ?? 0 },
  }));
}

function daemonSets(snapshot: WorkloadSnapshot): Found[] {
  return snapshot.daemonSets.map((object: V1DaemonSet) => ({
    namespace: object.metadata?.namespace ?? "",
    name: object.metadata?.name ?? "",
    availability: { wanted: object.status?.desiredNumberScheduled ?? 0, available: object.status?.numberAvailable ?? 0 },
  }));
}

function listOf(snapshot: WorkloadSnapshot, kind: Kind): Found[] {
  if (kind === "Deployment") return deployments(snapshot);
  if (kind === "StatefulSet") return statefulSets(snapshot);
  return daemonSets(snapshot);
}

/** The replicas wanted and available of one named workload, undefined when it does not exist. */
export function workloadAvailability(snapshot: WorkloadSnapshot, kind: Kind, namespace: string, name: string): Availability | undefined {
  return listOf(snapshot, kind).find((object) => object.namespace === namespace && object.name === name)?.availability;
}

function availabilityFinding(clusterName: string, kind: Kind, namespace: string, name: string, availability: Availability): Finding | undefined {
  if (availability.available >= availability.wanted) return undefined;
  return blocking(
    "BG006",
    `${kind}/${namespace}/${name}`,
    `${kind} ${namespace}/${name} on green cluster ${clusterName} has ${availability.available} of ${availability.wanted} replicas available`,
    "fix the workload on green (kubectl describe and its pods' events); the operator checks again by itself",
  );
}

/** The workloads named in spec.blueGreen.verify, each present on green with every replica available. */
export function checkGreenWorkloads(observed: GreenObservation): Finding[] {
  const { clusterName, snapshot, verify } = observed;
  const named = verify?.workloads ?? [];
  const namespaces = verify?.namespaces ?? [];
  if (named.length === 0 && namespaces.length === 0) {
    return [warning("BG005", `EKSCluster/${clusterName}`, "spec.blueGreen.verify names no workload or namespace: nothing on green is checked before traffic moves", "list the workloads (or namespaces) that must run on green in spec.blueGreen.verify")];
  }
  if (!snapshot) return [];
  const findings: Finding[] = [];
  for (const workload of named) {
    const found = listOf(snapshot, workload.kind).find((object) => object.namespace === workload.namespace && object.name === workload.name);
    if (!found) {
      findings.push(blocking("BG005", `${workload.kind}/${workload.namespace}/${workload.name}`, `${workload.kind} ${workload.namespace}/${workload.name} does not exist on green cluster ${clusterName}`, "deploy it to green before the cutover, or remove it from spec.blueGreen.verify.workloads"));
      continue;
    }
    const finding = availabilityFinding(clusterName, workload.kind, workload.namespace, workload.name, found.availability);
    if (finding) findings.push(finding);
  }
  for (const namespace of namespaces) {
    const inNamespace = (["Deployment", "StatefulSet"] as const).flatMap((kind) => listOf(snapshot, kind).filter((object) => object.namespace === namespace).map((object) => ({ kind, object })));
    if (inNamespace.length === 0) {
      findings.push(blocking("BG005", `Namespace/${namespace}`, `namespace ${namespace} on green cluster ${clusterName} has no Deployment or StatefulSet`, "deploy the namespace's workloads to green, or remove it from spec.blueGreen.verify.namespaces"));
      continue;
    }
    for (const { kind, object } of inNamespace) {
      const finding = availabilityFinding(clusterName, kind, namespace, object.name, object.availability);
      if (finding) findings.push(finding);
    }
  }
  return findings;
}

/** BG007: both weighted records must exist, else there is nothing to shift. */
export function checkWeightedRecords(records: readonly WeightedRecord[], route: { recordName: string; recordType: string; blueSetIdentifier: string; greenSetIdentifier: string; hostedZoneId: string }): Finding[] {
  const findings: Finding[] = [];
  for (const identifier of [route.blueSetIdentifier, route.greenSetIdentifier]) {
    if (!records.some((record) => record.setIdentifier === identifier)) {
      findings.push(
        blocking(
          "BG007",
          `Route53Record/${route.recordName}/${identifier}`,
          `hosted zone ${route.hostedZoneId} has no weighted ${route.recordType} record ${route.recordName} with set identifier ${identifier}`,
          `create the weighted record (set identifier ${identifier}; blue with a weight above 0, green with weight 0) or fix spec.blueGreen.route53`,
        ),
      );
    }
  }
  return findings;
}

/** BG009: an alarm named as a gate must exist, else it could never fail. */
export function checkAlarmsExist(names: readonly string[], states: Record<string, string>): Finding[] {
  return names
    .filter((name) => !states[name])
    .map((name) => blocking("BG009", `CloudWatchAlarm/${name}`, `CloudWatch alarm ${name} named in spec.blueGreen.gates.cloudWatchAlarms does not exist`, "create the alarm in green's region or remove it from the gates"));
}
