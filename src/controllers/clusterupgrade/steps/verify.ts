// spec.verification: the gates read after each hop's control plane and again after its node
// groups. They are the blue/green gates (CloudWatch alarms, HTTP probes) plus named workloads of
// the upgraded cluster with every replica available. A verification that fails
// failureThreshold checks in a row holds the upgrade, naming the gates; with
// spec.rollback.policy Automatic it starts a rollback of the hop instead.
import { parseDuration } from "../../../api/v1alpha1/duration.js";
import { ConditionType, Reason, type GateResult, type HopStatus, type VerificationSpec } from "../../../api/v1alpha1/types.js";
import { checkDue, describeFailing, readGates } from "../../../bluegreen/gates.js";
import { workloadAvailability } from "../../../bluegreen/green-checks.js";
import { describeError } from "../../../util/errors.js";
import { waitFor, type StepContext, type StepResult } from "../context.js";
import { decideRollback, rollbackPossibleUntil } from "./rollback.js";

export const DEFAULT_VERIFICATION_FAILURE_THRESHOLD = 3;
export const DEFAULT_VERIFICATION_CHECK_INTERVAL = "30s";

export type VerifiedPart = "ControlPlane" | "NodeGroups";

function hasGates(verification: VerificationSpec | undefined): verification is VerificationSpec {
  return Boolean(verification && ((verification.cloudWatchAlarms?.length ?? 0) + (verification.httpProbes?.length ?? 0) + (verification.workloads?.length ?? 0) > 0));
}

async function workloadGates(context: StepContext, verification: VerificationSpec, checkedAt: string): Promise<GateResult[]> {
  const named = verification.workloads ?? [];
  if (named.length === 0) return [];
  let snapshot;
  try {
    snapshot = await (await context.workloads()).snapshot();
  } catch (error) {
    return named.map((workload) => ({ name: `${workload.kind}/${workload.namespace}/${workload.name}`, kind: "WorkloadAvailable", healthy: false, value: `cannot read: ${describeError(error)}`, checkedAt }));
  }
  return named.map((workload): GateResult => {
    const name = `${workload.kind}/${workload.namespace}/${workload.name}`;
    const found = workloadAvailability(snapshot, workload.kind, workload.namespace, workload.name);
    if (!found) return { name, kind: "WorkloadAvailable", healthy: false, value: "not found", checkedAt };
    return { name, kind: "WorkloadAvailable", healthy: found.available >= found.wanted, value: `${found.available} of ${found.wanted} available`, checkedAt };
  });
}

/** Reads every gate of spec.verification once; a gate that cannot be read counts as failed. */
export async function readVerificationGates(context: StepContext, verification: VerificationSpec): Promise<GateResult[]> {
  const checkedAt = context.now.toISOString();
  const [others, workloads] = await Promise.all([
    readGates(
      { route53: context.cloud.route53, cloudwatch: context.cloud.cloudwatch, probe: context.probeHttp },
      { route53HealthCheckIds: [], cloudWatchAlarms: verification.cloudWatchAlarms ?? [], httpProbes: verification.httpProbes ?? [], failureThreshold: 1, checkInterval: "0s" },
      context.now,
    ),
    workloadGates(context, verification, checkedAt),
  ]);
  return [...others, ...workloads];
}

/**
 * One reading of the gates for `subject`, if due. "passed" when every gate passed; otherwise the
 * wait until the next reading, the hold, or (policy Automatic) the decided rollback.
 */
