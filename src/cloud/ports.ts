// Narrow interfaces the controller needs from AWS, shaped by the domain rather than by the SDK.
// Only main.ts (and test setup) knows the concrete adapters in cloud/aws/; unit tests use fakes.
import type { UpdateError } from "../api/v1alpha1/types.js";

export type ClusterStatus = "CREATING" | "ACTIVE" | "DELETING" | "FAILED" | "UPDATING" | "PENDING";
export type UpdateStatus = "InProgress" | "Failed" | "Cancelled" | "Successful";

export interface ClusterInfo {
  name: string;
  /** The cluster's ARN, which TagResource and UntagResource take. */
  arn?: string;
  version: string;
  status: ClusterStatus;
  subnetIds: string[];
  securityGroupIds: string[];
  endpoint?: string;
  /** Base64 PEM of the cluster's certificate authority, as DescribeCluster returns it. */
  certificateAuthorityData?: string;
  tags?: Record<string, string>;
}

/** What a new cluster copies from an existing one (CreateCluster's settings). */
export interface ClusterBlueprint {
  roleArn: string;
  subnetIds: string[];
  /** The additional security groups; EKS creates the cluster security group itself. */
  securityGroupIds: string[];
  endpointPublicAccess?: boolean;
  endpointPrivateAccess?: boolean;
  publicAccessCidrs?: string[];
  /** Control-plane log types enabled (api, audit, authenticator, controllerManager, scheduler). */
  enabledLogTypes: string[];
  serviceIpv4Cidr?: string;
  ipFamily?: string;
  authenticationMode?: string;
  /** Envelope encryption of secrets, by KMS key ARN. */
  secretsKmsKeyArn?: string;
  tags: Record<string, string>;
}

/** What a new managed node group copies from an existing one (CreateNodegroup's settings). */
export interface NodegroupBlueprint {
  nodeRole: string;
  subnetIds: string[];
  scaling: { min: number; max: number; desired: number };
  instanceTypes: string[];
  amiType?: string;
  capacityType?: string;
  diskSize?: number;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  maxUnavailable?: number;
  maxUnavailablePercentage?: number;
  launchTemplate?: { id?: string; name?: string; version?: string };
  tags: Record<string, string>;
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
  serviceAccountRoleArn?: string;
  configurationValues?: string;
  tags?: Record<string, string>;
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
  maxUnavailablePercentage?: number;
  updateStrategy?: string;
  launchTemplate?: { id?: string; name?: string; version?: string };
  instanceTypes: string[];
  subnetIds: string[];
  healthIssues: { code: string; message: string }[];
  tags?: Record<string, string>;
}

export interface InsightInfo {
  id: string;
  name: string;
  status: "PASSING" | "WARNING" | "ERROR" | "UNKNOWN";
  reason: string;
  kubernetesVersion?: string;
  /** UPGRADE_READINESS, MISCONFIGURATION or ROLLBACK_READINESS. */
  category?: string;
}

export interface StartUpdateRequest {
  clusterName: string;
  clientRequestToken: string;
}

