/**
 * Runs one controller: informers feed a work queue whose keys go to a reconcile function, and
 * only the replica holding the leader Lease runs the queue.
 *
 * Every replica starts its informers at once, so a standby has a warm cache and can take over
 * within one lease period. The leader enqueues every primary object when it starts leading
 * (level-triggered: nothing is assumed from the previous leader) and on a resync period.
 *
 * Shutdown order matters: stop taking keys, let running reconciles finish (bounded), and only
 * then release the Lease. Releasing first would let the next leader reconcile an object this
 * replica is still writing.
 *
 * Each reconcile runs with its own AbortSignal (see cancellation.ts), aborted when its deadline
 * passes, when leadership is lost, and when a shutdown outlasts its timeout. Every outbound call
 * reads that signal and refuses to start once it has fired, so a replica that lost the Lease
 * stops touching AWS and the API server before another replica can take over: the elector gives
 * up at renewDeadline, measured from the start of its last successful renewal, while a standby
 * may take the Lease only leaseDuration after it saw that renewal, which is later (see
 * leader-election.ts).
 *
 * The manager knows nothing about ClusterUpgrades; keys are "namespace/name" strings.
 */
import { realClock, type Clock, type Timer } from "../util/clock.js";
import { describeError, serializeError } from "../util/errors.js";
import { createSilentLogger, type Logger } from "../util/logger.js";
import type { OperatorMetrics } from "../observability/metrics.js";
import type { ProbeResult } from "../observability/http.js";
import { CANCEL_REASONS, runWithSignal } from "./cancellation.js";
import { objectKey, type Informer, type ObjectWithMetadata } from "./informer.js";
import { LeaderElector, type LeaderElectorOptions } from "./leader-election.js";
import { WorkQueue, type BackoffOptions, type ReconcileResult } from "./workqueue.js";

export type Reconciler = (key: string) => Promise<ReconcileResult | void>;

/** An informer whose changes map to primary keys (e.g. a Node to the upgrades draining it). */
export interface SecondaryWatch<T extends ObjectWithMetadata> {
  informer: Informer<T>;
  mapToKeys(object: T): string[];
  /** Updates that pass this test are mapped; others are dropped. All pass when absent. */
  updateFilter?(previous: T, current: T): boolean;
}

/** Builds a SecondaryWatch while keeping the informer's object type for `mapToKeys`. */
export function secondaryWatch<T extends ObjectWithMetadata>(
  informer: Informer<T>,
  mapToKeys: (object: T) => string[],
  updateFilter?: (previous: T, current: T) => boolean,
): SecondaryWatch<ObjectWithMetadata> {
  const watch: SecondaryWatch<T> = { informer, mapToKeys, ...(updateFilter ? { updateFilter } : {}) };
  return watch;
}

export type LeaderElectionSettings = Omit<LeaderElectorOptions, "callbacks" | "clock" | "logger">;

export interface ManagerOptions<P extends ObjectWithMetadata> {
  /** Controller name for logs and metric labels, e.g. "clusterupgrade". */
  name: string;
  /** Informer of the reconciled kind; its object keys are the work queue keys. */
  primary: Informer<P>;
  secondary?: SecondaryWatch<ObjectWithMetadata>[];
  reconcile: Reconciler;
  /** Reconciles of different keys running at once. Default 1. */
  concurrency?: number;
  /** Lease settings; `false` runs without election (a single replica, local runs). */
  leaderElection: LeaderElectionSettings | false;
  /** How long shutdown waits for running reconciles before cancelling them. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** A reconcile still running after this long is cancelled (and retried with backoff). Default 5 min. */
  reconcileTimeoutMs?: number;
  /** The leader re-enqueues every primary object this often. Default 10 min; 0 disables. */
  resyncPeriodMs?: number;
  backoff?: BackoffOptions;
  /** Log field that carries the key, e.g. "clusterUpgrade". Default "key". */
  logKeyField?: string;
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
  /** Told when this replica starts (true) or stops (false) leading, e.g. to log or export it. */
  onLeadershipChange?: (leading: boolean) => void;
  /**
   * Which updates of a primary object are worth a reconcile. Default: every one. Controllers that
   * write their own status pass `specOrMetadataChanged`, so their writes do not wake them again.
   */
  primaryUpdateFilter?: (previous: P, current: P) => boolean;
}

interface ComparableMetadata {
  generation?: number;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: unknown;
}

/**
 * True when an update changed what the user or another controller asks for: the spec (the
 * generation), annotations, labels, finalizers or deletion. A status-only write is not: the
 * reconciler that wrote it has already asked to come back when it needs to.
 */
export function specOrMetadataChanged(previous: ObjectWithMetadata, current: ObjectWithMetadata): boolean {
  const before = (previous.metadata ?? {}) as ComparableMetadata;
  const after = (current.metadata ?? {}) as ComparableMetadata;
  if (before.generation === undefined || after.generation === undefined) return true;
  return (
    before.generation !== after.generation ||
    JSON.stringify(before.annotations ?? {}) !== JSON.stringify(after.annotations ?? {}) ||
    JSON.stringify(before.labels ?? {}) !== JSON.stringify(after.labels ?? {}) ||
    JSON.stringify(before.finalizers ?? []) !== JSON.stringify(after.finalizers ?? []) ||
    JSON.stringify(before.deletionTimestamp ?? null) !== JSON.stringify(after.deletionTimestamp ?? null)
  );
}

