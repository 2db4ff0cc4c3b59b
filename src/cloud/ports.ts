// Narrow interfaces the controller needs from AWS, shaped by the domain rather than by the SDK.
// Only main.ts (and test setup) knows the concrete adapters in cloud/aws/; unit tests use fakes.
import type { UpdateError } from "../api/v1alpha1/types.js";

export type ClusterStatus = "CREATING" | "ACTIVE" | "DELETING" | "FAILED" | "UPDATING" | "PENDING";
export type UpdateStatus = "InProgress" | "Failed" | "Cancelled" | "Successful";

export interface ClusterInfo {
  name: string;
  version: string;
  status: ClusterStatus;
  subnetIds: string[];
  securityGroupIds: string[];
  endpoint?: string;
}

export interface UpdateInfo {
  id: string;
  status: UpdateStatus;
  type: string;
  errors: UpdateError[];
  createdAt?: Date;
}

export interface AddonInfo {
  name: string;
  version: string;
  status: string;
  issues: { code: string; message: string }[];
}

export interface AddonVersionInfo {
  version: string;
  /** EKS marks one version per Kubernetes minor as the default for new clusters. */
  isDefault: boolean;
}

export interface ManagedNodeGroupInfo {
  name: string;
  version: string;
  releaseVersion?: string;
  status: string;
  autoScalingGroupNames: string[];
  desiredSize: number;
  minSize: number;
  maxSize: number;
  maxUnavailable?: number;
  launchTemplate?: { id?: string; name?: string; version?: string };
  instanceTypes: string[];
  subnetIds: string[];
  healthIssues: { code: string; message: string }[];
}

export interface InsightInfo {
  id: string;
  name: string;
  status: "PASSING" | "WARNING" | "ERROR" | "UNKNOWN";
  reason: string;
  kubernetesVersion?: string;
}

export interface StartUpdateRequest {
  clusterName: string;
  clientRequestToken: string;
}

export interface EksPort {
  /** Throws a NotFoundError when the cluster does not exist. */
  describeCluster(clusterName: string): Promise<ClusterInfo>;
  startClusterVersionUpdate(request: StartUpdateRequest & { version: string; force: boolean }): Promise<UpdateInfo>;
  describeUpdate(clusterName: string, updateId: string, scope?: { nodegroupName?: string; addonName?: string }): Promise<UpdateInfo>;
  listUpdates(clusterName: string, scope?: { nodegroupName?: string; addonName?: string }): Promise<string[]>;
  listNodegroups(clusterName: string): Promise<string[]>;
  describeNodegroup(clusterName: string, nodegroupName: string): Promise<ManagedNodeGroupInfo>;
  startNodegroupVersionUpdate(
    request: StartUpdateRequest & { nodegroupName: string; version?: string; releaseVersion?: string; launchTemplateVersion?: string; force: boolean },
  ): Promise<UpdateInfo>;
  listAddons(clusterName: string): Promise<string[]>;
  describeAddon(clusterName: string, addonName: string): Promise<AddonInfo>;
  listAddonVersions(addonName: string, kubernetesVersion: string): Promise<AddonVersionInfo[]>;
  startAddonUpdate(
    request: StartUpdateRequest & { addonName: string; version: string; resolveConflicts: "NONE" | "OVERWRITE" | "PRESERVE" },
  ): Promise<UpdateInfo>;
  listInsights(clusterName: string): Promise<InsightInfo[]>;
}

export interface SubnetInfo {
  id: string;
  availabilityZone: string;
  availableIpAddressCount: number;
  cidrBlock: string;
}

export interface Ec2Port {
  /** Returns the subnets that exist; missing ids are simply absent from the result. */
  describeSubnets(subnetIds: string[]): Promise<SubnetInfo[]>;
  /** Returns the ids among those given that still exist. */
  existingSecurityGroups(groupIds: string[]): Promise<string[]>;
}

export interface CloudPorts {
  eks: EksPort;
  ec2: Ec2Port;
}

/** Builds the ports for one cluster region; the controller asks per ClusterUpgrade. */
export type CloudPortsFactory = (region: string) => CloudPorts;
