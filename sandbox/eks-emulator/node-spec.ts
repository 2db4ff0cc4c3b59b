/**
 * How an EC2 instance looks as a Kubernetes Node, the way the AWS cloud controller manager and the
 * kubelet of an EKS node make it: providerID, topology and instance-type labels, the managed node
 * group labels, and the kubelet version of its AMI. Pure: the node mirror feeds it what it read.
 */
import type { V1Node } from "@kubernetes/client-node";

/** Labels and annotations the mirror owns. The cluster label keeps two emulated clusters apart. */
export const LABEL_CLUSTER = "sandbox.eks-upgrade-operator.io/cluster";
export const LABEL_AUTO_SCALING_GROUP = "sandbox.eks-upgrade-operator.io/auto-scaling-group";
export const LABEL_NODEGROUP = "eks.amazonaws.com/nodegroup";
export const LABEL_NODEGROUP_IMAGE = "eks.amazonaws.com/nodegroup-image";
export const LABEL_CAPACITY_TYPE = "eks.amazonaws.com/capacityType";
export const LABEL_ZONE = "topology.kubernetes.io/zone";
export const LABEL_REGION = "topology.kubernetes.io/region";
export const LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type";
/** kwok takes charge of Nodes carrying this annotation (its --manage-nodes-with-annotation-selector). */
export const KWOK_ANNOTATION = "kwok.x-k8s.io/node";
export const KWOK_ANNOTATION_VALUE = "fake";

/** Tags EKS and the cluster autoscaler conventions put on Auto Scaling groups. */
export const TAG_EKS_CLUSTER = "eks:cluster-name";
export const TAG_EKS_NODEGROUP = "eks:nodegroup-name";
export const TAG_CLUSTER_OWNED_PREFIX = "kubernetes.io/cluster/";
export const TAG_NODE_TEMPLATE_LABEL_PREFIX = "k8s.io/cluster-autoscaler/node-template/label/";
export const TAG_NODE_TEMPLATE_TAINT_PREFIX = "k8s.io/cluster-autoscaler/node-template/taint/";

export interface InstanceCapacity {
  cpu: string;
  memory: string;
  /** Max pods from the VPC CNI formula: ENIs x (IPv4 per ENI - 1) + 2. */
  pods: number;
}

/** Capacity of the instance types the scenarios use (AWS's published vCPU, memory and ENI limits). */
export const INSTANCE_CAPACITY: Readonly<Record<string, InstanceCapacity>> = {
  "t3.medium": { cpu: "2", memory: "3943Mi", pods: 17 },
  "t3.large": { cpu: "2", memory: "7975Mi", pods: 35 },
  "m5.large": { cpu: "2", memory: "7785Mi", pods: 29 },
  "m5.xlarge": { cpu: "4", memory: "15896Mi", pods: 58 },
  "m5.2xlarge": { cpu: "8", memory: "32119Mi", pods: 58 },
  "m5.4xlarge": { cpu: "16", memory: "64453Mi", pods: 234 },
  "c5.large": { cpu: "2", memory: "3788Mi", pods: 29 },
  "c5.xlarge": { cpu: "4", memory: "7680Mi", pods: 58 },
  "r5.large": { cpu: "2", memory: "15766Mi", pods: 29 },
};

export function capacityOf(instanceType: string): InstanceCapacity | undefined {
  return INSTANCE_CAPACITY[instanceType];
}

export interface MirroredInstance {
  clusterName: string;
  region: string;
  autoScalingGroupName: string;
  /** Set for EKS managed node groups only. */
  nodegroupName?: string;
  instanceId: string;
  instanceType: string;
  imageId: string;
  privateDnsName: string;
  privateIpAddress: string;
  zone: string;
  kubeletVersion: string;
  capacityType?: string;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
}

export function providerIdOf(zone: string, instanceId: string): string {
  return `aws:///${zone}/${instanceId}`;
}

/** The instance id in "aws:///us-west-2a/i-0abc", or undefined for any other provider. */
export function instanceIdFromProviderId(providerId: string | undefined): string | undefined {
  const match = /^aws:\/\/\/[^/]+\/(i-[0-9a-zA-Z]+)$/.exec(providerId ?? "");
  return match ? match[1] : undefined;
}

