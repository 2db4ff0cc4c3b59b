/**
 * Managed node groups: CreateNodegroup (a moto launch template and Auto Scaling group per group),
 * DescribeNodegroup, ListNodegroups, DeleteNodegroup, UpdateNodegroupConfig, and
 * UpdateNodegroupVersion, whose roll nodegroup-roller.ts carries out.
 */
import { randomUUID } from "node:crypto";
import { isKnownReleaseDate, latestRelease, parseReleaseVersion, releaseVersionOf, type AmiRelease } from "./amis.js";
import type { EmulatorContext } from "./context.js";
import { invalidParameter, invalidRequest, resourceInUse } from "./errors.js";
import { MAX_MAX_UNAVAILABLE, SANDBOX_ACCOUNT_ID } from "./facts.js";
import type { NodegroupRoller } from "./nodegroup-roller.js";
import { TAG_CLUSTER_OWNED_PREFIX, TAG_EKS_CLUSTER, TAG_EKS_NODEGROUP } from "./node-spec.js";
import {
  describeError,
  epochSeconds,
  numberOr,
  optionalString,
  paginate,
  requireString,
  stringList,
  stringMap,
  textOf,
  type Json,
} from "./request.js";
import { nodegroupKey, type ClusterRecord, type NodegroupRecord, type UpdateRecord } from "./state.js";
import { finishUpdate, newUpdate, updateForToken, updateView } from "./updates.js";
import { resolveNodegroupTargetVersion } from "./versions.js";

export class NodegroupOperations {
  constructor(private readonly context: EmulatorContext) {}

  async createNodegroup(clusterName: string, body: Json): Promise<Json> {
    const { context } = this;
    const { cloud, clock, region } = context.deps;
    const cluster = context.cluster(clusterName);
    const nodegroupName = requireString(body, "nodegroupName");
    if (cluster.status !== "ACTIVE") throw invalidRequest(`Cluster '${clusterName}' is not in ACTIVE status`, { clusterName, nodegroupName });
    if (context.state.nodegroups.has(nodegroupKey(clusterName, nodegroupName))) {
      throw resourceInUse(`NodeGroup already exists with name ${nodegroupName} and cluster name ${clusterName}`, {
        clusterName,
        nodegroupName,
      });
    }
    const versionChoice = resolveNodegroupTargetVersion(cluster.version, optionalString(body, "version"));
    if (!versionChoice.ok) throw invalidParameter(versionChoice.reason, { clusterName, nodegroupName });
    const release = releaseFor(versionChoice.version, optionalString(body, "releaseVersion"), clusterName, nodegroupName);
    const subnets = stringList(body.subnets);
    if (subnets.length === 0) throw invalidParameter("subnets is required", { clusterName, nodegroupName });
    const found = await cloud.observeSubnets(subnets);
    const missing = subnets.filter((id) => !found.has(id));
    if (missing.length > 0) {
      throw invalidParameter(`The subnet ID '${missing.join("', '")}' does not exist`, { clusterName, nodegroupName });
    }
    const scalingBody = (body.scalingConfig ?? {}) as Json;
    const scaling = {
      minSize: numberOr(scalingBody.minSize, 1),
      maxSize: numberOr(scalingBody.maxSize, 2),
      desiredSize: numberOr(scalingBody.desiredSize, 2),
    };
    if (scaling.minSize > scaling.desiredSize || scaling.desiredSize > scaling.maxSize || scaling.maxSize < 1) {
      throw invalidParameter("scalingConfig must satisfy minSize <= desiredSize <= maxSize and maxSize >= 1", {
        clusterName,
        nodegroupName,
      });
    }
    const updateConfig = parseUpdateConfig(body.updateConfig, clusterName, nodegroupName);
    if (body.launchTemplate !== undefined) {
      throw invalidParameter("node groups with a custom launch template are not emulated", { clusterName, nodegroupName });
    }
    const instanceTypes = stringList(body.instanceTypes);
    const instanceType = instanceTypes[0] ?? "t3.medium";
    const suffix = randomUUID().slice(0, 8);
    const imageId = await cloud.ensureAmi(release);
    const tags = stringMap(body.tags);
    const groupTags = {
      ...tags,
      [TAG_EKS_CLUSTER]: clusterName,
      [TAG_EKS_NODEGROUP]: nodegroupName,
      [`${TAG_CLUSTER_OWNED_PREFIX}${clusterName}`]: "owned",
      "k8s.io/cluster-autoscaler/enabled": "true",
      [`k8s.io/cluster-autoscaler/${clusterName}`]: "owned",
    };
    const template = await cloud.createLaunchTemplate(`eks-${suffix}-${nodegroupName}`, imageId, instanceType, groupTags);
    const autoScalingGroupName = `eks-${nodegroupName}-${suffix}`;
    await cloud.createGroup({
      name: autoScalingGroupName,
      launchTemplateId: template.id,
      launchTemplateVersion: template.version,
      subnetIds: subnets,
      minSize: scaling.minSize,
      maxSize: scaling.maxSize,
      desiredCapacity: scaling.desiredSize,
      tags: groupTags,
    });
    const now = clock.now();
    const record: NodegroupRecord = {
      clusterName,
      nodegroupName,
      arn: `arn:aws:eks:${region}:${SANDBOX_ACCOUNT_ID}:nodegroup/${clusterName}/${nodegroupName}/${suffix}`,
      version: versionChoice.version,
      releaseVersion: releaseVersionOf(release),
      createdAt: now,
      modifiedAt: now,
      // Like clusters: ACTIVE at once unless a creation time is set; moto's instances exist at once.
      status: context.creation.nodegroupSeconds > 0 ? "CREATING" : "ACTIVE",
      capacityType: optionalString(body, "capacityType") ?? "ON_DEMAND",
      amiType: optionalString(body, "amiType") ?? "AL2023_x86_64_STANDARD",
      instanceTypes: [instanceType],
      subnets,
      nodeRole: optionalString(body, "nodeRole") ?? `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:role/eks-node`,
      labels: stringMap(body.labels),
      taints: parseTaints(body.taints),
      tags,
      scaling,
      updateConfig,
      autoScalingGroupName,
      launchTemplateId: template.id,
      launchTemplateName: `eks-${suffix}-${nodegroupName}`,
      launchTemplateVersion: template.version,
      imageId,
      diskSize: numberOr(body.diskSize, 20),
    };
    context.state.nodegroups.set(nodegroupKey(clusterName, nodegroupName), record);
    if (record.status === "CREATING") {
      context.runInBackground(`node group ${nodegroupName} creation`, async (signal) => {
        await clock.sleep(context.creation.nodegroupSeconds, signal);
        record.status = "ACTIVE";
      });
    }
    return { nodegroup: nodegroupView(record) };
  }

