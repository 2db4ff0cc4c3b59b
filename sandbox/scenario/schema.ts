/**
 * The scenario file format: a YAML document that describes the world a sandbox starts from
 * (clusters, their network with chosen free-IP counts, node groups, workloads, Route53 records).
 * parseScenario validates it and reports every problem with its path, e.g.
 * "clusters[0].nodeGroups[1].size.desired: must be an integer >= 0".
 */
import { parse as parseYaml } from "yaml";
import { amiName, isKnownReleaseDate, parseReleaseVersion } from "../eks-emulator/amis.js";
import { capacityOf } from "../eks-emulator/node-spec.js";
import { findAddon, isCompatible } from "../eks-emulator/addon-catalog.js";
import { parseMinorVersion } from "../eks-emulator/versions.js";

export interface Scenario {
  name: string;
  description: string;
  clusters: ClusterSpec[];
  hostedZones: HostedZoneSpec[];
  /** Seeding waits for every workload pod to run unless this is false. */
  waitForPods: boolean;
}

export interface ClusterSpec {
  name: string;
  version: string;
  /** Mirror this cluster's instances as Nodes of the sandbox apiserver (at most one cluster may). */
  mirrorNodes: boolean;
  controlPlaneUpdateSeconds?: number;
  addonUpdateSeconds?: number;
  vpcCidr: string;
  subnets: SubnetSpec[];
  securityGroups: string[];
  addons: AddonSpec[];
  insights: InsightSpec[];
  nodeGroups: NodeGroupSpec[];
  workloads: WorkloadSpec[];
  /** Budgets that stand on their own, selecting pods by label (e.g. a second PDB over a workload). */
  podDisruptionBudgets: StandalonePdbSpec[];
}

export interface StandalonePdbSpec extends PdbSpec {
  name: string;
  namespace: string;
  matchLabels: Record<string, string>;
}

export interface SubnetSpec {
  name: string;
  /** Full zone name, e.g. us-east-1a; a bare letter in the file is prefixed with the region when seeding. */
  zone: string;
  cidr: string;
  /** Free addresses the subnet should have once the world is seeded (instances included). */
  freeIps?: number;
  /** Given to CreateCluster as a control-plane subnet (default true); node-only subnets say false. */
  controlPlane: boolean;
}

export interface AddonSpec {
  name: string;
  version?: string;
}

export interface InsightSpec {
  id: string;
  name: string;
  category: string;
  kubernetesVersion: string;
  status: "PASSING" | "WARNING" | "ERROR" | "UNKNOWN";
  reason: string;
  description: string;
  recommendation: string;
  resources: Array<{ kubernetesResourceUri?: string; status: string; reason: string }>;
  deprecationDetails: Array<{ usage: string; replacedWith: string; stopServingVersion: string; startServingReplacementVersion: string }>;
}

export interface NodeGroupSpec {
  name: string;
  kind: "managed" | "self-managed";
  instanceType: string;
  version?: string;
  releaseVersion?: string;
  /** Subnet names; all of the cluster's subnets when absent. */
  subnets: string[];
  size: { min: number; max: number; desired: number };
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: "NoSchedule" | "NoExecute" | "PreferNoSchedule" }>;
  maxUnavailable?: number;
  maxUnavailablePercentage?: number;
}

export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet" | "Pod";

export interface PdbSpec {
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
}

export interface WorkloadSpec {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  replicas: number;
  /** How many copies of this workload to create, named <name>-0, <name>-1... (for large scenarios). */
  copies: number;
  pdb?: PdbSpec;
  antiAffinity?: "required" | "preferred";
  emptyDir: boolean;
  doNotDisrupt: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeSelector: Record<string, string>;
  priorityClassName?: string;
  cpu: string;
  memory: string;
  terminationGracePeriodSeconds: number;
}

export interface HostedZoneSpec {
  name: string;
  records: RecordSpec[];
}

export interface RecordSpec {
  name: string;
  type: string;
  ttl: number;
  setIdentifier?: string;
  weight?: number;
  values: string[];
}

/** Defaults that keep pods cheap for the scheduler and quick to drain on kwok nodes. */
export const WORKLOAD_DEFAULTS = { cpu: "10m", memory: "16Mi", terminationGracePeriodSeconds: 2 } as const;

