/**
 * A scenario document, already checked against the JSON Schema, made into a Scenario: every
 * default written out. It also reads a document the schema refused without throwing (a wrong type
 * reads as absent), so that the rules after it can still report what else is wrong in one run.
 */
import {
  WORKLOAD_DEFAULTS,
  type ClusterSpec,
  type HostedZoneSpec,
  type InsightSpec,
  type KarpenterSpec,
  type NodeGroupSpec,
  type PdbSpec,
  type RecordSpec,
  type Scenario,
  type StandalonePdbSpec,
  type SubnetSpec,
  type WorkloadSpec,
} from "./spec.js";

type Raw = Record<string, unknown>;

const mapping = (value: unknown): Raw => (value && typeof value === "object" && !Array.isArray(value) ? (value as Raw) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const mappings = (value: unknown): Raw[] => list(value).map(mapping);
const number = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);
const flag = (value: unknown, fallback: boolean): boolean => (typeof value === "boolean" ? value : fallback);

function text(value: unknown): string | undefined {
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

function oneOf<T extends string>(value: unknown, fallback: T): T {
  return typeof value === "string" ? (value as T) : fallback;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(mapping(value))) {
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") out[key] = String(item);
  }
  return out;
}

export function readScenario(document: unknown): Scenario {
  const raw = mapping(document);
  return {
    name: text(raw.name) ?? "",
    description: text(raw.description) ?? "",
    // The first cluster is the one mirrored into the sandbox apiserver unless the file says otherwise.
    clusters: mappings(raw.clusters).map((cluster, index) => readCluster(cluster, index === 0)),
    hostedZones: mappings(raw.hostedZones).map(readZone),
    waitForPods: flag(raw.waitForPods, true),
  };
}

function readCluster(raw: Raw, first: boolean): ClusterSpec {
  const name = text(raw.name) ?? "";
  const vpc = mapping(raw.vpc);
  const subnets = mappings(vpc.subnets).map(readSubnet);
  const securityGroups = list(raw.securityGroups).map((group) => text(group) ?? "");
  return {
    name,
    version: text(raw.version) ?? "",
    mirrorNodes: flag(raw.mirrorNodes, first),
    controlPlaneUpdateSeconds: number(raw.controlPlaneUpdateSeconds),
    addonUpdateSeconds: number(raw.addonUpdateSeconds),
    vpcCidr: text(vpc.cidr) ?? "10.0.0.0/16",
    subnets,
    securityGroups: securityGroups.length > 0 ? securityGroups : [`${name}-control-plane`],
    addons: mappings(raw.addons).map((addon) => ({ name: text(addon.name) ?? "", version: text(addon.version) })),
    insights: mappings(raw.insights).map(readInsight),
    nodeGroups: mappings(raw.nodeGroups).map((group) => readNodeGroup(group, subnets)),
    workloads: mappings(raw.workloads).map(readWorkload),
    podDisruptionBudgets: mappings(raw.podDisruptionBudgets).map(readStandalonePdb),
    karpenter: raw.karpenter === undefined ? undefined : readKarpenter(mapping(raw.karpenter)),
  };
}

function readKarpenter(raw: Raw): KarpenterSpec {
  return {
    nodePools: mappings(raw.nodePools).map((pool) => ({
      name: text(pool.name) ?? "",
      labels: stringMap(pool.labels),
      budgets: mappings(pool.budgets).map((budget) => ({
        nodes: text(budget.nodes) ?? "10%",
        ...(Array.isArray(budget.reasons) ? { reasons: budget.reasons.filter((reason): reason is "Drifted" | "Underutilized" | "Empty" => typeof reason === "string") } : {}),
        ...(text(budget.schedule) !== undefined ? { schedule: text(budget.schedule) } : {}),
        ...(text(budget.duration) !== undefined ? { duration: text(budget.duration) } : {}),
      })),
      instanceFamilies: list(pool.instanceFamilies).map((family) => text(family) ?? ""),
    })),
  };
}

function readSubnet(raw: Raw): SubnetSpec {
  return {
    name: text(raw.name) ?? "",
    zone: text(raw.zone) ?? "",
    cidr: text(raw.cidr) ?? "",
    freeIps: number(raw.freeIps),
    controlPlane: flag(raw.controlPlane, true),
  };
}

