// EksPort over @aws-sdk/client-eks. Endpoints come from the SDK's standard settings
// (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EKS), which is how the sandbox points it at its emulator.
import {
  DescribeAddonCommand,
  DescribeAddonVersionsCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  EKSClient,
  ListAddonsCommand,
  ListInsightsCommand,
  ListNodegroupsCommand,
  ListUpdatesCommand,
  UpdateAddonCommand,
  UpdateClusterVersionCommand,
  UpdateNodegroupVersionCommand,
  type Update,
} from "@aws-sdk/client-eks";
import type {
  AddonInfo,
  AddonVersionInfo,
  ClusterInfo,
  EksPort,
  InsightInfo,
  ManagedNodeGroupInfo,
  StartUpdateRequest,
  UpdateInfo,
} from "../ports.js";
import { awsCall } from "./call.js";

export class AwsEks implements EksPort {
  constructor(private readonly client: EKSClient) {}

  static forRegion(region: string): AwsEks {
    return new AwsEks(new EKSClient({ region }));
  }

  async describeCluster(clusterName: string): Promise<ClusterInfo> {
    const { cluster } = await awsCall(`describing EKS cluster ${clusterName}`, () =>
      this.client.send(new DescribeClusterCommand({ name: clusterName })),
    );
    return {
      name: cluster?.name ?? clusterName,
      version: cluster?.version ?? "",
      status: (cluster?.status ?? "PENDING"),
      subnetIds: cluster?.resourcesVpcConfig?.subnetIds ?? [],
      securityGroupIds: cluster?.resourcesVpcConfig?.securityGroupIds ?? [],
      ...(cluster?.endpoint ? { endpoint: cluster.endpoint } : {}),
    };
  }

  async startClusterVersionUpdate(request: StartUpdateRequest & { version: string; force: boolean }): Promise<UpdateInfo> {
    const { update } = await awsCall(`starting the upgrade of cluster ${request.clusterName} to ${request.version}`, () =>
      this.client.send(
        new UpdateClusterVersionCommand({
          name: request.clusterName,
          version: request.version,
          clientRequestToken: request.clientRequestToken,
          ...(request.force ? { force: true } : {}),
        }),
      ),
    );
    return toUpdateInfo(update);
  }

  async describeUpdate(clusterName: string, updateId: string, scope?: { nodegroupName?: string; addonName?: string }): Promise<UpdateInfo> {
    const { update } = await awsCall(`describing update ${updateId} of cluster ${clusterName}`, () =>
      this.client.send(new DescribeUpdateCommand({ name: clusterName, updateId, ...scope })),
    );
    return toUpdateInfo(update);
  }

  async listUpdates(clusterName: string, scope?: { nodegroupName?: string; addonName?: string }): Promise<string[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing updates of cluster ${clusterName}`, () =>
        this.client.send(new ListUpdatesCommand({ name: clusterName, ...scope, ...(nextToken ? { nextToken } : {}) })),
      );
      ids.push(...(page.updateIds ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return ids;
  }

  async listNodegroups(clusterName: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing node groups of cluster ${clusterName}`, () =>
        this.client.send(new ListNodegroupsCommand({ clusterName, ...(nextToken ? { nextToken } : {}) })),
      );
      names.push(...(page.nodegroups ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  async describeNodegroup(clusterName: string, nodegroupName: string): Promise<ManagedNodeGroupInfo> {
    const { nodegroup } = await awsCall(`describing node group ${nodegroupName} of cluster ${clusterName}`, () =>
      this.client.send(new DescribeNodegroupCommand({ clusterName, nodegroupName })),
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
      ...(nodegroup?.updateConfig?.maxUnavailable ? { maxUnavailable: nodegroup.updateConfig.maxUnavailable } : {}),
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
    const { update } = await awsCall(`starting the update of node group ${request.nodegroupName}`, () =>
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
      ),
    );
    return toUpdateInfo(update);
  }

  async listAddons(clusterName: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing add-ons of cluster ${clusterName}`, () =>
        this.client.send(new ListAddonsCommand({ clusterName, ...(nextToken ? { nextToken } : {}) })),
      );
      names.push(...(page.addons ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  async describeAddon(clusterName: string, addonName: string): Promise<AddonInfo> {
    const { addon } = await awsCall(`describing add-on ${addonName} of cluster ${clusterName}`, () =>
      this.client.send(new DescribeAddonCommand({ clusterName, addonName })),
    );
    return {
      name: addon?.addonName ?? addonName,
      version: addon?.addonVersion ?? "",
      status: addon?.status ?? "UNKNOWN",
      issues: (addon?.health?.issues ?? []).map((issue) => ({ code: issue.code ?? "Unknown", message: issue.message ?? "" })),
    };
  }

  async listAddonVersions(addonName: string, kubernetesVersion: string): Promise<AddonVersionInfo[]> {
    const versions: AddonVersionInfo[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing versions of add-on ${addonName} for Kubernetes ${kubernetesVersion}`, () =>
        this.client.send(new DescribeAddonVersionsCommand({ addonName, kubernetesVersion, ...(nextToken ? { nextToken } : {}) })),
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
    const { update } = await awsCall(`updating add-on ${request.addonName} to ${request.version}`, () =>
      this.client.send(
        new UpdateAddonCommand({
          clusterName: request.clusterName,
          addonName: request.addonName,
          addonVersion: request.version,
          resolveConflicts: request.resolveConflicts,
          clientRequestToken: request.clientRequestToken,
        }),
      ),
    );
    return toUpdateInfo(update);
  }

  async listInsights(clusterName: string): Promise<InsightInfo[]> {
    const insights: InsightInfo[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing upgrade insights of cluster ${clusterName}`, () =>
        this.client.send(new ListInsightsCommand({ clusterName, ...(nextToken ? { nextToken } : {}) })),
      );
      for (const insight of page.insights ?? []) {
        insights.push({
          id: insight.id ?? "",
          name: insight.name ?? "",
          status: (insight.insightStatus?.status ?? "UNKNOWN"),
          reason: insight.insightStatus?.reason ?? "",
          ...(insight.kubernetesVersion ? { kubernetesVersion: insight.kubernetesVersion } : {}),
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return insights;
  }
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
