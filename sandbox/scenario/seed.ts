/**
 * Seeds a running sandbox from a scenario file: the VPC, subnets (with their chosen free-IP
 * counts) and security groups in moto; clusters, managed node groups and add-ons through the EKS
 * emulator's real API (the same @aws-sdk/client-eks calls a user would make); self-managed Auto
 * Scaling groups in moto; hosted zones and weighted records in moto's Route53; workloads in the
 * sandbox's kube-apiserver. Returns once Nodes are Ready and, unless the scenario opts out, every
 * workload runs.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject } from "@kubernetes/client-node";
import {
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { CreateAddonCommand, CreateClusterCommand, CreateNodegroupCommand, EKSClient } from "@aws-sdk/client-eks";
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, DeleteHostedZoneCommand, Route53Client, type RRType } from "@aws-sdk/client-route-53";
import { latestRelease, parseReleaseVersion } from "../eks-emulator/amis.js";
import { MotoCloud } from "../eks-emulator/cloud.js";
import { formatMinorVersion, parseMinorVersion } from "../eks-emulator/versions.js";
import { LABEL_CLUSTER, TAG_CLUSTER_OWNED_PREFIX, TAG_NODE_TEMPLATE_LABEL_PREFIX, TAG_NODE_TEMPLATE_TAINT_PREFIX } from "../eks-emulator/node-spec.js";
import type { SandboxEnv } from "../runtime/env.js";
import { parseScenarioText, type ClusterSpec, type HostedZoneSpec, type NodeGroupSpec, type Scenario } from "./schema.js";
import { buildWorkloads, SCENARIO_LABEL } from "./workloads.js";
import { karpenterObjects, KWOK_NODE_CLASS } from "./karpenter.js";
import { ensureKarpenter } from "../runtime/karpenter.js";

export type { SandboxEnv };

/** One id in 36 starts with Z; 500 draws all miss with a chance below one in a million. */
const MAX_HOSTED_ZONE_ATTEMPTS = 500;

/** Addresses one reserving network interface takes: its primary plus secondaries. */
const ADDRESSES_PER_RESERVING_INTERFACE = 50;
/** Time allowed for Nodes to appear and be Ready: a base plus a little per node (real seconds). */
const NODE_WAIT_BASE_MS = 60_000;
const NODE_WAIT_PER_NODE_MS = 500;
/** Time allowed for workloads to run: a base plus a little per pod (real seconds). */
const POD_WAIT_BASE_MS = 120_000;
const POD_WAIT_PER_POD_MS = 200;

export interface SeededCluster {
  name: string;
  vpcId: string;
  subnetIds: Record<string, string>;
  securityGroupIds: Record<string, string>;
  nodeGroups: Record<string, { kind: NodeGroupSpec["kind"]; autoScalingGroupName: string }>;
}

export interface SeedResult {
  scenario: Scenario;
  clusters: SeededCluster[];
  hostedZoneIds: Record<string, string>;
}

export async function loadScenario(scenarioPath: string): Promise<Scenario> {
  return parseScenarioText(await readFile(scenarioPath, "utf8"), basename(scenarioPath));
}

/** The entry point the sandbox runner calls. */
/** Minors above a self-managed group's version whose EKS AMIs are registered at seeding. */
const SELF_MANAGED_AMI_MINORS_AHEAD = 4;

/**
 * The opt-in tag a platform team puts on every cluster, managed node group, add-on and
 * self-managed Auto Scaling group the operator may change: config/iam's policies allow updates
 * only on resources that carry it (docs/install.md, "Opting resources in"). Neither moto nor the
 * emulator enforces IAM, but the scenarios are set up as a real account would be.
 */
export const MANAGED_TAG = { key: "eksupgrade.io/managed", value: "true" } as const;

export async function seedScenario(scenarioPath: string, env: SandboxEnv): Promise<void> {
  await seedWorld(await loadScenario(scenarioPath), env);
}

