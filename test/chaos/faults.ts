// The chaos runner's view of the sandbox's AWS fault proxy: endpoint overrides for the operator,
// the fault mix to apply now, and how many faults it has injected. The runner talks only to this
// interface; connectFaults() adapts it to the proxy in test/support/faults.ts.
import type { FaultMix } from "./conditions.js";

export interface FaultCounts {
  /** AWS requests that went through the proxy. */
  requests: number;
  /** Faults injected, by kind. */
  injected: Record<string, number>;
}

export interface FaultSource {
  /** AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EKS for the operator: its AWS calls go through the proxy. */
  readonly env: Record<string, string>;
  /** Applies a mix from now on, with a seed for the proxy's decisions. */
  setMix(mix: FaultMix, seed: number): Promise<void>;
  counts(): Promise<FaultCounts>;
  close(): Promise<void>;
}

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
