// The ClusterUpgrade reconcile: fetch -> deletion/finalizer -> run the ordered steps on a working
// copy of the status -> write the status once if it changed. Steps are idempotent and never
// sleep: a step that must wait returns how long, and the work queue brings the key back.
import { isDeepStrictEqual } from "node:util";
import { resolveSpec } from "../../api/v1alpha1/defaults.js";
import { intentChanges, withFrozenIntent } from "../../api/v1alpha1/intent.js";
import {
  ALL_CONDITION_TYPES,
  ConditionType,
  FINALIZER,
  Reason,
  type ClusterUpgrade,
  type ClusterUpgradeStatus,
  type ConditionStatus,
  type ReasonName,
} from "../../api/v1alpha1/types.js";
import type { CloudPortsFactory } from "../../cloud/ports.js";
import { ensureConditions, setCondition } from "../../kube/conditions.js";
import { UntrustedKubeconfigError } from "../../kube/untrusted-kubeconfig.js";
import type { ClusterAccess, WorkloadReader } from "../../kube/workloads.js";
import { currentSignal } from "../../runtime/cancellation.js";
import type { Clock } from "../../util/clock.js";
import { describeError, isConflict } from "../../util/errors.js";
import { forClusterUpgrade, type Logger } from "../../util/logger.js";
import type { Notifier } from "../../notify/webhook.js";
import { deliverPending, NOTIFICATION_RETRY_MIN_MS, recordPhaseChange } from "../../notify/delivery.js";
import { DEFAULT_TIMINGS, type ClaimEnvironment, type ControllerTimings, type EventType, type Step, type StepContext } from "./context.js";
import { claimsNoLongerNeeded, holdsClaims } from "../../claims/decide.js";
import { claimStep, releaseClaims, releaseClaimsAtEnd } from "./steps/claim.js";
import { derivePhase, describeProgress, endingConditions, errorReason, readyWhileRunning } from "./status.js";
import { guardedProbe } from "../../bluegreen/http-probe.js";
import { DEFAULT_OUTBOUND_POLICY, type OutboundPolicy } from "../../net/outbound.js";
import type { HttpProbe } from "../../bluegreen/gates.js";
import { abortStep, runningEksUpdates } from "./steps/abort.js";
import { blueGreenStep, returnTrafficOnDeletion } from "./steps/bluegreen.js";
import { holdsAnything, releaseHeld } from "./steps/release.js";
import { clusterStep } from "./steps/cluster.js";
import { finalizeStep } from "./steps/finalize.js";
import { greenClusterStep } from "./steps/green-cluster.js";
import { hopsStep } from "./steps/hops.js";
import { pauseStep } from "./steps/pause.js";
import { preflightStep } from "./steps/preflight.js";
import { blueGreenConditionsStep, dryRunStep, inPlaceConditionsStep } from "./steps/strategy.js";
import { greenPreflightStep } from "./steps/green-preflight.js";
import { freezeIntentStep } from "./steps/intent.js";
import { validateStep } from "./steps/validate.js";
import { windowStep } from "./steps/window.js";
import { rollbackStep } from "./steps/rollback.js";
import { PassScope } from "./scope.js";

/** How the controller reads and writes ClusterUpgrades; backed by the API server in production. */
export interface ClusterUpgradeStore {
  get(namespace: string, name: string): Promise<ClusterUpgrade | undefined>;
  /** Writes status through the status subresource; throws a ConflictError on a stale resourceVersion. */
  updateStatus(upgrade: ClusterUpgrade, status: ClusterUpgradeStatus): Promise<void>;
  /** Replaces the finalizers (optimistic concurrency on resourceVersion) and returns the updated object. */
  setFinalizers(upgrade: ClusterUpgrade, finalizers: string[]): Promise<ClusterUpgrade>;
}

export interface EventSink {
  record(upgrade: ClusterUpgrade, type: EventType, reason: string, message: string): Promise<void>;
}

export interface ReconcileOutcome {
  requeueAfterMs?: number;
}

