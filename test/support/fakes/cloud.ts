// In-memory fakes of the cloud ports for unit tests: they keep just enough state to behave like
// EKS (idempotent client request tokens, one update at a time, versions that change only when an
// update succeeds) and record every call so tests can count them.
import type {
  AddonInfo,
  AddonVersionInfo,
  ClusterBlueprint,
  ClusterInfo,
  CloudPorts,
  Ec2Port,
  EksPort,
  InsightInfo,
  ManagedNodeGroupInfo,
  NodegroupBlueprint,
  SubnetInfo,
  UpdateInfo,
} from "../../../src/cloud/ports.js";
import type { UpdateError } from "../../../src/api/v1alpha1/types.js";
import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from "../../../src/util/errors.js";
import { parseMinor } from "../../../src/api/v1alpha1/version.js";
import type { WorkloadSnapshot } from "../../../src/kube/workload-snapshot.js";
import type { V1Node, V1NodeSystemInfo } from "@kubernetes/client-node";
import { FakeAutoScaling } from "./autoscaling.js";
import { FakeCloudWatch, FakeRoute53 } from "./traffic.js";

/** A Ready node of a managed group, as the node mirror makes them. */
export function fakeNode(name: string, group: string, zone: string, kubelet: string): V1Node {
  return {
    metadata: { name, uid: `uid-${name}`, labels: { "eks.amazonaws.com/nodegroup": group, "topology.kubernetes.io/zone": zone } },
    status: { nodeInfo: { kubeletVersion: kubelet } as V1NodeSystemInfo, conditions: [{ type: "Ready", status: "True" }] },
  };
}

export function emptySnapshot(): WorkloadSnapshot {
  return { nodes: [], pods: [], pdbs: [], deployments: [], statefulSets: [], replicaSets: [], daemonSets: [] };
}

export function clusterArn(name: string): string {
  return `arn:aws:eks:us-east-1:111122223333:cluster/${name}`;
}

function clusterNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf("cluster/") + "cluster/".length);
}

interface FakeUpdate {
  info: UpdateInfo;
  /** DescribeUpdate calls left before it completes. */
  pollsLeft: number;
  outcome: "Successful" | "Failed";
  errors: UpdateError[];
  apply: () => void;
}

export class FakeEks implements EksPort {
  readonly calls: { method: string; args: unknown[] }[] = [];
  clusters = new Map<string, ClusterInfo>();
  nodegroups = new Map<string, ManagedNodeGroupInfo>();
  addons = new Map<string, AddonInfo>();
  /** addon name -> Kubernetes minor -> versions */
  addonCatalog = new Map<string, Map<string, AddonVersionInfo[]>>();
  insights: InsightInfo[] = [];
  /** How many DescribeUpdate calls an update stays InProgress. */
  pollsPerUpdate = 1;
  /** Node groups and add-ons per cluster, for clusters that have their own; others share the two maps above. */
  nodegroupsByCluster = new Map<string, Map<string, ManagedNodeGroupInfo>>();
  addonsByCluster = new Map<string, Map<string, AddonInfo>>();
  /** Settings of clusters and node groups ("cluster/nodegroup") that a clone copies. */
  blueprints = new Map<string, ClusterBlueprint>();
  nodegroupBlueprints = new Map<string, NodegroupBlueprint>();
  /** Created clusters, node groups and add-ons stay CREATING (deleted ones DELETING) for this many describes. */
  pollsPerTransition = 1;
  /** The next createCluster fails with this error, as EKS does for a bad subnet or role. */
  failNextCreate?: Error;
  /**
   * The next createNodegroup or createAddon (as named) fails with this error; with afterCreating
   * EKS has taken the create and only its answer is lost, as when a connection drops.
   */
  failNextPartCreate?: { method: "createNodegroup" | "createAddon"; error: Error; afterCreating?: boolean };
  /** UpdateClusterVersion one minor down (a VersionRollback) fails with this error unless forced, as EKS's readiness checks do. */
  refuseRollback?: Error;
  /** What DescribeClusterVersions answers. */
  offeredVersions = ["1.28", "1.29", "1.30", "1.31", "1.32", "1.33"];
  private readonly transitions = new Map<string, number>();
  private readonly updates = new Map<string, FakeUpdate>();
  private readonly byToken = new Map<string, string>();
  /** "nodegroup/cluster/name" or "addon/cluster/name" -> the token of the create that made it. */
  private readonly createTokens = new Map<string, string>();
  private nextFailures: { errors: UpdateError[]; scope?: "cluster" | "nodegroup" | "addon" }[] = [];
  private sequence = 0;

