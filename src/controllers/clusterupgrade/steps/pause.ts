// spec.paused: stop at the next safe point and say where. Nodes being drained are the current safe
// unit: they finish (drained and replaced) before the pause takes hold, and no new node, group or
// hop starts meanwhile. Updates already running in EKS go on there.
import { ConditionType, Reason } from "../../../api/v1alpha1/types.js";
import { runningEksUpdates, workInFlight } from "./abort.js";
import { CONTINUE, STOP, type Step } from "../context.js";

export const pauseStep: Step = {
  name: "pause",
  run(context) {
    if (!context.spec.paused && !context.globalStop) {
      context.setCondition(ConditionType.Paused, "False", Reason.Resumed, "not paused");
      return Promise.resolve(CONTINUE);
    }
    const why = context.spec.paused
      ? "paused by spec.paused; set it to false to resume where it stopped"
      : `paused by the operator-wide stop switch (ConfigMap ${context.stopSwitchName} with stop: "true" in the operator's namespace); delete it or set stop to false to resume`;
    const draining = workInFlight(context.status).filter((entry) => entry.startsWith("node "));
    if (draining.length) {
      // Not paused yet: the nodes in flight finish first, nothing new starts.
      context.newWorkAllowed = false;
      context.setCondition(ConditionType.Paused, "False", Reason.Pausing, `${why}; finishing ${draining.join(", ")} first, then pausing`);
      return Promise.resolve(CONTINUE);
    }
    const running = runningEksUpdates(context.status);
    const tail = running.length ? ` Still running in EKS (cannot be paused): ${running.join("; ")}.` : "";
    context.setCondition(ConditionType.Paused, "True", Reason.UserPaused, `${why}.${tail}`);
    context.setCondition(ConditionType.Progressing, "False", Reason.UserPaused, "paused");
    return Promise.resolve(STOP);
  },
};
