// Spec checks the CRD schema cannot make; the operator changes nothing while the spec is invalid.
import { describeIntentChanges } from "../../../api/v1alpha1/intent.js";
import { validateSpec, validateUrls } from "../../../api/v1alpha1/validation.js";
import { ConditionType, Reason } from "../../../api/v1alpha1/types.js";
import { CONTINUE, STOP, type Step, type StepContext, type StepResult } from "../context.js";

/**
 * A frozen field edited mid-upgrade stops everything but an abort: the abort (run on the frozen
 * intent by the controller) is the documented way out, and it must reach the cluster the upgrade
 * was started on.
 */
function refuseChangedIntent(context: StepContext): StepResult | undefined {
  if (context.intentChanges.length === 0) return undefined;
  const frozenAt = context.status.frozenIntent?.frozenAt ?? "the start";
  const message = describeIntentChanges([...context.intentChanges], frozenAt);
  if (context.spec.abort) {
    const fields = context.intentChanges.map((change) => change.field).join(", ");
    context.setCondition(ConditionType.SpecValid, "True", Reason.Valid, `aborting the upgrade as it was started (cluster ${context.spec.cluster.name}); the later edits of ${fields} are ignored`);
    return CONTINUE;
  }
  context.setCondition(ConditionType.SpecValid, "False", Reason.IntentChanged, message);
  return STOP;
}

export const validateStep: Step = {
  name: "validate",
  run(context) {
    const refused = refuseChangedIntent(context);
    if (refused) return Promise.resolve(refused);
    const problems = [...validateSpec(context.upgrade.spec), ...validateUrls(context.upgrade.spec, context.outbound)];
    if (problems.length > 0) {
      const message = problems.map((problem) => `${problem.field}: ${problem.message}`).join("; ");
      context.setCondition(ConditionType.SpecValid, "False", Reason.InvalidSpec, `${message}. Nothing was changed; fix the spec and the upgrade continues.`);
      return Promise.resolve(STOP);
    }
    return Promise.resolve(CONTINUE);
  },
};
