/**
 * Prometheus metrics an on-call engineer would graph: reconcile rate, errors and latency,
 * work queue depth, how many upgrades sit in each phase, and which replica leads; and the ones the
 * shipped alerts need (config/monitoring): since when each upgrade is in its phase, since when each
 * node drains against the drain timeout, traffic rolled back to blue, and failed AWS calls.
 * docs/operations.md lists them all.
 *
 * Each OperatorMetrics owns its own Registry instead of prom-client's global one, so tests and
 * two managers in one process never collide on metric names.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const METRIC_PREFIX = "eksupgrade_";

export type ReconcileResultLabel = "success" | "requeue" | "error";

export interface MetricsOptions {
  /** Adds Node's process metrics (CPU, memory, event loop lag). Default true. */
  collectProcessMetrics?: boolean;
}

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrorsTotal: Counter<"controller">;
  readonly reconcileDurationSeconds: Histogram<"controller">;
  readonly workqueueDepth: Gauge<"controller">;
  readonly workqueueRetriesTotal: Counter<"controller">;
  readonly upgradesByPhase: Gauge<"phase">;
  readonly leader: Gauge;
  readonly leaderAcquisitionsTotal: Counter;
  readonly informerErrorsTotal: Counter<"resource">;
  readonly awsCallErrorsTotal: Counter<"error">;
  readonly upgradePhaseEnteredTimestamp: Gauge<"namespace" | "name" | "phase">;
  readonly nodeDrainStartedTimestamp: Gauge<"namespace" | "name" | "node_group" | "node">;
  readonly drainTimeoutSeconds: Gauge<"namespace" | "name">;
  readonly trafficRolledBack: Gauge<"namespace" | "name">;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.reconcileTotal = new Counter({
      name: `${METRIC_PREFIX}reconcile_total`,
      help: "Reconcile passes by result (success, requeue, error).",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrorsTotal = new Counter({
      name: `${METRIC_PREFIX}reconcile_errors_total`,
      help: "Reconcile passes that ended with an error.",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileDurationSeconds = new Histogram({
      name: `${METRIC_PREFIX}reconcile_duration_seconds`,
      help: "Duration of one reconcile pass.",
      labelNames: ["controller"],
      // Passes only start long operations and requeue, so most take well under a second.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.workqueueDepth = new Gauge({
      name: `${METRIC_PREFIX}workqueue_depth`,
      help: "Keys waiting in the work queue.",
      labelNames: ["controller"],
      registers,
    });
    this.workqueueRetriesTotal = new Counter({
      name: `${METRIC_PREFIX}workqueue_retries_total`,
      help: "Keys re-added with backoff after a failed pass.",
      labelNames: ["controller"],
      registers,
    });
    this.upgradesByPhase = new Gauge({
      name: `${METRIC_PREFIX}upgrades_by_phase`,
      help: "ClusterUpgrades in each phase, as seen by the leader's cache.",
      labelNames: ["phase"],
      registers,
    });
    this.leader = new Gauge({
      name: `${METRIC_PREFIX}leader`,
      help: "1 while this replica holds the leader lease, else 0.",
      registers,
    });
    this.leaderAcquisitionsTotal = new Counter({
      name: `${METRIC_PREFIX}leader_acquisitions_total`,
      help: "Times this replica became the leader.",
      registers,
    });
    this.informerErrorsTotal = new Counter({
      name: `${METRIC_PREFIX}informer_errors_total`,
      help: "List or watch failures, by resource.",
      labelNames: ["resource"],
      registers,
    });
    this.awsCallErrorsTotal = new Counter({
      name: `${METRIC_PREFIX}aws_call_errors_total`,
      help: "AWS calls that failed after the SDK's own retries, by error class (ThrottlingError, AccessDeniedError, NotFoundError, TimedOutError, ...). Cancelled calls are not counted.",
      labelNames: ["error"],
      registers,
    });
    this.upgradePhaseEnteredTimestamp = new Gauge({
      name: `${METRIC_PREFIX}upgrade_phase_entered_timestamp_seconds`,
      help: "Unix time this replica first saw the ClusterUpgrade in its current phase (a new leader starts counting when it takes over).",
      labelNames: ["namespace", "name", "phase"],
      registers,
    });
    this.nodeDrainStartedTimestamp = new Gauge({
      name: `${METRIC_PREFIX}node_drain_started_timestamp_seconds`,
      help: "Unix time the operator cordoned a node it is still draining (status.nodeGroups[].nodes[].since); the drain timeout counts from here.",
      labelNames: ["namespace", "name", "node_group", "node"],
      registers,
    });
    this.drainTimeoutSeconds = new Gauge({
      name: `${METRIC_PREFIX}drain_timeout_seconds`,
      help: "The ClusterUpgrade's drain timeout (spec.drain.timeout, default 15m), for comparison with the drain start times.",
      labelNames: ["namespace", "name"],
      registers,
    });
    this.trafficRolledBack = new Gauge({
      name: `${METRIC_PREFIX}upgrade_traffic_rolled_back`,
      help: "1 while a BlueGreen ClusterUpgrade's traffic is being or has been sent back to blue after a failed gate (status.cutover.rolledBack), else 0.",
      labelNames: ["namespace", "name"],
      registers,
    });
    this.leader.set(0);
    if (options.collectProcessMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  recordReconcile(controller: string, result: ReconcileResultLabel, durationSeconds: number): void {
    this.reconcileTotal.inc({ controller, result });
    if (result === "error") this.reconcileErrorsTotal.inc({ controller });
    this.reconcileDurationSeconds.observe({ controller }, durationSeconds);
  }

  setWorkqueueDepth(controller: string, depth: number): void {
    this.workqueueDepth.set({ controller }, depth);
  }

  /**
   * Replaces the per-phase counts. Phases absent from `counts` drop to zero rather than keep a
   * stale value, and `knownPhases` are always exported so dashboards show zeros.
   */
  setUpgradesByPhase(counts: Readonly<Record<string, number>>, knownPhases: readonly string[] = []): void {
    this.upgradesByPhase.reset();
    for (const phase of knownPhases) this.upgradesByPhase.set({ phase }, 0);
    for (const [phase, count] of Object.entries(counts)) this.upgradesByPhase.set({ phase }, count);
  }

  setLeader(isLeader: boolean): void {
    this.leader.set(isLeader ? 1 : 0);
    if (isLeader) this.leaderAcquisitionsTotal.inc();
  }

  /** One AWS call failed for good (after the SDK's retries); `error` is its class name. */
  recordAwsCallError(error: string): void {
    this.awsCallErrorsTotal.inc({ error });
  }

  /** Text exposition for /metrics. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
