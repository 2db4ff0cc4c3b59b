// One upgrade per cluster: before anything is changed, the upgrade claims the EKS cluster, the
// self-managed Auto Scaling groups, and (blue/green) the Route53 record and the green cluster it
// will touch. The claims live on the AWS side (tags, an ownership TXT record), so they hold across
// replicas, restarts and management clusters. A claim counts once it still reads as ours after
// the settle time; an upgrade that finds another holder waits in phase Blocked and names it.
// The protocol is described in docs/adr/0007-claims-on-aws-resources.md.
import type { ResolvedSpec } from "../../../api/v1alpha1/defaults.js";
import { BREAK_CLAIM_ANNOTATION, ConditionType, Reason, type ClaimStatus, type ClusterUpgrade, type ClusterUpgradeStatus } from "../../../api/v1alpha1/types.js";
import { claimsNoLongerNeeded, decide, describeTarget, holdsClaims, inClaimOrder, parseTargetKey, targetKey, type ClaimTarget, type Observed } from "../../../claims/decide.js";
import { CLAIM_TAG, CUT_MARK, describeHolder, formatHolder, ownershipRecordName, type ClaimHolder } from "../../../claims/holder.js";
import { slotFor } from "../../../claims/slots.js";
import type { CloudPorts } from "../../../cloud/ports.js";
import { formatConditionTime } from "../../../kube/conditions.js";
import { CONTINUE, waitFor, type ClaimEnvironment, type Step, type StepContext, type StepResult } from "../context.js";
import { resolveRoute } from "../../../bluegreen/route.js";

/** What this upgrade will touch, in the one order every upgrade claims in. */
export function claimTargets(spec: ResolvedSpec, regionOf: (region: string | undefined) => string): ClaimTarget[] {
  const region = regionOf(spec.cluster.region);
  const targets: ClaimTarget[] = [{ kind: "EKSCluster", region, name: spec.cluster.name }];
  const excluded = new Set(spec.nodeGroups.exclude);
  for (const group of spec.nodeGroups.selfManaged) {
    if (!excluded.has(group.autoScalingGroupName)) targets.push({ kind: "AutoScalingGroup", region, name: group.autoScalingGroupName });
  }
  const blueGreen = spec.strategy === "BlueGreen" ? spec.blueGreen : undefined;
  if (blueGreen) {
    const route = resolveRoute(blueGreen.route53);
    targets.push({ kind: "Route53Record", hostedZoneId: route.hostedZoneId, name: route.recordName, type: route.recordType });
    const green = blueGreen.greenCluster;
    targets.push({ kind: "EKSCluster", region: regionOf(green.region ?? spec.cluster.region), name: green.name, ...(blueGreen.createGreen ? { createdHere: true } : {}) });
  }
  return inClaimOrder(targets);
}

export function holderFor(upgrade: ClusterUpgrade, operator: string, now: Date): ClaimHolder {
  const uid = upgrade.metadata.uid;
  if (!uid) throw new Error(`ClusterUpgrade ${upgrade.metadata.namespace}/${upgrade.metadata.name} has no UID; a claim must name one`);
  return { uid, operator, since: formatConditionTime(now), upgrade: `${upgrade.metadata.namespace}/${upgrade.metadata.name}` };
}

/** The claim tag a green cluster created by this upgrade carries from its CreateCluster on. */
export function greenClaimTags(context: StepContext): Record<string, string> {
  return { [CLAIM_TAG]: formatHolder(holderFor(context.upgrade, context.claims.operator, context.now)) };
}

/**
 * Only a holder in this very management cluster can be known to be gone: its ClusterUpgrade no
 * longer exists (or exists with another UID, re-created). Anything else is "cannot tell".
 */
async function holderGone(claims: ClaimEnvironment, holder: ClaimHolder): Promise<boolean | undefined> {
  if (!claims.identityStable || holder.operator !== claims.operator) return undefined;
  const separator = holder.upgrade.indexOf("/");
  if (separator <= 0 || holder.upgrade.endsWith(CUT_MARK)) return undefined;
  try {
    const uid = await claims.upgradeUid(holder.upgrade.slice(0, separator), holder.upgrade.slice(separator + 1));
    return uid !== holder.uid;
  } catch {
    return undefined;
  }
}

function whereKept(target: ClaimTarget): string {
  return target.kind === "Route53Record" ? `TXT record ${ownershipRecordName(target.name, target.type)}` : `tag ${CLAIM_TAG}`;
}

function blockedMessage(context: StepContext, target: ClaimTarget, observed: Observed, lost: boolean): string {
  const { namespace, name } = context.upgrade.metadata;
  const recheck = Math.round(context.timings.idleRecheckMs / 1000);
  const holder = observed.holder;
  const what = describeTarget(target);
  if (!holder) {
    return `${what} carries a claim this operator cannot read (${whereKept(target)} = "${observed.value ?? ""}"); nothing is changed while it is there. Find out who wrote it; remove it by hand once nobody holds the resource. Checked again every ${recheck}s.`;
  }
  const head = lost ? `the claim this upgrade held on ${what} was taken over by ${describeHolder(holder)}` : `${what} is claimed by ${describeHolder(holder)}`;
  return `${head}; this upgrade changes nothing until that claim is released (the holder succeeds, is aborted or is deleted), checked again every ${recheck}s. If that ClusterUpgrade is gone for good and you have checked that nothing runs it, break the claim: kubectl -n ${namespace} annotate clusterupgrade ${name} ${BREAK_CLAIM_ANNOTATION}=${holder.uid}`;
}

