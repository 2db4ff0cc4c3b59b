// What the chaos suite does to the operator: the conditions it runs the world under, and the
// seeded schedule of kills. One run seed decides everything random in a run; each condition draws
// from its own stream of it, so leaving a condition out (--conditions) does not change the others.
import { randomInt } from "node:crypto";
import seedrandom from "seedrandom";

/** Share of AWS requests the fault proxy answers itself (0-1), per kind of fault. */
export interface FaultMix {
  /** A throttling error in the service's own wire format. */
  throttle: number;
  /** 500 or 503. */
  serverError: number;
  /** The connection is reset without an answer. */
  reset: number;
  /** The request is held with no answer until the client gives up. */
  hang: number;
}

export const NO_FAULTS: FaultMix = { throttle: 0, serverError: 0, reset: 0, hang: 0 };

export type ConditionId = "baseline" | "kills" | "faults" | "both" | "hangs";

export interface ChaosCondition {
  id: ConditionId;
  /** What the table says. */
  title: string;
  /** SIGKILLs each upgrade must live through; 0 for none. */
  kills: number;
  /**
   * Kills sent at most. The full conditions keep killing until every upgrade ended (a cap far above
   * what a run reaches), so that each upgrade sees kills for all of its life, the shorter one too.
   */
  maxKills: number;
  faults: FaultMix;
  /** The upgrades must finish within this multiple of their fault-free time (the baseline's), when set. */
  timeBound?: number;
}

/** 10 % of AWS requests fail: 4 % throttled, 3 % 5xx, 3 % reset. */
export const TEN_PERCENT_FAULTS: FaultMix = { throttle: 0.04, serverError: 0.03, reset: 0.03, hang: 0 };

export const CONDITIONS: readonly ChaosCondition[] = [
  { id: "baseline", title: "no faults (reference time)", kills: 0, maxKills: 0, faults: NO_FAULTS },
  { id: "kills", title: "(a) >= 20 SIGKILLs", kills: 20, maxKills: 500, faults: NO_FAULTS },
  { id: "faults", title: "(b) 10 % AWS faults", kills: 0, maxKills: 0, faults: TEN_PERCENT_FAULTS },
  { id: "both", title: "(c) >= 20 SIGKILLs + 10 % AWS faults", kills: 20, maxKills: 500, faults: TEN_PERCENT_FAULTS },
  { id: "hangs", title: "(d) 2 % hung requests", kills: 0, maxKills: 0, faults: { ...NO_FAULTS, hang: 0.02 }, timeBound: 2 },
];

/** The short variant inside the sandbox suite (test/e2e/chaos.test.ts): a handful of kills and 10 % faults. */
export const SHORT_CONDITION: ChaosCondition = { id: "both", title: "(c, short) 4 SIGKILLs + 10 % AWS faults", kills: 4, maxKills: 4, faults: TEN_PERCENT_FAULTS };

export function totalRate(mix: FaultMix): number {
  return mix.throttle + mix.serverError + mix.reset + mix.hang;
}

export function describeMix(mix: FaultMix): string {
  const parts = (Object.entries(mix) as [keyof FaultMix, number][]).filter(([, rate]) => rate > 0).map(([kind, rate]) => `${kind} ${percent(rate)}`);
  return parts.length > 0 ? parts.join(", ") : "none";
}

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10} %`;
}

/** A fresh run seed: printed at the start, given back with --seed to replay the run. */
export function freshSeed(): number {
  return randomInt(1, 2 ** 31);
}

/** A number stream for one purpose of one condition of a run. */
export function stream(seed: number, condition: ConditionId, purpose: string): () => number {
  return seedrandom(`${seed}/${condition}/${purpose}`);
}

/** A 31-bit seed for a component that takes a number (the fault proxy), derived like the streams. */
export function derivedSeed(seed: number, condition: ConditionId, purpose: string): number {
  return Math.floor(stream(seed, condition, purpose)() * 2 ** 31);
}

/**
 * When to kill each operator: milliseconds after it started working (its workers are up), one per
 * kill, drawn uniformly from [minMs, maxMs]. A kill lands while the operator is mid-reconcile or
 * waiting on AWS, never before it leads, so each one interrupts work.
 */
export function killSchedule(seed: number, condition: ConditionId, kills: number, window: { minMs: number; maxMs: number }): number[] {
  if (window.minMs < 0 || window.maxMs < window.minMs) throw new Error(`kill window ${window.minMs}-${window.maxMs} ms: minMs must be >= 0 and <= maxMs`);
  const next = stream(seed, condition, "kills");
  return Array.from({ length: kills }, () => Math.round(window.minMs + next() * (window.maxMs - window.minMs)));
}
