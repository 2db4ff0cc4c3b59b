/**
 * Time source for everything that waits or timestamps. Production code takes a Clock instead of
 * calling Date.now()/setTimeout directly so that tests can drive time with FakeClock and never
 * sleep for real.
 */

/** A scheduled callback that can be cancelled; cancelling a fired or cancelled timer is a no-op. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** The current time as a Date (convenience for timestamps written to the API). */
  date(): Date;
  /** Runs `callback` once after `delayMs` (negative delays count as 0). */
  setTimer(callback: () => void, delayMs: number): Timer;
  /**
   * Resolves after `delayMs`. When `signal` aborts first, resolves early instead of rejecting:
   * every caller that sleeps in a loop checks its own stop flag afterwards, and a rejection would
   * only force each of them to wrap the call.
   */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

function sleepWith(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The wall clock and Node's timers. */
export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }

  date(): Date {
    return new Date();
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, delayMs, signal);
  }
}

/** Shared instance: RealClock holds no state. */
export const realClock: Clock = new RealClock();

interface FakeTimerEntry {
  dueAt: number;
  sequence: number;
  callback: () => void;
}

/**
 * A manually driven clock. Time moves only through advance(); due timers fire in due-time order
 * (ties in the order they were scheduled). Between two timers, advance() lets pending promise
 * continuations run, so code that awaits sleep() and then schedules the next timer behaves as
 * it would with real time.
 */
export class FakeClock implements Clock {
  private currentMs: number;
  private nextSequence = 0;
  private timers: FakeTimerEntry[] = [];

  constructor(startMs: number = Date.UTC(2025, 0, 1, 0, 0, 0)) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  date(): Date {
    return new Date(this.currentMs);
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const entry: FakeTimerEntry = {
      dueAt: this.currentMs + Math.max(0, delayMs),
      sequence: this.nextSequence++,
      callback,
    };
    this.timers.push(entry);
    return {
      cancel: () => {
        this.timers = this.timers.filter((timer) => timer !== entry);
      },
    };
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, delayMs, signal);
  }

  /** Number of timers scheduled and not yet fired or cancelled. */
  pendingTimerCount(): number {
    return this.timers.length;
  }

  /** Due time of the earliest pending timer, or undefined when none is pending. */
  nextDueAt(): number | undefined {
    return this.earliestTimer()?.dueAt;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, including timers
   * scheduled by the callbacks themselves while the window is still open.
   */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError(`cannot move a clock backwards (${ms} ms)`);
    const target = this.currentMs + ms;
    await flushPromises();
    for (;;) {
      const next = this.earliestTimer();
      if (next === undefined || next.dueAt > target) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.currentMs = Math.max(this.currentMs, next.dueAt);
      next.callback();
      await flushPromises();
    }
    this.currentMs = target;
  }

  private earliestTimer(): FakeTimerEntry | undefined {
    let earliest: FakeTimerEntry | undefined;
    for (const timer of this.timers) {
      if (
        earliest === undefined ||
        timer.dueAt < earliest.dueAt ||
        (timer.dueAt === earliest.dueAt && timer.sequence < earliest.sequence)
      ) {
        earliest = timer;
      }
    }
    return earliest;
  }
}

/**
 * Lets queued promise continuations run. One macrotask turn runs every microtask queued before
 * it, and a few turns cover short chains of awaits that each hop through a new promise.
 */
export async function flushPromises(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Settles like `promise`, or resolves with `fallback` once `timeoutMs` passes first. The
 * promise itself keeps running (nothing here can cancel it) and its later rejection is
 * swallowed; the timer is cleared as soon as either side wins.
 */
export async function raceWithTimeout<T, F>(clock: Clock, promise: Promise<T>, timeoutMs: number, fallback: F): Promise<T | F> {
  let timer: Timer | undefined;
  const timeout = new Promise<F>((resolve) => {
    timer = clock.setTimer(() => resolve(fallback), timeoutMs);
  });
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    timer?.cancel();
  }
}