  count(method: string): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  /** The next update started (of `scope` when given) fails with these errors (EKS reverts; nothing changes). */
  failNextUpdate(errors: UpdateError[], scope?: "cluster" | "nodegroup" | "addon"): void {
    this.nextFailures.push({ errors, ...(scope ? { scope } : {}) });
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  private cluster(name: string): ClusterInfo {
    const cluster = this.clusters.get(name);
    if (!cluster) throw new NotFoundError(`describing EKS cluster ${name}: ResourceNotFoundException: No cluster found for name: ${name}.`);
    return cluster;
  }

  groupsOf(clusterName: string): Map<string, ManagedNodeGroupInfo> {
    return this.nodegroupsByCluster.get(clusterName) ?? this.nodegroups;
  }

  addonsOf(clusterName: string): Map<string, AddonInfo> {
    return this.addonsByCluster.get(clusterName) ?? this.addons;
  }

  /** Counts a describe of something CREATING or DELETING; true once its transition is over. */
  private settled(key: string): boolean {
    const left = this.transitions.get(key);
    if (left === undefined) return true;
    if (left > 0) {
      this.transitions.set(key, left - 1);
      return false;
    }
    this.transitions.delete(key);
    return true;
  }

  private startTransition(key: string): void {
    this.transitions.set(key, this.pollsPerTransition);
  }

  private begin(token: string, type: string, apply: () => void, scope: "cluster" | "nodegroup" | "addon"): UpdateInfo {
    const existing = this.byToken.get(token);
    if (existing) return { ...this.updates.get(existing)!.info };
    const index = this.nextFailures.findIndex((failure) => failure.scope === undefined || failure.scope === scope);
    const failure = index >= 0 ? this.nextFailures.splice(index, 1)[0].errors : undefined;
    const id = `update-${++this.sequence}`;
    const info: UpdateInfo = { id, status: "InProgress", type, errors: [] };
    this.updates.set(id, { info, pollsLeft: this.pollsPerUpdate, outcome: failure ? "Failed" : "Successful", errors: failure ?? [], apply });
    this.byToken.set(token, id);
    return { ...info };
  }

  async describeCluster(clusterName: string): Promise<ClusterInfo> {
    this.record("describeCluster", clusterName);
    await Promise.resolve();
    const cluster = this.cluster(clusterName);
    if ((cluster.status === "CREATING" || cluster.status === "DELETING") && this.settled(`cluster/${clusterName}`)) {
      if (cluster.status === "DELETING") {
        this.clusters.delete(clusterName);
        return this.cluster(clusterName);
      }
      cluster.status = "ACTIVE";
    }
    return { ...cluster, arn: cluster.arn ?? clusterArn(clusterName), ...(cluster.tags ? { tags: { ...cluster.tags } } : {}) };
  }

  /** TagResource as EKS does it: by ARN, adding or overwriting keys. */
  tagCluster(arn: string, tags: Record<string, string>): Promise<void> {
    this.record("tagCluster", arn, tags);
    const cluster = this.cluster(clusterNameOf(arn));
    cluster.tags = { ...cluster.tags, ...tags };
    return Promise.resolve();
  }

  untagCluster(arn: string, keys: string[]): Promise<void> {
    this.record("untagCluster", arn, keys);
    const cluster = this.cluster(clusterNameOf(arn));
    const tags = { ...cluster.tags };
    for (const key of keys) delete tags[key];
    cluster.tags = tags;
    return Promise.resolve();
  }

  listClusterVersions(): Promise<string[]> {
    this.record("listClusterVersions");
    return Promise.resolve([...this.offeredVersions]);
  }

  describeClusterBlueprint(clusterName: string): Promise<ClusterBlueprint> {
    this.record("describeClusterBlueprint", clusterName);
    const cluster = this.cluster(clusterName);
    const blueprint = this.blueprints.get(clusterName) ?? { roleArn: `arn:aws:iam::111122223333:role/${clusterName}-cluster`, subnetIds: cluster.subnetIds, securityGroupIds: cluster.securityGroupIds, enabledLogTypes: [], tags: {} };
    return Promise.resolve(structuredClone(blueprint));
  }

  createCluster(request: { name: string; version: string; blueprint: ClusterBlueprint; clientRequestToken: string }): Promise<ClusterInfo> {
    this.record("createCluster", request);
    if (this.failNextCreate) {
      const error = this.failNextCreate;
      delete this.failNextCreate;
      return Promise.reject(error);
    }
    if (this.clusters.has(request.name)) return Promise.reject(new ConflictError(`ResourceInUseException: Cluster already exists with name: ${request.name}`));
    const cluster: ClusterInfo = {
      name: request.name,
      version: request.version,
      status: "CREATING",
      subnetIds: [...request.blueprint.subnetIds],
      securityGroupIds: [...request.blueprint.securityGroupIds],
      endpoint: `https://${request.name}.eks.example`,
      certificateAuthorityData: "Q0E=",
      tags: { ...request.blueprint.tags },
    };
    this.clusters.set(request.name, cluster);
    this.blueprints.set(request.name, structuredClone(request.blueprint));
    this.nodegroupsByCluster.set(request.name, new Map());
    this.addonsByCluster.set(request.name, new Map());
    this.startTransition(`cluster/${request.name}`);
    return Promise.resolve({ ...cluster });
  }

  describeNodegroupBlueprint(clusterName: string, nodegroupName: string): Promise<NodegroupBlueprint> {
    this.record("describeNodegroupBlueprint", clusterName, nodegroupName);
    const group = this.groupsOf(clusterName).get(nodegroupName);
    if (!group) return Promise.reject(new NotFoundError(`node group ${nodegroupName} not found`));
    const blueprint = this.nodegroupBlueprints.get(`${clusterName}/${nodegroupName}`) ?? {
      nodeRole: "arn:aws:iam::111122223333:role/nodes",
      subnetIds: group.subnetIds,
      scaling: { min: group.minSize, max: group.maxSize, desired: group.desiredSize },
      instanceTypes: group.instanceTypes,
      labels: {},
      taints: [],
      tags: {},
    };
    return Promise.resolve(structuredClone(blueprint));
  }

  createNodegroup(request: { clusterName: string; nodegroupName: string; version: string; blueprint: NodegroupBlueprint; clientRequestToken: string }): Promise<void> {
    this.record("createNodegroup", request);
    return this.partCreate("createNodegroup", () => this.takeNodegroup(request));
  }

  /** Applies failNextPartCreate to one create of a node group or add-on. */
  private partCreate(method: "createNodegroup" | "createAddon", create: () => Promise<void>): Promise<void> {
    const failure = this.failNextPartCreate;
    if (failure?.method !== method) return create();
    delete this.failNextPartCreate;
    if (!failure.afterCreating) return Promise.reject(failure.error);
    return create().then(() => Promise.reject(failure.error));
  }

  private takeNodegroup(request: { clusterName: string; nodegroupName: string; version: string; blueprint: NodegroupBlueprint; clientRequestToken: string }): Promise<void> {
    const cluster = this.cluster(request.clusterName);
    if (cluster.status !== "ACTIVE") return Promise.reject(new ConflictError(`ResourceInUseException: cluster ${request.clusterName} is ${cluster.status}`));
    const groups = this.groupsOf(request.clusterName);
    const key = `nodegroup/${request.clusterName}/${request.nodegroupName}`;
    if (groups.has(request.nodegroupName)) {
      // EKS answers a repeat of a create it took, same token, with that create.
      if (this.createTokens.get(key) === request.clientRequestToken) return Promise.resolve();
      return Promise.reject(new AlreadyExistsError(`ResourceInUseException: NodeGroup already exists with name ${request.nodegroupName}`));
    }
    this.createTokens.set(key, request.clientRequestToken);
    const { blueprint } = request;
    groups.set(request.nodegroupName, {
      name: request.nodegroupName,
      version: request.version,
      status: "CREATING",
      autoScalingGroupNames: [`eks-${request.nodegroupName}`],
      desiredSize: blueprint.scaling.desired,
      minSize: blueprint.scaling.min,
      maxSize: blueprint.scaling.max,
      instanceTypes: [...blueprint.instanceTypes],
      subnetIds: [...blueprint.subnetIds],
      healthIssues: [],
      tags: { ...blueprint.tags },
    });
    this.nodegroupBlueprints.set(`${request.clusterName}/${request.nodegroupName}`, structuredClone(blueprint));
    this.startTransition(`nodegroup/${request.clusterName}/${request.nodegroupName}`);
    return Promise.resolve();
  }

  createAddon(request: { clusterName: string; addonName: string; version: string; clientRequestToken: string; tags?: Record<string, string> }): Promise<void> {
    this.record("createAddon", request);
    return this.partCreate("createAddon", () => this.takeAddon(request));
  }

  private takeAddon(request: { clusterName: string; addonName: string; version: string; clientRequestToken: string; tags?: Record<string, string> }): Promise<void> {
    const addons = this.addonsOf(request.clusterName);
    const key = `addon/${request.clusterName}/${request.addonName}`;
    if (addons.has(request.addonName)) {
      if (this.createTokens.get(key) === request.clientRequestToken) return Promise.resolve();
      return Promise.reject(new AlreadyExistsError(`ResourceInUseException: Addon already exists with name ${request.addonName}`));
    }
    this.createTokens.set(key, request.clientRequestToken);
    addons.set(request.addonName, { name: request.addonName, version: request.version, status: "CREATING", issues: [], ...(request.tags ? { tags: { ...request.tags } } : {}) });
    this.startTransition(`addon/${request.clusterName}/${request.addonName}`);
    return Promise.resolve();
  }

  startNodegroupScalingUpdate(request: { clusterName: string; nodegroupName: string; clientRequestToken: string; scaling: { min: number; max: number; desired: number } }): Promise<UpdateInfo> {
    this.record("startNodegroupScalingUpdate", request);
    const group = this.groupsOf(request.clusterName).get(request.nodegroupName);
    if (!group) return Promise.reject(new NotFoundError(`node group ${request.nodegroupName} not found`));
    return Promise.resolve(
      this.begin(
        request.clientRequestToken,
        "ConfigUpdate",
        () => {
          group.minSize = request.scaling.min;
          group.maxSize = request.scaling.max;
          group.desiredSize = request.scaling.desired;
        },
        "nodegroup",
      ),
    );
  }

  deleteNodegroup(clusterName: string, nodegroupName: string): Promise<void> {
    this.record("deleteNodegroup", clusterName, nodegroupName);
    const group = this.groupsOf(clusterName).get(nodegroupName);
    if (!group) return Promise.reject(new NotFoundError(`node group ${nodegroupName} not found`));
    if (group.status !== "DELETING") {
      group.status = "DELETING";
      this.startTransition(`nodegroup/${clusterName}/${nodegroupName}`);
    }
    return Promise.resolve();
  }

  deleteCluster(clusterName: string): Promise<void> {
    this.record("deleteCluster", clusterName);
    const cluster = this.cluster(clusterName);
    if (this.groupsOf(clusterName).size > 0) return Promise.reject(new ConflictError(`ResourceInUseException: Cluster has nodegroups attached`));
    if (cluster.status !== "DELETING") {
      cluster.status = "DELETING";
      this.startTransition(`cluster/${clusterName}`);
    }
    return Promise.resolve();
  }

  startClusterVersionUpdate(request: { clusterName: string; clientRequestToken: string; version: string; force: boolean }): Promise<UpdateInfo> {
    this.record("startClusterVersionUpdate", request);
    const cluster = this.cluster(request.clusterName);
    const rollback = parseMinor(request.version).minor === parseMinor(cluster.version).minor - 1;
    if (!this.byToken.has(request.clientRequestToken)) {
      if (!rollback && parseMinor(request.version).minor !== parseMinor(cluster.version).minor + 1) {
        return Promise.reject(new ValidationError(`InvalidParameterException: Unsupported Kubernetes minor version update from ${cluster.version} to ${request.version}`));
      }
      if (rollback && this.refuseRollback && !request.force) return Promise.reject(this.refuseRollback);
      const running = [...this.updates.values()].some((update) => update.info.status === "InProgress" && (update.info.type === "VersionUpdate" || update.info.type === "VersionRollback"));
      if (running) return Promise.reject(new ConflictError("ResourceInUseException: an update is already in progress"));
    }
    const info = this.begin(
      request.clientRequestToken,
      rollback && !this.byToken.has(request.clientRequestToken) ? "VersionRollback" : (this.updates.get(this.byToken.get(request.clientRequestToken) ?? "")?.info.type ?? "VersionUpdate"),
      () => {
        cluster.version = request.version;
      },
      "cluster",
    );
    cluster.status = "UPDATING";
    return Promise.resolve(info);
  }

  describeUpdate(clusterName: string, updateId: string): Promise<UpdateInfo> {
    this.record("describeUpdate", clusterName, updateId);
    const update = this.updates.get(updateId);
    if (!update) return Promise.reject(new NotFoundError(`update ${updateId} not found`));
    if (update.info.status === "InProgress") {
      if (update.pollsLeft > 0) update.pollsLeft--;
      else {
        update.info.status = update.outcome;
        update.info.errors = update.errors;
        if (update.outcome === "Successful") update.apply();
        const cluster = this.clusters.get(clusterName);
        if (cluster) cluster.status = "ACTIVE";
      }
    }
    return Promise.resolve({ ...update.info, errors: [...update.info.errors] });
  }

  listNodegroups(clusterName: string): Promise<string[]> {
    this.record("listNodegroups", clusterName);
    return Promise.resolve([...this.groupsOf(clusterName).keys()]);
  }

  describeNodegroup(clusterName: string, nodegroupName: string): Promise<ManagedNodeGroupInfo> {
    this.record("describeNodegroup", clusterName, nodegroupName);
    const groups = this.groupsOf(clusterName);
    const group = groups.get(nodegroupName);
    if (group && (group.status === "CREATING" || group.status === "DELETING") && this.settled(`nodegroup/${clusterName}/${nodegroupName}`)) {
      if (group.status === "DELETING") groups.delete(nodegroupName);
      else group.status = "ACTIVE";
    }
    const found = groups.get(nodegroupName);
    return found ? Promise.resolve({ ...found }) : Promise.reject(new NotFoundError(`node group ${nodegroupName} not found`));
  }

  startNodegroupConfigUpdate(request: { clusterName: string; nodegroupName: string; clientRequestToken: string; updateConfig: { maxUnavailable?: number; maxUnavailablePercentage?: number; updateStrategy?: "DEFAULT" | "MINIMAL" } }): Promise<UpdateInfo> {
    this.record("startNodegroupConfigUpdate", request);
    const group = this.nodegroups.get(request.nodegroupName)!;
    return Promise.resolve(
      this.begin(
        request.clientRequestToken,
        "ConfigUpdate",
        () => {
          const { maxUnavailable, maxUnavailablePercentage, updateStrategy } = request.updateConfig;
          delete group.maxUnavailable;
          delete group.maxUnavailablePercentage;
          Object.assign(group, maxUnavailable !== undefined ? { maxUnavailable } : {}, maxUnavailablePercentage !== undefined ? { maxUnavailablePercentage } : {}, updateStrategy ? { updateStrategy } : {});
        },
        "nodegroup",
      ),
    );
  }

  startNodegroupVersionUpdate(request: { clusterName: string; nodegroupName: string; clientRequestToken: string; version?: string; force: boolean }): Promise<UpdateInfo> {
    this.record("startNodegroupVersionUpdate", request);
    const group = this.nodegroups.get(request.nodegroupName)!;
    const cluster = this.cluster(request.clusterName);
    if (request.version && parseMinor(request.version).minor > parseMinor(cluster.version).minor) {
      return Promise.reject(new ValidationError(`InvalidParameterException: node group version ${request.version} is newer than the control plane ${cluster.version}`));
    }
    return Promise.resolve(
      this.begin(
        request.clientRequestToken,
        "VersionUpdate",
        () => {
          group.version = request.version ?? cluster.version;
        },
        "nodegroup",
      ),
    );
  }

  listAddons(clusterName: string): Promise<string[]> {
    this.record("listAddons", clusterName);
    return Promise.resolve([...this.addonsOf(clusterName).keys()]);
  }

  describeAddon(clusterName: string, addonName: string): Promise<AddonInfo> {
    this.record("describeAddon", clusterName, addonName);
    const addon = this.addonsOf(clusterName).get(addonName);
    if (addon?.status === "CREATING" && this.settled(`addon/${clusterName}/${addonName}`)) addon.status = "ACTIVE";
    return addon ? Promise.resolve({ ...addon }) : Promise.reject(new NotFoundError(`add-on ${addonName} not found`));
  }

  listAddonVersions(addonName: string, kubernetesVersion: string): Promise<AddonVersionInfo[]> {
    this.record("listAddonVersions", addonName, kubernetesVersion);
    return Promise.resolve(this.addonCatalog.get(addonName)?.get(kubernetesVersion) ?? []);
  }

  startAddonUpdate(request: { clusterName: string; addonName: string; version: string; clientRequestToken: string }): Promise<UpdateInfo> {
    this.record("startAddonUpdate", request);
    const addon = this.addons.get(request.addonName)!;
    return Promise.resolve(
      this.begin(
        request.clientRequestToken,
        "AddonUpdate",
        () => {
          addon.version = request.version;
        },
        "addon",
      ),
    );
  }

  listInsights(clusterName: string, categories?: string[]): Promise<InsightInfo[]> {
    this.record("listInsights", clusterName);
    return Promise.resolve(categories?.length ? this.insights.filter((insight) => categories.includes(insight.category ?? "UPGRADE_READINESS")) : this.insights);
  }
}

export class FakeEc2 implements Ec2Port {
  subnets: SubnetInfo[] = [];
  securityGroups: string[] = [];
  /** Kubernetes minor -> the EKS-optimized AMI published for it. */
  amis = new Map<string, string>();
  /** launch template id -> version number -> AMI */
  templates = new Map<string, Map<string, string>>();