/** eks-upgrade-facts "Route53 weighted records": weight is 0-255, at most 100 records per set. */
export const ROUTE53_MAX_WEIGHT = 255;
export const ROUTE53_MAX_WEIGHTED_RECORDS_PER_SET = 100;

/** moto (like AWS) reserves 5 addresses of every subnet (sandbox-facts "moto"). */
export const RESERVED_ADDRESSES_PER_SUBNET = 5;

export class ScenarioError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid scenario ${source}:\n  - ${problems.join("\n  - ")}`);
  }
}

type Raw = Record<string, unknown>;

/** Collects problems while walking the document, so one run reports all of them. */
class Checker {
  readonly problems: string[] = [];

  fail(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  object(value: unknown, path: string): Raw | undefined {
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Raw;
    this.fail(path, "must be a mapping");
    return undefined;
  }

  list(value: unknown, path: string, required = false): unknown[] {
    if (value === undefined && !required) return [];
    if (Array.isArray(value)) return value;
    this.fail(path, "must be a list");
    return [];
  }

  string(raw: Raw, key: string, path: string, fallback?: string): string {
    const value = raw[key];
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value === "string" && value.trim() !== "") return value;
    if (typeof value === "number") return String(value);
    this.fail(`${path}.${key}`, value === undefined ? "is required" : "must be a non-empty string");
    return fallback ?? "";
  }

  optionalString(raw: Raw, key: string, path: string): string | undefined {
    return raw[key] === undefined ? undefined : this.string(raw, key, path);
  }

  integer(raw: Raw, key: string, path: string, options: { min?: number; max?: number; fallback?: number } = {}): number {
    const value = raw[key];
    if (value === undefined && options.fallback !== undefined) return options.fallback;
    const min = options.min ?? 0;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || (options.max !== undefined && value > options.max)) {
      const range = options.max !== undefined ? `between ${min} and ${options.max}` : `>= ${min}`;
      this.fail(`${path}.${key}`, value === undefined ? "is required" : `must be an integer ${range}`);
      return options.fallback ?? min;
    }
    return value;
  }

  optionalInteger(raw: Raw, key: string, path: string, options: { min?: number; max?: number } = {}): number | undefined {
    return raw[key] === undefined ? undefined : this.integer(raw, key, path, options);
  }

  optionalSeconds(raw: Raw, key: string, path: string): number | undefined {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      this.fail(`${path}.${key}`, "must be a number of seconds >= 0");
      return undefined;
    }
    return value;
  }

  boolean(raw: Raw, key: string, path: string, fallback: boolean): boolean {
    const value = raw[key];
    if (value === undefined) return fallback;
    if (typeof value === "boolean") return value;
    this.fail(`${path}.${key}`, "must be true or false");
    return fallback;
  }

  stringMap(raw: Raw, key: string, path: string): Record<string, string> {
    const value = raw[key];
    if (value === undefined) return {};
    const map = this.object(value, `${path}.${key}`);
    const out: Record<string, string> = {};
    for (const [name, item] of Object.entries(map ?? {})) {
      if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") out[name] = String(item);
      else this.fail(`${path}.${key}.${name}`, "must be a string");
    }
    return out;
  }

  oneOf<T extends string>(raw: Raw, key: string, path: string, allowed: readonly T[], fallback?: T): T {
    const value = raw[key];
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    this.fail(`${path}.${key}`, `must be one of ${allowed.join(", ")}`);
    return fallback ?? allowed[0];
  }

  unknownKeys(raw: Raw, allowed: readonly string[], path: string): void {
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key)) this.fail(`${path}.${key}`, `unknown field (expected one of: ${allowed.join(", ")})`);
    }
  }
}

export function parseScenarioText(text: string, source = "scenario"): Scenario {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ScenarioError(source, [`not valid YAML: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const check = new Checker();
  const scenario = readScenario(check, document);
  if (check.problems.length > 0) throw new ScenarioError(source, check.problems);
  return scenario;
}