  describeNodegroup(clusterName: string, nodegroupName: string): Json {
    return { nodegroup: nodegroupView(this.context.nodegroup(clusterName, nodegroupName)) };
  }

  listNodegroups(clusterName: string, query: URLSearchParams): Json {
    this.context.cluster(clusterName);
    const names = this.context.state.nodegroupsOf(clusterName).map((group) => group.nodegroupName).sort();
    const page = paginate(names, query);
    return { nodegroups: page.items, nextToken: page.nextToken };
  }

  async deleteNodegroup(clusterName: string, nodegroupName: string): Promise<Json> {
    const { cloud } = this.context.deps;
    const group = this.context.nodegroup(clusterName, nodegroupName);
    if (group.status === "UPDATING") {
      throw resourceInUse(`Nodegroup ${nodegroupName} is being updated`, { clusterName, nodegroupName });
    }
    await cloud.deleteGroup(group.autoScalingGroupName);
    await cloud.deleteLaunchTemplate(group.launchTemplateId);
    this.context.state.nodegroups.delete(nodegroupKey(clusterName, nodegroupName));
    return { nodegroup: { ...nodegroupView(group), status: "DELETING" } };
  }

  updateNodegroupConfig(clusterName: string, nodegroupName: string, body: Json): Json {
    const { context } = this;
    const group = context.nodegroup(clusterName, nodegroupName);
    const token = optionalString(body, "clientRequestToken");
    const known = updateForToken(context.state, clusterName, `nodegroup/${nodegroupName}`, token);
    if (known) return { update: updateView(known) };
    this.refuseWhileNodegroupBusy(group);
    const params: Array<{ type: string; value: string }> = [];
    if (body.scalingConfig !== undefined) {
      const scaling = body.scalingConfig as Json;
      const next = {
        minSize: numberOr(scaling.minSize, group.scaling.minSize),
        maxSize: numberOr(scaling.maxSize, group.scaling.maxSize),
        desiredSize: numberOr(scaling.desiredSize, group.scaling.desiredSize),
      };
      if (next.minSize > next.desiredSize || next.desiredSize > next.maxSize) {
        throw invalidParameter("scalingConfig must satisfy minSize <= desiredSize <= maxSize", { clusterName, nodegroupName });
      }
      group.scaling = next;
      params.push(
        { type: "MinSize", value: String(next.minSize) },
        { type: "MaxSize", value: String(next.maxSize) },
        { type: "DesiredSize", value: String(next.desiredSize) },
      );
    }
    if (body.updateConfig !== undefined) {
      group.updateConfig = parseUpdateConfig(body.updateConfig, clusterName, nodegroupName);
      params.push({ type: "UpdateConfig", value: JSON.stringify(group.updateConfig) });
    }
    if (body.labels !== undefined) {
      const labels = body.labels as Json;
      group.labels = { ...group.labels, ...stringMap(labels.addOrUpdateLabels) };
      for (const key of stringList(labels.removeLabels)) delete group.labels[key];
      params.push({ type: "LabelsToAdd", value: JSON.stringify(stringMap(labels.addOrUpdateLabels)) });
    }
    if (params.length === 0) throw invalidParameter("No changes needed", { clusterName, nodegroupName });
    group.modifiedAt = context.deps.clock.now();
    const update = newUpdate(context, clusterName, "ConfigUpdate", params, token, { nodegroupName });
    const scaling = group.scaling;
    context.runInBackground(`node group ${nodegroupName} config update`, async () => {
      try {
        await context.deps.cloud.updateGroup(group.autoScalingGroupName, {
          minSize: scaling.minSize,
          maxSize: scaling.maxSize,
          desiredCapacity: scaling.desiredSize,
        });
        finishUpdate(context, update, "Successful", []);
      } catch (error) {
        finishUpdate(context, update, "Failed", [
          { errorCode: "NodeCreationFailure", errorMessage: describeError(error), resourceIds: [group.autoScalingGroupName] },
        ]);
      }
    });
    return { update: updateView(update) };
  }

