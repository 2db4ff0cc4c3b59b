// New work starts only inside a maintenance window and outside every blackout. Work already in
// flight (an EKS update that was started) is followed to its end regardless.
import { ConditionType, Reason } from "../../../api/v1alpha1/types.js";
import { windowState } from "../../../schedule/windows.js";
import { trafficInFlight } from "../../../bluegreen/cutover.js";
import { workInFlight } from "./abort.js";
import { CONTINUE, waitFor, type Step } from "../context.js";

export const windowStep: Step = {
  name: "window",
  run(context) {
    const state = windowState(context.spec.maintenanceWindows, context.spec.blackouts, context.now);
    if (state.open) {
      context.status.window = {
        open: true,
        ...(state.reason === "InsideWindow" ? { nextEnd: state.closesAt.toISOString() } : {}),
        reason: state.reason,
      };
      const message = state.reason === "NoWindows" ? "no maintenance windows declared: work may start at any time" : `inside a maintenance window until ${state.closesAt.toISOString()}`;
      if (state.reason === "InsideWindow") context.windowClosesAt = state.closesAt;
      context.setCondition(ConditionType.MaintenanceWindowOpen, "True", state.reason === "NoWindows" ? Reason.NoWindows : Reason.InsideWindow, message);
      return Promise.resolve(CONTINUE);
    }
    context.status.window = {
      open: false,
      reason: state.reason,
      ...(state.nextStart ? { nextStart: state.nextStart.toISOString() } : {}),
      ...(state.nextEnd ? { nextEnd: state.nextEnd.toISOString() } : {}),
    };
    const next = state.nextStart ? `next window opens ${state.nextStart.toISOString()}${state.nextEnd ? ` and closes ${state.nextEnd.toISOString()}` : ""}` : "no window opens in the next year: check spec.maintenanceWindows";
    const why = state.reason === "Blackout" ? `inside blackout ${state.blackout?.start} - ${state.blackout?.end}${state.blackout?.reason ? ` (${state.blackout.reason})` : ""}` : "outside every maintenance window";
    const cutover = context.status.cutover;
    // A traffic cutover that has started runs to its end: stopping it halfway leaves traffic split.
    const running = [...workInFlight(context.status), ...(trafficInFlight(cutover) ? [`traffic cutover at step ${cutover!.step} (split ${cutover!.split})`] : [])];
    if (running.length) {
      // Work in flight finishes its current unit; only new work waits.
      context.newWorkAllowed = false;
      context.setCondition(ConditionType.MaintenanceWindowOpen, "False", state.reason === "Blackout" ? Reason.Blackout : Reason.OutsideWindow, `${why}; finishing work in flight (${running.join("; ")}), then waiting: ${next}`);
      return Promise.resolve(CONTINUE);
    }
    context.setCondition(ConditionType.MaintenanceWindowOpen, "False", state.reason === "Blackout" ? Reason.Blackout : Reason.OutsideWindow, `${why}; ${next}`);
    const untilOpen = state.nextStart ? state.nextStart.getTime() - context.now.getTime() : context.timings.idleRecheckMs;
    return Promise.resolve(waitFor(Math.max(1000, Math.min(untilOpen, context.timings.idleRecheckMs * 10)), "outside maintenance window"));
  },
};
