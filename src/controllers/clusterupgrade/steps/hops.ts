// The in-place upgrade as a sequence of hops, one minor each. Per hop: control plane, add-ons
// that go before the nodes, managed node groups (lock-step) and Karpenter's NodePools, then kube-proxy. Each stage is
// recorded in status so a restarted operator resumes exactly where the last one stopped.
import { planHops } from "../../../api/v1alpha1/version.js";
import { ConditionType, Reason, type HopStage, type HopStatus, type ReasonName } from "../../../api/v1alpha1/types.js";
import { CONTINUE, type Step, type StepContext, type StepResult } from "../context.js";
import { advanceAddons } from "./addons.js";
import { advanceControlPlane } from "./controlplane.js";
import { advanceKarpenter } from "./karpenter.js";
import { advanceNodeGroups } from "./nodegroups.js";
import { rollbackPossibleUntil } from "./rollback.js";
import { bakeHop, verifyHopPart } from "./verify.js";

/** Plans the hops once, from the live version; when already at target, one hop without control plane. */
export function ensureHops(context: StepContext): HopStatus[] {
  if (context.status.hops?.length) return context.status.hops;
  const live = context.cluster!.version;
  const versions = planHops(live, context.spec.targetVersion);
  const hops: HopStatus[] = versions.length
    ? versions.map((version, index) => ({ from: index === 0 ? live : versions[index - 1], version, state: "Pending", stage: "ControlPlane" }))
    : [{ from: live, version: live, state: "Pending", stage: "Addons" }];
  context.status.hops = hops;
  return hops;
}

const STAGE_ACTIVITY: Record<Exclude<HopStage, "Done">, { reason: ReasonName; label: string }> = {
  ControlPlane: { reason: Reason.UpgradingControlPlane, label: "control plane" },
  Addons: { reason: Reason.UpgradingAddons, label: "add-ons" },
  NodeGroups: { reason: Reason.UpgradingNodeGroups, label: "node groups" },
  LateAddons: { reason: Reason.UpgradingAddons, label: "kube-proxy" },
};

const NEXT_STAGE: Record<Exclude<HopStage, "Done">, HopStage> = {
  ControlPlane: "Addons",
  Addons: "NodeGroups",
  NodeGroups: "LateAddons",
  LateAddons: "Done",
};

function baking(context: StepContext, hop: HopStatus): boolean {
  return Boolean(context.spec.bake) && hop.from !== hop.version;
}

async function runStage(context: StepContext, hop: HopStatus, stage: Exclude<HopStage, "Done">, isLastHop: boolean): Promise<StepResult | undefined> {
  switch (stage) {
    case "ControlPlane":
      if (hop.from === hop.version) return undefined;
      return advanceControlPlane(context, hop, isLastHop);
    case "Addons":
      // spec.verification is read before anything else moves: a failing gate holds the nodes on the old version.
      return (await verifyHopPart(context, hop, "ControlPlane")) ?? advanceAddons(context, hop, false, isLastHop, baking(context, hop) ? "Bake" : "Normal");
    case "NodeGroups":
      if (baking(context, hop)) {
        const held = (await bakeHop(context, hop)) ?? (await advanceAddons(context, hop, false, isLastHop, "AfterBake"));
        if (held) return held;
      }
      // Karpenter's pools after the groups: the groups often run Karpenter itself.
      return (await advanceNodeGroups(context, hop, isLastHop)) ?? (await advanceKarpenter(context, hop, isLastHop));
    case "LateAddons":
      return (await verifyHopPart(context, hop, "NodeGroups")) ?? advanceAddons(context, hop, true, isLastHop);
  }
}

export const hopsStep: Step = {
  name: "hops",
  async run(context) {
    const hops = ensureHops(context);
    context.status.startedAt ??= context.now.toISOString();
    for (const [index, hop] of hops.entries()) {
      const isLastHop = index === hops.length - 1;
      while (hop.stage !== "Done") {
        const stage = hop.stage ?? "ControlPlane";
        const activity = STAGE_ACTIVITY[stage];
        context.setCondition(ConditionType.Progressing, "True", activity.reason, `hop ${index + 1}/${hops.length} (${hop.from} -> ${hop.version}): ${activity.label}`);
        const possibleUntil = stage !== "ControlPlane" && hop.from !== hop.version ? rollbackPossibleUntil(hop) : undefined;
        if (possibleUntil) context.status.rollbackWindow = `rollback possible until ${possibleUntil}`;
        const result = await runStage(context, hop, stage, isLastHop);
        if (result) return result;
        hop.stage = NEXT_STAGE[stage];
        if (hop.state !== "InProgress" && hop.stage !== "Done") hop.state = "InProgress";
      }
      if (hop.state !== "Succeeded") {
        hop.state = "Succeeded";
        hop.finishedAt = context.now.toISOString();
        context.event("Normal", "HopCompleted", `hop ${hop.from} -> ${hop.version} complete: control plane, add-ons and node groups`);
      }
    }
    if (hops.every((hop) => hop.from === hop.version)) {
      context.setCondition(ConditionType.ControlPlaneUpgraded, "True", Reason.AlreadyAtTarget, `control plane already at ${context.spec.targetVersion}`);
    }
    return CONTINUE;
  },
};
