// EksPort over @aws-sdk/client-eks. Endpoints come from the SDK's standard settings
// (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EKS), which is how the sandbox points it at its emulator.
import {
  CreateAddonCommand,
  CreateClusterCommand,
  CreateNodegroupCommand,
  DeleteClusterCommand,
  DeleteNodegroupCommand,
  DescribeAddonCommand,
  DescribeAddonVersionsCommand,
  DescribeClusterCommand,
  DescribeClusterVersionsCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  EKSClient,
  ListAddonsCommand,
  ListInsightsCommand,
  ListNodegroupsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAddonCommand,
  UpdateClusterVersionCommand,
  UpdateNodegroupConfigCommand,
  UpdateNodegroupVersionCommand,
  type Cluster,
  type Update,
  type Category as InsightCategory,
} from "@aws-sdk/client-eks";
import type {
  AddonInfo,
  AddonVersionInfo,
  ClusterBlueprint,
  ClusterInfo,
  EksPort,
  InsightInfo,
  ManagedNodeGroupInfo,
  NodegroupBlueprint,
  StartUpdateRequest,
  UpdateInfo,
} from "../ports.js";
import { hasAwsErrorName } from "../../util/classify.js";
import { AlreadyExistsError, describeError } from "../../util/errors.js";
import { awsCall, type AwsCallOptions } from "./call.js";
import { awsClientConfig } from "./client-config.js";

/**
 * EKS answers ResourceInUseException to a create whose name is taken; classification makes it a
 * ConflictError like any busy resource, so the create calls retype it: the caller then reads the
 * resource to decide whether it is the one it asked for.
 */
async function creating(context: string, operation: (options: AwsCallOptions) => Promise<unknown>): Promise<void> {
  try {
    await awsCall(context, operation);
  } catch (error) {
    if (hasAwsErrorName(error, "ResourceInUseException")) throw new AlreadyExistsError(describeError(error), { cause: error });
    throw error;
  }
}

/** The versions EKS offers change a few times a year; one answer per region and hour is plenty. */
export const CLUSTER_VERSIONS_CACHE_MS = 60 * 60_000;

export class AwsEks implements EksPort {
  private clusterVersions?: { readAt: number; versions: string[] };

  constructor(
    private readonly client: EKSClient,
    private readonly now: () => number = Date.now,
  ) {}

  static forRegion(region: string): AwsEks {
    return new AwsEks(new EKSClient(awsClientConfig(region)));
  }

  async describeCluster(clusterName: string): Promise<ClusterInfo> {
    const { cluster } = await awsCall(`describing EKS cluster ${clusterName}`, (options) =>
      this.client.send(new DescribeClusterCommand({ name: clusterName }), options),
    );
    return toClusterInfo(cluster, clusterName);
  }

