// Which kind of EKS capacity a Node is, read from the labels EKS and Karpenter put on it. The
// operator rolls only managed node groups and self-managed Auto Scaling groups; every other kind
// is replaced by whoever owns it (EKS Auto Mode, Fargate, the user's nodeadm, Karpenter), and the
// plan, the skew check and the drain guard all ask this one function which kind a node is.
import type { V1Node } from "@kubernetes/client-node";
import { LABEL_NODEGROUP, LABEL_SELF_MANAGED_GROUP } from "./workload-snapshot.js";

/** Set by EKS: "auto" on Auto Mode nodes, "fargate" on Fargate nodes, "hybrid" on hybrid nodes. */
export const LABEL_COMPUTE_TYPE = "eks.amazonaws.com/compute-type";
/** Set by Karpenter (and by Auto Mode, which runs Karpenter inside EKS) on the nodes of a NodePool. */
export const LABEL_KARPENTER_NODEPOOL = "karpenter.sh/nodepool";

export type NodeKind = "Managed" | "SelfManaged" | "AutoMode" | "Fargate" | "Hybrid" | "Karpenter" | "Unknown";

/** The kinds this operator cordons, drains and replaces itself (managed groups through EKS). */
const ROLLED_KINDS: ReadonlySet<NodeKind> = new Set<NodeKind>(["Managed", "SelfManaged"]);

function labelsOf(node: V1Node): Record<string, string> {
  return node.metadata?.labels ?? {};
}

/** The EC2 instance behind a node ("aws:///zone/i-..."), which hybrid and Fargate nodes lack. */
function isEc2Instance(node: V1Node): boolean {
  return node.spec?.providerID?.split("/").pop()?.startsWith("i-") ?? false;
}

/**
 * The compute-type label wins: Auto Mode nodes also carry karpenter.sh/nodepool (Auto Mode's
 * node pools are Karpenter NodePools run by EKS), and they must not be mistaken for nodes of the
 * user's own Karpenter.
 */
export function nodeKindOf(node: V1Node): NodeKind {
  const labels = labelsOf(node);
  switch (labels[LABEL_COMPUTE_TYPE]) {
    case "auto":
      return "AutoMode";
    case "fargate":
      return "Fargate";
    case "hybrid":
      return "Hybrid";
  }
  if (labels[LABEL_KARPENTER_NODEPOOL] !== undefined) return "Karpenter";
  if (labels[LABEL_NODEGROUP] !== undefined) return "Managed";
  if (labels[LABEL_SELF_MANAGED_GROUP] !== undefined || isEc2Instance(node)) return "SelfManaged";
  return "Unknown";
}

export function isRolledByOperator(kind: NodeKind): boolean {
  return ROLLED_KINDS.has(kind);
}

/** The NodePool a Karpenter or Auto Mode node belongs to, if labelled. */
export function nodePoolOf(node: V1Node): string | undefined {
  return labelsOf(node)[LABEL_KARPENTER_NODEPOOL];
}

/** What happens to nodes of a kind the operator leaves alone, and what the user does about them. */
export function fateOf(kind: Exclude<NodeKind, "Managed" | "SelfManaged">): { action: string; remediation: string } {
  switch (kind) {
    case "AutoMode":
      return {
        action: "EKS Auto Mode replaces these nodes by itself after each control-plane hop, respecting PodDisruptionBudgets; the operator does not touch them",
        remediation: "let Auto Mode replace them (it keeps nodes at most 21 days), or delete the nodes to have Auto Mode replace them sooner",
      };
    case "Fargate":
      return {
        action: "each Fargate pod keeps the kubelet it started with: restart the pods named to get the new version's kubelet; the operator does not restart them",
        remediation: "restart the owners of these pods after the hop (kubectl rollout restart), so that Fargate starts them with the new kubelet",
      };
    case "Hybrid":
      return {
        action: "hybrid nodes run on your own machines: upgrade them with nodeadm upgrade, or cut over to new hybrid nodes; the operator does not touch them",
        remediation: "run nodeadm upgrade <version> on each hybrid node (or join new hybrid nodes and drain the old ones) before the control plane moves past their skew",
      };
    case "Karpenter":
      return {
        action: "Karpenter replaces these nodes by drift once their NodePool or node class points at the hop's version; the operator never drains them itself",
        remediation: "let Karpenter replace them by drift (pin the EC2NodeClass amiSelectorTerms alias to the hop's version), or delete their NodeClaims",
      };
    case "Unknown":
      return {
        action: "no EKS label tells who manages these nodes (no node group, compute-type or NodePool label, no EC2 instance): the operator does not touch them",
        remediation: "upgrade them the way they were created, or list their Auto Scaling group under spec.nodeGroups.selfManaged",
      };
  }
}
