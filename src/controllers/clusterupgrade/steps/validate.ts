// Spec checks the CRD schema cannot make; the operator changes nothing while the spec is invalid.
import { validateSpec } from "../../../api/v1alpha1/validation.js";
import { ConditionType, Reason } from "../../../api/v1alpha1/types.js";
import { CONTINUE, STOP, type Step } from "../context.js";

export const validateStep: Step = {
  name: "validate",
  run(context) {
    const problems = validateSpec(context.upgrade.spec);
    if (problems.length > 0) {
      const message = problems.map((problem) => `${problem.field}: ${problem.message}`).join("; ");
      context.setCondition(ConditionType.SpecValid, "False", Reason.InvalidSpec, `${message}. Nothing was changed; fix the spec and the upgrade continues.`);
      return Promise.resolve(STOP);
    }
    return Promise.resolve(CONTINUE);
  },
};
