/**
 * The emulator's in-memory record of EKS resources. What EKS keeps itself (clusters, node group
 * settings, updates, add-ons, insights) lives here; what EC2 and Auto Scaling own (subnets, launch
 * templates, groups, instances) lives in moto and is read from there, never copied.
 */
import type { UpdateStatus } from "./facts.js";
import type { UpdateErrorDetail } from "./network-check.js";

export type ClusterStatus = "CREATING" | "ACTIVE" | "UPDATING" | "DELETING" | "FAILED";
export type NodegroupStatus = "CREATING" | "ACTIVE" | "UPDATING" | "DELETING" | "CREATE_FAILED" | "DELETE_FAILED" | "DEGRADED";
export type AddonStatus = "CREATING" | "ACTIVE" | "UPDATING" | "DELETING" | "CREATE_FAILED" | "DELETE_FAILED" | "DEGRADED";
export type UpdateType = "VersionUpdate" | "VersionRollback" | "AddonUpdate" | "ConfigUpdate";

export interface ClusterRecord {
  name: string;
  arn: string;
  id: string;
  createdAt: Date;
  version: string;
  platformVersion: string;
  status: ClusterStatus;
  roleArn: string;
  vpcId: string;
  subnetIds: string[];
  securityGroupIds: string[];
  clusterSecurityGroupId: string;
  endpoint: string;
  certificateAuthorityData?: string;
  tags: Record<string, string>;
  clientRequestToken?: string;
  /** EKS seconds a control-plane version update lasts (scaled by the sandbox clock). */
  controlPlaneUpdateSeconds: number;
  /** EKS seconds an add-on update lasts. */
  addonUpdateSeconds: number;
  /** When true, this cluster's instances are mirrored as Nodes into the sandbox's apiserver. */
  mirrorNodes: boolean;
  /**
   * The last successful minor upgrade: the one a VersionRollback may undo, while fewer than
   * ROLLBACK_WINDOW_SECONDS of EKS time have passed since `at`. Cleared by a rollback.
   */
  lastVersionUpgrade?: { from: string; to: string; at: Date };
}

export interface UpdateRecord {
  id: string;
  clusterName: string;
  nodegroupName?: string;
  addonName?: string;
  status: UpdateStatus;
  type: UpdateType;
  params: Array<{ type: string; value: string }>;
  createdAt: Date;
  errors: UpdateErrorDetail[];
  clientRequestToken?: string;
}

export interface NodegroupRecord {
  clusterName: string;
  nodegroupName: string;
  arn: string;
  version: string;
  releaseVersion: string;
  createdAt: Date;
  modifiedAt: Date;
  status: NodegroupStatus;
  capacityType: string;
  amiType: string;
  instanceTypes: string[];
  subnets: string[];
  nodeRole: string;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
  tags: Record<string, string>;
  scaling: { minSize: number; maxSize: number; desiredSize: number };
  updateConfig: { maxUnavailable?: number; maxUnavailablePercentage?: number; updateStrategy?: "DEFAULT" | "MINIMAL" };
  autoScalingGroupName: string;
  launchTemplateId: string;
  launchTemplateName: string;
  launchTemplateVersion: string;
  /** AMI the group's current launch template version starts; nodes label themselves with it. */
  imageId: string;
  diskSize: number;
}

export interface AddonRecord {
  clusterName: string;
  addonName: string;
  addonVersion: string;
  arn: string;
  status: AddonStatus;
  createdAt: Date;
  modifiedAt: Date;
  serviceAccountRoleArn?: string;
  configurationValues?: string;
  tags: Record<string, string>;
}

export interface InsightRecord {
  id: string;
  name: string;
  category: string;
  kubernetesVersion: string;
  lastRefreshTime: Date;
  lastTransitionTime: Date;
  description: string;
  status: "PASSING" | "WARNING" | "ERROR" | "UNKNOWN";
  reason: string;
  recommendation: string;
  additionalInfo: Record<string, string>;
  resources: Array<{ kubernetesResourceUri?: string; arn?: string; status: string; reason: string }>;
  deprecationDetails: Array<{
    usage: string;
    replacedWith: string;
    stopServingVersion: string;
    startServingReplacementVersion: string;
  }>;
}

/** One API call the emulator received, for tests that count calls ("one UpdateClusterVersion per hop"). */
export interface CallRecord {
  operation: string;
  at: string;
  clusterName?: string;
  nodegroupName?: string;
  addonName?: string;
  /** Selected request fields (version, force, clientRequestToken...) for per-hop counting. */
  request: Record<string, unknown>;
  /** HTTP status answered. */
  status: number;
  errorType?: string;
}

export class EmulatorState {
  readonly clusters = new Map<string, ClusterRecord>();
  /** Node groups by "cluster/nodegroup". */
  readonly nodegroups = new Map<string, NodegroupRecord>();
  /** Updates by id (ids are unique across clusters). */
  readonly updates = new Map<string, UpdateRecord>();
  /** Add-ons by "cluster/addon". */
  readonly addons = new Map<string, AddonRecord>();
  /** Insights by "cluster/id". */
  readonly insights = new Map<string, InsightRecord>();
  /** Update ids by "cluster/scope/clientRequestToken": the idempotency of EKS's update calls. */
  readonly updatesByToken = new Map<string, string>();
  readonly calls: CallRecord[] = [];

  clear(): void {
    this.clusters.clear();
    this.nodegroups.clear();
    this.updates.clear();
    this.addons.clear();
    this.insights.clear();
    this.updatesByToken.clear();
    this.calls.length = 0;
  }

  nodegroupsOf(clusterName: string): NodegroupRecord[] {
    return [...this.nodegroups.values()].filter((group) => group.clusterName === clusterName);
  }

  addonsOf(clusterName: string): AddonRecord[] {
    return [...this.addons.values()].filter((addon) => addon.clusterName === clusterName);
  }

  insightsOf(clusterName: string): InsightRecord[] {
    return [...this.insights.entries()]
      .filter(([key]) => key.startsWith(`${clusterName}/`))
      .map(([, insight]) => insight);
  }

  /** Updates of one resource, oldest first. */
  updatesOf(clusterName: string, scope: { nodegroupName?: string; addonName?: string }): UpdateRecord[] {
    return [...this.updates.values()]
      .filter(
        (update) =>
          update.clusterName === clusterName &&
          update.nodegroupName === scope.nodegroupName &&
          update.addonName === scope.addonName,
      )
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }
}

export function nodegroupKey(clusterName: string, nodegroupName: string): string {
  return `${clusterName}/${nodegroupName}`;
}

export function addonKey(clusterName: string, addonName: string): string {
  return `${clusterName}/${addonName}`;
}