function readScenario(check: Checker, document: unknown): Scenario {
  const raw = check.object(document, "scenario") ?? {};
  check.unknownKeys(raw, ["name", "description", "clusters", "hostedZones", "waitForPods"], "scenario");
  const clusters = check
    .list(raw.clusters, "clusters", true)
    .map((item, index) => readCluster(check, item, `clusters[${index}]`, index === 0));
  if (clusters.length === 0) check.fail("clusters", "at least one cluster is required");
  duplicates(check, clusters.map((cluster) => cluster.name), "clusters", "cluster name");
  const mirrored = clusters.filter((cluster) => cluster.mirrorNodes);
  if (mirrored.length > 1) {
    check.fail("clusters", `only one cluster can be mirrored into the sandbox apiserver, got ${mirrored.map((c) => c.name).join(", ")}`);
  }
  clusters.forEach((cluster, index) => {
    if (!cluster.mirrorNodes && (cluster.workloads.length > 0 || cluster.podDisruptionBudgets.length > 0)) {
      check.fail(`clusters[${index}].workloads`, "workloads need mirrorNodes: true (they run on the sandbox apiserver)");
    }
  });
  const hostedZones = check.list(raw.hostedZones, "hostedZones").map((item, index) => readZone(check, item, `hostedZones[${index}]`));
  return {
    name: check.string(raw, "name", "scenario"),
    description: check.string(raw, "description", "scenario", ""),
    clusters,
    hostedZones,
    waitForPods: check.boolean(raw, "waitForPods", "scenario", true),
  };
}

function readCluster(check: Checker, value: unknown, path: string, first: boolean): ClusterSpec {
  const raw = check.object(value, path) ?? {};
  check.unknownKeys(
    raw,
    ["name", "version", "mirrorNodes", "controlPlaneUpdateSeconds", "addonUpdateSeconds", "vpc", "securityGroups", "addons", "insights", "nodeGroups", "workloads", "podDisruptionBudgets"],
    path,
  );
  const version = check.string(raw, "version", path);
  if (version && !parseMinorVersion(version)) check.fail(`${path}.version`, `must be a Kubernetes minor version such as 1.30, got ${version}`);
  const vpc = check.object(raw.vpc, `${path}.vpc`) ?? {};
  check.unknownKeys(vpc, ["cidr", "subnets"], `${path}.vpc`);
  const vpcCidr = check.string(vpc, "cidr", `${path}.vpc`, "10.0.0.0/16");
  if (!parseCidr(vpcCidr)) check.fail(`${path}.vpc.cidr`, `must be an IPv4 CIDR such as 10.0.0.0/16, got ${vpcCidr}`);
  const subnets = check.list(vpc.subnets, `${path}.vpc.subnets`, true).map((item, index) => readSubnet(check, item, `${path}.vpc.subnets[${index}]`));
  const controlPlaneZones = new Set(subnets.filter((subnet) => subnet.controlPlane).map((subnet) => subnet.zone));
  if (controlPlaneZones.size < 2) {
    check.fail(`${path}.vpc.subnets`, "EKS needs control-plane subnets in at least two availability zones");
  }
  duplicates(check, subnets.map((subnet) => subnet.name), `${path}.vpc.subnets`, "subnet name");
  checkSubnetCidrs(check, vpcCidr, subnets, `${path}.vpc.subnets`);

  const subnetNames = new Set(subnets.map((subnet) => subnet.name));
  const nodeGroups = check
    .list(raw.nodeGroups, `${path}.nodeGroups`)
    .map((item, index) => readNodeGroup(check, item, `${path}.nodeGroups[${index}]`, subnetNames, version));
  duplicates(check, nodeGroups.map((group) => group.name), `${path}.nodeGroups`, "node group name");
  const securityGroups = check.list(raw.securityGroups, `${path}.securityGroups`).map((item, index) => {
    if (typeof item !== "string" || item === "") check.fail(`${path}.securityGroups[${index}]`, "must be a name");
    return String(item);
  });
  const name = check.string(raw, "name", path);
  const workloads = check.list(raw.workloads, `${path}.workloads`).map((item, index) => readWorkload(check, item, `${path}.workloads[${index}]`));
  duplicates(
    check,
    workloads.map((workload) => `${workload.namespace}/${workload.kind}/${workload.name}`),
    `${path}.workloads`,
    "workload",
  );
  return {
    name,
    version,
    mirrorNodes: check.boolean(raw, "mirrorNodes", path, first),
    controlPlaneUpdateSeconds: check.optionalSeconds(raw, "controlPlaneUpdateSeconds", path),
    addonUpdateSeconds: check.optionalSeconds(raw, "addonUpdateSeconds", path),
    vpcCidr,
    subnets,
    securityGroups: securityGroups.length > 0 ? securityGroups : [`${name}-control-plane`],
    addons: check.list(raw.addons, `${path}.addons`).map((item, index) => readAddon(check, item, `${path}.addons[${index}]`, version)),
    insights: check.list(raw.insights, `${path}.insights`).map((item, index) => readInsight(check, item, `${path}.insights[${index}]`)),
    nodeGroups,
    workloads,
    podDisruptionBudgets: check
      .list(raw.podDisruptionBudgets, `${path}.podDisruptionBudgets`)
      .map((item, index) => readStandalonePdb(check, item, `${path}.podDisruptionBudgets[${index}]`)),
  };
}