/** Seeds an already parsed scenario and tells what was made (ids tests need). */
export async function seedWorld(scenario: Scenario, env: SandboxEnv): Promise<SeedResult> {
  const seeder = new Seeder(scenario, env);
  return seeder.run();
}

class Seeder {
  private readonly ec2: EC2Client;
  private readonly eks: EKSClient;
  private readonly route53: Route53Client;
  private readonly cloud: MotoCloud;
  private readonly kubeConfig: KubeConfig;

  constructor(
    private readonly scenario: Scenario,
    private readonly env: SandboxEnv,
  ) {
    const credentials = { accessKeyId: env.awsAccessKeyId, secretAccessKey: env.awsSecretAccessKey };
    const aws = { region: env.awsRegion, credentials, endpoint: env.awsEndpointUrl };
    this.ec2 = new EC2Client(aws);
    this.route53 = new Route53Client(aws);
    this.eks = new EKSClient({ ...aws, endpoint: env.eksEndpointUrl });
    this.cloud = new MotoCloud({ endpoint: env.awsEndpointUrl, region: env.awsRegion });
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromFile(env.kubeconfigPath);
  }

  async run(): Promise<SeedResult> {
    const clusters: SeededCluster[] = [];
    for (const cluster of this.scenario.clusters) clusters.push(await this.seedCluster(cluster));
    const hostedZoneIds: Record<string, string> = {};
    for (const zone of this.scenario.hostedZones) hostedZoneIds[zone.name] = await this.seedHostedZone(zone);
    for (const cluster of this.scenario.clusters.filter((spec) => spec.mirrorNodes)) {
      // Nodes first, then DaemonSets, then the rest: pods created before their nodes pile onto the
      // first nodes to join, up to their pod limit, and leave no room for the DaemonSet pods.
      await this.waitForNodes(cluster);
      await this.seedKarpenter(cluster);
      await this.seedWorkloads(cluster);
      if (this.scenario.waitForPods) await this.waitForWorkloads(cluster);
    }
    return { scenario: this.scenario, clusters, hostedZoneIds };
  }

  private zoneName(zone: string): string {
    return /^[a-z]$/.test(zone) ? `${this.env.awsRegion}${zone}` : zone;
  }

