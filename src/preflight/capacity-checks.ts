// Node groups must be healthy, and their subnets must have room for the nodes a roll adds.
import type { ManagedNodeGroupInfo, SubnetInfo } from "../cloud/ports.js";
import { blocking, type Finding } from "./findings.js";

/**
 * Pods per node under the VPC CNI without prefix delegation: ENIs x (IPv4 per ENI - 1) + 2
 * (EKS eni-max-pods). The common instance types; others fall back to the m5.large figure.
 */
export const MAX_PODS_BY_INSTANCE_TYPE: Readonly<Record<string, number>> = {
  "t3.medium": 17,
  "t3.large": 35,
  "t3.xlarge": 58,
  "m5.large": 29,
  "m5.xlarge": 58,
  "m5.2xlarge": 58,
  "m5.4xlarge": 234,
  "c5.large": 29,
  "c5.xlarge": 58,
  "r5.large": 29,
  "r5.xlarge": 58,
  "m6i.large": 29,
  "m7i.large": 29,
};
const FALLBACK_MAX_PODS = 29;
/** EKS service quota "Nodes per managed node group" (not adjustable). The roll's surge counts against it. */
export const MAX_NODES_PER_MANAGED_NODE_GROUP = 450;
/** With prefix delegation each ENI slot holds a /28 prefix: EKS recommends capping at 110 pods. */
export const PREFIX_DELEGATION_MAX_PODS = 110;
const ADDRESSES_PER_PREFIX = 16;

/** Addresses one new node takes from its subnet: its own, plus what the VPC CNI reserves for pods. */
export function addressesPerNode(instanceType: string | undefined, prefixDelegation: boolean): number {
  if (prefixDelegation) return 1 + Math.ceil(PREFIX_DELEGATION_MAX_PODS / ADDRESSES_PER_PREFIX) * ADDRESSES_PER_PREFIX;
  return 1 + (MAX_PODS_BY_INSTANCE_TYPE[instanceType ?? ""] ?? FALLBACK_MAX_PODS);
}

/** EKS adds up to max(2 x zones, maxUnavailable) nodes while it rolls a managed group (EKS user guide). */
export function managedSurgeNodes(group: ManagedNodeGroupInfo, zones: number): number {
  return Math.max(2 * Math.max(1, zones), group.maxUnavailable ?? 1);
}

export function checkManagedNodeGroups(groups: ManagedNodeGroupInfo[], subnets: SubnetInfo[], prefixDelegation: boolean): Finding[] {
  const findings: Finding[] = [];
  for (const group of groups) {
    const resource = `NodeGroup/${group.name}`;
    if (group.status !== "ACTIVE") {
      findings.push(blocking("NG001", resource, `managed node group ${group.name} is ${group.status}, not ACTIVE`, "wait for its current operation to finish or repair it; EKS refuses a version update otherwise"));
    }
    if (group.healthIssues.length) {
      findings.push(blocking("NG002", resource, `managed node group ${group.name} reports health issues: ${group.healthIssues.map((issue) => `${issue.code} ${issue.message}`).join("; ")}`, "fix them first: an update on an unhealthy group fails with NodeCreationFailure"));
    }
    const own = subnets.filter((subnet) => group.subnetIds.includes(subnet.id));
    const zones = new Set(own.map((subnet) => subnet.availabilityZone)).size;
    const surge = managedSurgeNodes(group, zones);
    if (group.desiredSize + surge > MAX_NODES_PER_MANAGED_NODE_GROUP) {
      findings.push(blocking("CAP001", resource, `managed node group ${group.name} runs ${group.desiredSize} nodes; its roll adds up to ${surge} more, past the ${MAX_NODES_PER_MANAGED_NODE_GROUP}-node limit of a managed node group`, `scale it below ${MAX_NODES_PER_MANAGED_NODE_GROUP - surge} nodes for the roll, or split it into several node groups`));
    }
    if (!own.length) continue;
    const needed = surge * addressesPerNode(group.instanceTypes[0], prefixDelegation);
    const free = own.reduce((sum, subnet) => sum + subnet.availableIpAddressCount, 0);
    if (free < needed) {
      findings.push(blocking("IP002", own.map((subnet) => `Subnet/${subnet.id}`).join(","), `node group ${group.name} adds up to ${surge} ${group.instanceTypes[0] ?? "node"} node(s) during its roll, needing about ${needed} addresses in its subnets, which have ${free} free (${own.map((subnet) => `${subnet.id} ${subnet.availableIpAddressCount}`).join(", ")})`, "free addresses in these subnets, add subnets to the node group, or lower its maxUnavailable"));
    }
  }
  return findings;
}