function readStandalonePdb(check: Checker, value: unknown, path: string): StandalonePdbSpec {
  const raw = check.object(value, path) ?? {};
  check.unknownKeys(raw, ["name", "namespace", "matchLabels", "minAvailable", "maxUnavailable", "unhealthyPodEvictionPolicy"], path);
  const matchLabels = check.stringMap(raw, "matchLabels", path);
  if (Object.keys(matchLabels).length === 0) check.fail(`${path}.matchLabels`, "is required (a PDB selecting nothing tests nothing)");
  return {
    name: check.string(raw, "name", path),
    namespace: check.string(raw, "namespace", path, "default"),
    matchLabels,
    ...readPdbBudget(check, raw, path),
  };
}

function readPdbBudget(check: Checker, raw: Raw, path: string): PdbSpec {
  const pdb: PdbSpec = {
    minAvailable: intOrPercent(check, raw, "minAvailable", path),
    maxUnavailable: intOrPercent(check, raw, "maxUnavailable", path),
    unhealthyPodEvictionPolicy:
      raw.unhealthyPodEvictionPolicy === undefined
        ? undefined
        : check.oneOf(raw, "unhealthyPodEvictionPolicy", path, ["IfHealthyBudget", "AlwaysAllow"] as const),
  };
  if ((pdb.minAvailable === undefined) === (pdb.maxUnavailable === undefined)) {
    check.fail(path, "set exactly one of minAvailable and maxUnavailable");
  }
  return pdb;
}

function readSubnet(check: Checker, value: unknown, path: string): SubnetSpec {
  const raw = check.object(value, path) ?? {};
  check.unknownKeys(raw, ["name", "zone", "cidr", "freeIps", "controlPlane"], path);
  const cidr = check.string(raw, "cidr", path);
  const parsed = parseCidr(cidr);
  if (cidr && !parsed) check.fail(`${path}.cidr`, `must be an IPv4 CIDR such as 10.0.1.0/24, got ${cidr}`);
  else if (parsed && (parsed.prefix < 16 || parsed.prefix > 28)) check.fail(`${path}.cidr`, "AWS subnets are /16 to /28");
  const freeIps = check.optionalInteger(raw, "freeIps", path, { min: 0 });
  if (parsed && freeIps !== undefined && freeIps > subnetCapacity(parsed.prefix)) {
    check.fail(`${path}.freeIps`, `a /${parsed.prefix} subnet has at most ${subnetCapacity(parsed.prefix)} free addresses`);
  }
  return {
    name: check.string(raw, "name", path),
    zone: check.string(raw, "zone", path),
    cidr,
    freeIps,
    controlPlane: check.boolean(raw, "controlPlane", path, true),
  };
}

function readAddon(check: Checker, value: unknown, path: string, clusterVersion: string): AddonSpec {
  const raw = check.object(value, path) ?? {};
  check.unknownKeys(raw, ["name", "version"], path);
  const name = check.string(raw, "name", path);
  const version = check.optionalString(raw, "version", path);
  if (name && !findAddon(name)) check.fail(`${path}.name`, `unknown add-on ${name}`);
  else if (name && version && !isCompatible(name, version, clusterVersion)) {
    check.fail(`${path}.version`, `${name} ${version} does not support Kubernetes ${clusterVersion}`);
  }
  return { name, version };
}

