/**
 * The EKS operations the emulator serves, independent of HTTP: each takes the request fields the
 * REST API carries and returns the response body, or throws an EksError. Long-running work
 * (control-plane updates, node group rolls, add-on updates) runs in the background and is
 * cancelled by reset().
 */
import { randomUUID } from "node:crypto";
import {
  ADDON_CATALOG,
  defaultAddonVersion,
  findAddon,
  isCompatible,
  versionsFor,
  offeredClusterVersions,
} from "./addon-catalog.js";
import { isKnownReleaseDate, latestRelease, parseReleaseVersion, releaseVersionOf, type AmiRelease } from "./amis.js";
import type { SandboxClock } from "./clock.js";
import type { MotoCloud } from "./cloud.js";
import { invalidParameter, invalidRequest, resourceInUse, resourceNotFound, EksError } from "./errors.js";
import {
  BLOCKING_INSIGHT_STATUS,
  CLUSTER_STATUS_LAG_SECONDS,
  DEFAULT_ADDON_UPDATE_SECONDS,
  DEFAULT_CONTROL_PLANE_UPDATE_SECONDS,
  MAX_MAX_UNAVAILABLE,
  SANDBOX_ACCOUNT_ID,
} from "./facts.js";
import type { Logger } from "./log.js";
import { checkControlPlaneNetwork, type UpdateErrorDetail } from "./network-check.js";
import type { NodegroupRoller } from "./nodegroup-roller.js";
import { TAG_CLUSTER_OWNED_PREFIX, TAG_EKS_CLUSTER, TAG_EKS_NODEGROUP } from "./node-spec.js";
import {
  addonKey,
  nodegroupKey,
  type AddonRecord,
  type ClusterRecord,
  type EmulatorState,
  type InsightRecord,
  type NodegroupRecord,
  type UpdateRecord,
} from "./state.js";
import { checkControlPlaneHop, laggingNodegroups, resolveNodegroupTargetVersion } from "./versions.js";

/** The moto calls the EKS operations make; MotoCloud implements them, unit tests fake them. */
export type EmulatorCloud = Pick<
  MotoCloud,
  | "observeSubnets"
  | "subnetVpcs"
  | "existingSecurityGroups"
  | "createSecurityGroup"
  | "ensureAmi"
  | "createLaunchTemplate"
  | "addLaunchTemplateVersion"
  | "deleteLaunchTemplate"
  | "createGroup"
  | "updateGroup"
  | "deleteGroup"
>;

export interface EmulatorDeps {
  state: EmulatorState;
  cloud: EmulatorCloud;
  clock: SandboxClock;
  region: string;
  log: Logger;
  /** Present when a kube-apiserver backs the sandbox: node group rolls need it. */
  roller?: NodegroupRoller;
  /** The sandbox apiserver's address and CA, reported as the endpoint of mirrored clusters. */
  apiServer?: { server: string; caData?: string };
}

type Json = Record<string, unknown>;

/** EKS seconds that created clusters, node groups and add-ons stay CREATING (0: ACTIVE at once). */
export interface CreationTimes {
  clusterSeconds: number;
  nodegroupSeconds: number;
  addonSeconds: number;
}

const NO_CREATION_TIME: CreationTimes = { clusterSeconds: 0, nodegroupSeconds: 0, addonSeconds: 0 };

export class EksEmulator {
  private readonly tasks = new Set<Promise<void>>();
  private abort = new AbortController();
  private creation: CreationTimes = { ...NO_CREATION_TIME };

  constructor(private readonly deps: EmulatorDeps) {}

  get state(): EmulatorState {
    return this.deps.state;
  }

  /** Cancels every background task and forgets all EKS state (POST /sandbox/reset). */
  async reset(): Promise<void> {
    this.abort.abort(new Error("sandbox reset"));
    await Promise.allSettled([...this.tasks]);
    this.abort = new AbortController();
    this.deps.state.clear();
    this.creation = { ...NO_CREATION_TIME };
  }

  /**
   * Sandbox-wide knobs (PUT /sandbox/settings): how long creations take. Scenario seeding runs
   * with none, so seeded clusters are ACTIVE at once; a test sets them to exercise the waits.
   */
  configureSandbox(body: Json): Json {
    const seconds = (key: keyof CreationTimes): number => {
      const value = body[key];
      if (value === undefined) return this.creation[key];
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw invalidParameter(`${key} must be a non-negative number of seconds`);
      return value;
    };
    this.creation = { clusterSeconds: seconds("clusterSeconds"), nodegroupSeconds: seconds("nodegroupSeconds"), addonSeconds: seconds("addonSeconds") };
    return { creation: { ...this.creation } };
  }

  /** Waits for background tasks to settle (used on shutdown). */
  async drainTasks(): Promise<void> {
    await Promise.allSettled([...this.tasks]);
  }

  // ---------------------------------------------------------------- clusters

