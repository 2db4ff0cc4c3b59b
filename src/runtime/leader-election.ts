/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection:
 *
 * - A candidate polls the Lease every retryPeriod (plus up to 20 % jitter). It takes the Lease
 *   when it does not exist, when its holder is empty (released), or when the record has not
 *   changed for leaseDuration by the candidate's own clock. Expiry is judged from the local
 *   time at which the candidate last saw the record change, never from renewTime, so clock
 *   skew between nodes cannot make two replicas think they both lead.
 * - Every write is a replace carrying the resourceVersion that was read: of two candidates
 *   racing for an expired Lease, the API server lets exactly one win (409 for the other).
 * - The leader renews every retryPeriod. If it has not renewed successfully for renewDeadline
 *   (shorter than leaseDuration, so it steps down before anyone else may take over), it stops
 *   leading and calls onStoppedLeading; the process should then exit and start afresh.
 * - Why stepping down at renewDeadline is early enough: renewDeadline is counted from the moment
 *   the leader *started* its last successful write, which is before the API server stored it.
 *   A standby counts leaseDuration from the moment it *saw* that write, which is after. So the
 *   leader gives up at least leaseDuration - renewDeadline (5 s by default) before any standby
 *   may take the Lease, less only the drift between the two clocks over one lease period. The
 *   manager cancels every running reconcile in onStoppedLeading, inside that gap.
 * - Every Lease request runs under a signal (see cancellation.ts) that aborts it at the renew
 *   deadline at the latest, and after half the renew deadline for any one attempt, so a hung
 *   connection cannot keep a request open past the moment this replica stops leading and there
 *   is time for a second attempt on a fresh connection.
 * - release() clears holderIdentity (leaseDurationSeconds 1) so a standby takes over at its
 *   next poll instead of waiting for expiry.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import * as k8s from "@kubernetes/client-node";
import { raceWithTimeout, realClock, type Clock } from "../util/clock.js";
import { classifyKubeError } from "../util/classify.js";
import { describeError, isNotFound, TimedOutError } from "../util/errors.js";
import { createSilentLogger, type Logger } from "../util/logger.js";
import { formatSeconds, runWithSignal } from "./cancellation.js";

/** The Lease calls the elector makes; errors are typed (NotFoundError, ConflictError, …). */
export interface LeaseClient {
  /** The Lease, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<k8s.V1Lease | undefined>;
  create(lease: k8s.V1Lease): Promise<k8s.V1Lease>;
  /** Replaces the Lease; lease.metadata.resourceVersion must match the stored one. */
  replace(lease: k8s.V1Lease): Promise<k8s.V1Lease>;
}

/** LeaseClient over CoordinationV1Api. */
export function kubeLeaseClient(kubeConfig: k8s.KubeConfig): LeaseClient {
  const api = kubeConfig.makeApiClient(k8s.CoordinationV1Api);
  return {
    async get(namespace, name) {
      try {
        return await api.readNamespacedLease({ namespace, name });
      } catch (err) {
        const typed = classifyKubeError(err, `reading lease ${namespace}/${name}`);
        if (isNotFound(typed)) return undefined;
        throw typed;
      }
    },
    async create(lease) {
      const namespace = lease.metadata?.namespace ?? "";
      try {
        return await api.createNamespacedLease({ namespace, body: lease });
      } catch (err) {
        throw classifyKubeError(err, `creating lease ${namespace}/${lease.metadata?.name}`);
      }
    },
    async replace(lease) {
      const namespace = lease.metadata?.namespace ?? "";
      const name = lease.metadata?.name ?? "";
      try {
        return await api.replaceNamespacedLease({ namespace, name, body: lease });
      } catch (err) {
        throw classifyKubeError(err, `updating lease ${namespace}/${name}`);
      }
    },
  };
}

export interface LeaderCallbacks {
  /** This instance now holds the Lease: start working. */
  onStartedLeading(): void;
  /**
   * This instance lost the Lease involuntarily (renewal failed past renewDeadline). Not called
   * for stop() or release(), whose caller already knows.
   */
  onStoppedLeading(): void;
  /** The observed holder changed (including to this instance, or to "" after a release). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  /** Unique per process; see defaultIdentity(). */
  identity: string;
  client: LeaseClient;
  callbacks: LeaderCallbacks;
  /** How long a Lease stays valid without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up. Default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts. Default 2 s. */
  retryPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Randomness for jitter in [0, 1); tests may pin it. */
  random?: () => number;
}

export const DEFAULT_LEADER_ELECTION = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

const RETRY_JITTER = 0.2;

/** POD_NAME (from the downward API) or the host name, plus a random suffix so restarts differ. */
export function defaultIdentity(): string {
  const base = process.env.POD_NAME?.trim() || hostname();
  return `${base}_${randomBytes(4).toString("hex")}`;
}