export type StopReason = "shutdown" | "lost-leadership";

type ManagerState = "new" | "running" | "stopping" | "stopped";

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
export const DEFAULT_RECONCILE_TIMEOUT_MS = 5 * 60_000;
/** After cancelling, how long shutdown waits for reconciles to unwind before giving up on them. */
const CANCEL_GRACE_MS = 5_000;
const DEFAULT_RESYNC_PERIOD_MS = 10 * 60_000;

export class Manager<P extends ObjectWithMetadata> {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly queue: WorkQueue;
  private readonly elector: LeaderElector | undefined;
  private state: ManagerState = "new";
  private leading = false;
  private workersStarted = false;
  private resyncTimer: Timer | undefined;
  private stopPromise: Promise<void> | undefined;
  private stopReason: StopReason | undefined;
  /** One controller per running reconcile. */
  private readonly running = new Set<AbortController>();
  private resolveDone!: (reason: StopReason) => void;
  /** Resolves once the manager has fully stopped, with why. */
  readonly done: Promise<StopReason>;

  constructor(private readonly options: ManagerOptions<P>) {
    this.clock = options.clock ?? realClock;
    this.logger = (options.logger ?? createSilentLogger()).child({ controller: options.name });
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.queue = this.createQueue();
    this.elector = options.leaderElection === false ? undefined : this.createElector(options.leaderElection);
    this.registerEventHandlers();
  }

