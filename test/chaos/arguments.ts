// The chaos runner's command line. Bad input gets a message naming the option and what it takes.
import { CONDITIONS, type ChaosCondition, type ConditionId } from "./conditions.js";
import type { ScenarioId } from "./world.js";

export interface ChaosArguments {
  seed: number;
  /** In the suite's order; the fault-free baseline comes first whenever a condition is timed against it. */
  conditions: ChaosCondition[];
  scenarios: ScenarioId[];
  out: string | undefined;
}

const SCENARIOS: readonly ScenarioId[] = ["inplace", "bluegreen"];

function list<T extends string>(option: string, value: string | undefined, known: readonly T[]): T[] {
  const items = (value ?? "").split(",").map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new Error(`${option} needs a comma-separated list of ${known.join(", ")}`);
  for (const item of items) if (!known.includes(item as T)) throw new Error(`${option}: "${item}" is not one of ${known.join(", ")}`);
  return items as T[];
}

export function parseArguments(argv: readonly string[], freshSeed: () => number): ChaosArguments {
  let seed: number | undefined;
  let conditionIds: ConditionId[] = CONDITIONS.map((condition) => condition.id);
  let scenarios: ScenarioId[] = [...SCENARIOS];
  let out: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const [flag, inline] = argv[index].split(/=(.*)/s, 2);
    const value = (): string | undefined => inline ?? argv[++index];
    switch (flag) {
      case "--seed": {
        const raw = value();
        if (!raw || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) >= 2 ** 31) throw new Error(`--seed takes a whole number from 1 to ${2 ** 31 - 1}, got ${raw ?? "nothing"}`);
        seed = Number(raw);
        break;
      }
      case "--conditions":
        conditionIds = list("--conditions", value(), CONDITIONS.map((condition) => condition.id));
        break;
      case "--scenarios":
        scenarios = list("--scenarios", value(), SCENARIOS);
        break;
      case "--out":
        out = value();
        if (!out) throw new Error("--out needs a file name");
        break;
      default:
        throw new Error(`unknown option ${flag}; the options are --seed N, --conditions ${CONDITIONS.map((condition) => condition.id).join(",")}, --scenarios ${SCENARIOS.join(",")} and --out FILE`);
    }
  }
  const wanted = new Set(conditionIds);
  if (CONDITIONS.some((condition) => wanted.has(condition.id) && condition.timeBound !== undefined)) wanted.add("baseline");
  return {
    seed: seed ?? freshSeed(),
    conditions: CONDITIONS.filter((condition) => wanted.has(condition.id)),
    scenarios: SCENARIOS.filter((scenario) => scenarios.includes(scenario)),
    out,
  };
}