/** The Lease spec fields that tell who leads; renewTime is kept as read (string or Date). */
interface ObservedRecord {
  resourceVersion: string;
  holderIdentity: string;
  leaseDurationMs: number;
}

function toMicroTime(ms: number): k8s.V1MicroTime {
  // V1MicroTime serializes with microsecond precision, which the API server requires.
  return new k8s.V1MicroTime(ms);
}

export class LeaderElector {
  private readonly options: Required<Omit<LeaderElectorOptions, "logger" | "clock" | "random">>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private leading = false;
  private stopped = false;
  private started = false;
  private loop: Promise<void> | undefined;
  private readonly stopController = new AbortController();
  private lease: k8s.V1Lease | undefined;
  private observed: ObservedRecord | undefined;
  private observedAtMs = 0;
  private lastRenewMs = 0;
  private acquisitions = 0;

  constructor(options: LeaderElectorOptions) {
    this.options = {
      ...options,
      leaseDurationMs: options.leaseDurationMs ?? DEFAULT_LEADER_ELECTION.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs ?? DEFAULT_LEADER_ELECTION.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs ?? DEFAULT_LEADER_ELECTION.retryPeriodMs,
    };
    this.clock = options.clock ?? realClock;
    this.logger = (options.logger ?? createSilentLogger()).child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
    this.random = options.random ?? Math.random;
    validateTimings(this.options.leaseDurationMs, this.options.renewDeadlineMs, this.options.retryPeriodMs);
  }

