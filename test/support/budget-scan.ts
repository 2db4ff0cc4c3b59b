// The pod's budgets found the way budgetsFor found them before it had an index: every budget of the
// pod's namespace matched against the pod's labels. The reference the index is checked against
// (test/unit/kube/budgets-for.test.ts) and timed against (npm run bench:checks).
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { selectorMatches } from "../../src/kube/workload-snapshot.js";

export function budgetsByScan(pod: V1Pod, pdbs: V1PodDisruptionBudget[]): V1PodDisruptionBudget[] {
  return pdbs.filter((pdb) => {
    if (pdb.metadata?.namespace !== pod.metadata?.namespace) return false;
    const selector = pdb.spec?.selector;
    // policy/v1: an empty selector {} selects every pod of the namespace.
    if (selector && !selector.matchLabels && !selector.matchExpressions) return true;
    return selectorMatches(selector, pod.metadata?.labels);
  });
}
