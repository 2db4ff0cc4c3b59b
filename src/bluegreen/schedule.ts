// The weight schedule of a blue/green cutover: which Route53 weights each step sets, whether a
// schedule makes sense, and how a pair of weights reads as a traffic split.
import { MAX_ROUTE53_WEIGHT } from "../api/v1alpha1/defaults.js";
import type { WeightStep } from "../api/v1alpha1/types.js";

/** Route53 allows weights 0-255 (Route53 API reference, ResourceRecordSet.Weight). */
export const MIN_ROUTE53_WEIGHT = 0;

/** The weights that send every request to blue: what a rollback or an abort sets, in one change. */
export const ALL_BLUE: WeightStep = { blue: MAX_ROUTE53_WEIGHT, green: 0 };

/** Green's share of traffic in percent. Route53 splits equally when every weight is 0. */
export function greenPercent(step: WeightStep): number {
  const total = step.blue + step.green;
  if (total === 0) return 50;
  return Math.round((100 * step.green) / total);
}

/** "blue/green" percentages, e.g. "75/25", for the printer column. */
export function splitText(step: WeightStep): string {
  const green = greenPercent(step);
  return `${100 - green}/${green}`;
}

/** Green's exact share as a fraction, for comparisons that rounding would blur. */
function greenShare(step: WeightStep): number {
  const total = step.blue + step.green;
  return total === 0 ? 0.5 : step.green / total;
}

/**
 * Problems of a weight schedule, each saying how to fix it. The CRD refuses most of them already;
 * this covers objects that bypassed it and what CEL cannot express (green's share must grow).
 */
export function validateWeightSchedule(steps: readonly WeightStep[]): string[] {
  if (steps.length === 0) return ["the schedule has no step; give at least one, ending with all traffic on green"];
  const problems: string[] = [];
  steps.forEach((step, index) => {
    const label = `step ${index + 1} (blue ${step.blue}, green ${step.green})`;
    for (const [side, weight] of [["blue", step.blue], ["green", step.green]] as const) {
      if (!Number.isInteger(weight) || weight < MIN_ROUTE53_WEIGHT || weight > MAX_ROUTE53_WEIGHT) {
        problems.push(`${label}: the ${side} weight must be an integer from ${MIN_ROUTE53_WEIGHT} to ${MAX_ROUTE53_WEIGHT} (Route53's range)`);
      }
    }
    if (step.blue === 0 && step.green === 0) problems.push(`${label}: both weights are 0, which Route53 treats as an equal split; give green a weight above 0`);
    else if (step.green === 0) problems.push(`${label}: sends no traffic to green; every step must give green a weight above 0`);
    if (index > 0 && greenShare(step) <= greenShare(steps[index - 1])) {
      problems.push(`${label}: green's share (${greenPercent(step)}%) must be larger than at step ${index} (${greenPercent(steps[index - 1])}%); each step moves more traffic to green`);
    }
  });
  const last = steps[steps.length - 1];
  if (last.blue !== 0 || last.green === 0) problems.push(`the last step (blue ${last.blue}, green ${last.green}) must send all traffic to green: blue 0 and green above 0`);
  return problems;
}