  /** version descriptions, by "template|version" */
  descriptions = new Map<string, string>();
  /** The next createLaunchTemplateVersion creates the version, then fails as if the answer were lost. */
  loseNextCreateAnswer = false;
  readonly created: { templateId: string; clientToken: string }[] = [];

  createLaunchTemplateVersion(request: { templateId: string; sourceVersion: string; imageId: string; description: string; clientToken: string }): Promise<string> {
    const versions = this.templates.get(request.templateId);
    if (!versions) return Promise.reject(new NotFoundError(`launch template ${request.templateId} not found`));
    const number = String(versions.size + 1);
    versions.set(number, request.imageId);
    this.descriptions.set(`${request.templateId}|${number}`, request.description);
    this.created.push({ templateId: request.templateId, clientToken: request.clientToken });
    if (this.loseNextCreateAnswer) {
      this.loseNextCreateAnswer = false;
      return Promise.reject(new Error("socket hang up"));
    }
    return Promise.resolve(number);
  }

  findLaunchTemplateVersion(templateId: string, marker: string): Promise<string | undefined> {
    for (const [key, description] of this.descriptions) {
      const [template, version] = key.split("|");
      if (template === templateId && description.includes(marker)) return Promise.resolve(version);
    }
    return Promise.resolve(undefined);
  }