  async createCluster(body: Json): Promise<Json> {
    const name = requireString(body, "name");
    if (this.state.clusters.has(name)) throw resourceInUse(`Cluster already exists with name: ${name}`, { clusterName: name });
    const version = optionalString(body, "version") ?? "1.31";
    const vpc = (body.resourcesVpcConfig ?? {}) as Json;
    const subnetIds = stringList(vpc.subnetIds);
    const securityGroupIds = stringList(vpc.securityGroupIds);
    if (subnetIds.length === 0) throw invalidParameter("resourcesVpcConfig.subnetIds is required", { clusterName: name });
    const subnets = await this.deps.cloud.observeSubnets(subnetIds);
    const missing = subnetIds.filter((id) => !subnets.has(id));
    if (missing.length > 0) throw invalidParameter(`The subnet ID '${missing.join("', '")}' does not exist`, { clusterName: name });
    const zones = new Set([...subnets.values()].map((subnet) => subnet.availabilityZone));
    if (zones.size < 2) {
      throw invalidParameter("Subnets specified must be in at least two different AZs", { clusterName: name });
    }
    const groups = await this.deps.cloud.existingSecurityGroups(securityGroupIds);
    const missingGroups = securityGroupIds.filter((id) => !groups.has(id));
    if (missingGroups.length > 0) {
      throw invalidParameter(`The security group '${missingGroups.join("', '")}' does not exist`, { clusterName: name });
    }
    const vpcId = (await this.deps.cloud.subnetVpcs(subnetIds)).get(subnetIds[0]) ?? "";
    const id = randomUUID();
    const tags = stringMap(body.tags);
    // A cluster created through the API is reachable at the sandbox apiserver (with an EKS token);
    // scenario seeding then keeps that address only for mirrored clusters (configureCluster).
    const apiServer = this.deps.apiServer;
    const clusterSecurityGroupId = await this.deps.cloud.createSecurityGroup(
      vpcId,
      `eks-cluster-sg-${name}-${id.slice(0, 8)}`,
      `EKS created security group applied to ENI that is attached to EKS Control Plane master nodes of ${name}`,
    );
    const cluster: ClusterRecord = {
      name,
      id,
      arn: `arn:aws:eks:${this.deps.region}:${SANDBOX_ACCOUNT_ID}:cluster/${name}`,
      createdAt: this.deps.clock.now(),
      version,
      platformVersion: "eks.1",
      // ACTIVE at once unless PUT /sandbox/settings asks for a creation time (then CREATING first).
      status: this.creation.clusterSeconds > 0 ? "CREATING" : "ACTIVE",
      roleArn: optionalString(body, "roleArn") ?? `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:role/eks-cluster`,
      vpcId,
      subnetIds,
      securityGroupIds,
      clusterSecurityGroupId,
      endpoint: apiServer?.server ?? unreachableEndpoint(id, this.deps.region),
      certificateAuthorityData: apiServer?.caData,
      tags,
      clientRequestToken: optionalString(body, "clientRequestToken"),
      controlPlaneUpdateSeconds: DEFAULT_CONTROL_PLANE_UPDATE_SECONDS,
      addonUpdateSeconds: DEFAULT_ADDON_UPDATE_SECONDS,
      mirrorNodes: false,
    };
    this.state.clusters.set(name, cluster);
    if (cluster.status === "CREATING") {
      this.runInBackground(`cluster ${name} creation`, async (signal) => {
        await this.deps.clock.sleep(this.creation.clusterSeconds, signal);
        cluster.status = "ACTIVE";
      });
    }
    return { cluster: clusterView(cluster) };
  }

  describeCluster(name: string): Json {
    return { cluster: clusterView(this.cluster(name)) };
  }

  listClusters(query: URLSearchParams): Json {
    const names = [...this.state.clusters.keys()].sort();
    const page = paginate(names, query);
    return { clusters: page.items, nextToken: page.nextToken };
  }

  deleteCluster(name: string): Json {
    const cluster = this.cluster(name);
    if (this.state.nodegroupsOf(name).length > 0) {
      throw resourceInUse(`Cluster has nodegroups attached`, { clusterName: name });
    }
    this.state.clusters.delete(name);
    for (const addon of this.state.addonsOf(name)) this.state.addons.delete(addonKey(name, addon.addonName));
    return { cluster: { ...clusterView(cluster), status: "DELETING" } };
  }

