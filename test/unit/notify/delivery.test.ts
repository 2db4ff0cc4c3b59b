// The bookkeeping of at-least-once notifications, apart from the controller.
import assert from "node:assert/strict";
import type { NotificationStatus } from "../../../src/api/v1alpha1/types.js";
import { deliverPending, MAX_PENDING_NOTIFICATIONS, NOTIFICATION_RETRY_MAX_MS, NOTIFICATION_RETRY_MIN_MS, recordPhaseChange, retryDelayMs } from "../../../src/notify/delivery.js";
import type { PhaseChange } from "../../../src/notify/webhook.js";
import { TransientError } from "../../../src/util/errors.js";

const subject = { clusterUpgrade: "team-a/prod", cluster: "prod", targetVersion: "1.31" };
const at = new Date("2026-11-22T12:00:00Z");

function recorded(phases: string[]): NotificationStatus {
  let status: NotificationStatus | undefined;
  let previousPhase = "Pending";
  for (const phase of phases) {
    status = recordPhaseChange(status, { owner: "uid-1", previousPhase, phase, message: "", at });
    previousPhase = phase;
  }
  return status!;
}

describe("notification delivery bookkeeping", () => {
  it("numbers the keys and keeps only the latest changes when the webhook stays down", () => {
    const phases = Array.from({ length: MAX_PENDING_NOTIFICATIONS + 3 }, (_, index) => `Phase${index + 1}`);
    const status = recorded(phases);
    assert.equal(status.sequence, phases.length);
    assert.equal(status.pending?.length, MAX_PENDING_NOTIFICATIONS);
    assert.equal(status.pending?.[0]?.key, "uid-1/4/Phase4");
    assert.equal(status.pending?.at(-1)?.key, `uid-1/${phases.length}/Phase${phases.length}`);
  });

  it("posts in order, stops at the first failure and backs off before the next attempt", async () => {
    const sent: PhaseChange[] = [];
    const notifier = {
      notify: (change: PhaseChange) => {
        sent.push(change);
        return change.phase === "B" ? Promise.reject(new TransientError("the webhook answered HTTP 503")) : Promise.resolve();
      },
    };
    const first = await deliverPending(recorded(["A", "B", "C"]), notifier, subject, at);
    assert.deepEqual(sent.map((change) => change.idempotencyKey), ["uid-1/1/A", "uid-1/2/B"]);
    assert.equal(first.notifications.lastNotified?.key, "uid-1/1/A");
    assert.deepEqual(first.notifications.pending?.map((entry) => entry.key), ["uid-1/2/B", "uid-1/3/C"]);
    assert.equal(first.notifications.pending?.[0]?.attempts, 1);
    assert.equal(first.retryAfterMs, NOTIFICATION_RETRY_MIN_MS);

    // Not due yet: nothing is posted.
    const early = await deliverPending(first.notifications, notifier, subject, new Date(at.getTime() + 1_000));
    assert.equal(sent.length, 2);
    assert.deepEqual(early.notifications, first.notifications);
  });

  it("doubles the backoff per failure up to ten minutes", () => {
    assert.equal(retryDelayMs(1), NOTIFICATION_RETRY_MIN_MS);
    assert.equal(retryDelayMs(2), 2 * NOTIFICATION_RETRY_MIN_MS);
    assert.equal(retryDelayMs(30), NOTIFICATION_RETRY_MAX_MS);
  });
});