function readInsight(raw: Raw): InsightSpec {
  const id = text(raw.id) ?? "";
  return {
    id,
    name: text(raw.name) ?? id,
    category: oneOf(raw.category, "UPGRADE_READINESS"),
    kubernetesVersion: text(raw.kubernetesVersion) ?? "",
    status: oneOf(raw.status, "PASSING"),
    reason: text(raw.reason) ?? "",
    description: text(raw.description) ?? "",
    recommendation: text(raw.recommendation) ?? "",
    resources: mappings(raw.resources).map((resource) => ({
      kubernetesResourceUri: text(resource.kubernetesResourceUri),
      status: text(resource.status) ?? "ERROR",
      reason: text(resource.reason) ?? "",
    })),
    deprecationDetails: mappings(raw.deprecationDetails).map((detail) => ({
      usage: text(detail.usage) ?? "",
      replacedWith: text(detail.replacedWith) ?? "",
      stopServingVersion: text(detail.stopServingVersion) ?? "",
      startServingReplacementVersion: text(detail.startServingReplacementVersion) ?? "",
    })),
  };
}

function readNodeGroup(raw: Raw, clusterSubnets: readonly SubnetSpec[]): NodeGroupSpec {
  const subnets = list(raw.subnets).map((subnet) => text(subnet) ?? "");
  return {
    name: text(raw.name) ?? "",
    kind: oneOf(raw.kind, "managed"),
    instanceType: text(raw.instanceType) ?? "m5.large",
    version: text(raw.version),
    releaseVersion: text(raw.releaseVersion),
    // No subnets named: the group spans all of the cluster's.
    subnets: subnets.length > 0 ? subnets : clusterSubnets.map((subnet) => subnet.name),
    size: readSize(raw.size),
    labels: stringMap(raw.labels),
    taints: mappings(raw.taints).map((taint) => ({
      key: text(taint.key) ?? "",
      value: text(taint.value),
      effect: oneOf(taint.effect, "NoSchedule"),
    })),
    maxUnavailable: number(raw.maxUnavailable),
    maxUnavailablePercentage: number(raw.maxUnavailablePercentage),
  };
}

/** `size: 3` is a fixed group of 3 (max at least 1, as Auto Scaling needs); a mapping fills min and max from desired. */
function readSize(value: unknown): NodeGroupSpec["size"] {
  if (typeof value === "number") return { min: value, max: Math.max(value, 1), desired: value };
  const raw = mapping(value);
  const desired = number(raw.desired) ?? 0;
  return { desired, min: number(raw.min) ?? desired, max: number(raw.max) ?? Math.max(desired, 1) };
}

function readBudget(raw: Raw): PdbSpec {
  const limit = (value: unknown): number | string | undefined => (typeof value === "number" || typeof value === "string" ? value : undefined);
  return {
    minAvailable: limit(raw.minAvailable),
    maxUnavailable: limit(raw.maxUnavailable),
    unhealthyPodEvictionPolicy: raw.unhealthyPodEvictionPolicy === undefined ? undefined : oneOf(raw.unhealthyPodEvictionPolicy, "IfHealthyBudget"),
  };
}

function readWorkload(raw: Raw): WorkloadSpec {
  const kind = oneOf<WorkloadSpec["kind"]>(raw.kind, "Deployment");
  const scalable = kind === "Deployment" || kind === "StatefulSet";
  return {
    kind,
    name: text(raw.name) ?? "",
    namespace: text(raw.namespace) ?? "default",
    replicas: scalable ? (number(raw.replicas) ?? 1) : 1,
    copies: number(raw.copies) ?? 1,
    pdb: raw.pdb === undefined ? undefined : readBudget(mapping(raw.pdb)),
    antiAffinity: raw.antiAffinity === undefined ? undefined : oneOf(raw.antiAffinity, "preferred"),
    emptyDir: flag(raw.emptyDir, false),
    doNotDisrupt: flag(raw.doNotDisrupt, false),
    labels: stringMap(raw.labels),
    annotations: stringMap(raw.annotations),
    nodeSelector: stringMap(raw.nodeSelector),
    priorityClassName: text(raw.priorityClassName),
    cpu: text(raw.cpu) ?? WORKLOAD_DEFAULTS.cpu,
    memory: text(raw.memory) ?? WORKLOAD_DEFAULTS.memory,
    terminationGracePeriodSeconds: number(raw.terminationGracePeriodSeconds) ?? WORKLOAD_DEFAULTS.terminationGracePeriodSeconds,
  };
}

function readStandalonePdb(raw: Raw): StandalonePdbSpec {
  return {
    name: text(raw.name) ?? "",
    namespace: text(raw.namespace) ?? "default",
    matchLabels: stringMap(raw.matchLabels),
    ...readBudget(raw),
  };
}

function readZone(raw: Raw): HostedZoneSpec {
  return { name: text(raw.name) ?? "", records: mappings(raw.records).map(readRecord) };
}

function readRecord(raw: Raw): RecordSpec {
  return {
    name: text(raw.name) ?? "",
    type: text(raw.type) ?? "CNAME",
    ttl: number(raw.ttl) ?? 60,
    setIdentifier: text(raw.setIdentifier),
    weight: number(raw.weight),
    values: list(raw.values).map(String),
  };
}
