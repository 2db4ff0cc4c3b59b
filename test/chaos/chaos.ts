// One chaos run: for each condition, the chaos world is reset, both upgrades are applied to one
// operator that is killed on a seeded schedule while the fault proxy answers a seeded share of its
// AWS requests itself, and the invariants are judged once both upgrades ended. Used by the
// runner (test/chaos/run.ts, npm run test:chaos) and by the short variant in the sandbox suite.
import { randomBytes } from "node:crypto";
import { derivedSeed, killSchedule, NO_FAULTS, totalRate, type ChaosCondition } from "./conditions.js";
import type { FaultCounts, FaultFactory, FaultSession } from "./faults.js";
import { ChaosOperators } from "./operators.js";
import { replayCommand, type RowResult } from "./report.js";
import { ChaosWorld, groupSnapshots, groupsRestored, nodeSnapshots, nodesClean, operatorSecrets, secretsVerdict, templateVersions, templateVersionsAsNeeded, type ScenarioId } from "./world.js";
import type { Verdict } from "./invariants.js";

/** The operators' idle limit per AWS request in chaos runs; see where it is set. */
const SANDBOX_AWS_REQUEST_TIMEOUT_SECONDS = "2";

export interface ChaosOptions {
  seed: number;
  scenarios: readonly ScenarioId[];
  /** Starts a condition's fault proxies; absent, conditions with faults cannot run. */
  faults: FaultFactory | undefined;
  /** When each kill lands after the operator's workers started. */
  killWindow: { minMs: number; maxMs: number };
  /** The cutover's schedule: long enough that the kills of a condition land while it runs. */
  trafficSteps: number[];
  stepInterval: string;
  /**
   * EKS seconds a control-plane update of cluster demo takes, instead of the scenario's: a longer
   * in-place upgrade lives through more kills.
   */
  controlPlaneUpdateSeconds?: number;
  /** Longest an upgrade may take under any condition before it counts as not finished. */
  timeoutMs: number;
  log: (line: string) => void;
}