  updateNodegroupVersion(clusterName: string, nodegroupName: string, body: Json): Json {
    const { context } = this;
    const cluster = context.cluster(clusterName);
    const group = context.nodegroup(clusterName, nodegroupName);
    const token = optionalString(body, "clientRequestToken");
    const known = updateForToken(context.state, clusterName, `nodegroup/${nodegroupName}`, token);
    if (known) return { update: updateView(known) };
    this.refuseWhileNodegroupBusy(group);
    if (cluster.status !== "ACTIVE") {
      throw resourceInUse(`Cluster ${clusterName} is in ${cluster.status} state`, { clusterName, nodegroupName });
    }
    if (body.launchTemplate !== undefined) {
      throw invalidParameter("node groups with a custom launch template are not emulated", { clusterName, nodegroupName });
    }
    const versionChoice = resolveNodegroupTargetVersion(cluster.version, optionalString(body, "version"));
    if (!versionChoice.ok) throw invalidParameter(versionChoice.reason, { clusterName, nodegroupName });
    const release = releaseFor(versionChoice.version, optionalString(body, "releaseVersion"), clusterName, nodegroupName);
    const roller = context.deps.roller;
    if (!roller) throw invalidRequest("node group rolls need the sandbox kube-apiserver (KUBECONFIG)", { clusterName, nodegroupName });
    const force = body.force === true;
    const update = newUpdate(
      context,
      clusterName,
      "VersionUpdate",
      [
        { type: "Version", value: versionChoice.version },
        { type: "ReleaseVersion", value: releaseVersionOf(release) },
      ],
      token,
      { nodegroupName },
    );
    group.status = "UPDATING";
    group.modifiedAt = context.deps.clock.now();
    context.runInBackground(`node group ${nodegroupName} version update`, (signal) =>
      this.runNodegroupRoll(roller, cluster, group, update, versionChoice.version, release, force, signal),
    );
    return { update: updateView(update) };
  }

  private async runNodegroupRoll(
    roller: NodegroupRoller,
    cluster: ClusterRecord,
    group: NodegroupRecord,
    update: UpdateRecord,
    version: string,
    release: AmiRelease,
    force: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const { context } = this;
    const { cloud, clock, log } = context.deps;
    const previous = { imageId: group.imageId, launchTemplateVersion: group.launchTemplateVersion };
    try {
      const newImageId = await cloud.ensureAmi(release);
      const newVersion = await cloud.addLaunchTemplateVersion(group.launchTemplateId, newImageId, group.instanceTypes[0]);
      await cloud.updateGroup(group.autoScalingGroupName, {
        launchTemplate: { id: group.launchTemplateId, version: newVersion },
      });
      const zones = new Set([...(await cloud.observeSubnets(group.subnets)).values()].map((subnet) => subnet.availabilityZone));
      const outcome = await roller.roll({ nodegroup: group, updateId: update.id, newImageId, force, zoneCount: zones.size, signal });
      if (outcome.ok) {
        group.version = version;
        group.releaseVersion = releaseVersionOf(release);
        group.imageId = newImageId;
        group.launchTemplateVersion = newVersion;
        finishUpdate(context, update, "Successful", []);
      } else {
        // The group goes back to launching its previous image; nodes already replaced stay new.
        await cloud.updateGroup(group.autoScalingGroupName, {
          launchTemplate: { id: group.launchTemplateId, version: previous.launchTemplateVersion },
        });
        finishUpdate(context, update, "Failed", outcome.errors);
      }
    } catch (error) {
      if (signal.aborted) return;
      log.error("node group update crashed", { cluster: cluster.name, nodegroup: group.nodegroupName, error: describeError(error) });
      finishUpdate(context, update, "Failed", [
        { errorCode: "NodeCreationFailure", errorMessage: describeError(error), resourceIds: [group.autoScalingGroupName] },
      ]);
    } finally {
      group.status = "ACTIVE";
      group.modifiedAt = clock.now();
    }
  }

