// Runs the preflight checks before any change and before each new hop (not while an EKS update
// the operator started is running). Blocking findings stop the upgrade; it re-checks by itself
// and goes on once the cause is gone.
import { parseDuration } from "../../../api/v1alpha1/duration.js";
import { ConditionType, Reason, type Finding } from "../../../api/v1alpha1/types.js";
import { checkClusterState, checkControlPlaneNetwork } from "../../../preflight/cluster-checks.js";
import { applyPolicy } from "../../../preflight/findings.js";
import { CONTINUE, waitFor, type Step, type StepContext } from "../context.js";

/** A stored token means UpdateClusterVersion may already have been called: follow it, don't re-check. */
function ownUpdateInFlight(context: StepContext): boolean {
  return (context.status.hops ?? []).some((hop) => hop.state !== "Succeeded" && hop.stage === "ControlPlane" && Boolean(hop.updateId ?? hop.clientRequestToken));
}

async function gatherFindings(context: StepContext): Promise<Finding[]> {
  const cluster = context.cluster!;
  const [subnets, existingSecurityGroupIds] = await Promise.all([
    context.cloud.ec2.describeSubnets(cluster.subnetIds),
    context.cloud.ec2.existingSecurityGroups(cluster.securityGroupIds),
  ]);
  const snapshot = { cluster, subnets, existingSecurityGroupIds, ownUpdateInFlight: ownUpdateInFlight(context) };
  return [...checkClusterState(snapshot), ...checkControlPlaneNetwork(snapshot)];
}

export const preflightStep: Step = {
  name: "preflight",
  async run(context) {
    // A running update is followed, not re-checked: its outcome decides what happens next.
    if (ownUpdateInFlight(context)) return CONTINUE;
    const findings = applyPolicy(await gatherFindings(context), context.spec.preflight);
    const previous = new Set((context.status.preflight?.findings ?? []).map((finding) => `${finding.code}|${finding.resource}`));
    for (const finding of findings) {
      if (!previous.has(`${finding.code}|${finding.resource}`)) {
        context.event(finding.severity === "Blocking" ? "Warning" : "Normal", "PreflightFinding", `${finding.code} ${finding.message}`);
      }
    }
    const blockingFindings = findings.filter((finding) => finding.severity === "Blocking");
    context.status.preflight = {
      lastRunAt: context.now.toISOString(),
      blocking: blockingFindings.length,
      warnings: findings.length - blockingFindings.length,
      findings,
      ...(context.spec.preflight.ignore.length ? { overrides: context.spec.preflight.ignore } : {}),
    };
    if (blockingFindings.length > 0) {
      const summary = blockingFindings.map((finding) => `${finding.code} ${finding.message} (fix: ${finding.remediation})`).join("; ");
      context.setCondition(ConditionType.PreflightPassed, "False", Reason.BlockingFindings, `blocked by ${blockingFindings.length} finding(s): ${summary}`);
      return waitFor(parseDuration(context.spec.preflight.recheckInterval), "preflight blocked");
    }
    const warnings = findings.length - blockingFindings.length;
    context.setCondition(ConditionType.PreflightPassed, "True", Reason.ChecksPassed, warnings ? `passed with ${warnings} warning(s)` : "all checks passed");
    return CONTINUE;
  },
};