async function judgeGates(context: StepContext, verification: VerificationSpec, subject: string): Promise<"passed" | StepResult> {
  const intervalMs = parseDuration(verification.checkInterval ?? DEFAULT_VERIFICATION_CHECK_INTERVAL);
  const threshold = verification.failureThreshold ?? DEFAULT_VERIFICATION_FAILURE_THRESHOLD;
  const previous = context.status.verification?.subject === subject ? context.status.verification : undefined;
  if (previous && !checkDue(previous.lastCheckAt, context.now, intervalMs)) {
    if (!previous.failing) return "passed";
    return waitFor(Date.parse(previous.lastCheckAt) + intervalMs - context.now.getTime(), "verification: next check not due");
  }
  const gates = await readVerificationGates(context, verification);
  const failing = gates.filter((gate) => !gate.healthy);
  if (failing.length === 0) {
    context.status.verification = { subject, failures: 0, lastCheckAt: context.now.toISOString(), gates };
    return "passed";
  }
  const failures = (previous?.failures ?? 0) + 1;
  const failingText = describeFailing(failing);
  context.status.verification = { subject, failures, lastCheckAt: context.now.toISOString(), gates, failing: failingText };
  if (failures < threshold) {
    context.setCondition(ConditionType.Verified, "False", Reason.VerificationFailed, `verification of the ${subject}: check ${failures} of ${threshold} failed (${failingText}); reading the gates again in ${verification.checkInterval ?? DEFAULT_VERIFICATION_CHECK_INTERVAL}`);
    return waitFor(intervalMs, "verification check failed");
  }
  if (failures === threshold) context.event("Warning", "VerificationFailed", `${subject}: ${failingText}`);
  const reason = `verification of the ${subject} failed ${failures} check(s) in a row: ${failingText}`;
  if ((context.spec.rollback?.policy ?? "Manual") === "Automatic") {
    context.setCondition(ConditionType.Verified, "False", Reason.VerificationFailed, `${reason}; rolling back (spec.rollback.policy Automatic)`);
    decideRollback(context, "Automatic", reason);
    return waitFor(0, "rollback decided");
  }
  context.setCondition(
    ConditionType.Verified,
    "False",
    Reason.VerificationFailed,
    `${reason}. The upgrade holds: it goes on by itself once every gate passes, or set spec.rollback.requested: true to roll the hop back.`,
  );
  return waitFor(intervalMs, "verification failed: holding");
}

/**
 * Verifies one part of a hop. Returns undefined once the gates passed (recorded on the hop, so a
 * restart does not verify again), or the wait while they are read again or the upgrade holds.
 */
export async function verifyHopPart(context: StepContext, hop: HopStatus, part: VerifiedPart): Promise<StepResult | undefined> {
  const field = part === "ControlPlane" ? "controlPlaneVerifiedAt" : "nodeGroupsVerifiedAt";
  if (hop[field]) return undefined;
  const verification = context.spec.verification;
  if (!hasGates(verification)) {
    context.setCondition(ConditionType.Verified, "True", Reason.NoGates, "no spec.verification: nothing is verified between hops");
    return undefined;
  }
  if (part === "ControlPlane" && hop.from === hop.version) return undefined;
  const subject = `${hop.version} ${part === "ControlPlane" ? "control plane" : "node groups"}`;
  const verdict = await judgeGates(context, verification, subject);
  if (verdict !== "passed") return verdict;
  const gates = context.status.verification?.gates ?? [];
  hop[field] = context.now.toISOString();
  context.setCondition(ConditionType.Verified, "True", Reason.GatesPassed, `verification of the ${subject} passed: ${gates.map((gate) => `${gate.kind} ${gate.name}: ${gate.value}`).join("; ")}`);
  context.event("Normal", "Verified", `${subject}: all ${gates.length} gate(s) passed`);
  return undefined;
}

/**
 * spec.bake: after a control-plane hop the nodes stay on the old minor until the bake is over,
 * while the gates are read every checkInterval; a failing gate holds or rolls back as above.
 */
export async function bakeHop(context: StepContext, hop: HopStatus): Promise<StepResult | undefined> {
  const bake = context.spec.bake;
  if (!bake || hop.from === hop.version || hop.bakedAt) return undefined;
  hop.bakeUntil ??= new Date(context.now.getTime() + parseDuration(bake.duration)).toISOString();
  const until = rollbackPossibleUntil(hop);
  const left = Date.parse(hop.bakeUntil) - context.now.getTime();
  const verification = context.spec.verification;
  if (left > 0) {
    if (hasGates(verification)) {
      const verdict = await judgeGates(context, verification, `${hop.version} bake`);
      if (verdict !== "passed") return verdict;
    }
    context.setCondition(ConditionType.Progressing, "True", Reason.Baking, `control plane ${hop.version} bakes until ${hop.bakeUntil} with the nodes on ${hop.from}${until ? `; rollback possible until ${until}` : ""}`);
    context.setCondition(ConditionType.Verified, "False", Reason.Baking, `baking ${hop.version} until ${hop.bakeUntil}${hasGates(verification) ? " while the gates are read" : " (no spec.verification: nothing is read meanwhile)"}`);
    const interval = hasGates(verification) ? parseDuration(verification.checkInterval ?? DEFAULT_VERIFICATION_CHECK_INTERVAL) : left;
    return waitFor(Math.min(left, interval), "baking");
  }
  hop.bakedAt = context.now.toISOString();
  context.setCondition(ConditionType.Verified, "True", Reason.GatesPassed, `${hop.version} baked until ${hop.bakeUntil}${hasGates(verification) ? " with every gate passing" : ""}; the nodes move now`);
  context.event("Normal", "BakeCompleted", `${hop.version} baked until ${hop.bakeUntil}; the nodes move from ${hop.from}`);
  return undefined;
}
