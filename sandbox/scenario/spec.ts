/**
 * A scenario as the sandbox uses it once read: every default applied, the node group size written
 * out. schema.ts turns a scenario file into this; seed.ts and workloads.ts consume it.
 */
export interface Scenario {
  name: string;
  description: string;
  clusters: ClusterSpec[];
  hostedZones: HostedZoneSpec[];
  /** Seeding waits for every workload pod to run unless this is false. */
  waitForPods: boolean;
}

export interface ClusterSpec {
  name: string;
  version: string;
  /** Mirror this cluster's instances as Nodes of the sandbox apiserver (at most one cluster may). */
  mirrorNodes: boolean;
  controlPlaneUpdateSeconds?: number;
  addonUpdateSeconds?: number;
  vpcCidr: string;
  subnets: SubnetSpec[];
  securityGroups: string[];
  addons: AddonSpec[];
  insights: InsightSpec[];
  nodeGroups: NodeGroupSpec[];
  workloads: WorkloadSpec[];
  /** Budgets that stand on their own, selecting pods by label (e.g. a second PDB over a workload). */
  podDisruptionBudgets: StandalonePdbSpec[];
  /** NodePools for Karpenter's kwok provider; the sandbox starts Karpenter only when there are any. */
  karpenter: KarpenterSpec | undefined;
}

export interface KarpenterSpec {
  nodePools: NodePoolSpec[];
}

/** A NodePool disruption budget as Karpenter takes it (schedule and duration go together). */
export interface NodePoolBudgetSpec {
  nodes: string;
  reasons?: Array<"Drifted" | "Underutilized" | "Empty">;
  schedule?: string;
  duration?: string;
}

export interface NodePoolSpec {
  name: string;
  /** Labels of the NodePool's nodes, beside karpenter.sh/nodepool and the sandbox's cluster label. */
  labels: Record<string, string>;
  budgets: NodePoolBudgetSpec[];
  /** The kwok provider's fake instance types this pool may use (karpenter.kwok.sh/instance-family). */
  instanceFamilies: string[];
}

export interface StandalonePdbSpec extends PdbSpec {
  name: string;
  namespace: string;
  matchLabels: Record<string, string>;
}

export interface SubnetSpec {
  name: string;
  /** Full zone name, e.g. us-east-1a; a bare letter in the file is prefixed with the region when seeding. */
  zone: string;
  cidr: string;
  /** Free addresses the subnet should have once the world is seeded (instances included). */
  freeIps?: number;
  /** Given to CreateCluster as a control-plane subnet (default true); node-only subnets say false. */
  controlPlane: boolean;
}

export interface AddonSpec {
  name: string;
  version?: string;
}

export interface InsightSpec {
  id: string;
  name: string;
  category: string;
  kubernetesVersion: string;
  status: "PASSING" | "WARNING" | "ERROR" | "UNKNOWN";
  reason: string;
  description: string;
  recommendation: string;
  resources: Array<{ kubernetesResourceUri?: string; status: string; reason: string }>;
  deprecationDetails: Array<{ usage: string; replacedWith: string; stopServingVersion: string; startServingReplacementVersion: string }>;
}

export interface NodeGroupSpec {
  name: string;
  kind: "managed" | "self-managed";
  instanceType: string;
  version?: string;
  releaseVersion?: string;
  /** Subnet names; all of the cluster's subnets when absent. */
  subnets: string[];
  size: { min: number; max: number; desired: number };
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: "NoSchedule" | "NoExecute" | "PreferNoSchedule" }>;
  maxUnavailable?: number;
  maxUnavailablePercentage?: number;
}

export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet" | "Pod";

export interface PdbSpec {
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
}

export interface WorkloadSpec {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  replicas: number;
  /** How many copies of this workload to create, named <name>-0, <name>-1... (for large scenarios). */
  copies: number;
  pdb?: PdbSpec;
  antiAffinity?: "required" | "preferred";
  emptyDir: boolean;
  doNotDisrupt: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeSelector: Record<string, string>;
  priorityClassName?: string;
  cpu: string;
  memory: string;
  terminationGracePeriodSeconds: number;
}

export interface HostedZoneSpec {
  name: string;
  records: RecordSpec[];
}

export interface RecordSpec {
  name: string;
  type: string;
  ttl: number;
  setIdentifier?: string;
  weight?: number;
  values: string[];
}

/** Defaults that keep pods cheap for the scheduler and quick to drain on kwok nodes. */
export const WORKLOAD_DEFAULTS = { cpu: "10m", memory: "16Mi", terminationGracePeriodSeconds: 2 } as const;

/** eks-upgrade-facts "Route53 weighted records": weight is 0-255, at most 100 records per set. */
export const ROUTE53_MAX_WEIGHT = 255;
export const ROUTE53_MAX_WEIGHTED_RECORDS_PER_SET = 100;

/** moto (like AWS) reserves 5 addresses of every subnet (sandbox-facts "moto"). */
export const RESERVED_ADDRESSES_PER_SUBNET = 5;