  private refuseWhileNodegroupBusy(group: NodegroupRecord): void {
    const running = this.context.state
      .updatesOf(group.clusterName, { nodegroupName: group.nodegroupName })
      .find((update) => update.status === "InProgress");
    if (running || group.status !== "ACTIVE") {
      throw resourceInUse(`Nodegroup ${group.nodegroupName} is currently being updated`, {
        clusterName: group.clusterName,
        nodegroupName: group.nodegroupName,
      });
    }
  }
}

function releaseFor(version: string, releaseVersion: string | undefined, clusterName: string, nodegroupName: string): AmiRelease {
  if (releaseVersion === undefined || releaseVersion === "") return latestRelease(version);
  const parsed = parseReleaseVersion(releaseVersion);
  if (!parsed || parsed.version !== version || !isKnownReleaseDate(parsed.date)) {
    throw invalidParameter(`Requested release version ${releaseVersion} is not valid for kubernetes version ${version}`, {
      clusterName,
      nodegroupName,
    });
  }
  return parsed;
}

function nodegroupView(group: NodegroupRecord): Json {
  return {
    nodegroupName: group.nodegroupName,
    nodegroupArn: group.arn,
    clusterName: group.clusterName,
    version: group.version,
    releaseVersion: group.releaseVersion,
    createdAt: epochSeconds(group.createdAt),
    modifiedAt: epochSeconds(group.modifiedAt),
    status: group.status,
    capacityType: group.capacityType,
    scalingConfig: group.scaling,
    instanceTypes: group.instanceTypes,
    subnets: group.subnets,
    amiType: group.amiType,
    nodeRole: group.nodeRole,
    labels: group.labels,
    taints: group.taints,
    resources: { autoScalingGroups: [{ name: group.autoScalingGroupName }] },
    diskSize: group.diskSize,
    health: { issues: [] },
    updateConfig: group.updateConfig,
    tags: group.tags,
  };
}

function parseTaints(value: unknown): NodegroupRecord["taints"] {
  if (!Array.isArray(value)) return [];
  const effects: Record<string, string> = { NO_SCHEDULE: "NoSchedule", NO_EXECUTE: "NoExecute", PREFER_NO_SCHEDULE: "PreferNoSchedule" };
  return value.map((item: Json) => ({
    key: textOf(item.key),
    value: typeof item.value === "string" ? item.value : undefined,
    // EKS spells effects NO_SCHEDULE; Kubernetes spells them NoSchedule. Nodes get the latter.
    effect: effects[textOf(item.effect)] ?? (textOf(item.effect) || "NoSchedule"),
  }));
}

function parseUpdateConfig(value: unknown, clusterName: string, nodegroupName: string): NodegroupRecord["updateConfig"] {
  if (value === undefined) return { maxUnavailable: 1 };
  const config = value as Json;
  const count = config.maxUnavailable;
  const percentage = config.maxUnavailablePercentage;
  const strategy = config.updateStrategy;
  if (strategy !== undefined && strategy !== "DEFAULT" && strategy !== "MINIMAL") {
    throw invalidParameter(`updateStrategy must be DEFAULT or MINIMAL, got ${JSON.stringify(strategy)}`, { clusterName, nodegroupName });
  }
  const withStrategy: Pick<NodegroupRecord["updateConfig"], "updateStrategy"> = strategy !== undefined ? { updateStrategy: strategy } : {};
  if (count !== undefined && percentage !== undefined) {
    throw invalidParameter("Only one of maxUnavailable and maxUnavailablePercentage may be set", { clusterName, nodegroupName });
  }
  if (count !== undefined) {
    if (typeof count !== "number" || count < 1 || count > MAX_MAX_UNAVAILABLE) {
      throw invalidParameter(`maxUnavailable must be between 1 and ${MAX_MAX_UNAVAILABLE}`, { clusterName, nodegroupName });
    }
    return { maxUnavailable: count, ...withStrategy };
  }
  if (percentage !== undefined) {
    if (typeof percentage !== "number" || percentage < 1 || percentage > 100) {
      throw invalidParameter("maxUnavailablePercentage must be between 1 and 100", { clusterName, nodegroupName });
    }
    return { maxUnavailablePercentage: percentage, ...withStrategy };
  }
  return { maxUnavailable: 1, ...withStrategy };
}
