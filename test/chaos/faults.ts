// The chaos runner's view of the sandbox's AWS fault proxies: each condition starts its own, seeded
// from the run seed, and the runner reads how many faults they injected. The runner talks only to
// this interface; test/chaos/proxy.ts adapts it to test/support/faults.ts.
import type { FaultMix } from "./conditions.js";

export interface FaultCounts {
  /** AWS requests of the operator that went through the proxies. */
  requests: number;
  /** Faults injected, by kind. */
  injected: Record<string, number>;
}

export interface FaultSession {
  /** AWS endpoint overrides for the operator: its AWS calls go through the proxies. */
  readonly env: Record<string, string>;
  /** Applies another mix from the next request on. */
  setMix(mix: FaultMix): void;
  counts(): FaultCounts;
  close(): Promise<void>;
}

/** Starts the proxies for one condition, with its seed and mix. */
export type FaultFactory = (seed: number, mix: FaultMix) => Promise<FaultSession>;

export function injectedTotal(counts: FaultCounts): number {
  return Object.values(counts.injected).reduce((sum, count) => sum + count, 0);
}

/** What happened between two readings of the counters. */
export function countsSince(before: FaultCounts, after: FaultCounts): FaultCounts {
  const injected: Record<string, number> = {};
  for (const [kind, count] of Object.entries(after.injected)) {
    const delta = count - (before.injected[kind] ?? 0);
    if (delta > 0) injected[kind] = delta;
  }
  return { requests: after.requests - before.requests, injected };
}
