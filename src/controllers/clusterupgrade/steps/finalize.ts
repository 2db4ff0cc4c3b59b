// The end of a successful upgrade: the summary condition turns True once, with what was done.
import { ConditionType, Reason } from "../../../api/v1alpha1/types.js";
import { STOP, type Step } from "../context.js";

export const finalizeStep: Step = {
  name: "finalize",
  run(context) {
    const alreadyDone = context.status.conditions?.some((condition) => condition.type === ConditionType.Ready && condition.status === "True");
    context.status.finishedAt ??= context.now.toISOString();
    const hops = context.status.hops ?? [];
    const addons = (context.status.addons ?? []).filter((addon) => addon.state === "Succeeded").length;
    const groups = context.status.nodeGroups ?? [];
    const selfManaged = groups.filter((group) => group.kind === "SelfManaged").length;
    const skipped = groups.flatMap((group) => group.skippedNodes ?? []);
    const message = `cluster ${context.spec.cluster.name} runs ${context.spec.targetVersion}: ${hops.filter((hop) => hop.from !== hop.version).length} control-plane hop(s), ${addons} add-on update(s), ${groups.length - selfManaged} managed and ${selfManaged} self-managed node group(s)${skipped.length ? `; nodes left on their old version after a drain timeout (spec.drain.onTimeout SkipNode): ${skipped.join(", ")}` : ""}`;
    context.end(Reason.Succeeded, message);
    if (!alreadyDone) context.event("Normal", "UpgradeSucceeded", message);
    return Promise.resolve(STOP);
  },
};