export interface ControllerOptions {
  store: ClusterUpgradeStore;
  events: EventSink;
  cloud: CloudPortsFactory;
  /** The reader of the upgraded cluster's nodes, pods and budgets. */
  workloads: (upgrade: ClusterUpgrade) => Promise<ClusterAccess>;
  /** BlueGreen: the reader of the green cluster's workloads. */
  greenWorkloads?: (upgrade: ClusterUpgrade) => Promise<WorkloadReader>;
  /** BlueGreen HTTP probe gates; a GET through the outbound guard by default. */
  httpProbe?: HttpProbe;
  /** What URLs from a spec may point at (operator settings OUTBOUND_*); the strict default when absent. */
  outbound?: OutboundPolicy;
  clock: Clock;
  logger: Logger;
  defaultRegion: string;
  timings?: Partial<ControllerTimings>;
  /** Reports each pass's phase, and the upgrade with the status it ended with, for metrics. */
  onPhase?: (key: string, phase: string, upgrade: ClusterUpgrade, status: ClusterUpgradeStatus) => void;
  /** A global stop switch: when it answers true every ClusterUpgrade behaves as paused. */
  globallyPaused?: () => boolean;
  /** The stop switch's ConfigMap name (STOP_SWITCH_CONFIGMAP), for messages. */
  stopSwitchName?: string;
  /** The notifier a ClusterUpgrade asked for in spec.notifications, if any. */
  notifierFor?: (upgrade: ClusterUpgrade) => Promise<Notifier | undefined>;
  /**
   * The management cluster this operator runs in, written into every claim (OPERATOR_IDENTITY, by
   * default the kube-system namespace UID). Without one, claims say "unidentified" and no holder
   * is ever judged gone automatically.
   */
  operatorIdentity?: string;
}

/**
 * Whether a deleted upgrade may still have claims on AWS. An upgrade whose spec never checked out
 * never reached the claim step, and must not be held up at deletion by a cluster it cannot reach;
 * one that recorded no claim list yet may have written a claim just before a lost status write.
 */
function mayHoldClaims(status: ClusterUpgradeStatus): boolean {
  if (status.claims !== undefined) return holdsClaims(status);
  return status.conditions?.some((condition) => condition.type === ConditionType.SpecValid && condition.status === "True") ?? false;
}

/** Only an upgrade that names a webhook keeps pending messages; others would pile up undelivered. */
function wantsNotifications(upgrade: ClusterUpgrade): boolean {
  const settings = upgrade.spec.notifications;
  return Boolean(settings?.webhookUrl || settings?.webhookSecretRef);
}

function noGreenReader(): Promise<WorkloadReader> {
  return Promise.reject(new Error("this operator was started without a reader for the green cluster's workloads"));
}

/** The object as the steps see it: its spec carries the frozen intent, whatever was edited since. */
function actingOnFrozenIntent(upgrade: ClusterUpgrade): ClusterUpgrade {
  const spec = withFrozenIntent(upgrade.spec, upgrade.status?.frozenIntent);
  return spec === upgrade.spec ? upgrade : { ...upgrade, spec };
}

/**
 * The ordered steps of one pass. Each checks whether its work is done and returns early if so.
 * Both strategies share the first steps (the spec is valid, not aborted or paused, the cluster is
 * there); after that each has its own list, so no step asks which strategy it is in.
 */
const COMMON_STEPS: readonly Step[] = [validateStep, abortStep, pauseStep, clusterStep];
export const IN_PLACE_STEPS: readonly Step[] = [...COMMON_STEPS, inPlaceConditionsStep, claimStep, preflightStep, dryRunStep, windowStep, freezeIntentStep, rollbackStep, hopsStep, finalizeStep];
export const BLUE_GREEN_STEPS: readonly Step[] = [...COMMON_STEPS, blueGreenConditionsStep, claimStep, greenPreflightStep, dryRunStep, windowStep, freezeIntentStep, greenClusterStep, blueGreenStep, finalizeStep];

export class ClusterUpgradeController {
  private readonly timings: ControllerTimings;
  private readonly claims: ClaimEnvironment;