  private async seedCluster(spec: ClusterSpec): Promise<SeededCluster> {
    const vpc = await this.ec2.send(new CreateVpcCommand({ CidrBlock: spec.vpcCidr }));
    const vpcId = vpc.Vpc?.VpcId;
    if (!vpcId) throw new Error(`creating the VPC of cluster ${spec.name}: moto returned no id`);
    await this.tag(vpcId, `${spec.name}-vpc`);
    const subnetIds: Record<string, string> = {};
    for (const subnet of spec.subnets) {
      const created = await this.ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: subnet.cidr, AvailabilityZone: this.zoneName(subnet.zone) }),
      );
      const id = created.Subnet?.SubnetId;
      if (!id) throw new Error(`creating subnet ${subnet.name}: moto returned no id`);
      await this.tag(id, subnet.name);
      subnetIds[subnet.name] = id;
    }
    const securityGroupIds: Record<string, string> = {};
    for (const name of spec.securityGroups) {
      const created = await this.ec2.send(
        new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: `${spec.name} ${name}` }),
      );
      if (!created.GroupId) throw new Error(`creating security group ${name}: moto returned no id`);
      securityGroupIds[name] = created.GroupId;
    }

    await this.eks.send(
      new CreateClusterCommand({
        name: spec.name,
        version: spec.version,
        roleArn: "arn:aws:iam::123456789012:role/eks-cluster",
        resourcesVpcConfig: {
          subnetIds: spec.subnets.filter((subnet) => subnet.controlPlane).map((subnet) => subnetIds[subnet.name]),
          securityGroupIds: Object.values(securityGroupIds),
        },
        tags: { [SCENARIO_LABEL]: this.scenario.name, [MANAGED_TAG.key]: MANAGED_TAG.value },
      }),
    );
    await this.admin("PUT", `/clusters/${encodeURIComponent(spec.name)}/settings`, {
      mirrorNodes: spec.mirrorNodes,
      controlPlaneUpdateSeconds: spec.controlPlaneUpdateSeconds,
      addonUpdateSeconds: spec.addonUpdateSeconds,
    });
    if (spec.insights.length > 0) {
      await this.admin("PUT", `/clusters/${encodeURIComponent(spec.name)}/insights`, { insights: spec.insights });
    }
    for (const addon of spec.addons) {
      await this.eks.send(
        new CreateAddonCommand({ clusterName: spec.name, addonName: addon.name, addonVersion: addon.version, tags: { [MANAGED_TAG.key]: MANAGED_TAG.value } }),
      );
    }

    const nodeGroups: SeededCluster["nodeGroups"] = {};
    for (const group of spec.nodeGroups) {
      const ids = group.subnets.map((name) => subnetIds[name]);
      nodeGroups[group.name] =
        group.kind === "managed"
          ? { kind: "managed", autoScalingGroupName: await this.createManagedGroup(spec, group, ids) }
          : { kind: "self-managed", autoScalingGroupName: await this.createSelfManagedGroup(spec, group, ids) };
    }
    for (const subnet of spec.subnets) {
      if (subnet.freeIps !== undefined) await this.reserveAddresses(subnet.name, subnetIds[subnet.name], subnet.freeIps);
    }
    return { name: spec.name, vpcId, subnetIds, securityGroupIds, nodeGroups };
  }

  private async createManagedGroup(cluster: ClusterSpec, group: NodeGroupSpec, subnetIds: string[]): Promise<string> {
    const answer = await this.eks.send(
      new CreateNodegroupCommand({
        clusterName: cluster.name,
        nodegroupName: group.name,
        version: group.version,
        releaseVersion: group.releaseVersion,
        subnets: subnetIds,
        instanceTypes: [group.instanceType],
        nodeRole: "arn:aws:iam::123456789012:role/eks-node",
        scalingConfig: { minSize: group.size.min, maxSize: group.size.max, desiredSize: group.size.desired },
        labels: group.labels,
        taints: group.taints.map((taint) => ({
          key: taint.key,
          value: taint.value,
          effect: ({ NoSchedule: "NO_SCHEDULE", NoExecute: "NO_EXECUTE", PreferNoSchedule: "PREFER_NO_SCHEDULE" } as const)[taint.effect],
        })),
        updateConfig:
          group.maxUnavailablePercentage !== undefined
            ? { maxUnavailablePercentage: group.maxUnavailablePercentage }
            : { maxUnavailable: group.maxUnavailable ?? 1 },
        tags: { [MANAGED_TAG.key]: MANAGED_TAG.value },
      }),
    );
    const name = answer.nodegroup?.resources?.autoScalingGroups?.[0]?.name;
    if (!name) throw new Error(`creating node group ${group.name}: the emulator returned no Auto Scaling group`);
    return name;
  }

  /** A self-managed group: launch template + Auto Scaling group, tagged the way EKS docs ask. */
  private async createSelfManagedGroup(cluster: ClusterSpec, group: NodeGroupSpec, subnetIds: string[]): Promise<string> {
    const version = group.version ?? cluster.version;
    const release = (group.releaseVersion ? parseReleaseVersion(group.releaseVersion) : undefined) ?? latestRelease(version);
    const imageId = await this.cloud.ensureAmi(release);
    // AWS publishes an EKS-optimized AMI for every supported minor; a self-managed roll looks the
    // next ones up by name, so they exist here from the start too.
    const base = parseMinorVersion(version);
    if (base) {
      for (let step = 1; step <= SELF_MANAGED_AMI_MINORS_AHEAD; step++) await this.cloud.ensureAmi(latestRelease(formatMinorVersion({ major: base.major, minor: base.minor + step })));
    }
    const name = `${cluster.name}-${group.name}`;
    const tags: Record<string, string> = {
      Name: name,
      [`${TAG_CLUSTER_OWNED_PREFIX}${cluster.name}`]: "owned",
      [`k8s.io/cluster-autoscaler/${cluster.name}`]: "owned",
      [MANAGED_TAG.key]: MANAGED_TAG.value,
    };
    for (const [key, value] of Object.entries(group.labels)) tags[`${TAG_NODE_TEMPLATE_LABEL_PREFIX}${key}`] = value;
    for (const taint of group.taints) tags[`${TAG_NODE_TEMPLATE_TAINT_PREFIX}${taint.key}`] = `${taint.value ?? ""}:${taint.effect}`;
    const template = await this.cloud.createLaunchTemplate(name, imageId, group.instanceType, tags);
    await this.cloud.createGroup({
      name,
      launchTemplateId: template.id,
      launchTemplateVersion: template.version,
      subnetIds,
      minSize: group.size.min,
      maxSize: group.size.max,
      desiredCapacity: group.size.desired,
      tags,
    });
    return name;
  }

  /**
   * Brings a subnet down to `freeIps` free addresses by creating network interfaces that hold the
   * difference (moto counts every interface address against its subnet).
   */
  private async reserveAddresses(name: string, subnetId: string, freeIps: number): Promise<void> {
    const observed = (await this.cloud.observeSubnets([subnetId])).get(subnetId);
    const available = observed?.availableIpAddressCount ?? 0;
    let toReserve = available - freeIps;
    if (toReserve < 0) {
      throw new Error(`subnet ${name} has ${available} free addresses once its instances run; freeIps ${freeIps} cannot be reached (use a larger CIDR)`);
    }
    while (toReserve > 0) {
      const take = Math.min(toReserve, ADDRESSES_PER_RESERVING_INTERFACE);
      await this.ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: subnetId,
          SecondaryPrivateIpAddressCount: take - 1 > 0 ? take - 1 : undefined,
          Description: `sandbox: addresses held to leave ${freeIps} free in ${name}`,
        }),
      );
      toReserve -= take;
    }
  }

  /**
   * Route53 hosted zone ids start with "Z" (and the CRD's hostedZoneId pattern expects it); moto
   * draws 22 random letters and digits. Zones are created again until the id looks like AWS's.
   */
  private async createAwsLikeHostedZone(name: string): Promise<string> {
    for (let attempt = 1; attempt <= MAX_HOSTED_ZONE_ATTEMPTS; attempt++) {
      const created = await this.route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `${this.scenario.name}-${name}-${Date.now()}-${attempt}` }));
      const id = created.HostedZone?.Id;
      if (!id) throw new Error(`creating hosted zone ${name}: moto returned no id`);
      if (id.replace(/^\/hostedzone\//, "").startsWith("Z")) return id;
      await this.route53.send(new DeleteHostedZoneCommand({ Id: id }));
    }
    throw new Error(`creating hosted zone ${name}: moto gave no id starting with Z in ${MAX_HOSTED_ZONE_ATTEMPTS} attempts`);
  }

  private async seedHostedZone(zone: HostedZoneSpec): Promise<string> {
    const id = await this.createAwsLikeHostedZone(zone.name);
    if (zone.records.length > 0) {
      await this.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: id,
          ChangeBatch: {
            Comment: `seeded by scenario ${this.scenario.name}`,
            Changes: zone.records.map((record) => ({
              Action: "UPSERT",
              ResourceRecordSet: {
                Name: record.name,
                Type: record.type as RRType,
                TTL: record.ttl,
                SetIdentifier: record.setIdentifier,
                Weight: record.weight,
                ResourceRecords: record.values.map((Value) => ({ Value })),
              },
            })),
          },
        }),
      );
    }
    return id;
  }

  /** Karpenter only for a cluster with NodePools: started here, it then gives nodes to the pods seeded next. */
  private async seedKarpenter(cluster: ClusterSpec): Promise<void> {
    const objects = karpenterObjects(this.scenario.name, cluster);
    if (objects.length === 0) return;
    await ensureKarpenter(this.env, (line) => process.stderr.write(`[seed] ${line}\n`));
    const client = KubernetesObjectApi.makeApiClient(this.kubeConfig);
    for (const object of objects) {
      try {
        await client.create(object);
      } catch (error) {
        throw new Error(`creating ${object.kind} ${object.metadata?.name}`, { cause: error });
      }
    }
    // Karpenter provisions only for NodePools whose node class is Ready. The KWOKNodeClass CRD
    // declares a Ready status as its default, but the API server drops status on create and the
    // kwok provider runs no node-class controller: the sandbox sets it, as EC2NodeClass's does on AWS.
    const custom = this.kubeConfig.makeApiClient(CustomObjectsApi);
    await custom.patchClusterCustomObjectStatus(
      {
        group: "karpenter.kwok.sh",
        version: "v1alpha1",
        plural: "kwoknodeclasses",
        name: KWOK_NODE_CLASS,
        body: { status: { conditions: [{ type: "Ready", status: "True", reason: "Ready", message: "", lastTransitionTime: new Date().toISOString(), observedGeneration: 1 }] } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  private async seedWorkloads(cluster: ClusterSpec): Promise<void> {
    const { namespaces, objects } = buildWorkloads(this.scenario.name, cluster.name, cluster.workloads, cluster.podDisruptionBudgets);
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    for (const namespace of namespaces) {
      try {
        await core.createNamespace({ body: { metadata: { name: namespace, labels: { [SCENARIO_LABEL]: this.scenario.name } } } });
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    }
    const client = KubernetesObjectApi.makeApiClient(this.kubeConfig);
    // PDBs first: a budget that exists before its pods never lets an early eviction slip through.
    // DaemonSets next, and Ready before anything else is created: one pod per node needs room on
    // every node, which Deployments created alongside would take first on the busiest nodes.
    const ordered = [...objects].sort((a, b) => rank(a) - rank(b));
    const create = async (object: KubernetesObject): Promise<void> => {
      try {
        await client.create(object);
      } catch (error) {
        throw new Error(`creating ${object.kind} ${object.metadata?.namespace}/${object.metadata?.name}`, { cause: error });
      }
    };
    const daemonSets = ordered.filter((object) => object.kind === "DaemonSet");
    await runLimited(ordered.filter((object) => rank(object) < rank({ kind: "DaemonSet" })), 8, create);
    await runLimited(daemonSets, 8, create);
    if (daemonSets.length && this.scenario.waitForPods) await this.waitForDaemonSets(cluster);
    await runLimited(ordered.filter((object) => rank(object) > rank({ kind: "DaemonSet" })), 8, create);
  }

  private async waitForDaemonSets(cluster: ClusterSpec): Promise<void> {
    const apps = this.kubeConfig.makeApiClient(AppsV1Api);
    const selector = `${SCENARIO_LABEL}=${this.scenario.name}`;
    const nodes = cluster.nodeGroups.reduce((sum, group) => sum + group.size.desired, 0);
    await waitFor(`DaemonSets of scenario ${this.scenario.name} on every node`, POD_WAIT_BASE_MS + POD_WAIT_PER_POD_MS * nodes, async () => {
      const waiting = (await apps.listDaemonSetForAllNamespaces({ labelSelector: selector })).items
        .filter((item) => (item.status?.desiredNumberScheduled ?? 0) === 0 || (item.status?.numberReady ?? 0) < (item.status?.desiredNumberScheduled ?? 0))
        .map((item) => `DaemonSet ${item.metadata?.namespace}/${item.metadata?.name} (${item.status?.numberReady ?? 0}/${item.status?.desiredNumberScheduled ?? 0})`);
      return { done: waiting.length === 0, progress: `not ready: ${waiting.join(", ")}` };
    });
  }

  private async waitForNodes(cluster: ClusterSpec): Promise<void> {
    const expected = cluster.nodeGroups.reduce((sum, group) => sum + group.size.desired, 0);
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    await this.admin("POST", "/node-mirror/sync", {});
    await waitFor(
      `${expected} Ready nodes of cluster ${cluster.name}`,
      NODE_WAIT_BASE_MS + NODE_WAIT_PER_NODE_MS * expected,
      async () => {
        const nodes = (await core.listNode({ labelSelector: `${LABEL_CLUSTER}=${cluster.name}` })).items;
        const ready = nodes.filter((node) =>
          node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True"),
        ).length;
        return { done: nodes.length === expected && ready === expected, progress: `${nodes.length} nodes, ${ready} Ready` };
      },
    );
  }

  private async waitForWorkloads(cluster: ClusterSpec): Promise<void> {
    const { expectedPods } = buildWorkloads(this.scenario.name, cluster.name, cluster.workloads);
    const apps = this.kubeConfig.makeApiClient(AppsV1Api);
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    const selector = `${SCENARIO_LABEL}=${this.scenario.name}`;
    await waitFor(`workloads of scenario ${this.scenario.name} running`, POD_WAIT_BASE_MS + POD_WAIT_PER_POD_MS * expectedPods, async () => {
      const waiting: string[] = [];
      for (const item of (await apps.listDeploymentForAllNamespaces({ labelSelector: selector })).items) {
        if ((item.status?.readyReplicas ?? 0) < (item.spec?.replicas ?? 0)) waiting.push(`Deployment ${item.metadata?.namespace}/${item.metadata?.name}`);
      }
      for (const item of (await apps.listStatefulSetForAllNamespaces({ labelSelector: selector })).items) {
        if ((item.status?.readyReplicas ?? 0) < (item.spec?.replicas ?? 0)) waiting.push(`StatefulSet ${item.metadata?.namespace}/${item.metadata?.name}`);
      }
      for (const item of (await apps.listDaemonSetForAllNamespaces({ labelSelector: selector })).items) {
        const desired = item.status?.desiredNumberScheduled ?? 0;
        if (desired === 0 || (item.status?.numberReady ?? 0) < desired) waiting.push(`DaemonSet ${item.metadata?.namespace}/${item.metadata?.name}`);
      }
      for (const pod of (await core.listPodForAllNamespaces({ labelSelector: selector })).items) {
        if (pod.metadata?.ownerReferences?.length) continue;
        const ready = pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True");
        if (!ready) waiting.push(`Pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
      }
      return { done: waiting.length === 0, progress: `not ready: ${waiting.slice(0, 5).join(", ")}${waiting.length > 5 ? ` and ${waiting.length - 5} more` : ""}` };
    });
  }

  private async tag(resourceId: string, name: string): Promise<void> {
    await this.ec2.send(
      new CreateTagsCommand({
        Resources: [resourceId],
        Tags: [
          { Key: "Name", Value: name },
          { Key: SCENARIO_LABEL, Value: this.scenario.name },
        ],
      }),
    );
  }

  private async admin(method: string, path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.env.emulatorAdminUrl}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${this.env.emulatorAdminUrl}${path} answered ${response.status}: ${text}`);
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  }
}

function rank(object: KubernetesObject): number {
  return ({ PodDisruptionBudget: 0, Service: 1, DaemonSet: 2 } as Record<string, number>)[object.kind ?? ""] ?? 3;
}

async function runLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  });
  await Promise.all(workers);
}

async function waitFor(
  what: string,
  timeoutMs: number,
  probe: () => Promise<{ done: boolean; progress: string }>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let progress = "";
  for (;;) {
    const result = await probe();
    if (result.done) return;
    progress = result.progress;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what} (${progress})`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
