/**
 * The checks a JSON Schema cannot express, run on the scenario once read: CIDR arithmetic, names
 * that must be unique or must refer to another section, version skew, what the emulator's catalogs
 * hold, Route53's limit per record set, and node group sizes that must be ordered.
 */
import { amiName, isKnownReleaseDate, parseReleaseVersion } from "../eks-emulator/amis.js";
import { findAddon, isCompatible } from "../eks-emulator/addon-catalog.js";
import { capacityOf } from "../eks-emulator/node-spec.js";
import { parseMinorVersion } from "../eks-emulator/versions.js";
import { overlaps, parseCidr, subnetCapacity, within } from "./cidr.js";
import { ROUTE53_MAX_WEIGHTED_RECORDS_PER_SET, type ClusterSpec, type HostedZoneSpec, type NodeGroupSpec, type Scenario } from "./spec.js";

export interface Problem {
  path: string;
  message: string;
}

type Report = (path: string, message: string) => void;

export function checkRules(scenario: Scenario): Problem[] {
  const problems: Problem[] = [];
  const report: Report = (path, message) => problems.push({ path, message });
  duplicates(report, scenario.clusters.map((cluster) => cluster.name), "clusters", "cluster name");
  const mirrored = scenario.clusters.filter((cluster) => cluster.mirrorNodes);
  if (mirrored.length > 1) {
    report("clusters", `only one cluster can be mirrored into the sandbox apiserver, got ${mirrored.map((c) => c.name).join(", ")}`);
  }
  scenario.clusters.forEach((cluster, index) => checkCluster(report, cluster, `clusters[${index}]`));
  scenario.hostedZones.forEach((zone, index) => checkZone(report, zone, `hostedZones[${index}]`));
  return problems;
}

function checkCluster(report: Report, cluster: ClusterSpec, path: string): void {
  if (cluster.version && !parseMinorVersion(cluster.version)) {
    report(`${path}.version`, `must be a Kubernetes minor version such as 1.30, got ${cluster.version}`);
  }
  if (!cluster.mirrorNodes && (cluster.workloads.length > 0 || cluster.podDisruptionBudgets.length > 0)) {
    report(`${path}.workloads`, "workloads need mirrorNodes: true (they run on the sandbox apiserver)");
  }
  if (cluster.karpenter) checkKarpenter(report, cluster, path);
  checkNetwork(report, cluster, `${path}.vpc`);
  cluster.nodeGroups.forEach((group, index) => checkNodeGroup(report, group, cluster, `${path}.nodeGroups[${index}]`));
  duplicates(report, cluster.nodeGroups.map((group) => group.name), `${path}.nodeGroups`, "node group name");
  duplicates(
    report,
    cluster.workloads.map((workload) => `${workload.namespace}/${workload.kind}/${workload.name}`),
    `${path}.workloads`,
    "workload",
  );
  cluster.addons.forEach((addon, index) => {
    const at = `${path}.addons[${index}]`;
    if (!findAddon(addon.name)) report(`${at}.name`, `unknown add-on ${addon.name}`);
    else if (addon.version && !isCompatible(addon.name, addon.version, cluster.version)) {
      report(`${at}.version`, `${addon.name} ${addon.version} does not support Kubernetes ${cluster.version}`);
    }
  });
}

/** Subnets are /16 to /28 inside the VPC, do not overlap, hold what freeIps asks, and span two zones. */
function checkNetwork(report: Report, cluster: ClusterSpec, path: string): void {
  const vpc = parseCidr(cluster.vpcCidr);
  if (!vpc) report(`${path}.cidr`, `must be an IPv4 CIDR such as 10.0.0.0/16, got ${cluster.vpcCidr}`);
  const parsed = cluster.subnets.map((subnet) => parseCidr(subnet.cidr));
  cluster.subnets.forEach((subnet, index) => {
    const at = `${path}.subnets[${index}]`;
    const cidr = parsed[index];
    if (!cidr) {
      report(`${at}.cidr`, `must be an IPv4 CIDR such as 10.0.1.0/24, got ${subnet.cidr}`);
      return;
    }
    if (cidr.prefix < 16 || cidr.prefix > 28) report(`${at}.cidr`, "AWS subnets are /16 to /28");
    if (subnet.freeIps !== undefined && subnet.freeIps > subnetCapacity(cidr.prefix)) {
      report(`${at}.freeIps`, `a /${cidr.prefix} subnet has at most ${subnetCapacity(cidr.prefix)} free addresses`);
    }
    if (vpc && !within(cidr, vpc)) report(`${at}.cidr`, `${subnet.cidr} is outside the VPC ${cluster.vpcCidr}`);
    for (let other = 0; other < index; other++) {
      const earlier = parsed[other];
      if (earlier && overlaps(cidr, earlier)) report(`${at}.cidr`, `overlaps ${cluster.subnets[other].name}`);
    }
  });
  const controlPlaneZones = new Set(cluster.subnets.filter((subnet) => subnet.controlPlane).map((subnet) => subnet.zone));
  if (controlPlaneZones.size < 2) report(`${path}.subnets`, "EKS needs control-plane subnets in at least two availability zones");
  duplicates(report, cluster.subnets.map((subnet) => subnet.name), `${path}.subnets`, "subnet name");
}