function readInsight(check: Checker, value: unknown, path: string): InsightSpec {
  const raw = check.object(value, path) ?? {};
  check.unknownKeys(
    raw,
    ["id", "name", "category", "kubernetesVersion", "status", "reason", "description", "recommendation", "resources", "deprecationDetails"],
    path,
  );
  const resources = check.list(raw.resources, `${path}.resources`).map((item, index) => {
    const resource = check.object(item, `${path}.resources[${index}]`) ?? {};
    return {
      kubernetesResourceUri: check.optionalString(resource, "kubernetesResourceUri", `${path}.resources[${index}]`),
      status: check.string(resource, "status", `${path}.resources[${index}]`, "ERROR"),
      reason: check.string(resource, "reason", `${path}.resources[${index}]`, ""),
    };
  });
  const deprecationDetails = check.list(raw.deprecationDetails, `${path}.deprecationDetails`).map((item, index) => {
    const detail = check.object(item, `${path}.deprecationDetails[${index}]`) ?? {};
    const at = `${path}.deprecationDetails[${index}]`;
    return {
      usage: check.string(detail, "usage", at),
      replacedWith: check.string(detail, "replacedWith", at, ""),
      stopServingVersion: check.string(detail, "stopServingVersion", at, ""),
      startServingReplacementVersion: check.string(detail, "startServingReplacementVersion", at, ""),
    };
  });
  const id = check.string(raw, "id", path);
  return {
    id,
    name: check.string(raw, "name", path, id),
    category: check.oneOf(raw, "category", path, ["UPGRADE_READINESS", "MISCONFIGURATION"], "UPGRADE_READINESS"),
    kubernetesVersion: check.string(raw, "kubernetesVersion", path),
    status: check.oneOf(raw, "status", path, ["PASSING", "WARNING", "ERROR", "UNKNOWN"]),
    reason: check.string(raw, "reason", path, ""),
    description: check.string(raw, "description", path, ""),
    recommendation: check.string(raw, "recommendation", path, ""),
    resources,
    deprecationDetails,
  };
}

function readNodeGroup(
  check: Checker,
  value: unknown,
  path: string,
  subnetNames: ReadonlySet<string>,
  clusterVersion: string,
): NodeGroupSpec {
  const raw = check.object(value, path) ?? {};
  check.unknownKeys(
    raw,
    ["name", "kind", "instanceType", "version", "releaseVersion", "subnets", "size", "labels", "taints", "maxUnavailable", "maxUnavailablePercentage"],
    path,
  );
  const kind = check.oneOf(raw, "kind", path, ["managed", "self-managed"], "managed");
  const instanceType = check.string(raw, "instanceType", path, "m5.large");
  if (!capacityOf(instanceType)) check.fail(`${path}.instanceType`, `unknown instance type ${instanceType} (the emulator knows its capacity table only)`);
  const version = check.optionalString(raw, "version", path);
  const cluster = parseMinorVersion(clusterVersion);
  const own = version === undefined ? undefined : parseMinorVersion(version);
  if (version !== undefined && !own) check.fail(`${path}.version`, `must be a Kubernetes minor version, got ${version}`);
  if (own && cluster && (own.major > cluster.major || (own.major === cluster.major && own.minor > cluster.minor))) {
    check.fail(`${path}.version`, `a kubelet must never be newer than the control plane (${clusterVersion})`);
  }
  const releaseVersion = check.optionalString(raw, "releaseVersion", path);
  if (releaseVersion !== undefined) {
    const release = parseReleaseVersion(releaseVersion);
    if (!release || !isKnownReleaseDate(release.date) || release.version !== (version ?? clusterVersion)) {
      check.fail(`${path}.releaseVersion`, `not a release of Kubernetes ${version ?? clusterVersion} the emulator has (e.g. ${amiName({ version: version ?? clusterVersion, date: "20250115" })})`);
    }
  }
  const subnets = check.list(raw.subnets, `${path}.subnets`).map((item, index) => {
    const name = String(item);
    if (!subnetNames.has(name)) check.fail(`${path}.subnets[${index}]`, `no subnet named ${name} in this cluster`);
    return name;
  });
  let size = { min: 0, max: 0, desired: 0 };
  if (typeof raw.size === "number") {
    const desired = check.integer(raw, "size", path, { min: 0 });
    size = { min: desired, max: Math.max(desired, 1), desired };
  } else {
    const sizeRaw = check.object(raw.size, `${path}.size`) ?? {};
    const desired = check.integer(sizeRaw, "desired", `${path}.size`, { min: 0 });
    size = {
      desired,
      min: check.integer(sizeRaw, "min", `${path}.size`, { min: 0, fallback: desired }),
      max: check.integer(sizeRaw, "max", `${path}.size`, { min: 1, fallback: Math.max(desired, 1) }),
    };
    if (size.min > size.desired || size.desired > size.max) check.fail(`${path}.size`, "must satisfy min <= desired <= max");
  }
  const maxUnavailable = check.optionalInteger(raw, "maxUnavailable", path, { min: 1, max: 100 });
  const maxUnavailablePercentage = check.optionalInteger(raw, "maxUnavailablePercentage", path, { min: 1, max: 100 });
  if (maxUnavailable !== undefined && maxUnavailablePercentage !== undefined) {
    check.fail(path, "set maxUnavailable or maxUnavailablePercentage, not both");
  }
  if (kind === "self-managed" && (maxUnavailable !== undefined || maxUnavailablePercentage !== undefined || releaseVersion !== undefined)) {
    check.fail(path, "maxUnavailable, maxUnavailablePercentage and releaseVersion apply to managed node groups only");
  }
  const taints = check.list(raw.taints, `${path}.taints`).map((item, index) => {
    const taint = check.object(item, `${path}.taints[${index}]`) ?? {};
    const at = `${path}.taints[${index}]`;
    return {
      key: check.string(taint, "key", at),
      value: check.optionalString(taint, "value", at),
      effect: check.oneOf(taint, "effect", at, ["NoSchedule", "NoExecute", "PreferNoSchedule"] as const, "NoSchedule"),
    };
  });
  return {
    name: check.string(raw, "name", path),
    kind,
    instanceType,
    version,
    releaseVersion,
    subnets: subnets.length > 0 ? subnets : [...subnetNames],
    size,
    labels: check.stringMap(raw, "labels", path),
    taints,
    maxUnavailable,
    maxUnavailablePercentage,
  };
}