  /** Emulator-only knobs set by scenario seeding (PUT /sandbox/clusters/{name}/settings). */
  configureCluster(name: string, body: Json): Json {
    const cluster = this.cluster(name);
    const seconds = (key: string): number | undefined => {
      const value = body[key];
      if (value === undefined) return undefined;
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw invalidParameter(`${key} must be a non-negative number of seconds`);
      }
      return value;
    };
    cluster.controlPlaneUpdateSeconds = seconds("controlPlaneUpdateSeconds") ?? cluster.controlPlaneUpdateSeconds;
    cluster.addonUpdateSeconds = seconds("addonUpdateSeconds") ?? cluster.addonUpdateSeconds;
    if (typeof body.mirrorNodes === "boolean") {
      cluster.mirrorNodes = body.mirrorNodes;
      if (cluster.mirrorNodes && this.deps.apiServer) {
        cluster.endpoint = this.deps.apiServer.server;
        cluster.certificateAuthorityData = this.deps.apiServer.caData;
      } else if (!cluster.mirrorNodes) {
        // A scenario cluster that is not mirrored has no API server in the sandbox.
        cluster.endpoint = unreachableEndpoint(cluster.id, this.deps.region);
        delete cluster.certificateAuthorityData;
      }
    }
    return {
      name: cluster.name,
      controlPlaneUpdateSeconds: cluster.controlPlaneUpdateSeconds,
      addonUpdateSeconds: cluster.addonUpdateSeconds,
      mirrorNodes: cluster.mirrorNodes,
    };
  }

  // ---------------------------------------------------------------- control-plane updates

  updateClusterVersion(name: string, body: Json): Json {
    const cluster = this.cluster(name);
    const token = optionalString(body, "clientRequestToken");
    // eks-upgrade-facts "Control plane": clientRequestToken makes the call idempotent, so a retry
    // gets the first answer back even after the cluster moved on.
    const known = this.updateForToken(name, "cluster", token);
    if (known) return { update: updateView(known) };

    const target = requireString(body, "version");
    const running = this.state.updatesOf(name, {}).find((update) => update.status === "InProgress");
    if (running) {
      throw resourceInUse(`Update already in progress for cluster ${name} (update ${running.id})`, { clusterName: name });
    }
    if (cluster.status !== "ACTIVE") {
      throw resourceInUse(`Cluster ${name} is in ${cluster.status} state`, { clusterName: name });
    }
    const hop = checkControlPlaneHop(cluster.version, target);
    if (!hop.ok) throw invalidParameter(hop.reason, { clusterName: name });

    const force = body.force === true;
    if (!force) this.refuseBlockedUpgrade(cluster, target);

    const update = this.newUpdate(name, "VersionUpdate", [
      { type: "Version", value: target },
      { type: "PlatformVersion", value: "eks.1" },
    ], token, {});
    this.runInBackground(`cluster ${name} version update`, (signal) => this.runControlPlaneUpdate(cluster, update, target, signal));
    return { update: updateView(update) };
  }

  /**
   * eks-upgrade-facts "Control plane": an insight in ERROR for the target version blocks the
   * update unless force=true. Managed node groups older than the control plane block it the same
   * way (eks-upgrade-facts "Version skew": EKS can refuse when node groups lag).
   */
  private refuseBlockedUpgrade(cluster: ClusterRecord, target: string): void {
    const blocking = this.state
      .insightsOf(cluster.name)
      .filter((insight) => insight.kubernetesVersion === target && insight.status === BLOCKING_INSIGHT_STATUS);
    if (blocking.length > 0) {
      throw invalidRequest(
        `Cluster upgrade to ${target} is blocked by upgrade insights in ERROR: ${blocking.map((insight) => insight.name).join(", ")}. ` +
          `Resolve them or retry with force`,
        { clusterName: cluster.name },
      );
    }
    const lagging = laggingNodegroups(
      cluster.version,
      this.state.nodegroupsOf(cluster.name).map((group) => ({ name: group.nodegroupName, version: group.version })),
    );
    if (lagging.length > 0) {
      throw invalidRequest(
        `Nodegroup(s) ${lagging.join(", ")} run an older Kubernetes version than the control plane (${cluster.version}); ` +
          `update them before updating the cluster to ${target}, or retry with force`,
        { clusterName: cluster.name },
      );
    }
  }

  private async runControlPlaneUpdate(
    cluster: ClusterRecord,
    update: UpdateRecord,
    target: string,
    signal: AbortSignal,
  ): Promise<void> {
    const total = cluster.controlPlaneUpdateSeconds;
    const lag = Math.min(CLUSTER_STATUS_LAG_SECONDS, total / 2);
    await this.deps.clock.sleep(lag, signal);
    cluster.status = "UPDATING";
    const errors = await this.controlPlaneNetworkErrors(cluster);
    if (errors.length > 0) {
      // EKS fails such an update early; it reverts and the cluster keeps its version.
      await this.deps.clock.sleep(lag, signal);
      this.finish(update, "Failed", errors);
      cluster.status = "ACTIVE";
      return;
    }
    await this.deps.clock.sleep(Math.max(0, total - lag), signal);
    // The new control-plane interfaces are placed while the update runs: addresses that run out
    // mid-flight fail it too, and EKS reverts to the old version.
    const lateErrors = await this.controlPlaneNetworkErrors(cluster);
    if (lateErrors.length > 0) {
      this.finish(update, "Failed", lateErrors);
      cluster.status = "ACTIVE";
      return;
    }
    cluster.version = target;
    cluster.platformVersion = "eks.1";
    cluster.status = "ACTIVE";
    this.finish(update, "Successful", []);
  }

  private async controlPlaneNetworkErrors(cluster: ClusterRecord): Promise<UpdateErrorDetail[]> {
    const [subnets, groups] = await Promise.all([
      this.deps.cloud.observeSubnets(cluster.subnetIds),
      this.deps.cloud.existingSecurityGroups(cluster.securityGroupIds),
    ]);
    return checkControlPlaneNetwork({
      clusterSubnetIds: cluster.subnetIds,
      clusterSecurityGroupIds: cluster.securityGroupIds,
      subnets,
      securityGroupIds: groups,
    });
  }

  describeUpdate(name: string, updateId: string, query: URLSearchParams): Json {
    this.cluster(name);
    const update = this.state.updates.get(updateId);
    const nodegroupName = query.get("nodegroupName") ?? undefined;
    const addonName = query.get("addonName") ?? undefined;
    if (
      !update ||
      update.clusterName !== name ||
      update.nodegroupName !== nodegroupName ||
      update.addonName !== addonName
    ) {
      throw resourceNotFound(`No update found for ID: ${updateId}`, { clusterName: name, nodegroupName, addonName });
    }
    return { update: updateView(update) };
  }

  listUpdates(name: string, query: URLSearchParams): Json {
    this.cluster(name);
    const nodegroupName = query.get("nodegroupName") ?? undefined;
    const addonName = query.get("addonName") ?? undefined;
    if (nodegroupName !== undefined) this.nodegroup(name, nodegroupName);
    if (addonName !== undefined) this.addon(name, addonName);
    const ids = this.state.updatesOf(name, { nodegroupName, addonName }).map((update) => update.id);
    const page = paginate(ids, query);
    return { updateIds: page.items, nextToken: page.nextToken };
  }

  // ---------------------------------------------------------------- node groups

  async createNodegroup(clusterName: string, body: Json): Promise<Json> {
    const cluster = this.cluster(clusterName);
    const nodegroupName = requireString(body, "nodegroupName");
    if (cluster.status !== "ACTIVE") throw invalidRequest(`Cluster '${clusterName}' is not in ACTIVE status`, { clusterName, nodegroupName });
    if (this.state.nodegroups.has(nodegroupKey(clusterName, nodegroupName))) {
      throw resourceInUse(`NodeGroup already exists with name ${nodegroupName} and cluster name ${clusterName}`, {
        clusterName,
        nodegroupName,
      });
    }
    const versionChoice = resolveNodegroupTargetVersion(cluster.version, optionalString(body, "version"));
    if (!versionChoice.ok) throw invalidParameter(versionChoice.reason, { clusterName, nodegroupName });
    const release = this.releaseFor(versionChoice.version, optionalString(body, "releaseVersion"), clusterName, nodegroupName);
    const subnets = stringList(body.subnets);
    if (subnets.length === 0) throw invalidParameter("subnets is required", { clusterName, nodegroupName });
    const found = await this.deps.cloud.observeSubnets(subnets);
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
    const imageId = await this.deps.cloud.ensureAmi(release);
    const tags = stringMap(body.tags);
    const groupTags = {
      ...tags,
      [TAG_EKS_CLUSTER]: clusterName,
      [TAG_EKS_NODEGROUP]: nodegroupName,
      [`${TAG_CLUSTER_OWNED_PREFIX}${clusterName}`]: "owned",
      "k8s.io/cluster-autoscaler/enabled": "true",
      [`k8s.io/cluster-autoscaler/${clusterName}`]: "owned",
    };
    const template = await this.deps.cloud.createLaunchTemplate(`eks-${suffix}-${nodegroupName}`, imageId, instanceType, groupTags);
    const autoScalingGroupName = `eks-${nodegroupName}-${suffix}`;
    await this.deps.cloud.createGroup({
      name: autoScalingGroupName,
      launchTemplateId: template.id,
      launchTemplateVersion: template.version,
      subnetIds: subnets,
      minSize: scaling.minSize,
      maxSize: scaling.maxSize,
      desiredCapacity: scaling.desiredSize,
      tags: groupTags,
    });
    const now = this.deps.clock.now();
    const record: NodegroupRecord = {
      clusterName,
      nodegroupName,
      arn: `arn:aws:eks:${this.deps.region}:${SANDBOX_ACCOUNT_ID}:nodegroup/${clusterName}/${nodegroupName}/${suffix}`,
      version: versionChoice.version,
      releaseVersion: releaseVersionOf(release),
      createdAt: now,
      modifiedAt: now,
      // Like clusters: ACTIVE at once unless a creation time is set; moto's instances exist at once.
      status: this.creation.nodegroupSeconds > 0 ? "CREATING" : "ACTIVE",
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
    this.state.nodegroups.set(nodegroupKey(clusterName, nodegroupName), record);
    if (record.status === "CREATING") {
      this.runInBackground(`node group ${nodegroupName} creation`, async (signal) => {
        await this.deps.clock.sleep(this.creation.nodegroupSeconds, signal);
        record.status = "ACTIVE";
      });
    }
    return { nodegroup: nodegroupView(record) };
  }

  describeNodegroup(clusterName: string, nodegroupName: string): Json {
    return { nodegroup: nodegroupView(this.nodegroup(clusterName, nodegroupName)) };
  }

  listNodegroups(clusterName: string, query: URLSearchParams): Json {
    this.cluster(clusterName);
    const names = this.state.nodegroupsOf(clusterName).map((group) => group.nodegroupName).sort();
    const page = paginate(names, query);
    return { nodegroups: page.items, nextToken: page.nextToken };
  }

  async deleteNodegroup(clusterName: string, nodegroupName: string): Promise<Json> {
    const group = this.nodegroup(clusterName, nodegroupName);
    if (group.status === "UPDATING") {
      throw resourceInUse(`Nodegroup ${nodegroupName} is being updated`, { clusterName, nodegroupName });
    }
    await this.deps.cloud.deleteGroup(group.autoScalingGroupName);
    await this.deps.cloud.deleteLaunchTemplate(group.launchTemplateId);
    this.state.nodegroups.delete(nodegroupKey(clusterName, nodegroupName));
    return { nodegroup: { ...nodegroupView(group), status: "DELETING" } };
  }

  updateNodegroupConfig(clusterName: string, nodegroupName: string, body: Json): Json {
    const group = this.nodegroup(clusterName, nodegroupName);
    const token = optionalString(body, "clientRequestToken");
    const known = this.updateForToken(clusterName, `nodegroup/${nodegroupName}`, token);
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
    group.modifiedAt = this.deps.clock.now();
    const update = this.newUpdate(clusterName, "ConfigUpdate", params, token, { nodegroupName });
    const scaling = group.scaling;
    this.runInBackground(`node group ${nodegroupName} config update`, async () => {
      try {
        await this.deps.cloud.updateGroup(group.autoScalingGroupName, {
          minSize: scaling.minSize,
          maxSize: scaling.maxSize,
          desiredCapacity: scaling.desiredSize,
        });
        this.finish(update, "Successful", []);
      } catch (error) {
        this.finish(update, "Failed", [
          { errorCode: "NodeCreationFailure", errorMessage: describeError(error), resourceIds: [group.autoScalingGroupName] },
        ]);
      }
    });
    return { update: updateView(update) };
  }

  updateNodegroupVersion(clusterName: string, nodegroupName: string, body: Json): Json {
    const cluster = this.cluster(clusterName);
    const group = this.nodegroup(clusterName, nodegroupName);
    const token = optionalString(body, "clientRequestToken");
    const known = this.updateForToken(clusterName, `nodegroup/${nodegroupName}`, token);
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
    const release = this.releaseFor(versionChoice.version, optionalString(body, "releaseVersion"), clusterName, nodegroupName);
    const roller = this.deps.roller;
    if (!roller) throw invalidRequest("node group rolls need the sandbox kube-apiserver (KUBECONFIG)", { clusterName, nodegroupName });
    const force = body.force === true;
    const update = this.newUpdate(
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
    group.modifiedAt = this.deps.clock.now();
    this.runInBackground(`node group ${nodegroupName} version update`, (signal) =>
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
    const previous = { imageId: group.imageId, launchTemplateVersion: group.launchTemplateVersion };
    try {
      const newImageId = await this.deps.cloud.ensureAmi(release);
      const newVersion = await this.deps.cloud.addLaunchTemplateVersion(group.launchTemplateId, newImageId, group.instanceTypes[0]);
      await this.deps.cloud.updateGroup(group.autoScalingGroupName, {
        launchTemplate: { id: group.launchTemplateId, version: newVersion },
      });
      const zones = new Set([...(await this.deps.cloud.observeSubnets(group.subnets)).values()].map((subnet) => subnet.availabilityZone));
      const outcome = await roller.roll({ nodegroup: group, updateId: update.id, newImageId, force, zoneCount: zones.size, signal });
      if (outcome.ok) {
        group.version = version;
        group.releaseVersion = releaseVersionOf(release);
        group.imageId = newImageId;
        group.launchTemplateVersion = newVersion;
        this.finish(update, "Successful", []);
      } else {
        // The group goes back to launching its previous image; nodes already replaced stay new.
        await this.deps.cloud.updateGroup(group.autoScalingGroupName, {
          launchTemplate: { id: group.launchTemplateId, version: previous.launchTemplateVersion },
        });
        this.finish(update, "Failed", outcome.errors);
      }
    } catch (error) {
      if (signal.aborted) return;
      this.deps.log.error("node group update crashed", { cluster: cluster.name, nodegroup: group.nodegroupName, error: describeError(error) });
      this.finish(update, "Failed", [
        { errorCode: "NodeCreationFailure", errorMessage: describeError(error), resourceIds: [group.autoScalingGroupName] },
      ]);
    } finally {
      group.status = "ACTIVE";
      group.modifiedAt = this.deps.clock.now();
    }
  }

  private refuseWhileNodegroupBusy(group: NodegroupRecord): void {
    const running = this.state
      .updatesOf(group.clusterName, { nodegroupName: group.nodegroupName })
      .find((update) => update.status === "InProgress");
    if (running || group.status !== "ACTIVE") {
      throw resourceInUse(`Nodegroup ${group.nodegroupName} is currently being updated`, {
        clusterName: group.clusterName,
        nodegroupName: group.nodegroupName,
      });
    }
  }

  private releaseFor(version: string, releaseVersion: string | undefined, clusterName: string, nodegroupName: string): AmiRelease {
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

  // ---------------------------------------------------------------- add-ons

  createAddon(clusterName: string, body: Json): Json {
    const cluster = this.cluster(clusterName);
    const addonName = requireString(body, "addonName");
    if (cluster.status !== "ACTIVE") throw invalidRequest(`Cluster '${clusterName}' is not in ACTIVE status`, { clusterName, addonName });
    if (!findAddon(addonName)) throw invalidParameter(`Addon ${addonName} specified is not supported`, { clusterName, addonName });
    if (this.state.addons.has(addonKey(clusterName, addonName))) {
      throw resourceInUse(`Addon already exists with name ${addonName}`, { clusterName, addonName });
    }
    const addonVersion = optionalString(body, "addonVersion") ?? defaultAddonVersion(addonName, cluster.version);
    if (!addonVersion || !isCompatible(addonName, addonVersion, cluster.version)) {
      throw invalidParameter(
        `Addon version ${addonVersion ?? "(none)"} of ${addonName} is not supported on Kubernetes ${cluster.version}`,
        { clusterName, addonName },
      );
    }
    const now = this.deps.clock.now();
    const record: AddonRecord = {
      clusterName,
      addonName,
      addonVersion,
      arn: `arn:aws:eks:${this.deps.region}:${SANDBOX_ACCOUNT_ID}:addon/${clusterName}/${addonName}/${randomUUID().slice(0, 8)}`,
      status: this.creation.addonSeconds > 0 ? "CREATING" : "ACTIVE",
      createdAt: now,
      modifiedAt: now,
      serviceAccountRoleArn: optionalString(body, "serviceAccountRoleArn"),
      configurationValues: optionalString(body, "configurationValues"),
      tags: stringMap(body.tags),
    };
    this.state.addons.set(addonKey(clusterName, addonName), record);
    if (record.status === "CREATING") {
      this.runInBackground(`add-on ${addonName} creation`, async (signal) => {
        await this.deps.clock.sleep(this.creation.addonSeconds, signal);
        record.status = "ACTIVE";
      });
    }
    return { addon: addonView(record) };
  }

  listAddons(clusterName: string, query: URLSearchParams): Json {
    this.cluster(clusterName);
    const names = this.state.addonsOf(clusterName).map((addon) => addon.addonName).sort();
    const page = paginate(names, query);
    return { addons: page.items, nextToken: page.nextToken };
  }

  describeAddon(clusterName: string, addonName: string): Json {
    return { addon: addonView(this.addon(clusterName, addonName)) };
  }

  /**
   * DescribeClusterVersions: the versions the emulator can create and upgrade to, newest first as
   * EKS lists them; `clusterVersions` narrows the answer. 1.31 is the default, as for CreateCluster.
   */
  describeClusterVersions(query: URLSearchParams): Json {
    const wanted = query.getAll("clusterVersions").flatMap((value) => value.split(","));
    const versions = offeredClusterVersions()
      .filter((version) => wanted.length === 0 || wanted.includes(version))
      .reverse();
    return { clusterVersions: versions.map((clusterVersion) => ({ clusterVersion, clusterType: "eks", defaultVersion: clusterVersion === "1.31" })) };
  }

  describeAddonVersions(query: URLSearchParams): Json {
    const kubernetesVersion = query.get("kubernetesVersion") ?? undefined;
    const addonName = query.get("addonName") ?? undefined;
    const entries = ADDON_CATALOG.filter((entry) => addonName === undefined || entry.addonName === addonName)
      .map((entry) => ({
        addonName: entry.addonName,
        type: entry.type,
        publisher: entry.publisher,
        owner: entry.owner,
        defaultNamespace: entry.defaultNamespace,
        addonVersions: versionsFor(entry, kubernetesVersion).map((version) => ({
          addonVersion: version.addonVersion,
          architecture: ["amd64", "arm64"],
          computeTypes: ["ec2"],
          compatibilities: version.clusterVersions
            .filter((clusterVersion) => kubernetesVersion === undefined || clusterVersion === kubernetesVersion)
            .map((clusterVersion) => ({
              clusterVersion,
              platformVersions: ["*"],
              defaultVersion: version.defaultFor.includes(clusterVersion),
            })),
          requiresConfiguration: false,
          requiresIamPermissions: entry.addonName === "vpc-cni" || entry.addonName === "aws-ebs-csi-driver",
        })),
      }))
      .filter((entry) => entry.addonVersions.length > 0);
    const page = paginate(entries, query);
    return { addons: page.items, nextToken: page.nextToken };
  }

  updateAddon(clusterName: string, addonName: string, body: Json): Json {
    const cluster = this.cluster(clusterName);
    const addon = this.addon(clusterName, addonName);
    const token = optionalString(body, "clientRequestToken");
    const known = this.updateForToken(clusterName, `addon/${addonName}`, token);
    if (known) return { update: updateView(known) };
    const running = this.state.updatesOf(clusterName, { addonName }).find((update) => update.status === "InProgress");
    if (running || addon.status !== "ACTIVE") {
      throw resourceInUse(`Addon ${addonName} is currently being updated`, { clusterName, addonName });
    }
    const addonVersion = optionalString(body, "addonVersion") ?? defaultAddonVersion(addonName, cluster.version);
    if (!addonVersion || !isCompatible(addonName, addonVersion, cluster.version)) {
      throw invalidParameter(
        `Addon version ${addonVersion ?? "(none)"} of ${addonName} is not supported on Kubernetes ${cluster.version}`,
        { clusterName, addonName },
      );
    }
    const params = [{ type: "AddonVersion", value: addonVersion }];
    const resolveConflicts = optionalString(body, "resolveConflicts");
    if (resolveConflicts) params.push({ type: "ResolveConflicts", value: resolveConflicts });
    const update = this.newUpdate(clusterName, "AddonUpdate", params, token, { addonName });
    addon.status = "UPDATING";
    addon.modifiedAt = this.deps.clock.now();
    this.runInBackground(`add-on ${addonName} update`, async (signal) => {
      try {
        await this.deps.clock.sleep(cluster.addonUpdateSeconds, signal);
        addon.addonVersion = addonVersion;
        this.finish(update, "Successful", []);
      } finally {
        addon.status = "ACTIVE";
        addon.modifiedAt = this.deps.clock.now();
      }
    });
    return { update: updateView(update) };
  }

  deleteAddon(clusterName: string, addonName: string): Json {
    const addon = this.addon(clusterName, addonName);
    this.state.addons.delete(addonKey(clusterName, addonName));
    return { addon: { ...addonView(addon), status: "DELETING" } };
  }

  // ---------------------------------------------------------------- insights

  listInsights(clusterName: string, body: Json): Json {
    this.cluster(clusterName);
    const filter = (body.filter ?? {}) as Json;
    const categories = stringList(filter.categories);
    const versions = stringList(filter.kubernetesVersions);
    const statuses = stringList(filter.statuses);
    const insights = this.state
      .insightsOf(clusterName)
      .filter((insight) => categories.length === 0 || categories.includes(insight.category))
      .filter((insight) => versions.length === 0 || versions.includes(insight.kubernetesVersion))
      .filter((insight) => statuses.length === 0 || statuses.includes(insight.status))
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(insightSummaryView);
    const params = new URLSearchParams();
    if (typeof body.maxResults === "number") params.set("maxResults", String(body.maxResults));
    if (typeof body.nextToken === "string") params.set("nextToken", body.nextToken);
    const page = paginate(insights, params);
    return { insights: page.items, nextToken: page.nextToken };
  }

  describeInsight(clusterName: string, id: string): Json {
    this.cluster(clusterName);
    const insight = this.state.insights.get(`${clusterName}/${id}`);
    if (!insight) throw resourceNotFound(`No insight found for ID: ${id}`, { clusterName });
    return {
      insight: {
        ...insightSummaryView(insight),
        recommendation: insight.recommendation,
        additionalInfo: insight.additionalInfo,
        resources: insight.resources.map((resource) => ({
          insightStatus: { status: resource.status, reason: resource.reason },
          kubernetesResourceUri: resource.kubernetesResourceUri,
          arn: resource.arn,
        })),
        categorySpecificSummary: { deprecationDetails: insight.deprecationDetails.map((detail) => ({ ...detail, clientStats: [] })) },
      },
    };
  }

  /** Replaces a cluster's insights (PUT /sandbox/clusters/{name}/insights), for scenarios and tests. */
  putInsights(clusterName: string, body: Json): Json {
    this.cluster(clusterName);
    const list = Array.isArray(body.insights) ? (body.insights as Json[]) : [];
    for (const key of [...this.state.insights.keys()]) if (key.startsWith(`${clusterName}/`)) this.state.insights.delete(key);
    const now = this.deps.clock.now();
    for (const item of list) {
      const insight = parseInsight(item, now);
      this.state.insights.set(`${clusterName}/${insight.id}`, insight);
    }
    return { count: list.length };
  }

  // ---------------------------------------------------------------- shared helpers

  // ---------------------------------------------------------------- tags (TagResource, UntagResource, ListTagsForResource)

  /** Tags of a cluster or node group, found by the ARN DescribeCluster / DescribeNodegroup report. */
  private taggable(arn: string): { tags: Record<string, string> } {
    const found = [...this.state.clusters.values()].find((cluster) => cluster.arn === arn) ?? [...this.state.nodegroups.values()].find((group) => group.arn === arn);
    if (!found) throw new EksError("NotFoundException", `Resource not found: ${arn}`);
    return found;
  }

  listTagsForResource(arn: string): Json {
    return { tags: { ...this.taggable(arn).tags } };
  }

  tagResource(arn: string, body: Json): Json {
    const resource = this.taggable(arn);
    const tags = stringMap(body.tags);
    if (Object.keys(tags).length === 0) throw new EksError("BadRequestException", "tags must name at least one tag");
    for (const [key, value] of Object.entries(tags)) checkTag(key, value);
    const merged = { ...resource.tags, ...tags };
    if (Object.keys(merged).length > MAX_TAGS_PER_RESOURCE) throw new EksError("BadRequestException", `a resource may carry at most ${MAX_TAGS_PER_RESOURCE} tags`);
    resource.tags = merged;
    return {};
  }

  untagResource(arn: string, query: URLSearchParams): Json {
    const resource = this.taggable(arn);
    const keys = query.getAll("tagKeys");
    if (keys.length === 0) throw new EksError("BadRequestException", "tagKeys must name at least one key");
    const tags = { ...resource.tags };
    for (const key of keys) delete tags[key];
    resource.tags = tags;
    return {};
  }

  cluster(name: string): ClusterRecord {
    const cluster = this.state.clusters.get(name);
    if (!cluster) throw resourceNotFound(`No cluster found for name: ${name}.`, { clusterName: name });
    return cluster;
  }

  private nodegroup(clusterName: string, nodegroupName: string): NodegroupRecord {
    this.cluster(clusterName);
    const group = this.state.nodegroups.get(nodegroupKey(clusterName, nodegroupName));
    if (!group) throw resourceNotFound(`No node group found for name: ${nodegroupName}.`, { clusterName, nodegroupName });
    return group;
  }

  private addon(clusterName: string, addonName: string): AddonRecord {
    this.cluster(clusterName);
    const addon = this.state.addons.get(addonKey(clusterName, addonName));
    if (!addon) throw resourceNotFound(`No addon: ${addonName} found in cluster: ${clusterName}`, { clusterName, addonName });
    return addon;
  }

  private updateForToken(clusterName: string, scope: string, token: string | undefined): UpdateRecord | undefined {
    if (!token) return undefined;
    const id = this.state.updatesByToken.get(`${clusterName}/${scope}/${token}`);
    return id ? this.state.updates.get(id) : undefined;
  }

  private newUpdate(
    clusterName: string,
    type: UpdateRecord["type"],
    params: UpdateRecord["params"],
    token: string | undefined,
    scope: { nodegroupName?: string; addonName?: string },
  ): UpdateRecord {
    const update: UpdateRecord = {
      id: randomUUID(),
      clusterName,
      nodegroupName: scope.nodegroupName,
      addonName: scope.addonName,
      status: "InProgress",
      type,
      params,
      createdAt: this.deps.clock.now(),
      errors: [],
      clientRequestToken: token,
    };
    this.state.updates.set(update.id, update);
    if (token) {
      const scopeKey = scope.nodegroupName ? `nodegroup/${scope.nodegroupName}` : scope.addonName ? `addon/${scope.addonName}` : "cluster";
      this.state.updatesByToken.set(`${clusterName}/${scopeKey}/${token}`, update.id);
    }
    return update;
  }

  private finish(update: UpdateRecord, status: "Successful" | "Failed", errors: UpdateErrorDetail[]): void {
    update.status = status;
    update.errors = errors;
    this.deps.log.info("update finished", { id: update.id, cluster: update.clusterName, status, errors: errors.map((e) => e.errorCode) });
  }

  private runInBackground(what: string, work: (signal: AbortSignal) => Promise<void>): void {
    const signal = this.abort.signal;
    const task = work(signal)
      .catch((error: unknown) => {
        if (!signal.aborted) this.deps.log.error(`${what} failed`, { error: describeError(error) });
      })
      .finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }
}

// ------------------------------------------------------------------ views (response shapes)

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

export function updateView(update: UpdateRecord): Json {
  return {
    id: update.id,
    status: update.status,
    type: update.type,
    params: update.params,
    createdAt: epochSeconds(update.createdAt),
    errors: update.errors,
  };
}

/** An endpoint in EKS's format that nothing answers: for clusters with no API server in the sandbox. */
function unreachableEndpoint(id: string, region: string): string {
  return `https://${id.replace(/-/g, "").slice(0, 32).toUpperCase()}.gr7.${region}.eks.amazonaws.com`;
}

function clusterView(cluster: ClusterRecord): Json {
  return {
    name: cluster.name,
    arn: cluster.arn,
    id: cluster.id,
    createdAt: epochSeconds(cluster.createdAt),
    version: cluster.version,
    endpoint: cluster.endpoint,
    roleArn: cluster.roleArn,
    resourcesVpcConfig: {
      subnetIds: cluster.subnetIds,
      securityGroupIds: cluster.securityGroupIds,
      clusterSecurityGroupId: cluster.clusterSecurityGroupId,
      vpcId: cluster.vpcId,
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
      publicAccessCidrs: ["0.0.0.0/0"],
    },
    kubernetesNetworkConfig: { serviceIpv4Cidr: "172.20.0.0/16", ipFamily: "ipv4" },
    identity: { oidc: { issuer: `https://oidc.eks.${cluster.arn.split(":")[3]}.amazonaws.com/id/${cluster.id.replace(/-/g, "").toUpperCase()}` } },
    status: cluster.status,
    certificateAuthority: cluster.certificateAuthorityData ? { data: cluster.certificateAuthorityData } : {},
    clientRequestToken: cluster.clientRequestToken,
    platformVersion: cluster.platformVersion,
    tags: cluster.tags,
    health: { issues: [] },
    accessConfig: { authenticationMode: "API_AND_CONFIG_MAP" },
    upgradePolicy: { supportType: "EXTENDED" },
  };
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

function addonView(addon: AddonRecord): Json {
  return {
    addonName: addon.addonName,
    clusterName: addon.clusterName,
    status: addon.status,
    addonVersion: addon.addonVersion,
    health: { issues: [] },
    addonArn: addon.arn,
    createdAt: epochSeconds(addon.createdAt),
    modifiedAt: epochSeconds(addon.modifiedAt),
    serviceAccountRoleArn: addon.serviceAccountRoleArn,
    configurationValues: addon.configurationValues,
    tags: addon.tags,
  };
}

function insightSummaryView(insight: InsightRecord): Json {
  return {
    id: insight.id,
    name: insight.name,
    category: insight.category,
    kubernetesVersion: insight.kubernetesVersion,
    lastRefreshTime: epochSeconds(insight.lastRefreshTime),
    lastTransitionTime: epochSeconds(insight.lastTransitionTime),
    description: insight.description,
    insightStatus: { status: insight.status, reason: insight.reason },
  };
}

// ------------------------------------------------------------------ request parsing

function requireString(body: Json, key: string): string {
  const value = body[key];
  if (typeof value !== "string" || value === "") throw invalidParameter(`${key} is required`);
  return value;
}

function optionalString(body: Json, key: string): string | undefined {
  const value = body[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** EKS tag rules (EKS API reference, TagResource): 128-character keys, 256-character values, these characters. */
const MAX_TAGS_PER_RESOURCE = 50;
const TAG_TEXT = /^[\p{L}\p{N}\s+\-=._:/@]*$/u;

function checkTag(key: string, value: string): void {
  if (key.length === 0 || key.length > 128 || !TAG_TEXT.test(key) || key.toLowerCase().startsWith("aws:")) {
    throw new EksError("BadRequestException", `invalid tag key "${key}": 1 to 128 letters, digits, spaces or + - = . _ : / @, not starting with aws:`);
  }
  if (value.length > 256 || !TAG_TEXT.test(value)) throw new EksError("BadRequestException", `invalid value for tag ${key}: at most 256 letters, digits, spaces or + - = . _ : / @`);
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) if (typeof item === "string") out[key] = item;
  }
  return out;
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
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
  if (count !== undefined && percentage !== undefined) {
    throw invalidParameter("Only one of maxUnavailable and maxUnavailablePercentage may be set", { clusterName, nodegroupName });
  }
  if (count !== undefined) {
    if (typeof count !== "number" || count < 1 || count > MAX_MAX_UNAVAILABLE) {
      throw invalidParameter(`maxUnavailable must be between 1 and ${MAX_MAX_UNAVAILABLE}`, { clusterName, nodegroupName });
    }
    return { maxUnavailable: count };
  }
  if (percentage !== undefined) {
    if (typeof percentage !== "number" || percentage < 1 || percentage > 100) {
      throw invalidParameter("maxUnavailablePercentage must be between 1 and 100", { clusterName, nodegroupName });
    }
    return { maxUnavailablePercentage: percentage };
  }
  return { maxUnavailable: 1 };
}

function parseInsight(item: Json, now: Date): InsightRecord {
  const status = textOf(item.status) || "PASSING";
  if (!["PASSING", "WARNING", "ERROR", "UNKNOWN"].includes(status)) {
    throw invalidParameter(`insight status must be PASSING, WARNING, ERROR or UNKNOWN, got ${status}`);
  }
  const id = optionalString(item, "id") ?? randomUUID();
  return {
    id,
    name: optionalString(item, "name") ?? id,
    category: optionalString(item, "category") ?? "UPGRADE_READINESS",
    kubernetesVersion: requireString(item, "kubernetesVersion"),
    lastRefreshTime: now,
    lastTransitionTime: now,
    description: optionalString(item, "description") ?? "",
    status: status as InsightRecord["status"],
    reason: optionalString(item, "reason") ?? "",
    recommendation: optionalString(item, "recommendation") ?? "",
    additionalInfo: stringMap(item.additionalInfo),
    resources: Array.isArray(item.resources)
      ? (item.resources as Json[]).map((resource) => ({
          kubernetesResourceUri: optionalString(resource, "kubernetesResourceUri"),
          arn: optionalString(resource, "arn"),
          status: optionalString(resource, "status") ?? status,
          reason: optionalString(resource, "reason") ?? "",
        }))
      : [],
    deprecationDetails: Array.isArray(item.deprecationDetails)
      ? (item.deprecationDetails as Json[]).map((detail) => ({
          usage: textOf(detail.usage),
          replacedWith: textOf(detail.replacedWith),
          stopServingVersion: textOf(detail.stopServingVersion),
          startServingReplacementVersion: textOf(detail.startServingReplacementVersion),
        }))
      : [],
  };
}

/** Offset-based pagination with EKS's maxResults/nextToken parameters. */
export function paginate<T>(items: readonly T[], query: URLSearchParams): { items: T[]; nextToken?: string } {
  const rawMax = query.get("maxResults");
  const max = rawMax === null ? 100 : Number(rawMax);
  if (!Number.isInteger(max) || max < 1 || max > 100) throw invalidParameter("maxResults must be between 1 and 100");
  const token = query.get("nextToken");
  const start = token ? Number(Buffer.from(token, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalidParameter("The nextToken is not valid");
  const slice = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max), "utf8").toString("base64url") : undefined;
  return { items: slice, nextToken: next };
}

function describeError(error: unknown): string {
  if (error instanceof EksError) return `${error.type}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