export function buildNode(instance: MirroredInstance): V1Node {
  const capacity = capacityOf(instance.instanceType) ?? { cpu: "2", memory: "7785Mi", pods: 29 };
  const resources = { cpu: capacity.cpu, memory: capacity.memory, pods: String(capacity.pods), "ephemeral-storage": "20Gi" };
  const labels: Record<string, string> = {
    ...instance.labels,
    "kubernetes.io/hostname": instance.privateDnsName,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    [LABEL_INSTANCE_TYPE]: instance.instanceType,
    [LABEL_ZONE]: instance.zone,
    [LABEL_REGION]: instance.region,
    [LABEL_CLUSTER]: instance.clusterName,
    [LABEL_AUTO_SCALING_GROUP]: instance.autoScalingGroupName,
  };
  if (instance.nodegroupName !== undefined) {
    labels[LABEL_NODEGROUP] = instance.nodegroupName;
    labels[LABEL_NODEGROUP_IMAGE] = instance.imageId;
    labels[LABEL_CAPACITY_TYPE] = instance.capacityType ?? "ON_DEMAND";
  }
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: instance.privateDnsName,
      labels,
      annotations: { [KWOK_ANNOTATION]: KWOK_ANNOTATION_VALUE, "node.alpha.kubernetes.io/ttl": "0" },
    },
    spec: {
      providerID: providerIdOf(instance.zone, instance.instanceId),
      taints: instance.taints.length > 0 ? instance.taints.map((taint) => ({ ...taint })) : undefined,
    },
    status: {
      capacity: resources,
      allocatable: resources,
      addresses: [
        { type: "InternalIP", address: instance.privateIpAddress },
        { type: "Hostname", address: instance.privateDnsName },
        { type: "InternalDNS", address: instance.privateDnsName },
      ],
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        osImage: "Amazon Linux 2023",
        kernelVersion: "6.1.0-eks",
        containerRuntimeVersion: "containerd://1.7.27",
        kubeletVersion: instance.kubeletVersion,
        kubeProxyVersion: instance.kubeletVersion,
        bootID: "",
        machineID: instance.instanceId,
        systemUUID: instance.instanceId,
      },
    },
  };
}

/**
 * moto starts every instance of a group in the first subnet of VPCZoneIdentifier (sandbox-facts);
 * an Auto Scaling group balances across its zones. The mirror places each new instance in the
 * zone of the group that holds the fewest of its nodes, ties going to the order of the group's
 * subnets, which is what the balancing converges to and stays stable once a Node is labelled.
 */
export function assignZones(
  groupZones: readonly string[],
  existingZoneCounts: ReadonlyMap<string, number>,
  newInstanceIds: readonly string[],
): Map<string, string> {
  const zones = [...new Set(groupZones)];
  const counts = new Map(zones.map((zone) => [zone, existingZoneCounts.get(zone) ?? 0]));
  const out = new Map<string, string>();
  if (zones.length === 0) return out;
  for (const instanceId of newInstanceIds) {
    let best = zones[0];
    for (const zone of zones) if ((counts.get(zone) ?? 0) < (counts.get(best) ?? 0)) best = zone;
    out.set(instanceId, best);
    counts.set(best, (counts.get(best) ?? 0) + 1);
  }
  return out;
}

/** Labels declared on a self-managed group with the cluster autoscaler's node-template tags. */
export function labelsFromTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (key.startsWith(TAG_NODE_TEMPLATE_LABEL_PREFIX)) out[key.slice(TAG_NODE_TEMPLATE_LABEL_PREFIX.length)] = value;
  }
  return out;
}

/** Taints declared with node-template tags: the value is "value:Effect" (or ":Effect"). */
export function taintsFromTags(tags: Readonly<Record<string, string>>): Array<{ key: string; value?: string; effect: string }> {
  const out: Array<{ key: string; value?: string; effect: string }> = [];
  for (const [key, raw] of Object.entries(tags)) {
    if (!key.startsWith(TAG_NODE_TEMPLATE_TAINT_PREFIX)) continue;
    const separator = raw.lastIndexOf(":");
    const value = separator >= 0 ? raw.slice(0, separator) : raw;
    const effect = separator >= 0 ? raw.slice(separator + 1) : "NoSchedule";
    out.push({ key: key.slice(TAG_NODE_TEMPLATE_TAINT_PREFIX.length), value: value === "" ? undefined : value, effect });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** The cluster an Auto Scaling group belongs to, from its kubernetes.io/cluster/<name> tag. */
export function clusterOfGroup(tags: Readonly<Record<string, string>>): string | undefined {
  const eksTag = tags[TAG_EKS_CLUSTER];
  if (eksTag) return eksTag;
  for (const key of Object.keys(tags)) {
    if (key.startsWith(TAG_CLUSTER_OWNED_PREFIX)) return key.slice(TAG_CLUSTER_OWNED_PREFIX.length);
  }
  return undefined;
}
