// Strategy gates that apply before any change: which conditions apply to the chosen strategy, and
// dry runs that stop after the plan.
import { weightSchedule } from "../../../api/v1alpha1/defaults.js";
import { ConditionType, Reason } from "../../../api/v1alpha1/types.js";
import { planHops } from "../../../api/v1alpha1/version.js";
import { greenPercent } from "../../../bluegreen/schedule.js";
import { CONTINUE, STOP, type Step, type StepContext } from "../context.js";

/** BlueGreen never upgrades blue in place: green must already run the target version. */
function markInPlaceConditionsNotApplicable(context: StepContext): void {
  const green = context.spec.blueGreen!.greenCluster.name;
  const message = `strategy BlueGreen does not upgrade cluster ${context.spec.cluster.name} in place; green cluster ${green} must already run ${context.spec.targetVersion}`;
  for (const type of [ConditionType.ControlPlaneUpgraded, ConditionType.AddonsUpgraded, ConditionType.NodeGroupsUpgraded]) {
    context.setCondition(type, "False", Reason.NotApplicable, message);
  }
}

/** InPlace moves no traffic and creates no cluster: those conditions do not apply. */
export const inPlaceConditionsStep: Step = {
  name: "inPlaceConditions",
  run(context) {
    context.setCondition(ConditionType.TrafficShifted, "False", Reason.NotApplicable, "strategy InPlace moves no traffic");
    context.setCondition(ConditionType.GreenCreated, "False", Reason.NotApplicable, "strategy InPlace creates no green cluster");
    context.setCondition(ConditionType.BlueRetired, "False", Reason.NotApplicable, "strategy InPlace upgrades the cluster itself");
    return Promise.resolve(CONTINUE);
  },
};

export const blueGreenConditionsStep: Step = {
  name: "blueGreenConditions",
  run(context) {
    markInPlaceConditionsNotApplicable(context);
    const blueGreen = context.spec.blueGreen!;
    if (!blueGreen.createGreen) {
      context.setCondition(ConditionType.GreenCreated, "False", Reason.NotApplicable, `green cluster ${blueGreen.greenCluster.name} is created by your infrastructure code (createGreen is false)`);
    }
    if (!context.status.blueRetention) {
      context.setCondition(ConditionType.BlueRetired, "False", Reason.Pending, `blue cluster ${context.spec.cluster.name} is left untouched until green carries all traffic`);
    }
    if (!context.status.cutover) {
      context.setCondition(ConditionType.TrafficShifted, "False", Reason.Pending, `no traffic moved yet: green cluster ${context.spec.blueGreen!.greenCluster.name} is verified first`);
    }
    return Promise.resolve(CONTINUE);
  },
};

function dryRunMessage(context: StepContext, verdict: string): string {
  if (context.spec.strategy === "BlueGreen") {
    const blueGreen = context.spec.blueGreen!;
    const shares = weightSchedule(blueGreen).map((step) => `${greenPercent(step)}%`);
    const create = blueGreen.createGreen && context.status.green?.state !== "Ready" ? `green cluster ${blueGreen.greenCluster.name} would be created at ${context.spec.targetVersion} as a clone of ${context.spec.cluster.name}, then ` : "";
    return `dry run: ${create}traffic of ${blueGreen.route53.recordName} would move from ${context.spec.cluster.name} to green cluster ${blueGreen.greenCluster.name} in ${shares.length} step(s) (${shares.join(" -> ")} green), ${verdict}; nothing was changed. Set spec.dryRun to false to run it.`;
  }
  const live = context.cluster!.version;
  const hops = planHops(live, context.spec.targetVersion);
  return `dry run: ${hops.length} hop(s) planned (${[live, ...hops].join(" -> ")}), ${verdict}; nothing was changed. Set spec.dryRun to false to run it.`;
}

export const dryRunStep: Step = {
  name: "dryRun",
  run(context) {
    if (!context.spec.dryRun) return Promise.resolve(CONTINUE);
    // The preflight step has just computed the findings (and the plan); a dry run stops there.
    const blockingCount = context.status.preflight?.blocking ?? 0;
    const verdict = blockingCount ? `${blockingCount} blocking finding(s) would stop it (see status.preflight)` : "preflight passed";
    context.end(Reason.DryRun, dryRunMessage(context, verdict));
    return Promise.resolve(STOP);
  },
};