interface Pass {
  next: ClaimStatus[];
  settleMs?: number;
  recheck: boolean;
  blocked?: { message: string };
}

async function claimOne(context: StepContext, pass: Pass, target: ClaimTarget, entry: ClaimStatus | undefined, holder: ClaimHolder): Promise<void> {
  const key = targetKey(target);
  const slot = slotFor(target, (region) => context.cloudIn(region));
  const observed = await slot.read();
  const breakUid = context.upgrade.metadata.annotations?.[BREAK_CLAIM_ANNOTATION]?.trim() || undefined;
  const other = observed.holder && observed.holder.uid !== holder.uid ? observed.holder : undefined;
  const gone = other && other.uid !== breakUid ? await holderGone(context.claims, other) : undefined;
  const decision = decide({ observed, uid: holder.uid, ...(entry ? { entry } : {}), now: context.now, settleMs: context.timings.claimSettleMs, ...(breakUid ? { breakUid } : {}), ...(gone !== undefined ? { holderGone: gone } : {}) });
  const kept = entry?.broke ? { broke: entry.broke } : {};
  switch (decision.action) {
    case "skip":
      if (entry && entry.state !== "Waiting") pass.next.push(entry);
      return;
    case "take":
      // A green cluster this upgrade is to create is claimed by the tags CreateCluster carries;
      // one that exists without a claim was made by somebody else and is not taken over here.
      if (target.kind === "EKSCluster" && target.createdHere) return;
      if (await slot.write(formatHolder(holder))) {
        pass.next.push({ resource: key, state: "Taking", since: holder.since });
        pass.settleMs = Math.max(pass.settleMs ?? 0, context.timings.claimSettleMs);
      } else pass.recheck = true;
      return;
    case "settle":
      pass.next.push({ resource: key, state: "Taking", since: decision.since, ...kept });
      pass.settleMs = Math.max(pass.settleMs ?? 0, decision.remainingMs);
      return;
    case "hold":
      if (entry?.state !== "Held") context.event("Normal", "Claimed", `claimed ${describeTarget(target)} (${whereKept(target)})`);
      pass.next.push({ resource: key, state: "Held", since: decision.since, ...kept });
      return;
    case "wait": {
      const message = blockedMessage(context, target, observed, decision.lost);
      const heldByUid = decision.holder?.uid;
      if (entry?.state !== "Waiting" || entry.heldByUid !== heldByUid) context.event("Warning", decision.lost ? "ClaimLost" : "ClaimHeldByAnother", message);
      pass.next.push({ resource: key, state: "Waiting", heldBy: decision.holder ? describeHolder(decision.holder) : `unreadable claim "${observed.value ?? ""}"`, ...(heldByUid ? { heldByUid } : {}) });
      pass.blocked = { message };
      return;
    }
    case "break": {
      if (!(await slot.write(formatHolder(holder)))) {
        pass.recheck = true;
        return;
      }
      const why = decision.how === "Annotation" ? `annotation ${BREAK_CLAIM_ANNOTATION}=${decision.holder.uid}` : `its ClusterUpgrade no longer exists in this management cluster (${context.claims.operator})`;
      context.event("Warning", "ClaimBroken", `broke the claim of ${describeHolder(decision.holder)} on ${describeTarget(target)}: ${why}`);
      pass.next.push({ resource: key, state: "Taking", since: holder.since, broke: { holder: describeHolder(decision.holder), how: decision.how, at: holder.since } });
      pass.settleMs = Math.max(pass.settleMs ?? 0, context.timings.claimSettleMs);
      return;
    }
  }
}

/** Gives back a claim written in this pass or the last one, so that nothing after a resource we wait for stays held (lock order). */
async function letGo(context: StepContext, target: ClaimTarget, uid: string): Promise<void> {
  const slot = slotFor(target, (region) => context.cloudIn(region));
  const observed = await slot.read();
  if (observed.holder?.uid === uid) await slot.remove();
}

async function claimPass(context: StepContext, holder: ClaimHolder, recorded: ClaimStatus[]): Promise<Pass> {
  const previous = new Map(recorded.map((claim) => [claim.resource, claim]));
  const pass: Pass = { next: [], recheck: false };
  for (const target of claimTargets(context.spec, context.claims.regionOf)) {
    const entry = previous.get(targetKey(target));
    if (pass.blocked) {
      if (entry?.state === "Taking") await letGo(context, target, holder.uid);
      else if (entry?.state === "Held") pass.next.push(entry);
      continue;
    }
    await claimOne(context, pass, target, entry, holder);
  }
  return pass;
}

