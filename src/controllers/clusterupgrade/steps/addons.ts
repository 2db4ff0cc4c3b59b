// EKS add-ons, per hop: vpc-cni, coredns and the others after the control plane, kube-proxy after
// the nodes (kube-proxy must never be newer than the kubelets, Kubernetes skew policy).
import { ConditionType, Reason, type AddonStatus, type HopStatus } from "../../../api/v1alpha1/types.js";
import type { AddonVersionInfo } from "../../../cloud/ports.js";
import { describeError, isValidation } from "../../../util/errors.js";
import { waitFor, type StepContext, type StepResult } from "../context.js";
import { describeUpdateErrors, followTrackedUpdate, gateFailedRetry, recordUpdateFailure } from "./tracked-update.js";

export const LATE_ADDONS = new Set(["kube-proxy"]);
/** The network plugin first, then DNS: pods need both, and EKS's own guide updates them in this order. */
const FIRST_ADDONS = ["vpc-cni", "coredns"];

/** Compares EKS add-on versions such as v1.18.3-eksbuild.1. */
export function compareAddonVersions(a: string, b: string): number {
  const parts = (version: string): number[] => (version.match(/\d+/g) ?? []).map(Number);
  const left = parts(a);
  const right = parts(b);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function chooseAddonVersion(versions: AddonVersionInfo[], policy: "Default" | "Latest", pinned?: string): string | undefined {
  if (pinned) return versions.some((version) => version.version === pinned) ? pinned : undefined;
  const sorted = [...versions].sort((a, b) => compareAddonVersions(b.version, a.version));
  if (policy === "Latest") return sorted[0]?.version;
  return (sorted.find((version) => version.isDefault) ?? sorted[0])?.version;
}

export function orderAddons(names: string[]): string[] {
  const rank = (name: string): number => (FIRST_ADDONS.includes(name) ? FIRST_ADDONS.indexOf(name) : FIRST_ADDONS.length);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * Normal: the hop's version. Bake: only versions that run on both minors of the hop, so the
 * control plane can still go back while it bakes. AfterBake: what Bake held back.
 */
export type AddonPhase = "Normal" | "Bake" | "AfterBake";

/** spec.bake: the add-on versions offered for both the old and the new minor of a hop. */
async function versionsForBothMinors(context: StepContext, name: string, hop: HopStatus): Promise<AddonVersionInfo[]> {
  const [old, next] = await Promise.all([context.cloud.eks.listAddonVersions(name, hop.from), context.cloud.eks.listAddonVersions(name, hop.version)]);
  const onOld = new Set(old.map((version) => version.version));
  return next.filter((version) => onOld.has(version.version));
}

async function planBakeAddon(context: StepContext, name: string, hop: HopStatus): Promise<AddonStatus> {
  const current = await context.cloud.eks.describeAddon(context.spec.cluster.name, name);
  const target = chooseAddonVersion(await versionsForBothMinors(context, name, hop), context.spec.addons.policy);
  const moves = target !== undefined && compareAddonVersions(current.version, target) < 0;
  return {
    name,
    hop: hop.version,
    fromVersion: current.version,
    toVersion: moves ? target : current.version,
    state: moves ? "Pending" : "Skipped",
    bake: true,
    ...(moves ? {} : { message: `kept at ${current.version} while ${hop.version} bakes: no newer version supports both ${hop.from} and ${hop.version}` }),
  };
}

async function planAddon(context: StepContext, name: string, hop: HopStatus, isLastHop: boolean): Promise<AddonStatus | string> {
  const clusterName = context.spec.cluster.name;
  const current = await context.cloud.eks.describeAddon(clusterName, name);
  const versions = await context.cloud.eks.listAddonVersions(name, hop.version);
  const pinned = isLastHop ? context.spec.addons.pinned.find((pin) => pin.name === name)?.version : undefined;
  const target = chooseAddonVersion(versions, context.spec.addons.policy, pinned);
  if (!target) {
    return pinned
      ? `add-on ${name}: pinned version ${pinned} is not compatible with Kubernetes ${hop.version}; pick one from 'aws eks describe-addon-versions --addon-name ${name} --kubernetes-version ${hop.version}'`
      : `add-on ${name} has no version compatible with Kubernetes ${hop.version}; skip it (spec.addons.skip) or remove it`;
  }
  const upToDate = compareAddonVersions(current.version, target) >= 0;
  return { name, hop: hop.version, fromVersion: current.version, toVersion: upToDate ? current.version : target, state: upToDate ? "Skipped" : "Pending" };
}

function failAddon(context: StepContext, entry: AddonStatus, text: string): StepResult {
  return recordUpdateFailure(context, entry, {
    text,
    condition: ConditionType.AddonsUpgraded,
    conditionMessage: (next) => `add-on ${entry.name} ${entry.fromVersion} -> ${entry.toVersion} failed: ${text}. The operator retries at ${next}.`,
    event: { reason: "AddonUpdateFailed", message: `${entry.name} -> ${entry.toVersion}: ${text}` },
    waiting: "add-on update failed",
  });
}

async function advanceAddon(context: StepContext, entry: AddonStatus): Promise<StepResult | undefined> {
  const clusterName = context.spec.cluster.name;
  if (entry.state === "Succeeded" || entry.state === "Skipped") return undefined;
  const backoff = gateFailedRetry(entry, context.now, "add-on retry backoff");
  if (backoff) return backoff;
  if (!entry.updateId && !context.newWorkAllowed) return waitFor(context.timings.idleRecheckMs, "outside maintenance window");
  const calls = {
    start: (clientRequestToken: string) =>
      context.cloud.eks.startAddonUpdate({ clusterName, addonName: entry.name, version: entry.toVersion, resolveConflicts: context.spec.addons.resolveConflicts, clientRequestToken }),
    describe: (updateId: string) => context.cloud.eks.describeUpdate(clusterName, updateId, { addonName: entry.name }),
  };
  try {
    return await followTrackedUpdate<StepResult | undefined>(entry, calls, {
      minted: () => waitFor(0, "persist client request token"),
      inProgress: (update, justStarted) => {
        entry.state = "InProgress";
        if (justStarted) context.event("Normal", "AddonUpdateStarted", `${entry.name} ${entry.fromVersion} -> ${entry.toVersion}`);
        context.setCondition(ConditionType.AddonsUpgraded, "False", Reason.Reconciling, `updating add-on ${entry.name} ${entry.fromVersion} -> ${entry.toVersion} (EKS update ${update.id})`);
        return waitFor(context.timings.updatePollMs, "add-on update in progress");
      },
      failed: (update) => failAddon(context, entry, describeUpdateErrors(update.errors)),
      succeeded: async () => {
        // The update is done when the add-on itself is ACTIVE again.
        const addon = await context.cloud.eks.describeAddon(clusterName, entry.name);
        if (addon.status !== "ACTIVE") {
          context.setCondition(ConditionType.AddonsUpgraded, "False", Reason.Reconciling, `add-on ${entry.name} updated to ${entry.toVersion}, waiting for it to be ACTIVE (now ${addon.status}${addon.issues.length ? `: ${addon.issues.map((issue) => `${issue.code} ${issue.message}`).join("; ")}` : ""})`);
          return waitFor(context.timings.updatePollMs, "add-on not yet active");
        }
        entry.state = "Succeeded";
        context.event("Normal", "AddonUpdated", `${entry.name} now at ${entry.toVersion}`);
        return undefined;
      },
    });
  } catch (error) {
    if (isValidation(error)) return failAddon(context, entry, describeError(error));
    throw error;
  }
}

/** Brings the add-ons of one stage (before or after the nodes) to versions compatible with the hop. */
export async function advanceAddons(context: StepContext, hop: HopStatus, late: boolean, isLastHop: boolean, phase: AddonPhase = "Normal"): Promise<StepResult | undefined> {
  const clusterName = context.spec.cluster.name;
  const skipped = new Set(context.spec.addons.skip);
  const installed = orderAddons((await context.cloud.eks.listAddons(clusterName)).filter((name) => !skipped.has(name) && LATE_ADDONS.has(name) === late));
  context.status.addons ??= [];
  for (const name of installed) {
    const ofHop = context.status.addons.filter((addon) => addon.name === name && addon.hop === hop.version);
    // After the bake only what the bake planned is looked at again; the rest was never held back.
    if (phase === "AfterBake" && !ofHop.some((addon) => addon.bake)) continue;
    let entry = ofHop.find((addon) => Boolean(addon.bake) === (phase === "Bake"));
    if (!entry && phase === "Bake") {
      entry = await planBakeAddon(context, name, hop);
      context.status.addons.push(entry);
    }
    if (!entry) {
      const planned = await planAddon(context, name, hop, isLastHop);
      if (typeof planned === "string") {
        context.setCondition(ConditionType.AddonsUpgraded, "False", Reason.HopFailed, planned);
        return waitFor(context.timings.idleRecheckMs, "no compatible add-on version");
      }
      entry = planned;
      context.status.addons.push(entry);
    }
    const result = await advanceAddon(context, entry);
    if (result) return result;
  }
  const entries = context.status.addons.filter((addon) => addon.hop === hop.version);
  const done = entries.every((addon) => addon.state === "Succeeded" || addon.state === "Skipped");
  if (done && late && isLastHop) {
    context.setCondition(ConditionType.AddonsUpgraded, "True", Reason.Upgraded, `add-ons at versions for ${hop.version}: ${entries.map((addon) => `${addon.name} ${addon.toVersion}`).join(", ") || "none installed"}`);
  } else if (done) {
    context.setCondition(ConditionType.AddonsUpgraded, "False", Reason.Reconciling, `add-ons ${late ? "after the nodes" : "before the nodes"} done for ${hop.version}`);
  }
  return undefined;
}
