// Preflight findings: what blocks or endangers an upgrade, with the culprit and the fix.
import type { Finding } from "../api/v1alpha1/types.js";

export type { Finding };

export function blocking(code: string, resource: string, message: string, remediation: string): Finding {
  return { code, severity: "Blocking", resource, message, remediation };
}

export function warning(code: string, resource: string, message: string, remediation: string): Finding {
  return { code, severity: "Warning", resource, message, remediation };
}

/** Applies spec.preflight: ignored codes drop out, warnings may be promoted to blocking. */
export function applyPolicy(findings: Finding[], policy: { ignore: { code: string }[]; warningsBlock: boolean }): Finding[] {
  const ignored = new Set(policy.ignore.map((entry) => entry.code));
  return findings
    .filter((finding) => !ignored.has(finding.code))
    .map((finding) => (policy.warningsBlock && finding.severity === "Warning" ? { ...finding, severity: "Blocking" } : finding));
}