  describeLaunchTemplateVersion(templateId: string, version: string): Promise<{ imageId?: string } | undefined> {
    const image = this.templates.get(templateId)?.get(version);
    return Promise.resolve(image === undefined ? undefined : { imageId: image });
  }

  /** instance id -> AMI, for instances the test (or FakeAutoScaling's launches) registered. */
  instances = new Map<string, string>();

  instanceImages(instanceIds: string[]): Promise<Record<string, string>> {
    return Promise.resolve(Object.fromEntries(instanceIds.filter((id) => this.instances.has(id)).map((id) => [id, this.instances.get(id)!])));
  }

  eksOptimizedAmi(kubernetesVersion: string): Promise<string | undefined> {
    return Promise.resolve(this.amis.get(kubernetesVersion));
  }

  /** Kubernetes minor -> release ("v20250115") of the newest EKS AMI. */
  amiReleases = new Map<string, string>();

  eksOptimizedAmiRelease(kubernetesVersion: string): Promise<string | undefined> {
    return Promise.resolve(this.amiReleases.get(kubernetesVersion));
  }

  describeSubnets(subnetIds: string[]): Promise<SubnetInfo[]> {
    return Promise.resolve(this.subnets.filter((subnet) => subnetIds.includes(subnet.id)).map((subnet) => ({ ...subnet })));
  }