function readWorkload(check: Checker, value: unknown, path: string): WorkloadSpec {
  const raw = check.object(value, path) ?? {};
  check.unknownKeys(
    raw,
    [
      "kind", "name", "namespace", "replicas", "copies", "pdb", "antiAffinity", "emptyDir", "doNotDisrupt",
      "labels", "annotations", "nodeSelector", "priorityClassName", "cpu", "memory", "terminationGracePeriodSeconds",
    ],
    path,
  );
  const kind = check.oneOf(raw, "kind", path, ["Deployment", "StatefulSet", "DaemonSet", "Pod"] as const);
  const name = check.string(raw, "name", path);
  if (name && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) check.fail(`${path}.name`, "must be a DNS label (lowercase letters, digits, '-')");
  const replicasAllowed = kind === "Deployment" || kind === "StatefulSet";
  if (!replicasAllowed && raw.replicas !== undefined) check.fail(`${path}.replicas`, `a ${kind} has no replicas`);
  let pdb: PdbSpec | undefined;
  if (raw.pdb !== undefined) {
    const pdbRaw = check.object(raw.pdb, `${path}.pdb`) ?? {};
    check.unknownKeys(pdbRaw, ["minAvailable", "maxUnavailable", "unhealthyPodEvictionPolicy"], `${path}.pdb`);
    pdb = readPdbBudget(check, pdbRaw, `${path}.pdb`);
    if (kind === "DaemonSet") check.fail(`${path}.pdb`, "DaemonSet pods are not drained; a PDB on them tests nothing");
  }
  return {
    kind,
    name,
    namespace: check.string(raw, "namespace", path, "default"),
    replicas: replicasAllowed ? check.integer(raw, "replicas", path, { min: 0, fallback: 1 }) : 1,
    copies: check.integer(raw, "copies", path, { min: 1, fallback: 1 }),
    pdb,
    antiAffinity:
      raw.antiAffinity === undefined ? undefined : check.oneOf(raw, "antiAffinity", path, ["required", "preferred"] as const),
    emptyDir: check.boolean(raw, "emptyDir", path, false),
    doNotDisrupt: check.boolean(raw, "doNotDisrupt", path, false),
    labels: check.stringMap(raw, "labels", path),
    annotations: check.stringMap(raw, "annotations", path),
    nodeSelector: check.stringMap(raw, "nodeSelector", path),
    priorityClassName: check.optionalString(raw, "priorityClassName", path),
    cpu: check.string(raw, "cpu", path, WORKLOAD_DEFAULTS.cpu),
    memory: check.string(raw, "memory", path, WORKLOAD_DEFAULTS.memory),
    terminationGracePeriodSeconds: check.integer(raw, "terminationGracePeriodSeconds", path, {
      min: 0,
      fallback: WORKLOAD_DEFAULTS.terminationGracePeriodSeconds,
    }),
  };
}