  get identity(): string {
    return this.options.identity;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Holder seen in the last read or write of the Lease ("" when released, undefined before any). */
  observedLeader(): string | undefined {
    return this.observed?.holderIdentity;
  }

  /** Times this instance has started leading. */
  leadershipAcquisitions(): number {
    return this.acquisitions;
  }

  /** Starts campaigning in the background. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.loop = this.run();
  }

  /**
   * Stops campaigning and renewing without touching the Lease: another replica takes over only
   * once the Lease expires. This is what a crash looks like to the others.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    await this.waitForLoop();
    this.leading = false;
  }

  /** Stops, then gives the Lease up if this instance holds it, so a standby takes over at once. */
  async release(): Promise<void> {
    const wasLeading = this.leading;
    await this.stop();
    if (!wasLeading || this.lease === undefined) return;
    const spec = this.lease.spec ?? {};
    if (spec.holderIdentity !== this.identity) return;
    const now = this.clock.now();
    const released: k8s.V1Lease = {
      ...this.lease,
      spec: {
        ...spec,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: toMicroTime(now),
        renewTime: toMicroTime(now),
      },
    };
    try {
      this.lease = await this.options.client.replace(released);
      this.logger.info("released leadership");
    } catch (err) {
      // Losing the race here is harmless: the Lease simply expires on its own.
      this.logger.warn("could not release the lease", { reason: describeError(err) });
    }
  }

  private async waitForLoop(): Promise<void> {
    if (this.loop === undefined) return;
    // An API call in flight may hang; do not let it hold up shutdown past the renew deadline.
    await raceWithTimeout(this.clock, this.loop, this.options.renewDeadlineMs, undefined);
  }

  private async run(): Promise<void> {
    this.logger.info("campaigning for leadership");
    while (!this.stopped && !this.leading) {
      const startedAt = this.clock.now();
      if (await this.attempt(this.options.renewDeadlineMs)) {
        this.lastRenewMs = startedAt;
        this.becomeLeader();
        break;
      }
      await this.clock.sleep(this.jitteredRetryPeriod(), this.stopController.signal);
    }
    while (!this.stopped && this.leading) {
      await this.clock.sleep(this.options.retryPeriodMs, this.stopController.signal);
      if (this.stopped) break;
      if (!(await this.renewWithinDeadline())) {
        this.loseLeadership();
        break;
      }
    }
  }

  private becomeLeader(): void {
    this.leading = true;
    this.acquisitions++;
    this.logger.info("started leading", { leaseTransitions: this.lease?.spec?.leaseTransitions ?? 0 });
    this.options.callbacks.onStartedLeading();
  }

  private loseLeadership(): void {
    if (this.stopped) return;
    this.leading = false;
    this.stopped = true;
    this.logger.error("stopped leading: lease not renewed within the renew deadline", {
      renewDeadlineMs: this.options.renewDeadlineMs,
    });
    this.options.callbacks.onStoppedLeading();
  }

  /** Keeps trying until a renewal succeeds or renewDeadline has passed since the last one. */
  private async renewWithinDeadline(): Promise<boolean> {
    const deadline = this.lastRenewMs + this.options.renewDeadlineMs;
    while (!this.stopped && this.clock.now() < deadline) {
      const startedAt = this.clock.now();
      const outcome = await this.attempt(Math.min(deadline - startedAt, this.options.renewDeadlineMs / 2));
      if (outcome && this.clock.now() <= deadline) {
        this.lastRenewMs = startedAt;
        return true;
      }
      const pause = Math.min(this.options.retryPeriodMs, deadline - this.clock.now());
      if (pause > 0) await this.clock.sleep(pause, this.stopController.signal);
    }
    return this.stopped;
  }

  /**
   * One tryAcquireOrRenew whose requests are aborted after `timeoutMs`; false if it has not
   * succeeded by then. The race covers a client that ignores the signal: a hung API call must not
   * keep us believing we lead past the deadline.
   */
  private async attempt(timeoutMs: number): Promise<boolean> {
    const controller = new AbortController();
    const timer = this.clock.setTimer(() => controller.abort(new TimedOutError(`lease request timed out after ${formatSeconds(timeoutMs)}`)), timeoutMs);
    try {
      return await raceWithTimeout(this.clock, runWithSignal(controller.signal, () => this.tryAcquireOrRenew()), timeoutMs, false);
    } finally {
      timer.cancel();
    }
  }

  /** One read-modify-write of the Lease. Never throws: a failure is simply "not now". */
  private async tryAcquireOrRenew(): Promise<boolean> {
    try {
      const current = await this.options.client.get(this.options.namespace, this.options.name);
      if (this.stopped) return false;
      if (current === undefined) return await this.createLease();
      this.observe(current);
      if (!this.canTake(current)) return false;
      return await this.takeOrRenew(current);
    } catch (err) {
      this.logger.debug("lease attempt failed", { reason: describeError(err) });
      return false;
    }
  }

  private canTake(current: k8s.V1Lease): boolean {
    const holder = current.spec?.holderIdentity ?? "";
    if (holder === "" || holder === this.identity) return true;
    return this.observedAtMs + (this.observed?.leaseDurationMs ?? this.options.leaseDurationMs) <= this.clock.now();
  }

  private async createLease(): Promise<boolean> {
    const now = this.clock.now();
    const lease: k8s.V1Lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.options.name, namespace: this.options.namespace },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds(),
        acquireTime: toMicroTime(now),
        renewTime: toMicroTime(now),
        leaseTransitions: 0,
      },
    };
    this.lease = await this.options.client.create(lease);
    this.observe(this.lease);
    return true;
  }

  private async takeOrRenew(current: k8s.V1Lease): Promise<boolean> {
    const now = this.clock.now();
    const spec = current.spec ?? {};
    const renewing = spec.holderIdentity === this.identity;
    const updated: k8s.V1Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds(),
        renewTime: toMicroTime(now),
        acquireTime: renewing && spec.acquireTime !== undefined ? spec.acquireTime : toMicroTime(now),
        leaseTransitions: renewing ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    this.lease = await this.options.client.replace(updated);
    this.observe(this.lease);
    return true;
  }

  /** Records the Lease as seen; the expiry clock restarts only when the record changed. */
  private observe(lease: k8s.V1Lease): void {
    const record: ObservedRecord = {
      resourceVersion: lease.metadata?.resourceVersion ?? "",
      holderIdentity: lease.spec?.holderIdentity ?? "",
      leaseDurationMs: (lease.spec?.leaseDurationSeconds ?? this.leaseDurationSeconds()) * 1000,
    };
    const previous = this.observed;
    if (previous !== undefined && previous.resourceVersion === record.resourceVersion) return;
    this.observed = record;
    this.observedAtMs = this.clock.now();
    if (previous?.holderIdentity !== record.holderIdentity) this.options.callbacks.onNewLeader?.(record.holderIdentity);
  }

  private leaseDurationSeconds(): number {
    return Math.max(1, Math.ceil(this.options.leaseDurationMs / 1000));
  }

  private jitteredRetryPeriod(): number {
    return Math.round(this.options.retryPeriodMs * (1 + RETRY_JITTER * this.random()));
  }
}

function validateTimings(leaseDurationMs: number, renewDeadlineMs: number, retryPeriodMs: number): void {
  if (!(leaseDurationMs > renewDeadlineMs)) {
    throw new RangeError(`leaseDuration (${leaseDurationMs} ms) must be greater than renewDeadline (${renewDeadlineMs} ms)`);
  }
  if (!(renewDeadlineMs > retryPeriodMs * (1 + RETRY_JITTER))) {
    throw new RangeError(`renewDeadline (${renewDeadlineMs} ms) must be greater than retryPeriod (${retryPeriodMs} ms) plus jitter`);
  }
  if (!(retryPeriodMs > 0)) throw new RangeError(`retryPeriod must be positive, got ${retryPeriodMs} ms`);
}