/** Runs one condition; `reference` holds the fault-free durations by scenario when the condition has a time bound. */
export async function runCondition(condition: ChaosCondition, options: ChaosOptions, reference?: Partial<Record<ScenarioId, number>>): Promise<RowResult[]> {
  const { seed, log } = options;
  if (totalRate(condition.faults) > 0 && !options.faults) throw new Error(`condition ${condition.id} injects AWS faults, and no fault proxy is connected`);
  log(`== ${condition.title} (seed ${seed})`);
  const world = await ChaosWorld.prepare(options.controlPlaneUpdateSeconds);
  let operators: ChaosOperators | undefined;
  let proxies: FaultSession | undefined;
  try {
    const before = await world.snapshot();
    const watcher = await world.watchBudgets();
    // A random AWS secret key for the operators, long enough to look for in their logs: moto and
    // the emulator accept any (the sandbox's own, "testing", is a word that could appear anyway).
    const awsSecretAccessKey = randomBytes(24).toString("base64url");
    // Every condition goes through the proxies when there are any, the baseline too, so that the
    // fault-free time includes the extra hop.
    proxies = options.faults ? await options.faults(derivedSeed(seed, condition.id, "faults"), condition.faults) : undefined;
    const schedule = killSchedule(seed, condition.id, condition.maxKills, options.killWindow);
    // The sandbox runs EKS a hundred times faster than AWS and answers in milliseconds, so the
    // operator's 10 s idle limit per AWS request (sized for AWS) would weigh a hundred times more
    // against the fault-free time here than against a real upgrade's hour. 2 s is still far beyond
    // any answer the sandbox gives.
    const timeouts = { AWS_REQUEST_TIMEOUT_SECONDS: SANDBOX_AWS_REQUEST_TIMEOUT_SECONDS };
    operators = new ChaosOperators({ ...(proxies?.env ?? {}), ...timeouts, AWS_SECRET_ACCESS_KEY: awsSecretAccessKey }, schedule);
    for (const scenario of options.scenarios) await world.apply(scenario, world.spec(scenario, options));
    const bound = condition.timeBound;
    const longest = bound && reference ? Math.max(...options.scenarios.map((scenario) => (reference[scenario] ?? options.timeoutMs) * bound * 1.5)) : options.timeoutMs;
    const progress = setInterval(() => {
      const phases = [...world.outcomes.values()].map((outcome) => `${outcome.scenario} ${outcome.phase}`).join(", ");
      log(`   ${phases}; ${operators!.kills.length} kill(s)${proxies ? `, ${Object.values(proxies.counts().injected).reduce((sum, count) => sum + count, 0)} fault(s)` : ""}`);
    }, 30_000);
    try {
      await world.awaitEnd(Date.now() + Math.min(longest, options.timeoutMs));
    } finally {
      clearInterval(progress);
    }
    await operators.stopKilling();
    // What is judged is how the upgrades ended under faults; the last notification's delivery and the reads below are not.
    proxies?.setMix(NO_FAULTS);
    const faults: FaultCounts | undefined = proxies?.counts();
    await world.awaitNotifications(Date.now() + 60_000);
    await operators.stop();
    await watcher.stop();

    const shared = {
      budgets: {
        ok: watcher.violations.length === 0 && watcher.samples > 0,
        detail:
          watcher.violations.length > 0
            ? `${watcher.violations.length} sample(s) below a budget's demand, first: ${watcher.violations[0]}`
            : `${watcher.demands.length} budget(s) never below their demand in ${watcher.samples} pod samples${watcher.errors > 0 ? ` (${watcher.errors} failed reads)` : ""}`,
      },
      nodes: nodesClean(await nodeSnapshots(world.world.kubeConfig)),
      groups: groupsRestored(before.groups, await groupSnapshots()),
      templates: templateVersionsAsNeeded(before.templates, await templateVersions(), options.scenarios.includes("inplace") ? before.neededVersions : {}),
      secrets: secretsVerdict(operators.logPaths, operatorSecrets({ awsSecretAccessKey, kubeconfigPath: operators.kubeconfigPath, webhook: world.webhook })),
    };
    const rows: RowResult[] = [];
    for (const scenario of options.scenarios) {
      const outcome = world.outcomes.get(scenario)!;
      const durationMs = outcome.endedAt ? outcome.endedAt - outcome.appliedAt : undefined;
      const kills = operators.killsBetween(outcome.appliedAt, outcome.endedAt ?? Date.now());
      const finished: Verdict =
        outcome.phase === "Succeeded"
          ? { ok: true, detail: `Succeeded after ${Math.round(durationMs! / 1000)} s` }
          : { ok: false, detail: `${outcome.endedAt ? "ended" : "still"} ${outcome.phase}: ${outcome.message}` };
      const killed: Verdict | undefined =
        condition.kills > 0
          ? kills >= condition.kills
            ? { ok: true, detail: `${kills} SIGKILLs while it ran` }
            : { ok: false, detail: `${kills} SIGKILLs while it ran, the condition needs ${condition.kills}${operators.problem ? ` (${operators.problem})` : ""}` }
          : undefined;
      const limit = bound && reference?.[scenario] !== undefined ? reference[scenario] * bound : undefined;
      const time: Verdict | undefined =
        bound === undefined
          ? undefined
          : limit === undefined
            ? { ok: false, detail: "no fault-free time to compare with" }
            : durationMs !== undefined && durationMs <= limit
              ? { ok: true, detail: `${Math.round(durationMs / 1000)} s, within ${bound}x the fault-free ${Math.round(reference![scenario]! / 1000)} s` }
              : { ok: false, detail: `${durationMs === undefined ? "not finished" : `${Math.round(durationMs / 1000)} s`}, more than ${bound}x the fault-free ${Math.round(reference![scenario]! / 1000)} s` };
      rows.push({
        condition: condition.id,
        conditionTitle: condition.title,
        scenario,
        seed,
        durationMs,
        phase: outcome.phase,
        kills,
        faults,
        checks: { finished, killed, time, ...(await world.judge(scenario, shared)) },
        command: replayCommand(seed, condition.id, options.scenarios),
      });
      log(`   ${scenario}: ${outcome.phase} in ${durationMs === undefined ? "-" : Math.round(durationMs / 1000)} s, ${kills} kill(s)`);
    }
    return rows;
  } finally {
    await operators?.stop();
    await proxies?.close();
    await world.close();
  }
}
