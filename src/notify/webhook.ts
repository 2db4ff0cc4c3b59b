// Notifications: a JSON message to a webhook on every phase change of a ClusterUpgrade. The body
// carries a Slack-compatible `text` field so an incoming-webhook URL works as it is. Delivery is at
// least once: the controller records each change in status first and calls notify() until it
// resolves; every message carries an idempotency key (body field and Idempotency-Key header) that
// stays the same across attempts and restarts, so a receiver can drop the repeats. A failing
// webhook never holds up the upgrade.
import type { Logger } from "../util/logger.js";
import { withRetry } from "../util/retry.js";
import { TransientError, ValidationError } from "../util/errors.js";
import { DEFAULT_OUTBOUND_POLICY, isOutboundRefused, outboundRequest, type OutboundPolicy, type Resolver } from "../net/outbound.js";

export interface PhaseChange {
  /** namespace/name of the ClusterUpgrade. */
  clusterUpgrade: string;
  cluster: string;
  targetVersion: string;
  currentVersion?: string;
  previousPhase: string;
  phase: string;
  /** The summary condition's message: what is happening or what is wrong. */
  message: string;
  at: string;
  /** Same on every attempt to deliver this change: <uid>/<sequence>/<phase>. */
  idempotencyKey: string;
}

export interface NotificationBody extends PhaseChange {
  kind: "PhaseChanged";
  failure: boolean;
  text: string;
}

export interface Notifier {
  /** Resolves once the receiver acknowledged the message (2xx); rejects with a typed error otherwise. */
  notify(change: PhaseChange): Promise<void>;
}

/** Phases that mean a person should look. */
const FAILURE_PHASES = new Set(["Failed", "Blocked", "InvalidSpec", "Aborted"]);
/** A webhook gets this long per attempt; the reconcile never waits on it beyond the retries. */
export const WEBHOOK_TIMEOUT_MS = 5_000;

export function notificationBody(change: PhaseChange): NotificationBody {
  const failure = FAILURE_PHASES.has(change.phase);
  const marker = failure ? ":warning: " : "";
  const versions = change.currentVersion ? ` (${change.currentVersion} -> ${change.targetVersion})` : ` (target ${change.targetVersion})`;
  return {
    kind: "PhaseChanged",
    ...change,
    failure,
    text: `${marker}ClusterUpgrade ${change.clusterUpgrade}, cluster ${change.cluster}${versions}: ${change.previousPhase} -> ${change.phase}. ${change.message}`,
  };
}

export class WebhookNotifier implements Notifier {
  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    /** Operator-level outbound settings; the URL comes from a spec or a Secret and is checked before every post. */
    private readonly policy: OutboundPolicy = DEFAULT_OUTBOUND_POLICY,
    /** Where the URL came from, for messages. */
    private readonly field = "spec.notifications.webhookUrl",
    private readonly resolver?: Resolver,
  ) {}

  async notify(change: PhaseChange): Promise<void> {
    const body = JSON.stringify(notificationBody(change));
    // One quick retry rides out a blip without a status write; longer outages are retried on later
    // passes (the controller keeps the change pending), so the reconcile is held up for seconds only.
    await withRetry(`posting the ${change.phase} notification of ${change.clusterUpgrade}`, () => this.post(body, change.idempotencyKey), { retries: 1, logger: this.logger });
  }

  private async post(body: string, idempotencyKey: string): Promise<void> {
    let status: number;
    try {
      const response = await outboundRequest(
        this.policy,
        this.url,
        { method: "POST", field: this.field, timeoutMs: WEBHOOK_TIMEOUT_MS, headers: { "content-type": "application/json", "idempotency-key": idempotencyKey }, body },
        this.resolver,
      );
      status = response.status;
    } catch (error) {
      // A refused URL stays refused: no retry, and the log says which field and why.
      if (isOutboundRefused(error)) throw new ValidationError(error.message, { cause: error });
      throw new TransientError("the webhook did not answer", { cause: error });
    }
    if (status >= 200 && status < 300) return;
    const detail = `the webhook answered HTTP ${status}`;
    // 5xx and 429 may pass on a retry; any other answer will not.
    if (status >= 500 || status === 429) throw new TransientError(detail);
    throw new ValidationError(detail);
  }
}
