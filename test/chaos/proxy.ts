// Connects the chaos runner to the sandbox's AWS fault proxy (test/support/faults.ts).
import type { FaultSource } from "./faults.js";

/** The fault proxy, started in front of moto and the EKS emulator; undefined where none exists yet. */
export function connectFaults(_seed: number): Promise<FaultSource | undefined> {
  return Promise.resolve(undefined);
}
