// Freezes the upgrade's intent just before the first step that may change something (green
// creation, the cutover, the hops). It lands in the same status write as that first change, and a
// pass that stopped earlier (invalid spec, preflight, dry run, closed window) freezes nothing, so
// the spec stays freely editable until the upgrade really starts.
import { intentOf } from "../../../api/v1alpha1/intent.js";
import { CONTINUE, type Step } from "../context.js";

export const freezeIntentStep: Step = {
  name: "freezeIntent",
  run(context) {
    if (!context.status.frozenIntent) {
      context.status.frozenIntent = intentOf(context.upgrade.spec, context.now);
      context.event("Normal", "IntentFrozen", `cluster ${context.spec.cluster.name}, strategy ${context.spec.strategy} and target ${context.spec.targetVersion} are fixed for this upgrade from now on`);
    }
    return Promise.resolve(CONTINUE);
  },
};
