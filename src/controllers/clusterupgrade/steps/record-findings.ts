// Where the in-place and the green preflight put what they found: status, Events and the
// PreflightPassed condition. Both preflight steps call it, so it lives apart from either.
import { ConditionType, Reason, type Finding } from "../../../api/v1alpha1/types.js";
import type { StepContext } from "../context.js";

/**
 * How many findings status.preflight lists. On a large cluster where every budget refuses, the
 * checks can find thousands; each is a few hundred bytes, and etcd refuses objects over 1.5 MiB.
 * The counts stay exact, and the first findings of each code are kept.
 */
export const MAX_RECORDED_FINDINGS = 100;
/** How many blocking findings the PreflightPassed message spells out. */
const MAX_FINDINGS_IN_MESSAGE = 10;

/** Blocking before Warning, then round-robin over codes, so that one noisy check cannot hide the others. */
export function pickRecorded(findings: readonly Finding[]): { kept: Finding[]; omitted?: { count: number; codes: { code: string; count: number }[] } } {
  if (findings.length <= MAX_RECORDED_FINDINGS) return { kept: [...findings] };
  const kept: Finding[] = [];
  for (const severity of ["Blocking", "Warning"] as const) {
    const byCode = new Map<string, Finding[]>();
    for (const finding of findings) {
      if (finding.severity !== severity) continue;
      const queue = byCode.get(finding.code);
      if (queue) queue.push(finding);
      else byCode.set(finding.code, [finding]);
    }
    const queues = [...byCode.values()];
    for (let index = 0; kept.length < MAX_RECORDED_FINDINGS && queues.some((queue) => index < queue.length); index++) {
      for (const queue of queues) if (index < queue.length && kept.length < MAX_RECORDED_FINDINGS) kept.push(queue[index]);
    }
  }
  const keptSet = new Set(kept);
  const counts = new Map<string, number>();
  for (const finding of findings) if (!keptSet.has(finding)) counts.set(finding.code, (counts.get(finding.code) ?? 0) + 1);
  return { kept, omitted: { count: findings.length - kept.length, codes: [...counts].map(([code, count]) => ({ code, count })) } };
}

/**
 * Stores the findings in status.preflight (with the spec's ignores and any overrides), sends an
 * Event for each finding not seen before, and, when some block, sets PreflightPassed to False with
 * each one's fix. Returns the blocking findings.
 */
export function recordFindings(context: StepContext, findings: Finding[], overridden: { code: string; reason: string; resource: string }[], blockedPrefix: string): Finding[] {
  const previous = new Set((context.status.preflight?.findings ?? []).map((finding) => `${finding.code}|${finding.resource}`));
  const { kept, omitted } = pickRecorded(findings);
  // One Event per listed finding not seen before; the rest in one Event, so thousands of findings
  // do not become thousands of Events on every pass.
  for (const finding of kept) {
    if (!previous.has(`${finding.code}|${finding.resource}`)) context.event(finding.severity === "Blocking" ? "Warning" : "Normal", "PreflightFinding", `${finding.code} ${finding.message}`);
  }
  if (omitted && omitted.count !== context.status.preflight?.omitted?.count) {
    context.event("Warning", "PreflightFinding", `${omitted.count} more finding(s) not listed in status (${omitted.codes.map((entry) => `${entry.code} x${entry.count}`).join(", ")})`);
  }
  const overrides = [...context.spec.preflight.ignore.map((entry) => ({ code: entry.code, reason: entry.reason })), ...overridden];
  const blockingFindings = findings.filter((finding) => finding.severity === "Blocking");
  context.status.preflight = {
    lastRunAt: context.now.toISOString(),
    blocking: blockingFindings.length,
    warnings: findings.length - blockingFindings.length,
    findings: kept,
    ...(omitted ? { omitted } : {}),
    ...(overrides.length ? { overrides } : {}),
  };
  if (blockingFindings.length > 0) {
    const codes = [...new Set(blockingFindings.map((finding) => finding.code))].join(", ");
    const listed = kept.filter((finding) => finding.severity === "Blocking").slice(0, MAX_FINDINGS_IN_MESSAGE);
    const more = blockingFindings.length - listed.length;
    const summary = listed.map((finding) => `${finding.code} ${finding.message} (fix: ${finding.remediation})`).join("; ") + (more > 0 ? `; and ${more} more (status.preflight)` : "");
    context.setCondition(ConditionType.PreflightPassed, "False", Reason.BlockingFindings, `${blockedPrefix}blocked by ${blockingFindings.length} finding(s) [${codes}]: ${summary}`);
  }
  return blockingFindings;
}