  constructor(private readonly options: ControllerOptions) {
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.claims = {
      operator: options.operatorIdentity ?? "unidentified",
      identityStable: options.operatorIdentity !== undefined,
      regionOf: (region) => region || options.defaultRegion,
      upgradeUid: async (namespace, name) => (await options.store.get(namespace, name))?.metadata.uid,
    };
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileOutcome> {
    const log = forClusterUpgrade(this.options.logger, namespace, name);
    let upgrade = await this.options.store.get(namespace, name);
    if (!upgrade) return {};
    if (upgrade.metadata.deletionTimestamp) return this.finalizeDeletion(upgrade, log);
    if (!upgrade.metadata.finalizers?.includes(FINALIZER)) {
      upgrade = await this.options.store.setFinalizers(upgrade, [...(upgrade.metadata.finalizers ?? []), FINALIZER]);
    }
    if (!upgrade.status?.phase) {
      upgrade = await this.acknowledge(upgrade);
      if (!upgrade) return {};
    }
    return this.runSteps(upgrade, log);
  }

  /**
   * The first status, written before the first pass does anything slow: on a large cluster that
   * pass reads every pod and budget for the preflight, and `kubectl get` should not show an empty
   * row meanwhile. Returns the object as stored afterwards.
   */
  private async acknowledge(upgrade: ClusterUpgrade): Promise<ClusterUpgrade | undefined> {
    const now = this.options.clock.date();
    const generation = upgrade.metadata.generation;
    const status: ClusterUpgradeStatus = { conditions: ensureConditions([], ALL_CONDITION_TYPES, now, generation) };
    status.conditions = setCondition(status.conditions ?? [], {
      type: ConditionType.Ready,
      status: "Unknown",
      reason: Reason.Reconciling,
      message: `accepted: reading cluster ${upgrade.spec.cluster.name} and running the preflight checks`,
      observedGeneration: generation,
    }, now);
    status.phase = derivePhase(status);
    status.progress = "";
    try {
      await this.options.store.updateStatus(upgrade, status);
    } catch (error) {
      // Someone else wrote first (another pass, a user edit): the pass below reads it again anyway.
      if (!isConflict(error)) throw error;
    }
    return this.options.store.get(upgrade.metadata.namespace, upgrade.metadata.name);
  }

  private async runSteps(written: ClusterUpgrade, log: Logger): Promise<ReconcileOutcome> {
    // Steps act on the intent the upgrade was started with; the validate step refuses the edits.
    const changes = intentChanges(written.status?.frozenIntent, written.spec);
    const upgrade = actingOnFrozenIntent(written);
    const original: ClusterUpgradeStatus = structuredClone(upgrade.status ?? {});
    const status: ClusterUpgradeStatus = structuredClone(original);
    const now = this.options.clock.date();
    const generation = upgrade.metadata.generation;
    status.conditions = ensureConditions(status.conditions ?? [], ALL_CONDITION_TYPES, now, generation);
    const pendingEvents: { type: EventType; reason: string; message: string }[] = [];
    const spec = resolveSpec(upgrade.spec);
    const globalStop = this.options.globallyPaused?.() ?? false;
    const region = (named: string | undefined): string => named ?? spec.cluster.region ?? this.options.defaultRegion;
    const scope = new PassScope(this.options.cloud, () => this.options.workloads(upgrade), () => (this.options.greenWorkloads ?? noGreenReader)(upgrade));
    const context: StepContext = {
      upgrade,
      spec,
      intentChanges: changes,
      status,
      now,
      cloud: scope.cloudIn(region(undefined)),
      log,
      timings: this.timings,
      workloads: () => scope.workloads(),
      greenWorkloads: () => scope.greenWorkloads(),
      cloudIn: (named) => scope.cloudIn(region(named)),
      probeHttp: this.options.httpProbe ?? guardedProbe(this.options.outbound ?? DEFAULT_OUTBOUND_POLICY),
      outbound: this.options.outbound ?? DEFAULT_OUTBOUND_POLICY,
      claims: { ...this.claims, regionOf: (region) => region || spec.cluster.region || this.options.defaultRegion },
      globalStop,
      stopSwitchName: this.options.stopSwitchName ?? "eks-upgrade-operator-stop",
      newWorkAllowed: true,
      setCondition: (type, conditionStatus: ConditionStatus, reason, message) => {
        status.conditions = setCondition(status.conditions ?? [], { type, status: conditionStatus, reason, message, observedGeneration: generation }, now);
      },
      end: (ending, message, detail) => {
        for (const condition of endingConditions(ending, message, detail)) context.setCondition(condition.type, condition.status, condition.reason, condition.message);
      },
      event: (type, reason, message) => pendingEvents.push({ type, reason, message }),
    };

    let outcome: ReconcileOutcome = {};
    let failure: unknown;
    try {
      outcome = await this.runUntilWait(context, claimsNoLongerNeeded(spec, original));
    } catch (error) {
      // Cancelled (lost Lease, deadline, shutdown): write nothing, not even the failure. Another
      // replica may be leading by now, and every call from here on would be refused anyway.
      if (currentSignal()?.aborted) throw error;
      failure = error;
      log.error("reconcile failed", { error: describeError(error) });
      context.setCondition(ConditionType.Progressing, "False", errorReason(error), `${describeError(error)}; retrying with backoff`);
      // A refused kubeconfig is the spec's (or its Secret's) to fix, not a passing AWS hiccup.
      if (error instanceof UntrustedKubeconfigError) context.setCondition(ConditionType.SpecValid, "False", Reason.InvalidSpec, `${error.message} Fix the Secret; the operator reads it again on the next attempt.`);
    }
    this.summarize(context, failure === undefined ? undefined : errorReason(failure));
    if (failure === undefined) status.observedGeneration = generation;
    const previousPhase = original.phase ?? "Pending";
    // Recorded in the same write as the phase, so that a crash after it cannot lose the message.
    if (previousPhase !== status.phase && wantsNotifications(upgrade)) {
      status.notifications = recordPhaseChange(status.notifications, {
        owner: upgrade.metadata.uid ?? `${upgrade.metadata.namespace}/${upgrade.metadata.name}`,
        previousPhase,
        phase: status.phase ?? "Pending",
        message: status.conditions?.find((condition) => condition.type === ConditionType.Ready)?.message ?? "",
        at: now,
      });
    }
    if (!isDeepStrictEqual(original, status)) {
      try {
        await this.options.store.updateStatus(upgrade, status);
      } catch (error) {
        if (isConflict(error)) return { requeueAfterMs: 0 };
        throw error;
      }
    }
    for (const event of pendingEvents) await this.options.events.record(upgrade, event.type, event.reason, event.message);
    const retryNotificationsAfterMs = status.notifications?.pending?.length ? await this.deliverNotifications(upgrade, status, log) : undefined;
    this.options.onPhase?.(`${upgrade.metadata.namespace}/${upgrade.metadata.name}`, status.phase ?? "Pending", upgrade, status);
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(describeError(failure));
    // An upgrade that is done asks for no more passes; an undelivered message still needs one.
    if (retryNotificationsAfterMs !== undefined) {
      return { ...outcome, requeueAfterMs: Math.min(outcome.requeueAfterMs ?? retryNotificationsAfterMs, retryNotificationsAfterMs) };
    }
    return outcome;
  }

  private async runUntilWait(context: StepContext, endedBefore: boolean): Promise<ReconcileOutcome> {
    for (const step of context.spec.strategy === "BlueGreen" ? BLUE_GREEN_STEPS : IN_PLACE_STEPS) {
      const result = await step.run(context);
      if (result.outcome === "continue") continue;
      if (result.outcome === "stop") {
        // Succeeded, aborted, rolled back, blue retired: what the upgrade claimed goes back now.
        await releaseClaimsAtEnd(context, endedBefore);
        return {};
      }
      context.log.debug(`step ${step.name} waits`, { requeueAfterMs: result.requeueAfterMs, reason: result.reason });
      return { requeueAfterMs: result.requeueAfterMs };
    }
    return {};
  }

  /**
   * Posts the pending phase changes, only after the status write that recorded them: a phase that
   * was never stored is never announced. What was acknowledged is written back at once; when that
   * write is lost the next pass posts again under the same key, which the receiver can drop.
   * Returns when to try again while some are still pending.
   */
  private async deliverNotifications(upgrade: ClusterUpgrade, status: ClusterUpgradeStatus, log: Logger): Promise<number | undefined> {
    const current = status.notifications;
    if (!current) return undefined;
    let notifier: Notifier | undefined;
    try {
      notifier = await this.options.notifierFor?.(upgrade);
    } catch (error) {
      log.warn("cannot resolve the notification webhook; trying again later", { error: describeError(error) });
      return NOTIFICATION_RETRY_MIN_MS;
    }
    if (!notifier) return undefined;
    const now = this.options.clock.date();
    const { notifications, retryAfterMs } = await deliverPending(current, notifier, {
      clusterUpgrade: `${upgrade.metadata.namespace}/${upgrade.metadata.name}`,
      cluster: upgrade.spec.cluster.name,
      targetVersion: upgrade.spec.targetVersion,
      ...(status.currentVersion ? { currentVersion: status.currentVersion } : {}),
    }, now);
    const failed = notifications.pending?.[0];
    if (failed?.lastError && failed.attempts !== current.pending?.[0]?.attempts) {
      log.warn("notification webhook failed; the upgrade goes on and the message is sent again later", { phase: failed.phase, key: failed.key, attempts: failed.attempts, error: failed.lastError });
    }
    if (isDeepStrictEqual(notifications, current)) return retryAfterMs;
    // Read again: the write above moved the resourceVersion on. Only this field changes.
    const latest = await this.options.store.get(upgrade.metadata.namespace, upgrade.metadata.name);
    if (!latest?.status || !isDeepStrictEqual(latest.status.notifications, current)) return retryAfterMs ?? 0;
    try {
      await this.options.store.updateStatus(latest, { ...latest.status, notifications });
    } catch (error) {
      if (!isConflict(error)) throw error;
      return 0;
    }
    return retryAfterMs;
  }

  /** The summary condition and the derived fields (status.ts), from whatever the steps recorded. */
  private summarize(context: StepContext, failedWith: ReasonName | undefined): void {
    const { status } = context;
    const ready = readyWhileRunning(status, context.spec.targetVersion, failedWith);
    if (ready) context.setCondition(ready.type, ready.status, ready.reason, ready.message);
    status.phase = derivePhase(status);
    status.progress = describeProgress(status);
  }

  /** Deletion mid-flight: nothing the operator holds may be left behind; EKS updates run on. */
  private async finalizeDeletion(written: ClusterUpgrade, log: Logger): Promise<ReconcileOutcome> {
    if (!written.metadata.finalizers?.includes(FINALIZER)) return {};
    const upgrade = actingOnFrozenIntent(written);
    const status = structuredClone(upgrade.status ?? {});
    if (holdsAnything(status)) {
      // A failure here is retried with backoff: the finalizer stays until everything is given back.
      const region = upgrade.spec.cluster.region ?? this.options.defaultRegion;
      const released = await releaseHeld({ upgrade, status, cloud: this.options.cloud(region), nodes: await this.options.workloads(upgrade) });
      for (const line of released) await this.options.events.record(upgrade, "Normal", "Released", line);
      log.info("released what the deleted upgrade held", { released });
    }
    const running = runningEksUpdates(status);
    if (running.length) log.warn("deleted while EKS updates it started are still running; they cannot be cancelled", { running });
    // A cutover in flight must not leave traffic split: blue gets it all back before the object goes.
    await returnTrafficOnDeletion(upgrade, this.options.cloud(upgrade.spec.cluster.region ?? this.options.defaultRegion), log);
    // Last, so that nobody else starts on the cluster before the traffic and the groups are back.
    const claimsReleased = mayHoldClaims(status) ? await releaseClaims({
      upgrade,
      spec: resolveSpec(upgrade.spec),
      status,
      portsIn: (region) => this.options.cloud(region || upgrade.spec.cluster.region || this.options.defaultRegion),
      regionOf: (region) => region || upgrade.spec.cluster.region || this.options.defaultRegion,
      now: this.options.clock.date(),
    }) : [];
    for (const line of claimsReleased) await this.options.events.record(upgrade, "Normal", "ClaimReleased", line);
    await this.options.store.setFinalizers(upgrade, (upgrade.metadata.finalizers ?? []).filter((finalizer) => finalizer !== FINALIZER));
    return {};
  }
}