  existingSecurityGroups(groupIds: string[]): Promise<string[]> {
    return Promise.resolve(groupIds.filter((id) => this.securityGroups.includes(id)));
  }
}

/** A small healthy cluster at `version` with two roomy subnets, one node group and three add-ons. */
export function healthyWorld(version = "1.29"): { eks: FakeEks; ec2: FakeEc2; ports: CloudPorts; snapshot: WorkloadSnapshot } {
  const eks = new FakeEks();
  const ec2 = new FakeEc2();
  eks.clusters.set("prod", { name: "prod", version, status: "ACTIVE", subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-1"] });
  ec2.subnets = [
    { id: "subnet-a", availabilityZone: "us-east-1a", availableIpAddressCount: 200, cidrBlock: "10.0.0.0/24" },
    { id: "subnet-b", availabilityZone: "us-east-1b", availableIpAddressCount: 200, cidrBlock: "10.0.1.0/24" },
  ];
  ec2.securityGroups = ["sg-1"];
  eks.nodegroups.set("workers", { name: "workers", version, status: "ACTIVE", autoScalingGroupNames: ["eks-workers"], desiredSize: 3, minSize: 1, maxSize: 6, instanceTypes: ["m5.large"], subnetIds: ["subnet-a", "subnet-b"], healthIssues: [] });
  const minors = ["1.29", "1.30", "1.31", "1.32"];
  for (const [name, base] of [["vpc-cni", 18], ["coredns", 11], ["kube-proxy", 29]] as const) {
    eks.addons.set(name, { name, version: `v1.${base}.0-eksbuild.1`, status: "ACTIVE", issues: [] });
    eks.addonCatalog.set(
      name,
      new Map(minors.map((minor, index) => [minor, [{ version: `v1.${base + index}.0-eksbuild.1`, isDefault: true }, { version: `v1.${base + index}.1-eksbuild.1`, isDefault: false }]])),
    );
  }
  const snapshot = emptySnapshot();
  snapshot.nodes = ["a", "b", "a"].map((zone, index) => fakeNode(`workers-${index}`, "workers", `us-east-1${zone}`, `v${version}.5-eks-1`));
  return { eks, ec2, ports: { eks, ec2, autoscaling: new FakeAutoScaling(), route53: new FakeRoute53(), cloudwatch: new FakeCloudWatch() }, snapshot };
}