  /** Starts informers and leader election; returns at once (readiness tells when synced). */
  start(): void {
    if (this.state !== "new") throw new Error(`manager ${this.options.name} already started`);
    this.state = "running";
    for (const informer of this.informers()) informer.start();
    if (this.elector === undefined) this.onStartedLeading();
    else this.elector.start();
    this.logger.info("manager started", { leaderElection: this.elector !== undefined });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Identity used in the Lease, when election is on. */
  identity(): string | undefined {
    return this.elector?.identity;
  }

  /** Ready when every cache is synced and the replica is either leading or standing by. */
  readiness(): ProbeResult {
    if (this.state !== "running") return { ok: false, detail: `manager is ${this.state}` };
    const unsynced = this.informers().filter((informer) => !informer.hasSynced());
    if (unsynced.length > 0) return { ok: false, detail: `${unsynced.length} informer cache(s) not synced` };
    return { ok: true, detail: this.leading ? "leader" : "standby" };
  }

  /** Live unless leadership was lost (the process is expected to exit and restart). */
  liveness(): ProbeResult {
    return this.stopReason === "lost-leadership" ? { ok: false, detail: "lost leadership" } : { ok: true };
  }

  /** Keys waiting or running, for tests and debugging. */
  queueLength(): number {
    return this.queue.length();
  }

  /**
   * Graceful stop: no new keys, running reconciles finish (up to shutdownTimeoutMs), the Lease
   * is released, informers stop. Safe to call more than once.
   */
  shutdown(): Promise<void> {
    return this.stop("shutdown", true);
  }

  /**
   * Stops on the first of `signals` (SIGTERM from the kubelet, SIGINT from a terminal).
   * Returns a function that removes the handlers.
   */
  stopOnSignals(signals: NodeJS.Signals[] = ["SIGTERM", "SIGINT"]): () => void {
    const handler = (signal: NodeJS.Signals): void => {
      this.logger.info("received signal, shutting down", { signal });
      void this.shutdown();
    };
    for (const signal of signals) process.once(signal, handler);
    return () => {
      for (const signal of signals) process.off(signal, handler);
    };
  }

  private createQueue(): WorkQueue {
    const { name, metrics } = this.options;
    const keyField = this.options.logKeyField ?? "key";
    return new WorkQueue({
      concurrency: this.options.concurrency ?? 1,
      clock: this.clock,
      backoff: this.options.backoff,
      observer: {
        onDepthChange: (depth) => metrics?.setWorkqueueDepth(name, depth),
        onProcessed: (_key, outcome, durationMs) => metrics?.recordReconcile(name, outcome, durationMs / 1000),
        onError: (key, error, retryInMs) => {
          metrics?.workqueueRetriesTotal.inc({ controller: name });
          this.logger.error("reconcile failed", {
            [keyField]: key,
            retryInMs,
            reason: describeError(error),
            error: serializeError(error),
          });
        },
      },
    });
  }

  private createElector(settings: LeaderElectionSettings): LeaderElector {
    return new LeaderElector({
      ...settings,
      clock: this.clock,
      logger: this.logger,
      callbacks: {
        onStartedLeading: () => this.onStartedLeading(),
        onStoppedLeading: () => this.onLostLeadership(),
        onNewLeader: (identity) => this.logger.info("observed leader", { leader: identity || "(none)" }),
      },
    });
  }

  private informers(): Informer<ObjectWithMetadata>[] {
    return [this.options.primary, ...(this.options.secondary ?? []).map((watch) => watch.informer)];
  }

  private registerEventHandlers(): void {
    const enqueueObject = (object: P): void => this.enqueue([objectKey(object)]);
    this.options.primary.on({
      add: enqueueObject,
      update: (previous, current) => {
        if (this.options.primaryUpdateFilter && !this.options.primaryUpdateFilter(previous, current)) return;
        enqueueObject(current);
      },
      delete: enqueueObject,
    });
    for (const watch of this.options.secondary ?? []) {
      const enqueueMapped = (object: ObjectWithMetadata): void => this.enqueue(watch.mapToKeys(object));
      watch.informer.on({
        add: enqueueMapped,
        update: (previous, current) => {
          if (watch.updateFilter && !watch.updateFilter(previous, current)) return;
          enqueueMapped(current);
        },
        delete: enqueueMapped,
      });
    }
  }

  /** Standbys drop events: the leader enqueues everything when it takes over anyway. */
  private enqueue(keys: string[]): void {
    if (!this.leading || this.state !== "running") return;
    for (const key of keys) this.queue.add(key);
  }

  private onStartedLeading(): void {
    if (this.state !== "running") return;
    this.leading = true;
    this.options.metrics?.setLeader(true);
    this.options.onLeadershipChange?.(true);
    this.logger.info("leading: starting workers once caches are synced");
    this.startWorkersWhenSynced().catch((err: unknown) => {
      this.logger.error("could not start workers", { reason: describeError(err) });
    });
  }

  private async startWorkersWhenSynced(): Promise<void> {
    await Promise.all(this.informers().map((informer) => informer.waitForSync()));
    if (!this.leading || this.state !== "running" || this.workersStarted) return;
    this.workersStarted = true;
    this.enqueueAllPrimary();
    this.queue.start((key) => this.reconcileWithSignal(key));
    this.scheduleResync();
    this.logger.info("workers started", { concurrency: this.options.concurrency ?? 1 });
  }

  private async reconcileWithSignal(key: string): Promise<ReconcileResult | void> {
    const controller = new AbortController();
    this.running.add(controller);
    const timeoutMs = this.options.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS;
    const deadline = this.clock.setTimer(() => controller.abort(CANCEL_REASONS.deadline(timeoutMs)), timeoutMs);
    try {
      return await runWithSignal(controller.signal, () => this.options.reconcile(key));
    } finally {
      deadline.cancel();
      this.running.delete(controller);
    }
  }

  /** Aborts every running reconcile; their calls fail fast and send nothing more. */
  private cancelRunning(reason: Error): void {
    if (this.running.size === 0) return;
    this.logger.warn("cancelling running reconciles", { count: this.running.size, reason: reason.message });
    for (const controller of this.running) controller.abort(reason);
  }

  private enqueueAllPrimary(): void {
    for (const key of this.options.primary.keys()) this.queue.add(key);
  }

  private scheduleResync(): void {
    const period = this.options.resyncPeriodMs ?? DEFAULT_RESYNC_PERIOD_MS;
    if (period <= 0 || this.state !== "running") return;
    this.resyncTimer = this.clock.setTimer(() => {
      this.enqueueAllPrimary();
      this.scheduleResync();
    }, period);
  }

  private onLostLeadership(): void {
    this.logger.error("lost leadership, stopping");
    // First, before anything else: another replica may take the Lease once it has expired.
    this.cancelRunning(CANCEL_REASONS.leadershipLost());
    this.markNotLeading();
    void this.stop("lost-leadership", false);
  }

  private markNotLeading(): void {
    if (!this.leading) return;
    this.leading = false;
    this.options.metrics?.setLeader(false);
    this.options.onLeadershipChange?.(false);
  }

  private stop(reason: StopReason, releaseLease: boolean): Promise<void> {
    if (this.stopPromise !== undefined) return this.stopPromise;
    this.stopReason = reason;
    this.stopPromise = this.runStop(reason, releaseLease);
    return this.stopPromise;
  }

  private async runStop(reason: StopReason, releaseLease: boolean): Promise<void> {
    const wasRunning = this.state === "running";
    this.state = "stopping";
    this.resyncTimer?.cancel();
    const shutdownTimeoutMs = this.options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    let drained = await this.queue.shutdown(shutdownTimeoutMs);
    if (!drained) {
      this.logger.warn("shutdown timed out with reconciles still running", { inFlight: this.queue.inFlight() });
      this.cancelRunning(CANCEL_REASONS.shutdown(shutdownTimeoutMs));
      drained = await this.queue.shutdown(CANCEL_GRACE_MS);
    }
    if (wasRunning && this.elector !== undefined) {
      // With a reconcile still running, letting the Lease expire keeps the next leader from
      // overlapping with it; the standby then waits one lease duration instead.
      if (releaseLease && drained) await this.elector.release();
      else await this.elector.stop();
    }
    this.markNotLeading();
    for (const informer of this.informers()) informer.stop();
    this.state = "stopped";
    this.logger.info("manager stopped", { reason });
    this.resolveDone(reason);
  }
}
