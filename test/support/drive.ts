// Drives a ClusterUpgrade through the controller in a unit test: pass after pass, moving the fake
// clock by each requeue, as the manager's queue would.
import type { ClusterUpgrade } from "../../src/api/v1alpha1/types.js";
import type { ReconcileOutcome } from "../../src/controllers/clusterupgrade/controller.js";

/** Runs passes until none is asked for, `until` holds, or `limit` passes have run; returns the last outcome. */
export async function drivePasses(
  reconcile: () => Promise<ReconcileOutcome>,
  advance: (ms: number) => Promise<void>,
  read: () => ClusterUpgrade,
  limit: number,
  until?: (upgrade: ClusterUpgrade) => boolean,
): Promise<ReconcileOutcome> {
  let outcome: ReconcileOutcome = {};
  for (let pass = 0; pass < limit; pass++) {
    outcome = await reconcile();
    if (outcome.requeueAfterMs === undefined || until?.(read())) return outcome;
    await advance(outcome.requeueAfterMs);
  }
  return outcome;
}