function checkNodeGroup(report: Report, group: NodeGroupSpec, cluster: ClusterSpec, path: string): void {
  if (!capacityOf(group.instanceType)) {
    report(`${path}.instanceType`, `unknown instance type ${group.instanceType} (the emulator knows its capacity table only)`);
  }
  const control = parseMinorVersion(cluster.version);
  const own = group.version === undefined ? undefined : parseMinorVersion(group.version);
  if (group.version !== undefined && !own) report(`${path}.version`, `must be a Kubernetes minor version, got ${group.version}`);
  if (own && control && (own.major > control.major || (own.major === control.major && own.minor > control.minor))) {
    report(`${path}.version`, `a kubelet must never be newer than the control plane (${cluster.version})`);
  }
  if (group.releaseVersion !== undefined) {
    const version = group.version ?? cluster.version;
    const release = parseReleaseVersion(group.releaseVersion);
    if (!release || !isKnownReleaseDate(release.date) || release.version !== version) {
      report(`${path}.releaseVersion`, `not a release of Kubernetes ${version} the emulator has (e.g. ${amiName({ version, date: "20250115" })})`);
    }
  }
  const subnetNames = new Set(cluster.subnets.map((subnet) => subnet.name));
  group.subnets.forEach((name, index) => {
    if (!subnetNames.has(name)) report(`${path}.subnets[${index}]`, `no subnet named ${name} in this cluster`);
  });
  const { min, desired, max } = group.size;
  if (min > desired || desired > max) report(`${path}.size`, "must satisfy min <= desired <= max");
}

function checkZone(report: Report, zone: HostedZoneSpec, path: string): void {
  const sets = new Map<string, number>();
  for (const record of zone.records) {
    if (record.setIdentifier === undefined) continue;
    const key = `${record.name}/${record.type}`;
    sets.set(key, (sets.get(key) ?? 0) + 1);
  }
  for (const [key, count] of sets) {
    if (count > ROUTE53_MAX_WEIGHTED_RECORDS_PER_SET) {
      report(`${path}.records`, `${key} has ${count} weighted records (max ${ROUTE53_MAX_WEIGHTED_RECORDS_PER_SET})`);
    }
  }
}

function duplicates(report: Report, names: readonly string[], path: string, what: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) report(path, `duplicate ${what} ${name}`);
    seen.add(name);
  }
}

/** NodePools run on the sandbox apiserver like workloads; a pod may only select a NodePool that exists. */
function checkKarpenter(report: Report, cluster: ClusterSpec, path: string): void {
  if (!cluster.mirrorNodes) report(`${path}.karpenter`, "Karpenter's nodes join the sandbox apiserver: the cluster needs mirrorNodes: true");
  const pools = cluster.karpenter?.nodePools ?? [];
  duplicates(report, pools.map((pool) => pool.name), `${path}.karpenter.nodePools`, "NodePool name");
  cluster.workloads.forEach((workload, index) => {
    const wanted = workload.nodeSelector["karpenter.sh/nodepool"];
    if (wanted !== undefined && !pools.some((pool) => pool.name === wanted)) {
      report(`${path}.workloads[${index}].nodeSelector`, `selects NodePool ${wanted}, which karpenter.nodePools does not declare (declared: ${pools.map((pool) => pool.name).join(", ") || "none"})`);
    }
  });
}
