/**
 * The sandbox clock. EKS takes minutes for what a test can only afford seconds for, so every
 * EKS duration the emulator imitates goes through a time factor (SANDBOX_TIME_FACTOR): with 0.01,
 * ten EKS minutes become six real seconds. Timestamps reported to clients stay real wall time.
 */
export interface SandboxClock {
  /** Real milliseconds that stand for `eksSeconds` of EKS time. */
  scaledMs(eksSeconds: number): number;
  now(): Date;
  /** EKS seconds that have passed since `since` (real time divided by the time factor). */
  eksSecondsSince(since: Date): number;
  /** The real instant that lies `eksSeconds` of EKS time before now. */
  eksSecondsAgo(eksSeconds: number): Date;
  /** Resolves after `eksSeconds` of EKS time, or rejects when the signal aborts. */
  sleep(eksSeconds: number, signal?: AbortSignal): Promise<void>;
}

/** Lowest factor accepted: below it timers fire faster than the apiserver can follow. */
export const MIN_TIME_FACTOR = 0.0001;

/**
 * Factor used when SANDBOX_TIME_FACTOR is unset: the emulator only ever runs in the sandbox, where
 * an 8-minute control-plane upgrade should take about 5 seconds.
 */
export const DEFAULT_TIME_FACTOR = 0.01;

export function parseTimeFactor(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_TIME_FACTOR;
  const factor = Number(raw);
  if (!Number.isFinite(factor) || factor < MIN_TIME_FACTOR || factor > 1) {
    throw new Error(`SANDBOX_TIME_FACTOR must be a number between ${MIN_TIME_FACTOR} and 1, got "${raw}"`);
  }
  return factor;
}

export function createClock(timeFactor: number): SandboxClock {
  return {
    scaledMs: (eksSeconds) => Math.max(0, Math.round(eksSeconds * 1000 * timeFactor)),
    now: () => new Date(),
    eksSecondsSince: (since) => Math.max(0, Date.now() - since.getTime()) / 1000 / timeFactor,
    eksSecondsAgo: (eksSeconds) => new Date(Date.now() - eksSeconds * 1000 * timeFactor),
    sleep(eksSeconds, signal) {
      return sleepMs(Math.max(0, Math.round(eksSeconds * 1000 * timeFactor)), signal);
    },
  };
}

export function sleepMs(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error("aborted");
}