export interface EksPort {
  /** Throws a NotFoundError when the cluster does not exist. */
  describeCluster(clusterName: string): Promise<ClusterInfo>;
  /** The Kubernetes minor versions EKS offers for new clusters and upgrades in this region (DescribeClusterVersions). */
  listClusterVersions(): Promise<string[]>;
  startClusterVersionUpdate(request: StartUpdateRequest & { version: string; force: boolean }): Promise<UpdateInfo>;
  describeUpdate(clusterName: string, updateId: string, scope?: { nodegroupName?: string; addonName?: string }): Promise<UpdateInfo>;
  listNodegroups(clusterName: string): Promise<string[]>;
  describeNodegroup(clusterName: string, nodegroupName: string): Promise<ManagedNodeGroupInfo>;
  startNodegroupVersionUpdate(
    request: StartUpdateRequest & { nodegroupName: string; version?: string; releaseVersion?: string; launchTemplateVersion?: string; force: boolean },
  ): Promise<UpdateInfo>;
  /** UpdateNodegroupConfig with only updateConfig: how EKS's rolling update of the group proceeds. */
  startNodegroupConfigUpdate(
    request: StartUpdateRequest & { nodegroupName: string; updateConfig: { maxUnavailable?: number; maxUnavailablePercentage?: number; updateStrategy?: "DEFAULT" | "MINIMAL" } },
  ): Promise<UpdateInfo>;
  listAddons(clusterName: string): Promise<string[]>;
  describeAddon(clusterName: string, addonName: string): Promise<AddonInfo>;
  listAddonVersions(addonName: string, kubernetesVersion: string): Promise<AddonVersionInfo[]>;
  startAddonUpdate(
    request: StartUpdateRequest & { addonName: string; version: string; resolveConflicts: "NONE" | "OVERWRITE" | "PRESERVE" },
  ): Promise<UpdateInfo>;
  /** Every insight, or only those of the given categories (ListInsights filter.categories). */
  listInsights(clusterName: string, categories?: string[]): Promise<InsightInfo[]>;
  /** The settings a clone of the cluster needs. */
  describeClusterBlueprint(clusterName: string): Promise<ClusterBlueprint>;
  /** Throws a ConflictError when a cluster of that name exists. */
  createCluster(request: { name: string; version: string; blueprint: ClusterBlueprint; clientRequestToken: string }): Promise<ClusterInfo>;
  describeNodegroupBlueprint(clusterName: string, nodegroupName: string): Promise<NodegroupBlueprint>;
  /** Throws an AlreadyExistsError when EKS answers that a node group of that name exists (ResourceInUseException). */
  createNodegroup(request: { clusterName: string; nodegroupName: string; version: string; blueprint: NodegroupBlueprint; clientRequestToken: string }): Promise<void>;
  /** Throws an AlreadyExistsError when EKS answers that the add-on exists (ResourceInUseException). */
  createAddon(request: { clusterName: string; addonName: string; version: string; serviceAccountRoleArn?: string; configurationValues?: string; clientRequestToken: string; tags?: Record<string, string> }): Promise<void>;
  /** UpdateNodegroupConfig with a new scaling configuration; followed like any other update. */
  startNodegroupScalingUpdate(request: StartUpdateRequest & { nodegroupName: string; scaling: { min: number; max: number; desired: number } }): Promise<UpdateInfo>;
  /** Starts deleting a node group; a NotFoundError means it is gone. */
  deleteNodegroup(clusterName: string, nodegroupName: string): Promise<void>;
  /** Starts deleting a cluster (its node groups must be gone); a NotFoundError means it is gone. */
  deleteCluster(clusterName: string): Promise<void>;
  /** Adds or overwrites tags on a cluster (TagResource); describeCluster reads them back. */
  tagCluster(clusterArn: string, tags: Record<string, string>): Promise<void>;
  /** Removes tags from a cluster (UntagResource); removing an absent key is not an error. */
  untagCluster(clusterArn: string, keys: string[]): Promise<void>;
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
  /** Adds a version to a launch template, copied from `sourceVersion` with another AMI; returns its number. EC2 answers a repeated clientToken with the same version. */
  createLaunchTemplateVersion(request: { templateId: string; sourceVersion: string; imageId: string; description: string; clientToken: string }): Promise<string>;
  /** The number of the template's version whose description contains `marker`, if there is one. */
  findLaunchTemplateVersion(templateId: string, marker: string): Promise<string | undefined>;
  /** One version of a launch template, with the AMI it launches; undefined when the template or the version no longer exists. */
  describeLaunchTemplateVersion(templateId: string, version: string): Promise<{ imageId?: string } | undefined>;
  /** The AMI each instance runs, by instance id; instances that no longer exist are absent. */
  instanceImages(instanceIds: string[]): Promise<Record<string, string>>;
  /** The newest EKS-optimized AMI (Amazon Linux 2023, x86_64) for a Kubernetes minor, if one is published. */
  eksOptimizedAmi(kubernetesVersion: string): Promise<string | undefined>;
  /** The release of that AMI as Karpenter's alias versions name it ("v20250115"), if one is published. */
  eksOptimizedAmiRelease(kubernetesVersion: string): Promise<string | undefined>;
}

