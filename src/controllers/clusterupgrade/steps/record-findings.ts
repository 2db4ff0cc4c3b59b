// Where the in-place and the green preflight put what they found: status, Events and the
// PreflightPassed condition. Both preflight steps call it, so it lives apart from either.
import { ConditionType, Reason, type Finding } from "../../../api/v1alpha1/types.js";
import type { StepContext } from "../context.js";

/**
 * Stores the findings in status.preflight (with the spec's ignores and any overrides), sends an
 * Event for each finding not seen before, and, when some block, sets PreflightPassed to False with
 * each one's fix. Returns the blocking findings.
 */
export function recordFindings(context: StepContext, findings: Finding[], overridden: { code: string; reason: string; resource: string }[], blockedPrefix: string): Finding[] {
  const previous = new Set((context.status.preflight?.findings ?? []).map((finding) => `${finding.code}|${finding.resource}`));
  for (const finding of findings) {
    if (!previous.has(`${finding.code}|${finding.resource}`)) context.event(finding.severity === "Blocking" ? "Warning" : "Normal", "PreflightFinding", `${finding.code} ${finding.message}`);
  }
  const overrides = [...context.spec.preflight.ignore.map((entry) => ({ code: entry.code, reason: entry.reason })), ...overridden];
  const blockingFindings = findings.filter((finding) => finding.severity === "Blocking");
  context.status.preflight = {
    lastRunAt: context.now.toISOString(),
    blocking: blockingFindings.length,
    warnings: findings.length - blockingFindings.length,
    findings,
    ...(overrides.length ? { overrides } : {}),
  };
  if (blockingFindings.length > 0) {
    const codes = [...new Set(blockingFindings.map((finding) => finding.code))].join(", ");
    const summary = blockingFindings.map((finding) => `${finding.code} ${finding.message} (fix: ${finding.remediation})`).join("; ");
    context.setCondition(ConditionType.PreflightPassed, "False", Reason.BlockingFindings, `${blockedPrefix}blocked by ${blockingFindings.length} finding(s) [${codes}]: ${summary}`);
  }
  return blockingFindings;
}
