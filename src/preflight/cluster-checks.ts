// Checks on the EKS control plane's own prerequisites: its state and its network.
import type { ClusterInfo, SubnetInfo } from "../cloud/ports.js";
import { blocking, type Finding } from "./findings.js";

/** EKS needs up to 5 free IPs in the cluster's subnets to upgrade (EKS user guide, "Update cluster"). */
export const MIN_FREE_IPS_PER_SUBNET = 5;
/** eksup's EKS001 check asks for at least 2 availability zones with 5 free IPs each. */
export const MIN_ZONES_WITH_FREE_IPS = 2;

export interface ControlPlaneSnapshot {
  cluster: ClusterInfo;
  subnets: SubnetInfo[];
  existingSecurityGroupIds: string[];
  /** True when the operator itself has an update running (then UPDATING is expected). */
  ownUpdateInFlight: boolean;
}

export function checkClusterState(snapshot: ControlPlaneSnapshot): Finding[] {
  const { cluster } = snapshot;
  if (cluster.status === "ACTIVE" || (cluster.status === "UPDATING" && snapshot.ownUpdateInFlight)) return [];
  if (cluster.status === "UPDATING") {
    return [blocking("CLU002", `EKSCluster/${cluster.name}`, `cluster ${cluster.name} has an update in progress that this upgrade did not start`, "wait for that update to finish (aws eks list-updates); the check runs again by itself")];
  }
  return [blocking("CLU001", `EKSCluster/${cluster.name}`, `cluster ${cluster.name} is ${cluster.status}, not ACTIVE`, "an upgrade can start only on an ACTIVE cluster; wait or repair the cluster")];
}

export function checkControlPlaneNetwork(snapshot: ControlPlaneSnapshot): Finding[] {
  const { cluster, subnets } = snapshot;
  const findings: Finding[] = [];
  const found = new Set(subnets.map((subnet) => subnet.id));
  const missing = cluster.subnetIds.filter((id) => !found.has(id));
  if (missing.length) {
    findings.push(blocking("NET001", missing.map((id) => `Subnet/${id}`).join(","), `subnets given at cluster creation no longer exist: ${missing.join(", ")}; EKS fails the upgrade with SubnetNotFound`, "recreate them or update the cluster's VPC configuration (aws eks update-cluster-config --resources-vpc-config)"));
  }
  const existingGroups = new Set(snapshot.existingSecurityGroupIds);
  const missingGroups = cluster.securityGroupIds.filter((id) => !existingGroups.has(id));
  if (missingGroups.length) {
    findings.push(blocking("NET002", missingGroups.map((id) => `SecurityGroup/${id}`).join(","), `security groups given at cluster creation no longer exist: ${missingGroups.join(", ")}; EKS fails the upgrade with SecurityGroupNotFound`, "recreate them or update the cluster's VPC configuration"));
  }
  const roomyZones = new Set(subnets.filter((subnet) => subnet.availableIpAddressCount >= MIN_FREE_IPS_PER_SUBNET).map((subnet) => subnet.availabilityZone));
  if (roomyZones.size < MIN_ZONES_WITH_FREE_IPS) {
    const starved = subnets.filter((subnet) => subnet.availableIpAddressCount < MIN_FREE_IPS_PER_SUBNET);
    const detail = starved.map((subnet) => `${subnet.id} (${subnet.availabilityZone}, ${subnet.availableIpAddressCount} free)`).join(", ");
    findings.push(blocking("IP001", starved.map((subnet) => `Subnet/${subnet.id}`).join(","), `only ${roomyZones.size} availability zone(s) have a cluster subnet with at least ${MIN_FREE_IPS_PER_SUBNET} free IP addresses; ${MIN_ZONES_WITH_FREE_IPS} are needed. Starved: ${detail || "none found"}`, `free addresses in these subnets (delete unused ENIs, scale down) so that at least ${MIN_ZONES_WITH_FREE_IPS} zones have ${MIN_FREE_IPS_PER_SUBNET} free; the check runs again by itself`));
  }
  return findings;
}
