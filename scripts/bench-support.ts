// What the benchmark scripts share: their log line, a sleep, a poll with a deadline, the
// environment of a child whose process settings they choose, and the ClusterUpgrades they apply
// and read.
import * as k8s from "@kubernetes/client-node";
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type ClusterUpgrade, type ClusterUpgradeSpec } from "../src/api/v1alpha1/types.js";

export function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * This process's environment without the variables that tune a Node process (NODE_OPTIONS and
 * glibc's MALLOC_*): the base for a child started with settings of the bench's choosing.
 */
export function envWithoutProcessTuning(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "NODE_OPTIONS" && !name.startsWith("MALLOC_")));
}

/** Calls `probe` every `everyMs` until it returns a value, or throws after `timeoutMs` naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface ClusterUpgrades {
  create(name: string, spec: ClusterUpgradeSpec): Promise<unknown>;
  read(name: string): Promise<ClusterUpgrade>;
  remove(name: string): Promise<unknown>;
}

/** ClusterUpgrades of one namespace, as the benchmarks apply, read and delete them. */
export function clusterUpgrades(kubeConfig: k8s.KubeConfig, namespace: string): ClusterUpgrades {
  const objects = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace };
  return {
    create: (name, spec) => objects.createNamespacedCustomObject({ ...ref, body: { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec } }),
    read: async (name) => (await objects.getNamespacedCustomObject({ ...ref, name })) as ClusterUpgrade,
    remove: (name) => objects.deleteNamespacedCustomObject({ ...ref, name }),
  };
}
