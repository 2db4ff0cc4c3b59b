// Version skew and EKS upgrade insights, checked for every hop of the plan.
import type { V1Node } from "@kubernetes/client-node";
import { minorsBehind, compareMinor } from "../api/v1alpha1/version.js";
import type { InsightInfo } from "../cloud/ports.js";
import { blocking, warning, type Finding } from "./findings.js";
import { nodeGroupOf } from "../kube/workload-snapshot.js";

/** kubelet 1.25 and later may trail the API server by 3 minors (Kubernetes version skew policy). */
export const MAX_KUBELET_SKEW = 3;

/**
 * Nodes that no step of this upgrade moves must stay within the skew of every hop, and no
 * kubelet may be newer than the control plane it talks to.
 */
export function checkKubeletSkew(nodes: V1Node[], hops: string[], currentVersion: string, rolledNodeGroups: Set<string>): Finding[] {
  const findings: Finding[] = [];
  const byProblem = new Map<string, { code: string; nodes: string[]; message: (names: string) => string; remediation: string }>();
  for (const node of nodes) {
    const kubelet = node.status?.nodeInfo?.kubeletVersion;
    if (!kubelet) continue;
    const name = node.metadata?.name ?? "";
    const group = nodeGroupOf(node);
    if (compareMinor(kubelet, currentVersion) > 0) {
      const key = `newer|${group}`;
      const entry = byProblem.get(key) ?? { code: "VER003", nodes: [], message: (names: string) => `kubelet newer than the control plane ${currentVersion} on ${names} (node group ${group})`, remediation: "a kubelet must never be newer than its API server: replace these nodes with the cluster's version" };
      entry.nodes.push(`${name} (${kubelet})`);
      byProblem.set(key, entry);
      continue;
    }
    if (rolledNodeGroups.has(group)) continue;
    const worstHop = hops.find((hop) => minorsBehind(kubelet, hop) > MAX_KUBELET_SKEW);
    if (!worstHop) continue;
    const key = `skew|${group}|${worstHop}`;
    const entry = byProblem.get(key) ?? {
      code: "VER001",
      nodes: [],
      message: (names: string) => `at ${worstHop} the control plane would be more than ${MAX_KUBELET_SKEW} minors ahead of the kubelets of ${names} (node group ${group}, not rolled by this upgrade)`,
      remediation: `roll node group ${group} too (remove it from spec.nodeGroups.exclude, or list it under spec.nodeGroups.selfManaged), or choose a target within ${MAX_KUBELET_SKEW} minors of its kubelets`,
    };
    entry.nodes.push(`${name} (${kubelet})`);
    byProblem.set(key, entry);
  }
  for (const [key, entry] of byProblem) {
    const names = entry.nodes.length > 5 ? `${entry.nodes.slice(0, 5).join(", ")} and ${entry.nodes.length - 5} more` : entry.nodes.join(", ");
    findings.push(blocking(entry.code, `NodeGroup/${key.split("|")[1]}`, entry.message(names), entry.remediation));
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