function intOrPercent(check: Checker, raw: Raw, key: string, path: string): number | string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === "string" && /^\d{1,3}%$/.test(value) && Number(value.slice(0, -1)) <= 100) return value;
  check.fail(`${path}.${key}`, "must be an integer >= 0 or a percentage such as 50%");
  return undefined;
}

function readZone(check: Checker, value: unknown, path: string): HostedZoneSpec {
  const raw = check.object(value, path) ?? {};
  check.unknownKeys(raw, ["name", "records"], path);
  const records = check.list(raw.records, `${path}.records`).map((item, index) => {
    const record = check.object(item, `${path}.records[${index}]`) ?? {};
    const at = `${path}.records[${index}]`;
    check.unknownKeys(record, ["name", "type", "ttl", "setIdentifier", "weight", "values"], at);
    const weight = check.optionalInteger(record, "weight", at, { min: 0, max: ROUTE53_MAX_WEIGHT });
    const setIdentifier = check.optionalString(record, "setIdentifier", at);
    if ((weight === undefined) !== (setIdentifier === undefined)) check.fail(at, "a weighted record needs both weight and setIdentifier");
    const values = check.list(record.values, `${at}.values`, true).map(String);
    if (values.length === 0) check.fail(`${at}.values`, "at least one value is required");
    return {
      name: check.string(record, "name", at),
      type: check.oneOf(record, "type", at, ["A", "AAAA", "CNAME", "TXT"], "CNAME"),
      ttl: check.integer(record, "ttl", at, { min: 0, fallback: 60 }),
      setIdentifier,
      weight,
      values,
    };
  });
  const sets = new Map<string, number>();
  for (const record of records) {
    if (record.setIdentifier === undefined) continue;
    const key = `${record.name}/${record.type}`;
    sets.set(key, (sets.get(key) ?? 0) + 1);
  }
  for (const [key, count] of sets) {
    if (count > ROUTE53_MAX_WEIGHTED_RECORDS_PER_SET) check.fail(`${path}.records`, `${key} has ${count} weighted records (max ${ROUTE53_MAX_WEIGHTED_RECORDS_PER_SET})`);
  }
  return { name: check.string(raw, "name", path), records };
}

function duplicates(check: Checker, names: readonly string[], path: string, what: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) check.fail(path, `duplicate ${what} ${name}`);
    seen.add(name);
  }
}

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & mask) >>> 0 !== base) return undefined;
  return { base, prefix };
}

/** Free addresses of an empty subnet: its size less the 5 AWS reserves. */
export function subnetCapacity(prefix: number): number {
  return 2 ** (32 - prefix) - RESERVED_ADDRESSES_PER_SUBNET;
}

function within(inner: Cidr, outer: Cidr): boolean {
  if (inner.prefix < outer.prefix) return false;
  const mask = outer.prefix === 0 ? 0 : (0xffffffff << (32 - outer.prefix)) >>> 0;
  return (inner.base & mask) >>> 0 === outer.base;
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return within(a, b) || within(b, a);
}

function checkSubnetCidrs(check: Checker, vpcCidr: string, subnets: readonly SubnetSpec[], path: string): void {
  const vpc = parseCidr(vpcCidr);
  const parsed = subnets.map((subnet) => parseCidr(subnet.cidr));
  parsed.forEach((cidr, index) => {
    if (!cidr || !vpc) return;
    if (!within(cidr, vpc)) check.fail(`${path}[${index}].cidr`, `${subnets[index].cidr} is outside the VPC ${vpcCidr}`);
    for (let other = 0; other < index; other++) {
      const earlier = parsed[other];
      if (earlier && overlaps(cidr, earlier)) check.fail(`${path}[${index}].cidr`, `overlaps ${subnets[other].name}`);
    }
  });
}