export interface GroupSize {
  min: number;
  max: number;
  desired: number;
}

export interface GroupInstance {
  id: string;
  zone: string;
  lifecycleState: string;
  healthy: boolean;
  launchTemplateVersion?: string;
}

export interface AutoScalingGroupInfo {
  name: string;
  size: GroupSize;
  instances: GroupInstance[];
  subnetIds: string[];
  tags: Record<string, string>;
  launchTemplate?: { id?: string; name?: string; version?: string };
}

/** What a self-managed node group roll needs from Auto Scaling. */
export interface AutoScalingPort {
  /** Throws a NotFoundError when the group does not exist. */
  describeGroup(name: string): Promise<AutoScalingGroupInfo>;
  setSize(name: string, size: GroupSize): Promise<void>;
  /**
   * Terminates one instance of the group, lowering desired capacity so it is not replaced. Throws a
   * NotFoundError when no group manages the instance any more (terminated or detached already).
   */
  terminateInstance(instanceId: string, decrementDesired: boolean): Promise<void>;
  tagGroup(name: string, tags: Record<string, string>): Promise<void>;
  untagGroup(name: string, keys: string[]): Promise<void>;
  /** Points the group at another version of its launch template; running instances are untouched. */
  setLaunchTemplateVersion(name: string, templateId: string, version: string): Promise<void>;
  /** Stops (or restarts) Auto Scaling processes such as AZRebalance while the operator rolls the group. */
  suspendProcesses(name: string, processes: string[]): Promise<void>;
  resumeProcesses(name: string, processes: string[]): Promise<void>;
}

export interface WeightedRecord {
  setIdentifier: string;
  weight: number;
  ttl?: number;
  values: string[];
  healthCheckId?: string;
}

/** What a blue/green cutover needs from Route53. */
export interface Route53Port {
  weightedRecords(hostedZoneId: string, name: string, type: string): Promise<WeightedRecord[]>;
  /** Changes the weights of the named records in one change batch; returns the change id. */
  setWeights(hostedZoneId: string, name: string, type: string, weights: Record<string, number>): Promise<string>;
  /** PENDING until Route53 has applied the change everywhere, then INSYNC. */
  changeStatus(changeId: string): Promise<"PENDING" | "INSYNC">;
  healthCheckHealthy(healthCheckId: string): Promise<boolean>;
  /** The values of every TXT record set named exactly `name` (weighted or not); [] when there is none. */
  txtValues(hostedZoneId: string, name: string): Promise<string[]>;
  /** The simple (not weighted) TXT record set named exactly `name`, values as Route53 holds them (quoted); undefined when there is none. */
  txtRecord(hostedZoneId: string, name: string): Promise<TxtRecord | undefined>;
  /**
   * One change batch that DELETEs `from` (exactly as read) and CREATEs `to`. Route53 applies a
   * batch entirely or not at all, so this is a compare-and-swap: it returns false, changing
   * nothing, when `from` is no longer what Route53 holds or when a record appeared meanwhile.
   */
  replaceTxtRecord(hostedZoneId: string, name: string, from: TxtRecord | undefined, to: TxtRecord | undefined): Promise<boolean>;
}

export interface TxtRecord {
  ttl: number;
  /** Each value with its quotes, as Route53 stores TXT data. */
  values: string[];
}

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

/** What blue/green gates read from CloudWatch. */
export interface CloudWatchPort {
  /** The state of each named alarm; an alarm that does not exist is absent from the result. */
  alarmStates(alarmNames: string[]): Promise<Record<string, AlarmState>>;
}

export interface CloudPorts {
  eks: EksPort;
  ec2: Ec2Port;
  autoscaling: AutoScalingPort;
  route53: Route53Port;
  cloudwatch: CloudWatchPort;
}

/** Builds the ports for one cluster region; the controller asks per ClusterUpgrade. */
export type CloudPortsFactory = (region: string) => CloudPorts;
