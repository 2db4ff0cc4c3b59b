// Connects the chaos runner to the sandbox's AWS fault proxies (test/support/faults.ts).
import type { FaultFactory } from "./faults.js";

/** Starts the fault proxies of a condition; undefined where this branch has none yet. */
export function faultFactory(): FaultFactory | undefined {
  return undefined;
}