async function claimAll(context: StepContext): Promise<StepResult> {
  const holder = holderFor(context.upgrade, context.claims.operator, context.now);
  let pass = await claimPass(context, holder, context.status.claims ?? []);
  // Without a settle time the read-back follows the write at once, in the same pass.
  if (context.timings.claimSettleMs === 0 && pass.settleMs !== undefined && !pass.blocked && !pass.recheck) pass = await claimPass(context, holder, pass.next);
  context.status.claims = pass.next;
  if (pass.blocked) {
    context.setCondition(ConditionType.Claimed, "False", Reason.HeldByAnother, pass.blocked.message);
    return waitFor(context.timings.idleRecheckMs, "claim held by another upgrade");
  }
  if (pass.recheck) {
    context.setCondition(ConditionType.Claimed, "Unknown", Reason.Claiming, "another writer changed a claim at the same moment; reading it again");
    return waitFor(1000, "claim changed meanwhile");
  }
  const taking = pass.next.filter((claim) => claim.state === "Taking").map((claim) => claim.resource);
  if (pass.settleMs !== undefined && taking.length) {
    context.setCondition(ConditionType.Claimed, "Unknown", Reason.Claiming, `claims written on ${taking.join(", ")}; reading them back in ${Math.ceil(pass.settleMs / 1000)}s to make sure no other upgrade wrote over them`);
    return waitFor(Math.max(0, pass.settleMs), "claims settling");
  }
  const held = pass.next.filter((claim) => claim.state === "Held").map((claim) => claim.resource);
  context.setCondition(ConditionType.Claimed, "True", Reason.ClaimsHeld, held.length ? `held by this upgrade until it ends: ${held.join(", ")}` : "nothing to claim yet");
  return CONTINUE;
}

export const claimStep: Step = {
  name: "claim",
  async run(context) {
    if (claimsNoLongerNeeded(context.spec, context.status)) return CONTINUE;
    if (context.spec.dryRun) {
      // A dry run changes nothing, so it claims nothing; claims taken before dryRun was set stay.
      if (!holdsClaims(context.status)) context.setCondition(ConditionType.Claimed, "False", Reason.NotApplicable, "a dry run claims nothing");
      return CONTINUE;
    }
    return claimAll(context);
  },
};

export interface ReleaseInput {
  upgrade: ClusterUpgrade;
  spec: ResolvedSpec;
  status: ClusterUpgradeStatus;
  portsIn: (region: string | undefined) => CloudPorts;
  regionOf: (region: string | undefined) => string;
  now: Date;
}

/**
 * Removes every claim that still names this upgrade, among what the spec targets and what the
 * status recorded (a claim written just before a crash is in the first set only). Returns one
 * line per claim removed. Idempotent: a claim that names somebody else is left alone.
 */
export async function releaseClaims(input: ReleaseInput): Promise<string[]> {
  const uid = input.upgrade.metadata.uid;
  if (!uid) return [];
  const recorded = new Map((input.status.claims ?? []).map((claim) => [claim.resource, claim]));
  const targets = new Map(claimTargets(input.spec, input.regionOf).map((target) => [targetKey(target), target]));
  for (const key of recorded.keys()) {
    const target = parseTargetKey(key);
    if (target && !targets.has(key)) targets.set(key, target);
  }
  const released: string[] = [];
  const at = input.now.toISOString();
  const next: ClaimStatus[] = [];
  for (const [key, target] of targets) {
    const entry = recorded.get(key);
    if (entry?.state === "Released") {
      next.push(entry);
      continue;
    }
    const slot = slotFor(target, input.portsIn);
    const observed = await slot.read();
    const ours = observed.exists && observed.holder?.uid === uid;
    if (ours) {
      await slot.remove();
      released.push(`released the claim on ${describeTarget(target)}`);
    }
    if (ours || entry?.state === "Held" || entry?.state === "Taking") next.push({ ...(entry ?? { resource: key }), state: "Released", releasedAt: at });
  }
  input.status.claims = next;
  return released;
}

/**
 * Called when a pass stops: once the upgrade will change nothing more, its claims go back, once.
 * `endedBefore` says whether the stored status had ended already (then only leftovers are released).
 */
export async function releaseClaimsAtEnd(context: StepContext, endedBefore: boolean): Promise<void> {
  if (!claimsNoLongerNeeded(context.spec, context.status)) return;
  if (endedBefore && !holdsClaims(context.status)) return;
  const released = await releaseClaims({
    upgrade: context.upgrade,
    spec: context.spec,
    status: context.status,
    portsIn: (region) => context.cloudIn(region),
    regionOf: context.claims.regionOf,
    now: context.now,
  });
  for (const line of released) context.event("Normal", "ClaimReleased", line);
  context.setCondition(ConditionType.Claimed, "False", Reason.ClaimsReleased, released.length ? `the upgrade has ended: ${released.join("; ")}` : "the upgrade has ended; it holds no claim");
}
