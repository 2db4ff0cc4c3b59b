/**
 * The cloud controller manager's part of the sandbox: every running instance of a node group or of
 * a self-managed Auto Scaling group of a mirrored cluster appears as a Node in the sandbox's
 * kube-apiserver (kwok then plays its kubelet), and its Node is deleted once the instance is gone.
 */
import type { V1Node } from "@kubernetes/client-node";
import { kubeletVersionOf, parseAmiName } from "./amis.js";
import type { GroupView, InstanceView, MotoCloud } from "./cloud.js";
import type { KubeAccess } from "./kube.js";
import type { Logger } from "./log.js";
import {
  LABEL_CLUSTER,
  LABEL_ZONE,
  TAG_EKS_NODEGROUP,
  assignZones,
  buildNode,
  clusterOfGroup,
  instanceIdFromProviderId,
  labelsFromTags,
  taintsFromTags,
  type MirroredInstance,
} from "./node-spec.js";
import { nodegroupKey, type EmulatorState } from "./state.js";

export interface MirrorPassResult {
  created: string[];
  deleted: string[];
  reclaimedInterfaces: number;
}

export class NodeMirror {
  private readonly subnetZones = new Map<string, string>();
  private readonly reclaimedInstances = new Set<string>();

  constructor(
    private readonly state: EmulatorState,
    private readonly cloud: MotoCloud,
    private readonly kube: KubeAccess,
    private readonly region: string,
    private readonly log: Logger,
    /** Real milliseconds from an instance's launch to its Node (already scaled by the time factor). */
    private readonly bootMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forgets what it cached (after a sandbox reset, moto's ids start over). */
  reset(): void {
    this.subnetZones.clear();
    this.reclaimedInstances.clear();
  }

  /** One reconcile of Nodes against instances. Safe to run repeatedly; the loop in main.ts does. */
  async reconcileOnce(): Promise<MirrorPassResult> {
    const mirroredClusters = new Set(
      [...this.state.clusters.values()].filter((cluster) => cluster.mirrorNodes).map((cluster) => cluster.name),
    );
    const groups = (await this.cloud.listGroups()).filter((group) => {
      const cluster = clusterOfGroup(group.tags);
      return cluster !== undefined && mirroredClusters.has(cluster);
    });
    const instanceIds = groups.flatMap((group) => group.instanceIds);
    const instances = await this.cloud.describeInstances(instanceIds);
    const imageNames = await this.cloud.imageNames([...instances.values()].map((instance) => instance.imageId));
    await this.learnSubnetZones(groups);

    const nodes = await this.kube.listNodes(LABEL_CLUSTER);
    const nodeByInstance = new Map<string, V1Node>();
    for (const node of nodes) {
      const id = instanceIdFromProviderId(node.spec?.providerID);
      if (id) nodeByInstance.set(id, node);
    }

    const wanted = new Set<string>();
    const created: string[] = [];
    for (const group of groups) {
      const running = group.instanceIds
        .map((id) => instances.get(id))
        .filter((instance): instance is InstanceView => instance !== undefined && instance.state === "running")
        .sort(byLaunchThenId);
      for (const instance of running) wanted.add(instance.instanceId);
      // A new instance joins once it has booted; until then it runs with no Node, as on EKS.
      const booted = (instance: InstanceView): boolean => instance.launchTime === undefined || this.now() - instance.launchTime.getTime() >= this.bootMs;
      const fresh = running.filter((instance) => !nodeByInstance.has(instance.instanceId) && booted(instance));
      if (fresh.length === 0) continue;
      const zones = this.placeInZones(group, running, nodeByInstance, fresh);
      for (const instance of fresh) {
        const mirrored = this.describeInstance(group, instance, zones.get(instance.instanceId) ?? "", imageNames);
        if (!mirrored) continue;
        await this.kube.createNode(buildNode(mirrored));
        created.push(mirrored.privateDnsName);
      }
    }

    const deleted: string[] = [];
    for (const node of nodes) {
      const id = instanceIdFromProviderId(node.spec?.providerID);
      const cluster = node.metadata?.labels?.[LABEL_CLUSTER];
      if (!id || !cluster || !mirroredClusters.has(cluster) || wanted.has(id)) continue;
      await this.kube.deleteNode(node.metadata?.name ?? "");
      deleted.push(node.metadata?.name ?? "");
    }

    const reclaimedInterfaces = await this.cloud.reclaimInterfacesOfTerminatedInstances(this.reclaimedInstances);
    if (created.length > 0 || deleted.length > 0) {
      this.log.info("node mirror pass", { created: created.length, deleted: deleted.length });
    }
    return { created, deleted, reclaimedInterfaces };
  }

  private async learnSubnetZones(groups: readonly GroupView[]): Promise<void> {
    const unknown = [...new Set(groups.flatMap((group) => group.subnetIds))].filter((id) => !this.subnetZones.has(id));
    if (unknown.length === 0) return;
    const observed = await this.cloud.observeSubnets(unknown);
    for (const [id, subnet] of observed) this.subnetZones.set(id, subnet.availabilityZone);
  }

  private placeInZones(
    group: GroupView,
    running: readonly InstanceView[],
    nodeByInstance: ReadonlyMap<string, V1Node>,
    fresh: readonly InstanceView[],
  ): Map<string, string> {
    const groupZones = group.subnetIds.map((id) => this.subnetZones.get(id) ?? "").filter((zone) => zone !== "");
    const counts = new Map<string, number>();
    for (const instance of running) {
      const zone = nodeByInstance.get(instance.instanceId)?.metadata?.labels?.[LABEL_ZONE];
      if (zone) counts.set(zone, (counts.get(zone) ?? 0) + 1);
    }
    return assignZones(
      groupZones,
      counts,
      fresh.map((instance) => instance.instanceId),
    );
  }

  private describeInstance(
    group: GroupView,
    instance: InstanceView,
    zone: string,
    imageNames: ReadonlyMap<string, string>,
  ): MirroredInstance | undefined {
    const clusterName = clusterOfGroup(group.tags) ?? "";
    const release = parseAmiName(imageNames.get(instance.imageId) ?? "");
    if (!release) {
      this.log.warn("instance runs an image that is not an EKS node AMI; not mirrored", {
        instance: instance.instanceId,
        image: instance.imageId,
      });
      return undefined;
    }
    const nodegroupName = group.tags[TAG_EKS_NODEGROUP];
    const managed = nodegroupName ? this.state.nodegroups.get(nodegroupKey(clusterName, nodegroupName)) : undefined;
    return {
      clusterName,
      region: this.region,
      autoScalingGroupName: group.name,
      nodegroupName: nodegroupName || undefined,
      instanceId: instance.instanceId,
      instanceType: instance.instanceType,
      imageId: instance.imageId,
      privateDnsName: instance.privateDnsName || instance.instanceId,
      privateIpAddress: instance.privateIpAddress,
      zone,
      kubeletVersion: kubeletVersionOf(release),
      capacityType: managed?.capacityType,
      labels: managed ? { ...managed.labels } : labelsFromTags(group.tags),
      taints: managed ? managed.taints.map((taint) => ({ ...taint })) : taintsFromTags(group.tags),
    };
  }
}

function byLaunchThenId(a: InstanceView, b: InstanceView): number {
  const time = (a.launchTime?.getTime() ?? 0) - (b.launchTime?.getTime() ?? 0);
  return time !== 0 ? time : a.instanceId.localeCompare(b.instanceId);
}

