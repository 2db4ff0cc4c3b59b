// Version skew and EKS upgrade insights, checked for every hop of the plan.
import type { V1Node } from "@kubernetes/client-node";
import { minorsBehind, compareMinor } from "../api/v1alpha1/version.js";
import type { InsightInfo } from "../cloud/ports.js";
import { blocking, warning, type Finding } from "./findings.js";
import { nodeGroupOf } from "../kube/workload-snapshot.js";
import { fateOf, isRolledByOperator, nodeKindOf, nodePoolOf, type NodeKind } from "../kube/node-kinds.js";

const KIND_NAMES: Record<Exclude<NodeKind, "Managed" | "SelfManaged">, string> = {
  AutoMode: "EKS Auto Mode",
  Fargate: "Fargate",
  Hybrid: "hybrid",
  Karpenter: "Karpenter",
  Unknown: "unrecognised",
};

/** Who the nodes belong to, for findings: a node group, or for nodes the operator never rolls, their kind (and NodePool). */
function ownerOfNode(node: V1Node): { key: string; resource: string; label: string; kind?: Exclude<NodeKind, "Managed" | "SelfManaged"> } {
  const kind = nodeKindOf(node);
  if (isRolledByOperator(kind)) {
    const group = nodeGroupOf(node);
    return { key: group, resource: `NodeGroup/${group}`, label: `node group ${group}` };
  }
  const other = kind as Exclude<NodeKind, "Managed" | "SelfManaged">;
  const pool = nodePoolOf(node);
  if (other === "Karpenter" || (other === "AutoMode" && pool)) return { key: `${other}/${pool}`, resource: `NodePool/${pool}`, label: `${KIND_NAMES[other]} NodePool ${pool}`, kind: other };
  return { key: other, resource: `Nodes/${other}`, label: `${KIND_NAMES[other]} nodes`, kind: other };
}

/** kubelet 1.25 and later may trail the API server by 3 minors (Kubernetes version skew policy). */
export const MAX_KUBELET_SKEW = 3;

/**
 * Nodes that no step of this upgrade moves must stay within the skew of every hop, and no
 * kubelet may be newer than the control plane it talks to.
 */
export function checkKubeletSkew(nodes: V1Node[], hops: string[], currentVersion: string, rolledNodeGroups: Set<string>): Finding[] {
  const findings: Finding[] = [];
  const byProblem = new Map<string, { code: string; resource: string; nodes: string[]; message: (names: string) => string; remediation: string }>();
  for (const node of nodes) {
    const kubelet = node.status?.nodeInfo?.kubeletVersion;
    if (!kubelet) continue;
    const name = node.metadata?.name ?? "";
    const owner = ownerOfNode(node);
    if (compareMinor(kubelet, currentVersion) > 0) {
      const key = `newer|${owner.key}`;
      const entry = byProblem.get(key) ?? { code: "VER003", resource: owner.resource, nodes: [], message: (names: string) => `kubelet newer than the control plane ${currentVersion} on ${names} (${owner.label})`, remediation: "a kubelet must never be newer than its API server: replace these nodes with the cluster's version" };
      entry.nodes.push(`${name} (${kubelet})`);
      byProblem.set(key, entry);
      continue;
    }
    if (!owner.kind && rolledNodeGroups.has(owner.key)) continue;
    const worstHop = hops.find((hop) => minorsBehind(kubelet, hop) > MAX_KUBELET_SKEW);
    if (!worstHop) continue;
    const key = `skew|${owner.key}|${worstHop}`;
    const entry = byProblem.get(key) ?? {
      code: "VER001",
      resource: owner.resource,
      nodes: [],
      message: (names: string) =>
        owner.kind
          ? `at ${worstHop} the control plane would be more than ${MAX_KUBELET_SKEW} minors ahead of the kubelets of ${names} (${owner.label}; ${fateOf(owner.kind).action})`
          : `at ${worstHop} the control plane would be more than ${MAX_KUBELET_SKEW} minors ahead of the kubelets of ${names} (${owner.label}, not rolled by this upgrade)`,
      remediation: owner.kind
        ? `${fateOf(owner.kind).remediation}; or choose a target within ${MAX_KUBELET_SKEW} minors of their kubelets`
        : `roll node group ${owner.key} too (remove it from spec.nodeGroups.exclude, or list it under spec.nodeGroups.selfManaged), or choose a target within ${MAX_KUBELET_SKEW} minors of its kubelets`,
    };
    entry.nodes.push(`${name} (${kubelet})`);
    byProblem.set(key, entry);
  }
  for (const entry of byProblem.values()) {
    const names = entry.nodes.length > 5 ? `${entry.nodes.slice(0, 5).join(", ")} and ${entry.nodes.length - 5} more` : entry.nodes.join(", ");
    findings.push(blocking(entry.code, entry.resource, entry.message(names), entry.remediation));
  }
  return findings;
}

/**
 * EKS upgrade insights: ERROR blocks the next minor unless the spec overrides it with a reason;
 * WARNING is reported.
 */
export function checkInsights(insights: InsightInfo[], hops: string[], overrides: { insightId: string; reason: string }[]): { findings: Finding[]; overridden: { insight: InsightInfo; reason: string }[] } {
  const findings: Finding[] = [];
  const overridden: { insight: InsightInfo; reason: string }[] = [];
  for (const insight of insights) {
    if (insight.kubernetesVersion && !hops.includes(insight.kubernetesVersion)) continue;
    if (insight.status === "ERROR") {
      const override = overrides.find((entry) => entry.insightId === insight.id);
      if (override) {
        overridden.push({ insight, reason: override.reason });
        continue;
      }
      findings.push(blocking("INS001", `UpgradeInsight/${insight.id}`, `EKS upgrade insight "${insight.name}"${insight.kubernetesVersion ? ` for ${insight.kubernetesVersion}` : ""} is ERROR: ${insight.reason}`, `fix what it reports (aws eks describe-insight --id ${insight.id}), or override it with spec.preflight.insightOverrides and a reason`));
    } else if (insight.status === "WARNING") {
      findings.push(warning("INS002", `UpgradeInsight/${insight.id}`, `EKS upgrade insight "${insight.name}" is WARNING: ${insight.reason}`, `read aws eks describe-insight --id ${insight.id}`));
    }
  }
  return { findings, overridden };
}
