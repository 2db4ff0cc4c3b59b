// At-least-once delivery of phase-change notifications. The change is recorded in status with the
// phase (recordPhaseChange), posted after that write (deliverPending), and stays pending until
// the webhook answers 2xx, so a restart at any moment loses none: the next pass posts it again
// under the same key.
import type { NotificationStatus, PendingNotification } from "../api/v1alpha1/types.js";
import { describeError } from "../util/errors.js";
import type { Notifier, PhaseChange } from "./webhook.js";

/** What a message says about the upgrade besides the change itself. */
export type ChangeSubject = Pick<PhaseChange, "clusterUpgrade" | "cluster" | "targetVersion" | "currentVersion">;

/** Undelivered changes kept at most; a webhook down for that long gets the latest ones. */
export const MAX_PENDING_NOTIFICATIONS = 20;
/** Backoff between posts of a pending change: doubled per failure, up to the maximum. */
export const NOTIFICATION_RETRY_MIN_MS = 15_000;
export const NOTIFICATION_RETRY_MAX_MS = 10 * 60_000;

export interface RecordedChange {
  /** The ClusterUpgrade's UID (namespace/name when it has none), so keys differ across re-creations. */
  owner: string;
  previousPhase: string;
  phase: string;
  message: string;
  at: Date;
}

/** Adds the change to pending; returns the updated notification status (the input is not changed). */
export function recordPhaseChange(current: NotificationStatus | undefined, change: RecordedChange): NotificationStatus {
  const sequence = (current?.sequence ?? 0) + 1;
  const entry: PendingNotification = {
    key: `${change.owner}/${sequence}/${change.phase}`,
    previousPhase: change.previousPhase,
    phase: change.phase,
    message: change.message,
    at: change.at.toISOString(),
  };
  const pending = [...(current?.pending ?? []), entry].slice(-MAX_PENDING_NOTIFICATIONS);
  return { ...current, sequence, pending };
}

export interface DeliveryResult {
  notifications: NotificationStatus;
  /** How long until the first change still pending may be posted again; absent when none is left. */
  retryAfterMs?: number;
}

/**
 * Posts the pending changes in order, stopping at the first failure so the receiver sees them in
 * order. A change is removed from pending only once the notifier resolved.
 */
export async function deliverPending(
  current: NotificationStatus,
  notifier: Notifier,
  subject: ChangeSubject,
  now: Date,
): Promise<DeliveryResult> {
  const notifications: NotificationStatus = structuredClone(current);
  const pending = notifications.pending ?? [];
  while (pending.length > 0) {
    const entry = pending[0];
    if (entry.nextAttemptAt && Date.parse(entry.nextAttemptAt) > now.getTime()) break;
    try {
      await notifier.notify({
        ...subject,
        previousPhase: entry.previousPhase,
        phase: entry.phase,
        message: entry.message,
        at: entry.at,
        idempotencyKey: entry.key,
      });
    } catch (error) {
      const attempts = (entry.attempts ?? 0) + 1;
      entry.attempts = attempts;
      entry.lastError = describeError(error);
      entry.nextAttemptAt = new Date(now.getTime() + retryDelayMs(attempts)).toISOString();
      break;
    }
    pending.shift();
    notifications.lastNotified = { phase: entry.phase, key: entry.key, at: now.toISOString() };
  }
  if (pending.length === 0) {
    delete notifications.pending;
    return { notifications };
  }
  notifications.pending = pending;
  const due = pending[0].nextAttemptAt ? Date.parse(pending[0].nextAttemptAt) - now.getTime() : 0;
  return { notifications, retryAfterMs: Math.max(0, due) };
}

export function retryDelayMs(attempts: number): number {
  return Math.min(NOTIFICATION_RETRY_MAX_MS, NOTIFICATION_RETRY_MIN_MS * 2 ** Math.max(0, attempts - 1));
}
