/**
 * Clusters: CreateCluster, DescribeCluster, ListClusters, DeleteCluster, DescribeClusterVersions,
 * and the emulator-only per-cluster settings scenario seeding writes.
 */
import { randomUUID } from "node:crypto";
import { offeredClusterVersions } from "./addon-catalog.js";
import type { EmulatorContext } from "./context.js";
import { invalidParameter, resourceInUse } from "./errors.js";
import { DEFAULT_ADDON_UPDATE_SECONDS, DEFAULT_CONTROL_PLANE_UPDATE_SECONDS, SANDBOX_ACCOUNT_ID } from "./facts.js";
import { epochSeconds, optionalString, paginate, requireString, stringList, stringMap, type Json } from "./request.js";
import { addonKey, type ClusterRecord } from "./state.js";

export class ClusterOperations {
  constructor(private readonly context: EmulatorContext) {}

  async createCluster(body: Json): Promise<Json> {
    const { context } = this;
    const { cloud, region, clock } = context.deps;
    const name = requireString(body, "name");
    if (context.state.clusters.has(name)) throw resourceInUse(`Cluster already exists with name: ${name}`, { clusterName: name });
    const version = optionalString(body, "version") ?? "1.31";
    const vpc = (body.resourcesVpcConfig ?? {}) as Json;
    const subnetIds = stringList(vpc.subnetIds);
    const securityGroupIds = stringList(vpc.securityGroupIds);
    if (subnetIds.length === 0) throw invalidParameter("resourcesVpcConfig.subnetIds is required", { clusterName: name });
    const subnets = await cloud.observeSubnets(subnetIds);
    const missing = subnetIds.filter((id) => !subnets.has(id));
    if (missing.length > 0) throw invalidParameter(`The subnet ID '${missing.join("', '")}' does not exist`, { clusterName: name });
    const zones = new Set([...subnets.values()].map((subnet) => subnet.availabilityZone));
    if (zones.size < 2) {
      throw invalidParameter("Subnets specified must be in at least two different AZs", { clusterName: name });
    }
    const groups = await cloud.existingSecurityGroups(securityGroupIds);
    const missingGroups = securityGroupIds.filter((id) => !groups.has(id));
    if (missingGroups.length > 0) {
      throw invalidParameter(`The security group '${missingGroups.join("', '")}' does not exist`, { clusterName: name });
    }
    const vpcId = (await cloud.subnetVpcs(subnetIds)).get(subnetIds[0]) ?? "";
    const id = randomUUID();
    const tags = stringMap(body.tags);
    // A cluster created through the API is reachable at the sandbox apiserver (with an EKS token);
    // scenario seeding then keeps that address only for mirrored clusters (configureCluster).
    const apiServer = context.deps.apiServer;
    const clusterSecurityGroupId = await cloud.createSecurityGroup(
      vpcId,
      `eks-cluster-sg-${name}-${id.slice(0, 8)}`,
      `EKS created security group applied to ENI that is attached to EKS Control Plane master nodes of ${name}`,
    );
    const cluster: ClusterRecord = {
      name,
      id,
      arn: `arn:aws:eks:${region}:${SANDBOX_ACCOUNT_ID}:cluster/${name}`,
      createdAt: clock.now(),
      version,
      platformVersion: "eks.1",
      // ACTIVE at once unless PUT /sandbox/settings asks for a creation time (then CREATING first).
      status: context.creation.clusterSeconds > 0 ? "CREATING" : "ACTIVE",
      roleArn: optionalString(body, "roleArn") ?? `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:role/eks-cluster`,
      vpcId,
      subnetIds,
      securityGroupIds,
      clusterSecurityGroupId,
      endpoint: apiServer?.server ?? unreachableEndpoint(id, region),
      certificateAuthorityData: apiServer?.caData,
      tags,
      clientRequestToken: optionalString(body, "clientRequestToken"),
      controlPlaneUpdateSeconds: DEFAULT_CONTROL_PLANE_UPDATE_SECONDS,
      addonUpdateSeconds: DEFAULT_ADDON_UPDATE_SECONDS,
      mirrorNodes: false,
    };
    context.state.clusters.set(name, cluster);
    if (cluster.status === "CREATING") {
      context.runInBackground(`cluster ${name} creation`, async (signal) => {
        await clock.sleep(context.creation.clusterSeconds, signal);
        cluster.status = "ACTIVE";
      });
    }
    return { cluster: clusterView(cluster) };
  }

  describeCluster(name: string): Json {
    return { cluster: clusterView(this.context.cluster(name)) };
  }

  listClusters(query: URLSearchParams): Json {
    const names = [...this.context.state.clusters.keys()].sort();
    const page = paginate(names, query);
    return { clusters: page.items, nextToken: page.nextToken };
  }

  deleteCluster(name: string): Json {
    const { state } = this.context;
    const cluster = this.context.cluster(name);
    if (state.nodegroupsOf(name).length > 0) {
      throw resourceInUse(`Cluster has nodegroups attached`, { clusterName: name });
    }
    state.clusters.delete(name);
    for (const addon of state.addonsOf(name)) state.addons.delete(addonKey(name, addon.addonName));
    return { cluster: { ...clusterView(cluster), status: "DELETING" } };
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

  /** Emulator-only knobs set by scenario seeding (PUT /sandbox/clusters/{name}/settings). */
  configureCluster(name: string, body: Json): Json {
    const { apiServer, region } = this.context.deps;
    const cluster = this.context.cluster(name);
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
    // Ages the last upgrade, so that tests reach the end of the rollback window without waiting 7 days.
    const upgradeAge = seconds("lastUpgradeAgeSeconds");
    if (upgradeAge !== undefined) {
      if (!cluster.lastVersionUpgrade) throw invalidParameter(`cluster ${name} has no upgrade to age: upgrade it first`);
      cluster.lastVersionUpgrade.at = this.context.deps.clock.eksSecondsAgo(upgradeAge);
    }
    if (typeof body.mirrorNodes === "boolean") {
      cluster.mirrorNodes = body.mirrorNodes;
      if (cluster.mirrorNodes && apiServer) {
        cluster.endpoint = apiServer.server;
        cluster.certificateAuthorityData = apiServer.caData;
      } else if (!cluster.mirrorNodes) {
        // A scenario cluster that is not mirrored has no API server in the sandbox.
        cluster.endpoint = unreachableEndpoint(cluster.id, region);
        delete cluster.certificateAuthorityData;
      }
    }
    return {
      name: cluster.name,
      controlPlaneUpdateSeconds: cluster.controlPlaneUpdateSeconds,
      addonUpdateSeconds: cluster.addonUpdateSeconds,
      mirrorNodes: cluster.mirrorNodes,
      ...(cluster.lastVersionUpgrade
        ? { lastUpgrade: { from: cluster.lastVersionUpgrade.from, to: cluster.lastVersionUpgrade.to, ageSeconds: Math.round(this.context.deps.clock.eksSecondsSince(cluster.lastVersionUpgrade.at)) } }
        : {}),
    };
  }
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
