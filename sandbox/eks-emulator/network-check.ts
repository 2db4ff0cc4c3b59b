/**
 * The network preconditions of a control-plane upgrade, as EKS checks them
 * (eks-upgrade-facts "Control plane"): the subnets and security groups given at cluster creation
 * must still exist, and the subnets must hold up to 5 free IP addresses for the new control-plane
 * network interfaces. Pure: the caller reads moto and passes what it saw.
 */
import { CONTROL_PLANE_UPGRADE_FREE_IPS, type UpdateErrorCode } from "./facts.js";

export interface ObservedSubnet {
  subnetId: string;
  availabilityZone: string;
  availableIpAddressCount: number;
}

export interface UpdateErrorDetail {
  errorCode: UpdateErrorCode;
  errorMessage: string;
  resourceIds: string[];
}

export interface NetworkObservation {
  clusterSubnetIds: readonly string[];
  clusterSecurityGroupIds: readonly string[];
  /** Subnets moto still knows, by id. A cluster subnet absent here was deleted. */
  subnets: ReadonlyMap<string, ObservedSubnet>;
  /** Security group ids moto still knows. */
  securityGroupIds: ReadonlySet<string>;
}

/**
 * Returns the errors the update fails with, empty when the network allows the upgrade.
 * Missing resources are reported before address shortage, as a deleted subnet has no addresses.
 * The free addresses are summed over the cluster's subnets: EKS places the new interfaces in any
 * of them (docs/sandbox.md states this reading of "up to 5 free IP addresses in the subnets").
 */
export function checkControlPlaneNetwork(observation: NetworkObservation): UpdateErrorDetail[] {
  const errors: UpdateErrorDetail[] = [];
  const missingSubnets = observation.clusterSubnetIds.filter((id) => !observation.subnets.has(id));
  if (missingSubnets.length > 0) {
    errors.push({
      errorCode: "SubnetNotFound",
      errorMessage: `The subnet ID '${missingSubnets.join("', '")}' does not exist`,
      resourceIds: missingSubnets,
    });
  }
  const missingGroups = observation.clusterSecurityGroupIds.filter((id) => !observation.securityGroupIds.has(id));
  if (missingGroups.length > 0) {
    errors.push({
      errorCode: "SecurityGroupNotFound",
      errorMessage: `The security group ID '${missingGroups.join("', '")}' does not exist`,
      resourceIds: missingGroups,
    });
  }
  if (errors.length > 0) return errors;

  const present = observation.clusterSubnetIds.map((id) => observation.subnets.get(id)).filter(isDefined);
  const totalFree = present.reduce((sum, subnet) => sum + Math.max(0, subnet.availableIpAddressCount), 0);
  if (totalFree < CONTROL_PLANE_UPGRADE_FREE_IPS) {
    const detail = present.map((subnet) => `${subnet.subnetId}: ${subnet.availableIpAddressCount}`).join(", ");
    errors.push({
      errorCode: "InsufficientFreeAddresses",
      errorMessage:
        `The cluster's subnets do not have enough free IP addresses for the control plane update ` +
        `(${CONTROL_PLANE_UPGRADE_FREE_IPS} needed, ${totalFree} free: ${detail})`,
      resourceIds: present.map((subnet) => subnet.subnetId),
    });
  }
  return errors;
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
