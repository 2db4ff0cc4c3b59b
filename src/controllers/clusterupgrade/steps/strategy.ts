// Strategy gates that apply before any change: dry runs stop after the plan, and the traffic
// condition says whether traffic moves at all.
import { ConditionType, Reason } from "../../../api/v1alpha1/types.js";
import { planHops } from "../../../api/v1alpha1/version.js";
import { CONTINUE, STOP, waitFor, type Step } from "../context.js";

export const strategyStep: Step = {
  name: "strategy",
  run(context) {
    if (context.spec.strategy === "InPlace") {
      context.setCondition(ConditionType.TrafficShifted, "False", Reason.NotApplicable, "strategy InPlace moves no traffic");
      return Promise.resolve(CONTINUE);
    }
    const message = "strategy BlueGreen (Route53 traffic shifting) cannot be run by this operator version; use strategy InPlace. Nothing was changed.";
    context.setCondition(ConditionType.TrafficShifted, "False", Reason.StepUnavailable, message);
    context.setCondition(ConditionType.Progressing, "False", Reason.StepUnavailable, message);
    return Promise.resolve(waitFor(context.timings.idleRecheckMs * 10, "blue/green unavailable"));
  },
};

export const dryRunStep: Step = {
  name: "dryRun",
  run(context) {
    if (!context.spec.dryRun) return Promise.resolve(CONTINUE);
    // The preflight step has just computed the findings and the plan; a dry run stops there.
    const live = context.cluster!.version;
    const hops = planHops(live, context.spec.targetVersion);
    const blockingCount = context.status.preflight?.blocking ?? 0;
    const verdict = blockingCount ? `${blockingCount} blocking finding(s) would stop it (see status.preflight)` : "preflight passed";
    context.setCondition(ConditionType.Ready, "False", Reason.DryRun, `dry run: ${hops.length} hop(s) planned (${[live, ...hops].join(" -> ")}), ${verdict}; nothing was changed. Set spec.dryRun to false to run it.`);
    context.setCondition(ConditionType.Progressing, "False", Reason.DryRun, "dry run");
    return Promise.resolve(STOP);
  },
};
