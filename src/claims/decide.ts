// The claim protocol's decisions, as pure functions: what to do with one resource given what its
// claim reads now, what this upgrade recorded about it, and whether the holder may be broken.
// The step that performs the reads and writes is controllers/clusterupgrade/steps/claim.ts.
import type { ResolvedSpec } from "../api/v1alpha1/defaults.js";
import type { ClaimStatus, ClusterUpgradeStatus } from "../api/v1alpha1/types.js";
import type { ClaimHolder } from "./holder.js";

export type ClaimTarget =
  | { kind: "EKSCluster"; region: string; name: string; /** created by this upgrade (createGreen): claimed by CreateCluster's tags */ createdHere?: boolean }
  | { kind: "AutoScalingGroup"; region: string; name: string }
  | { kind: "Route53Record"; hostedZoneId: string; name: string; type: string };

/** The key recorded in status.claims[].resource; claims are taken in the order of these keys. */
export function targetKey(target: ClaimTarget): string {
  switch (target.kind) {
    case "EKSCluster":
    case "AutoScalingGroup":
      return `${target.kind}/${target.region}/${target.name}`;
    case "Route53Record":
      return `Route53Record/${target.hostedZoneId}/${target.name.replace(/\.$/, "")}/${target.type}`;
  }
}

/** The target a status.claims[].resource key names (the inverse of targetKey). */
export function parseTargetKey(key: string): ClaimTarget | undefined {
  const [kind, first, ...rest] = key.split("/");
  if ((kind === "EKSCluster" || kind === "AutoScalingGroup") && first && rest.length) return { kind, region: first, name: rest.join("/") };
  if (kind === "Route53Record" && first && rest.length >= 2) return { kind, hostedZoneId: first, name: rest.slice(0, -1).join("/"), type: rest.at(-1)! };
  return undefined;
}

export function describeTarget(target: ClaimTarget): string {
  switch (target.kind) {
    case "EKSCluster":
      return `EKS cluster ${target.name} (${target.region})`;
    case "AutoScalingGroup":
      return `Auto Scaling group ${target.name} (${target.region})`;
    case "Route53Record":
      return `Route53 ${target.type} record ${target.name.replace(/\.$/, "")} (hosted zone ${target.hostedZoneId})`;
  }
}

/**
 * One fixed order for everybody (the keys sorted), so two upgrades that want overlapping sets
 * cannot each hold what the other waits for.
 */
export function inClaimOrder(targets: ClaimTarget[]): ClaimTarget[] {
  const unique = new Map(targets.map((target) => [targetKey(target), target]));
  return [...unique.keys()].sort().map((key) => unique.get(key)!);
}

export interface Observed {
  /** False when the resource does not exist (yet): nothing to claim, the preflight reports it. */
  exists: boolean;
  /** The claim's raw value, if any. */
  value?: string;
  /** The holder it names, when it is a claim this operator wrote. */
  holder?: ClaimHolder;
}

export type Decision =
  | { action: "skip" }
  | { action: "take" }
  | { action: "settle"; remainingMs: number; since: string }
  | { action: "hold"; since: string }
  | { action: "wait"; holder?: ClaimHolder; lost: boolean }
  | { action: "break"; holder: ClaimHolder; how: "Annotation" | "HolderGone" };

export interface DecisionInput {
  observed: Observed;
  uid: string;
  entry?: ClaimStatus;
  now: Date;
  /** How long a written claim must stay ours before it counts as held. */
  settleMs: number;
  /** The UID named by the eksupgrade.io/break-claim annotation, if any. */
  breakUid?: string;
  /** True only when the holder is known to be gone (its ClusterUpgrade no longer exists in this management cluster). */
  holderGone?: boolean;
}

export function decide(input: DecisionInput): Decision {
  const { observed, uid, entry, now } = input;
  if (!observed.exists) return { action: "skip" };
  if (observed.value === undefined || observed.value === "") return { action: "take" };
  const holder = observed.holder;
  if (!holder) return { action: "wait", lost: entry?.state === "Held" || entry?.state === "Taking" };
  if (holder.uid === uid) {
    if (entry?.state === "Held") return { action: "hold", since: entry.since ?? holder.since };
    // Written by this pass's predecessor, or by an operator before a restart: ours once settled.
    const since = entry?.state === "Taking" && entry.since ? entry.since : holder.since || now.toISOString();
    const elapsed = now.getTime() - Date.parse(since);
    if (Number.isFinite(elapsed) && elapsed >= input.settleMs) return { action: "hold", since };
    return { action: "settle", remainingMs: Number.isFinite(elapsed) ? input.settleMs - elapsed : input.settleMs, since };
  }
  if (input.breakUid !== undefined && input.breakUid === holder.uid) return { action: "break", holder, how: "Annotation" };
  if (input.holderGone === true) return { action: "break", holder, how: "HolderGone" };
  return { action: "wait", holder, lost: entry?.state === "Held" || entry?.state === "Taking" };
}

/**
 * True once the upgrade will change nothing more, so its claims go back: InPlace succeeded, the
 * upgrade was aborted, a cutover rolled back, or blue's retirement is over (or will never come).
 */
export function claimsNoLongerNeeded(spec: ResolvedSpec, status: ClusterUpgradeStatus): boolean {
  const condition = (type: string): { status: string; reason: string } | undefined => status.conditions?.find((entry) => entry.type === type);
  const progressing = condition("Progressing");
  if (progressing?.status === "False" && progressing.reason === "Aborted") return true;
  if (spec.strategy === "InPlace") return condition("Ready")?.status === "True" || status.rollback?.state === "RolledBack" || status.rollback?.state === "Refused";
  const cutover = status.cutover?.state;
  if (cutover === "RolledBack" || cutover === "Aborted") return true;
  if (cutover !== "Promoted") return false;
  const retention = status.blueRetention?.state;
  if (retention === "ScaledDown" || retention === "Deleted") return true;
  return retention === "Kept" && !spec.blueGreen?.blueRetention?.scaleDown;
}

export function holdsClaims(status: ClusterUpgradeStatus): boolean {
  return (status.claims ?? []).some((claim) => claim.state === "Held" || claim.state === "Taking");
}
