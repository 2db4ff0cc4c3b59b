/**
 * A keyed work queue with the semantics of client-go's workqueue, plus the result handling of a
 * controller-runtime controller:
 *
 * - add(key) while the key is already waiting is a no-op: bursts of events become one reconcile.
 * - A key is never handled by two workers at once. Adding a key that is being handled marks it
 *   dirty; it is queued again when the running handler finishes, so the latest state is always
 *   seen by a later pass.
 * - addAfter(key, ms) keeps only the earliest due time per key.
 * - addRateLimited(key) delays by a per-key exponential backoff with jitter; forget(key) resets it.
 * - A handler that throws is retried with addRateLimited; one that returns `requeueAfterMs` is
 *   forgotten (backoff reset) and added again after that delay.
 * - shutdown() stops handing out keys, cancels delayed adds and waits for running handlers.
 *
 * Time comes from a Clock so tests drive delays with FakeClock.
 */
import { realClock, type Clock, type Timer } from "../util/clock.js";

/** What a handler asks for after a successful pass. */
export interface ReconcileResult {
  /** Run this key again after this many milliseconds (e.g. to poll an EKS update). */
  requeueAfterMs?: number;
}

export type KeyHandler = (key: string) => Promise<ReconcileResult | void>;

export type ProcessOutcome = "success" | "requeue" | "error";

/** Hooks for metrics and logs; all optional and called synchronously. */
export interface WorkQueueObserver {
  /** Keys waiting to be handled (not counting running or delayed ones) after every change. */
  onDepthChange?(depth: number): void;
  /** One call per finished handler run. */
  onProcessed?(key: string, outcome: ProcessOutcome, durationMs: number): void;
  /** A handler threw; the key was re-added with backoff `retryInMs`. */
  onError?(key: string, error: unknown, retryInMs: number): void;
}

/**
 * Per-key backoff: base * 2^failures, capped, then scaled by a random factor in
 * [1 - jitter, 1]. Base 1 s rather than client-go's 5 ms because a failed reconcile here
 * usually means an AWS or API call failed, and retrying those within milliseconds only earns
 * throttling. The cap of 5 minutes keeps a long outage from delaying recovery by more than
 * that. Jitter only shortens delays, so the cap is never exceeded, and with jitter below 0.5
 * each delay is still longer than the previous one.
 */
export interface BackoffOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Fraction in [0, 0.5) removed at random from each delay. Default 0.2. */
  jitter?: number;
  /** Source of randomness in [0, 1); tests may pin it. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { baseDelayMs: 1_000, maxDelayMs: 5 * 60_000, jitter: 0.2 } as const;

export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs;
    this.jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
    this.random = options.random ?? Math.random;
    if (this.jitter < 0 || this.jitter >= 0.5) throw new RangeError(`jitter must be in [0, 0.5), got ${this.jitter}`);
  }

  /** Records one more failure of `key` and returns the delay before its next attempt. */
  next(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    return this.delayFor(failures);
  }

  /** Delay after `failures` earlier failures, before jitter is applied. */
  nominalDelay(failures: number): number {
    // Math.min on the exponent keeps 2^n finite for keys that fail for days.
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(failures, 52));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  private delayFor(failures: number): number {
    const nominal = this.nominalDelay(failures);
    return Math.round(nominal * (1 - this.jitter * this.random()));
  }
}

export interface WorkQueueOptions {
  /** Handlers running at once (different keys). Default 1. */
  concurrency?: number;
  clock?: Clock;
  backoff?: BackoffOptions;
  observer?: WorkQueueObserver;
}

interface DelayedAdd {
  dueAt: number;
  timer: Timer;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  /** Keys that need a pass: queued ones, and running ones that were added again. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, DelayedAdd>();
  private readonly backoff: ExponentialBackoff;
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly observer: WorkQueueObserver;
  private handler: KeyHandler | undefined;
  private shuttingDown = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${this.concurrency}`);
    }
    this.backoff = new ExponentialBackoff(options.backoff);
    this.observer = options.observer ?? {};
  }

  /** Queues `key` unless it is already waiting. Ignored after shutdown(). */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    // A running key is re-queued by finish(); queuing it now could hand it to a second worker.
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.depthChanged();
    this.dispatch();
  }

  /** Queues `key` after `delayMs`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueAt = this.clock.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing !== undefined && existing.dueAt <= dueAt) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { dueAt, timer });
  }

  /** Queues `key` after its next backoff delay and returns that delay. */
  addRateLimited(key: string): number {
    const delayMs = this.backoff.next(key);
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** Resets the backoff of `key` (after a successful pass). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** Failures of `key` since its last forget(). */
  numRequeues(key: string): number {
    return this.backoff.failureCount(key);
  }

  /** Keys waiting to be handled now. */
  length(): number {
    return this.queue.length;
  }

  /** Keys whose handler is running. */
  inFlight(): readonly string[] {
    return [...this.processing];
  }

  /** Due time (clock milliseconds) of the delayed add of `key`, if one is pending. */
  delayedUntil(key: string): number | undefined {
    return this.delayed.get(key)?.dueAt;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Starts handing keys to `handler`, up to `concurrency` at once. */
  start(handler: KeyHandler): void {
    if (this.handler !== undefined) throw new Error("work queue already started");
    if (this.shuttingDown) throw new Error("work queue is shut down");
    this.handler = handler;
    this.dispatch();
  }

  /**
   * Stops the queue: no new keys are accepted or handed out, delayed adds are cancelled, and
   * the returned promise resolves once running handlers finish (true) or after `timeoutMs`
   * (false) if they do not. Waiting keys are dropped: the next leader lists everything anew.
   */
  async shutdown(timeoutMs = 30_000): Promise<boolean> {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
    this.depthChanged();
    if (this.processing.size === 0) return true;
    return this.waitForIdle(timeoutMs);
  }

  private waitForIdle(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        timer.cancel();
        resolve(true);
      });
    });
  }

  private dispatch(): void {
    const handler = this.handler;
    if (handler === undefined) return;
    while (!this.shuttingDown && this.processing.size < this.concurrency && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.dirty.delete(key);
      this.processing.add(key);
      this.depthChanged();
      void this.process(key, handler);
    }
  }

  private async process(key: string, handler: KeyHandler): Promise<void> {
    const startedAt = this.clock.now();
    let outcome: ProcessOutcome;
    try {
      const result = await handler(key);
      outcome = this.handleSuccess(key, result ?? {});
    } catch (error) {
      outcome = "error";
      this.handleFailure(key, error);
    }
    this.observer.onProcessed?.(key, outcome, this.clock.now() - startedAt);
    this.finish(key);
  }

  private handleSuccess(key: string, result: ReconcileResult): ProcessOutcome {
    this.forget(key);
    const requeueAfterMs = result.requeueAfterMs;
    if (requeueAfterMs === undefined) return "success";
    this.addAfter(key, requeueAfterMs);
    return "requeue";
  }

  private handleFailure(key: string, error: unknown): void {
    if (this.shuttingDown) {
      this.observer.onError?.(key, error, 0);
      return;
    }
    const retryInMs = this.addRateLimited(key);
    this.observer.onError?.(key, error, retryInMs);
  }

  private finish(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.queue.push(key);
      this.depthChanged();
    }
    if (this.processing.size === 0 && this.shuttingDown) this.notifyIdle();
    this.dispatch();
  }

  private notifyIdle(): void {
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  private depthChanged(): void {
    this.observer.onDepthChange?.(this.queue.length);
  }
}
