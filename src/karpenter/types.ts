// The fields of Karpenter's v1 objects this operator reads or changes, no more: NodePool,
// NodeClaim and the AWS provider's EC2NodeClass (karpenter.sh/v1, karpenter.k8s.aws/v1). Other
// fields stay untouched because every write is a merge patch of exactly one field.

export const KARPENTER_GROUP = "karpenter.sh";
export const KARPENTER_VERSION = "v1";
export const EC2_NODE_CLASS_GROUP = "karpenter.k8s.aws";
export const EC2_NODE_CLASS_VERSION = "v1";

/** Karpenter labels every NodeClaim and Node it creates with its NodePool's name. */
export const NODEPOOL_LABEL = "karpenter.sh/nodepool";
/** On a pod or a node: Karpenter does not disrupt the node voluntarily (drift included). */
export const DO_NOT_DISRUPT_ANNOTATION = "karpenter.sh/do-not-disrupt";
/**
 * Written by this operator on the template of a NodePool whose node class selects no image by
 * Kubernetes version: changing it changes the template's hash, so Karpenter drifts the pool's
 * NodeClaims. The value is the Kubernetes minor the replacements are meant to run.
 */
export const KUBERNETES_VERSION_ANNOTATION = "eksupgrade.io/kubernetes-version";

export interface ObjectMeta {
  name: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface NodeClassReference {
  group: string;
  kind: string;
  name: string;
}

/** spec.disruption.budgets[]: schedule (cron, UTC) and duration go together. */
export interface NodePoolBudget {
  nodes: string;
  reasons?: Array<"Drifted" | "Underutilized" | "Empty">;
  schedule?: string;
  duration?: string;
}

export interface NodePool {
  metadata: ObjectMeta;
  spec: {
    template: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        nodeClassRef: NodeClassReference;
        expireAfter?: string;
        terminationGracePeriod?: string;
      };
    };
    disruption?: {
      consolidationPolicy?: string;
      consolidateAfter?: string;
      budgets?: NodePoolBudget[];
    };
  };
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface NodeClaim {
  metadata: ObjectMeta;
  spec?: { nodeClassRef?: NodeClassReference };
  status?: { nodeName?: string; providerID?: string; imageID?: string; conditions?: Condition[] };
}

/** One term of an EC2NodeClass's amiSelectorTerms; alias is "family@version", e.g. al2023@v20250115. */
export interface AmiSelectorTerm {
  alias?: string;
  id?: string;
  name?: string;
  owner?: string;
  ssmParameter?: string;
  tags?: Record<string, string>;
}

export interface EC2NodeClass {
  metadata: ObjectMeta;
  spec: { amiSelectorTerms?: AmiSelectorTerm[] };
}

export function nodePoolOf(labels: Record<string, string> | undefined): string | undefined {
  return labels?.[NODEPOOL_LABEL];
}

export function isCondition(claim: NodeClaim, type: string): boolean {
  return claim.status?.conditions?.some((condition) => condition.type === type && condition.status === "True") ?? false;
}
