// Calling the scenario seeding code (sandbox/scenario/seed.ts) and waiting for what it created.
import { CoreV1Api, KubeConfig, type V1Node } from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { defaultScenarioPath, kwokNodeAnnotation, seedEntryPoint } from "./config.js";
import type { SandboxEnv } from "./env.js";
import { waitUntil } from "./http.js";

type Logger = (line: string) => void;

export type SeedScenario = (scenarioPath: string, env: SandboxEnv) => Promise<void>;

export function kubeConfigOf(env: SandboxEnv): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(env.kubeconfigPath);
  return kubeConfig;
}

/** The scenario file to seed, or undefined when none was asked for (or the default is absent). */
export function resolveScenario(requested: string | null | undefined, log: Logger): string | undefined {
  if (requested === null) return undefined;
  if (requested === undefined) {
    if (existsSync(defaultScenarioPath)) return defaultScenarioPath;
    log(`no scenario seeded: ${defaultScenarioPath} does not exist yet`);
    return undefined;
  }
  const path = resolve(requested);
  if (!existsSync(path)) throw new Error(`scenario file ${path} does not exist`);
  return path;
}

async function loadSeeder(log: Logger): Promise<SeedScenario | undefined> {
  if (!existsSync(seedEntryPoint)) {
    log(`scenario not seeded: ${seedEntryPoint} does not exist yet`);
    return undefined;
  }
  const module = (await import(pathToFileURL(seedEntryPoint).href)) as { seedScenario?: SeedScenario };
  if (typeof module.seedScenario !== "function") {
    throw new Error(`${seedEntryPoint} does not export seedScenario(scenarioPath, env)`);
  }
  return module.seedScenario;
}

/** Seeds the scenario if one applies; returns its path when it was seeded. */
export async function seedIfRequested(
  requested: string | null | undefined,
  env: SandboxEnv,
  log: Logger,
  abortIf: () => string | undefined = () => undefined,
): Promise<string | undefined> {
  const scenario = resolveScenario(requested, log);
  if (scenario === undefined) return undefined;
  const seed = await loadSeeder(log);
  if (!seed) return undefined;
  const begun = Date.now();
  await seed(scenario, env);
  const broken = abortIf();
  if (broken !== undefined) throw new Error(`while seeding ${scenario}: ${broken}`);
  log(`seeded ${scenario} (${((Date.now() - begun) / 1000).toFixed(1)}s)`);
  return scenario;
}

export function isKwokManaged(node: V1Node): boolean {
  return node.metadata?.annotations?.[kwokNodeAnnotation.key] === kwokNodeAnnotation.value;
}

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false;
}

/** Waits until every Node kwok manages reports Ready: proof that the fake kubelets are at work. */
export async function waitForManagedNodesReady(env: SandboxEnv, timeoutMs: number, log: Logger): Promise<void> {
  const core = kubeConfigOf(env).makeApiClient(CoreV1Api);
  let count = 0;
  await waitUntil(
    "kwok-managed nodes Ready",
    async () => {
      const nodes = (await core.listNode()).items.filter(isKwokManaged);
      count = nodes.length;
      return nodes.every(isNodeReady);
    },
    { timeoutMs, intervalMs: 500 },
  );
  if (count > 0) log(`${count} kwok-managed node(s) Ready`);
}