  async listClusterVersions(): Promise<string[]> {
    const cached = this.clusterVersions;
    if (cached && this.now() - cached.readAt < CLUSTER_VERSIONS_CACHE_MS) return cached.versions;
    const versions: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall("listing the Kubernetes versions EKS offers", (options) =>
        this.client.send(new DescribeClusterVersionsCommand({ clusterType: "eks", ...(nextToken ? { nextToken } : {}) }), options),
      );
      for (const entry of page.clusterVersions ?? []) if (entry.clusterVersion) versions.push(entry.clusterVersion);
      nextToken = page.nextToken;
    } while (nextToken);
    this.clusterVersions = { readAt: this.now(), versions };
    return versions;
  }

  async describeClusterBlueprint(clusterName: string): Promise<ClusterBlueprint> {
    const { cluster } = await awsCall(`describing EKS cluster ${clusterName}`, (options) =>
      this.client.send(new DescribeClusterCommand({ name: clusterName }), options),
    );
    const vpc = cluster?.resourcesVpcConfig;
    const network = cluster?.kubernetesNetworkConfig;
    const secretsKey = (cluster?.encryptionConfig ?? []).find((entry) => entry.resources?.includes("secrets"))?.provider?.keyArn;
    return {
      roleArn: cluster?.roleArn ?? "",
      subnetIds: vpc?.subnetIds ?? [],
      securityGroupIds: vpc?.securityGroupIds ?? [],
      ...(vpc?.endpointPublicAccess !== undefined ? { endpointPublicAccess: vpc.endpointPublicAccess } : {}),
      ...(vpc?.endpointPrivateAccess !== undefined ? { endpointPrivateAccess: vpc.endpointPrivateAccess } : {}),
      ...(vpc?.publicAccessCidrs?.length ? { publicAccessCidrs: vpc.publicAccessCidrs } : {}),
      enabledLogTypes: (cluster?.logging?.clusterLogging ?? []).filter((entry) => entry.enabled).flatMap((entry) => entry.types ?? []),
      ...(network?.serviceIpv4Cidr ? { serviceIpv4Cidr: network.serviceIpv4Cidr } : {}),
      ...(network?.ipFamily ? { ipFamily: network.ipFamily } : {}),
      ...(cluster?.accessConfig?.authenticationMode ? { authenticationMode: cluster.accessConfig.authenticationMode } : {}),
      ...(secretsKey ? { secretsKmsKeyArn: secretsKey } : {}),
      tags: cluster?.tags ?? {},
    };
  }

  async createCluster(request: { name: string; version: string; blueprint: ClusterBlueprint; clientRequestToken: string }): Promise<ClusterInfo> {
    const { blueprint } = request;
    const { cluster } = await awsCall(`creating EKS cluster ${request.name} at ${request.version}`, (options) =>
      this.client.send(
        new CreateClusterCommand({
          name: request.name,
          version: request.version,
          roleArn: blueprint.roleArn,
          clientRequestToken: request.clientRequestToken,
          resourcesVpcConfig: {
            subnetIds: blueprint.subnetIds,
            securityGroupIds: blueprint.securityGroupIds,
            ...(blueprint.endpointPublicAccess !== undefined ? { endpointPublicAccess: blueprint.endpointPublicAccess } : {}),
            ...(blueprint.endpointPrivateAccess !== undefined ? { endpointPrivateAccess: blueprint.endpointPrivateAccess } : {}),
            ...(blueprint.publicAccessCidrs ? { publicAccessCidrs: blueprint.publicAccessCidrs } : {}),
          },
          ...(blueprint.enabledLogTypes.length ? { logging: { clusterLogging: [{ types: blueprint.enabledLogTypes as never, enabled: true }] } } : {}),
          ...(blueprint.serviceIpv4Cidr || blueprint.ipFamily
            ? { kubernetesNetworkConfig: { ...(blueprint.serviceIpv4Cidr ? { serviceIpv4Cidr: blueprint.serviceIpv4Cidr } : {}), ...(blueprint.ipFamily ? { ipFamily: blueprint.ipFamily as never } : {}) } }
            : {}),
          // The creator gets cluster-admin through an access entry: that is how the operator reads green.
          accessConfig: { bootstrapClusterCreatorAdminPermissions: true, ...(blueprint.authenticationMode ? { authenticationMode: blueprint.authenticationMode as never } : {}) },
          ...(blueprint.secretsKmsKeyArn ? { encryptionConfig: [{ resources: ["secrets"], provider: { keyArn: blueprint.secretsKmsKeyArn } }] } : {}),
          tags: blueprint.tags,
        }),
        options,
      ),
    );
    return toClusterInfo(cluster, request.name);
  }

  async describeNodegroupBlueprint(clusterName: string, nodegroupName: string): Promise<NodegroupBlueprint> {
    const { nodegroup } = await awsCall(`describing node group ${nodegroupName} of cluster ${clusterName}`, (options) =>
      this.client.send(new DescribeNodegroupCommand({ clusterName, nodegroupName }), options),
    );
    const template = nodegroup?.launchTemplate;
    return {
      nodeRole: nodegroup?.nodeRole ?? "",
      subnetIds: nodegroup?.subnets ?? [],
      scaling: { min: nodegroup?.scalingConfig?.minSize ?? 0, max: nodegroup?.scalingConfig?.maxSize ?? 1, desired: nodegroup?.scalingConfig?.desiredSize ?? 0 },
      instanceTypes: nodegroup?.instanceTypes ?? [],
      ...(nodegroup?.amiType ? { amiType: nodegroup.amiType } : {}),
      ...(nodegroup?.capacityType ? { capacityType: nodegroup.capacityType } : {}),
      ...(nodegroup?.diskSize ? { diskSize: nodegroup.diskSize } : {}),
      labels: nodegroup?.labels ?? {},
      taints: (nodegroup?.taints ?? []).map((taint) => ({ key: taint.key ?? "", ...(taint.value ? { value: taint.value } : {}), effect: taint.effect ?? "NO_SCHEDULE" })),
      ...(nodegroup?.updateConfig?.maxUnavailable ? { maxUnavailable: nodegroup.updateConfig.maxUnavailable } : {}),
      ...(nodegroup?.updateConfig?.maxUnavailablePercentage ? { maxUnavailablePercentage: nodegroup.updateConfig.maxUnavailablePercentage } : {}),
      ...(template ? { launchTemplate: { ...(template.id ? { id: template.id } : {}), ...(template.name ? { name: template.name } : {}), ...(template.version ? { version: template.version } : {}) } } : {}),
      tags: nodegroup?.tags ?? {},
    };
  }

  async createNodegroup(request: { clusterName: string; nodegroupName: string; version: string; blueprint: NodegroupBlueprint; clientRequestToken: string }): Promise<void> {
    const { blueprint } = request;
    // A launch template that names an AMI decides the version itself: EKS refuses `version` then.
    const template = blueprint.launchTemplate?.id ? { id: blueprint.launchTemplate.id, ...(blueprint.launchTemplate.version ? { version: blueprint.launchTemplate.version } : {}) } : undefined;
    await creating(`creating node group ${request.nodegroupName} in cluster ${request.clusterName}`, (options) =>
      this.client.send(
        new CreateNodegroupCommand({
          clusterName: request.clusterName,
          nodegroupName: request.nodegroupName,
          clientRequestToken: request.clientRequestToken,
          nodeRole: blueprint.nodeRole,
          subnets: blueprint.subnetIds,
          scalingConfig: { minSize: blueprint.scaling.min, maxSize: blueprint.scaling.max, desiredSize: blueprint.scaling.desired },
          ...(template ? { launchTemplate: template } : { version: request.version }),
          ...(blueprint.instanceTypes.length ? { instanceTypes: blueprint.instanceTypes } : {}),
          ...(blueprint.amiType ? { amiType: blueprint.amiType as never } : {}),
          ...(blueprint.capacityType ? { capacityType: blueprint.capacityType as never } : {}),
          ...(blueprint.diskSize && !template ? { diskSize: blueprint.diskSize } : {}),
          ...(Object.keys(blueprint.labels).length ? { labels: blueprint.labels } : {}),
          ...(blueprint.taints.length ? { taints: blueprint.taints.map((taint) => ({ key: taint.key, ...(taint.value ? { value: taint.value } : {}), effect: taint.effect as never })) } : {}),
          ...(blueprint.maxUnavailable ? { updateConfig: { maxUnavailable: blueprint.maxUnavailable } } : blueprint.maxUnavailablePercentage ? { updateConfig: { maxUnavailablePercentage: blueprint.maxUnavailablePercentage } } : {}),
          tags: blueprint.tags,
        }),
        options,
      ),
    );
  }

  async createAddon(request: { clusterName: string; addonName: string; version: string; serviceAccountRoleArn?: string; configurationValues?: string; clientRequestToken: string; tags?: Record<string, string> }): Promise<void> {
    await creating(`creating add-on ${request.addonName} ${request.version} in cluster ${request.clusterName}`, (options) =>
      this.client.send(
        new CreateAddonCommand({
          clusterName: request.clusterName,
          addonName: request.addonName,
          addonVersion: request.version,
          clientRequestToken: request.clientRequestToken,
          resolveConflicts: "OVERWRITE",
          ...(request.serviceAccountRoleArn ? { serviceAccountRoleArn: request.serviceAccountRoleArn } : {}),
          ...(request.configurationValues ? { configurationValues: request.configurationValues } : {}),
          ...(request.tags ? { tags: request.tags } : {}),
        }),
        options,
      ),
    );
  }

  async startNodegroupScalingUpdate(request: StartUpdateRequest & { nodegroupName: string; scaling: { min: number; max: number; desired: number } }): Promise<UpdateInfo> {
    const { update } = await awsCall(`scaling node group ${request.nodegroupName} of cluster ${request.clusterName} to ${request.scaling.desired}`, (options) =>
      this.client.send(
        new UpdateNodegroupConfigCommand({
          clusterName: request.clusterName,
          nodegroupName: request.nodegroupName,
          clientRequestToken: request.clientRequestToken,
          scalingConfig: { minSize: request.scaling.min, maxSize: request.scaling.max, desiredSize: request.scaling.desired },
        }),
        options,
      ),
    );
    return toUpdateInfo(update);
  }

  async deleteNodegroup(clusterName: string, nodegroupName: string): Promise<void> {
    await awsCall(`deleting node group ${nodegroupName} of cluster ${clusterName}`, (options) => this.client.send(new DeleteNodegroupCommand({ clusterName, nodegroupName }), options));
  }

  async deleteCluster(clusterName: string): Promise<void> {
    await awsCall(`deleting EKS cluster ${clusterName}`, (options) => this.client.send(new DeleteClusterCommand({ name: clusterName }), options));
  }

  async startClusterVersionUpdate(request: StartUpdateRequest & { version: string; force: boolean }): Promise<UpdateInfo> {
    const { update } = await awsCall(`starting the upgrade of cluster ${request.clusterName} to ${request.version}`, (options) =>
      this.client.send(
        new UpdateClusterVersionCommand({
          name: request.clusterName,
          version: request.version,
          clientRequestToken: request.clientRequestToken,
          ...(request.force ? { force: true } : {}),
        }),
        options,
      ),
    );
    return toUpdateInfo(update);
  }

  async describeUpdate(clusterName: string, updateId: string, scope?: { nodegroupName?: string; addonName?: string }): Promise<UpdateInfo> {
    const { update } = await awsCall(`describing update ${updateId} of cluster ${clusterName}`, (options) =>
      this.client.send(new DescribeUpdateCommand({ name: clusterName, updateId, ...scope }), options),
    );
    return toUpdateInfo(update);
  }

  async listNodegroups(clusterName: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing node groups of cluster ${clusterName}`, (options) =>
        this.client.send(new ListNodegroupsCommand({ clusterName, ...(nextToken ? { nextToken } : {}) }), options),
      );
      names.push(...(page.nodegroups ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  async describeNodegroup(clusterName: string, nodegroupName: string): Promise<ManagedNodeGroupInfo> {
    const { nodegroup } = await awsCall(`describing node group ${nodegroupName} of cluster ${clusterName}`, (options) =>
      this.client.send(new DescribeNodegroupCommand({ clusterName, nodegroupName }), options),
    );
    return {
      name: nodegroup?.nodegroupName ?? nodegroupName,
      version: nodegroup?.version ?? "",
      ...(nodegroup?.releaseVersion ? { releaseVersion: nodegroup.releaseVersion } : {}),
      status: nodegroup?.status ?? "UNKNOWN",
      autoScalingGroupNames: (nodegroup?.resources?.autoScalingGroups ?? []).map((group) => group.name ?? "").filter(Boolean),
      desiredSize: nodegroup?.scalingConfig?.desiredSize ?? 0,
      minSize: nodegroup?.scalingConfig?.minSize ?? 0,
      maxSize: nodegroup?.scalingConfig?.maxSize ?? 0,
      instanceTypes: nodegroup?.instanceTypes ?? [],
      subnetIds: nodegroup?.subnets ?? [],
      healthIssues: (nodegroup?.health?.issues ?? []).map((issue) => ({ code: issue.code ?? "Unknown", message: issue.message ?? "" })),
      ...(nodegroup?.tags ? { tags: nodegroup.tags } : {}),
      ...(nodegroup?.updateConfig?.maxUnavailable ? { maxUnavailable: nodegroup.updateConfig.maxUnavailable } : {}),
      ...(nodegroup?.updateConfig?.maxUnavailablePercentage ? { maxUnavailablePercentage: nodegroup.updateConfig.maxUnavailablePercentage } : {}),
      ...(nodegroup?.updateConfig?.updateStrategy ? { updateStrategy: nodegroup.updateConfig.updateStrategy } : {}),
      ...(nodegroup?.launchTemplate
        ? {
            launchTemplate: {
              ...(nodegroup.launchTemplate.id ? { id: nodegroup.launchTemplate.id } : {}),
              ...(nodegroup.launchTemplate.name ? { name: nodegroup.launchTemplate.name } : {}),
              ...(nodegroup.launchTemplate.version ? { version: nodegroup.launchTemplate.version } : {}),
            },
          }
        : {}),
    };
  }

  async startNodegroupVersionUpdate(
    request: StartUpdateRequest & { nodegroupName: string; version?: string; releaseVersion?: string; launchTemplateVersion?: string; force: boolean },
  ): Promise<UpdateInfo> {
    const { update } = await awsCall(`starting the update of node group ${request.nodegroupName}`, (options) =>
      this.client.send(
        new UpdateNodegroupVersionCommand({
          clusterName: request.clusterName,
          nodegroupName: request.nodegroupName,
          clientRequestToken: request.clientRequestToken,
          force: request.force,
          ...(request.version ? { version: request.version } : {}),
          ...(request.releaseVersion ? { releaseVersion: request.releaseVersion } : {}),
          ...(request.launchTemplateVersion ? { launchTemplate: { version: request.launchTemplateVersion } } : {}),
        }),
        options,
      ),
    );
    return toUpdateInfo(update);
  }

  async startNodegroupConfigUpdate(
    request: StartUpdateRequest & { nodegroupName: string; updateConfig: { maxUnavailable?: number; maxUnavailablePercentage?: number; updateStrategy?: "DEFAULT" | "MINIMAL" } },
  ): Promise<UpdateInfo> {
    const { update } = await awsCall(`setting the update configuration of node group ${request.nodegroupName}`, (options) =>
      this.client.send(
        new UpdateNodegroupConfigCommand({
          clusterName: request.clusterName,
          nodegroupName: request.nodegroupName,
          clientRequestToken: request.clientRequestToken,
          updateConfig: request.updateConfig,
        }),
        options,
      ),
    );
    return toUpdateInfo(update);
  }

  async listAddons(clusterName: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing add-ons of cluster ${clusterName}`, (options) =>
        this.client.send(new ListAddonsCommand({ clusterName, ...(nextToken ? { nextToken } : {}) }), options),
      );
      names.push(...(page.addons ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  async describeAddon(clusterName: string, addonName: string): Promise<AddonInfo> {
    const { addon } = await awsCall(`describing add-on ${addonName} of cluster ${clusterName}`, (options) =>
      this.client.send(new DescribeAddonCommand({ clusterName, addonName }), options),
    );
    return {
      name: addon?.addonName ?? addonName,
      version: addon?.addonVersion ?? "",
      status: addon?.status ?? "UNKNOWN",
      issues: (addon?.health?.issues ?? []).map((issue) => ({ code: issue.code ?? "Unknown", message: issue.message ?? "" })),
      ...(addon?.serviceAccountRoleArn ? { serviceAccountRoleArn: addon.serviceAccountRoleArn } : {}),
      ...(addon?.configurationValues ? { configurationValues: addon.configurationValues } : {}),
      ...(addon?.tags ? { tags: addon.tags } : {}),
    };
  }

  async listAddonVersions(addonName: string, kubernetesVersion: string): Promise<AddonVersionInfo[]> {
    const versions: AddonVersionInfo[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing versions of add-on ${addonName} for Kubernetes ${kubernetesVersion}`, (options) =>
        this.client.send(new DescribeAddonVersionsCommand({ addonName, kubernetesVersion, ...(nextToken ? { nextToken } : {}) }), options),
      );
      for (const addon of page.addons ?? []) {
        for (const version of addon.addonVersions ?? []) {
          const compatibility = (version.compatibilities ?? []).find((entry) => entry.clusterVersion === kubernetesVersion);
          if (!version.addonVersion || !compatibility) continue;
          versions.push({ version: version.addonVersion, isDefault: compatibility.defaultVersion ?? false });
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return versions;
  }

  async startAddonUpdate(
    request: StartUpdateRequest & { addonName: string; version: string; resolveConflicts: "NONE" | "OVERWRITE" | "PRESERVE" },
  ): Promise<UpdateInfo> {
    const { update } = await awsCall(`updating add-on ${request.addonName} to ${request.version}`, (options) =>
      this.client.send(
        new UpdateAddonCommand({
          clusterName: request.clusterName,
          addonName: request.addonName,
          addonVersion: request.version,
          resolveConflicts: request.resolveConflicts,
          clientRequestToken: request.clientRequestToken,
        }),
        options,
      ),
    );
    return toUpdateInfo(update);
  }

  async listInsights(clusterName: string, categories?: string[]): Promise<InsightInfo[]> {
    const insights: InsightInfo[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing upgrade insights of cluster ${clusterName}`, (options) =>
        this.client.send(new ListInsightsCommand({ clusterName, ...(categories?.length ? { filter: { categories: categories as InsightCategory[] } } : {}), ...(nextToken ? { nextToken } : {}) }), options),
      );
      for (const insight of page.insights ?? []) {
        insights.push({
          id: insight.id ?? "",
          name: insight.name ?? "",
          status: (insight.insightStatus?.status ?? "UNKNOWN"),
          reason: insight.insightStatus?.reason ?? "",
          ...(insight.kubernetesVersion ? { kubernetesVersion: insight.kubernetesVersion } : {}),
          ...(insight.category ? { category: insight.category } : {}),
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return insights;
  }

  async tagCluster(clusterArn: string, tags: Record<string, string>): Promise<void> {
    await awsCall(`tagging EKS cluster ${clusterArn} with ${Object.keys(tags).join(", ")}`, (options) => this.client.send(new TagResourceCommand({ resourceArn: clusterArn, tags }), options));
  }

  async untagCluster(clusterArn: string, keys: string[]): Promise<void> {
    await awsCall(`removing tags ${keys.join(", ")} from EKS cluster ${clusterArn}`, (options) => this.client.send(new UntagResourceCommand({ resourceArn: clusterArn, tagKeys: keys }), options));
  }
}

function toClusterInfo(cluster: Cluster | undefined, clusterName: string): ClusterInfo {
  return {
    name: cluster?.name ?? clusterName,
    ...(cluster?.arn ? { arn: cluster.arn } : {}),
    version: cluster?.version ?? "",
    status: (cluster?.status ?? "PENDING"),
    subnetIds: cluster?.resourcesVpcConfig?.subnetIds ?? [],
    securityGroupIds: cluster?.resourcesVpcConfig?.securityGroupIds ?? [],
    ...(cluster?.endpoint ? { endpoint: cluster.endpoint } : {}),
    ...(cluster?.certificateAuthority?.data ? { certificateAuthorityData: cluster.certificateAuthority.data } : {}),
    ...(cluster?.tags ? { tags: cluster.tags } : {}),
  };
}

function toUpdateInfo(update: Update | undefined): UpdateInfo {
  if (!update?.id) throw new Error("EKS answered without an update id");
  return {
    id: update.id,
    status: (update.status ?? "InProgress"),
    type: update.type ?? "",
    errors: (update.errors ?? []).map((error) => ({
      errorCode: error.errorCode ?? "Unknown",
      errorMessage: error.errorMessage ?? "",
      ...(error.resourceIds?.length ? { resourceIds: error.resourceIds } : {}),
    })),
    ...(update.createdAt ? { createdAt: update.createdAt } : {}),
  };
}
