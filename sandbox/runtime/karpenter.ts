// Karpenter in the sandbox: its kwok provider (the real provisioning, drift and disruption
// controllers of sigs.k8s.io/karpenter against fake instance types) with the CRDs of the same
// module version. Started on demand by a scenario that declares NodePools and stopped by a reset,
// so the sandboxes of every other test neither build nor run it.
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { buildDir, karpenterPaths, repoRoot } from "./config.js";
import { componentKubeconfig, healthProbe, karpenterEnvironment, layoutOf } from "./components.js";
import { readSandboxState, type SandboxEnv } from "./env.js";
import { waitUntil } from "./http.js";
import { isRecordAlive, readProcessRecords, spawnDetached, stopProcesses, tailFile, type ProcessRecord } from "./processes.js";
import { kubeConfigOf } from "./seeding.js";

type Logger = (line: string) => void;

export const KARPENTER_COMPONENT = "karpenter";
/** The finalizer Karpenter puts on NodeClaims and Nodes; a reset with Karpenter stopped drops it. */
const TERMINATION_FINALIZER = "karpenter.sh/termination";
const NODEPOOL_LABEL = "karpenter.sh/nodepool";

const karpenterResources = [
  { group: "karpenter.sh", version: "v1", plural: "nodepools" },
  { group: "karpenter.sh", version: "v1", plural: "nodeclaims" },
  { group: "karpenter.kwok.sh", version: "v1alpha1", plural: "kwoknodeclasses" },
] as const;

function runBuild(log: Logger): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    const child = spawn("bash", [join(buildDir, "build-binaries.sh"), "karpenter"], { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolvePromise() : reject(new Error(`build-binaries.sh karpenter failed with exit code ${code}`))));
  }).then(() => log("karpenter: binary ready"));
}

function karpenterRecord(env: SandboxEnv): ProcessRecord | undefined {
  return readProcessRecords(layoutOf(env.dir).pidDir).find((record) => record.name === KARPENTER_COMPONENT);
}

export function karpenterRunning(env: SandboxEnv): boolean {
  const record = karpenterRecord(env);
  return record !== undefined && isRecordAlive(record);
}

/** Creates or replaces the CRDs shipped in the module (copied into the cache by the build), then waits until they are served. */
async function installCrds(kubeConfig: KubeConfig, crdsDir: string): Promise<void> {
  const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const files = readdirSync(crdsDir).filter((file) => file.endsWith(".yaml")).sort();
  if (files.length === 0) throw new Error(`no CRDs in ${crdsDir}; rerun sandbox/build/build-binaries.sh karpenter`);
  const names: string[] = [];
  for (const file of files) {
    const crd = parseYaml(readFileSync(join(crdsDir, file), "utf8")) as V1CustomResourceDefinition;
    const name = crd.metadata!.name!;
    names.push(name);
    try {
      const existing = await extensions.readCustomResourceDefinition({ name });
      crd.metadata!.resourceVersion = existing.metadata?.resourceVersion;
      await extensions.replaceCustomResourceDefinition({ name, body: crd });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await extensions.createCustomResourceDefinition({ body: crd });
    }
  }
  await waitUntil(
    `Karpenter CRDs established (${names.join(", ")})`,
    async () => {
      const crds = await Promise.all(names.map((name) => extensions.readCustomResourceDefinition({ name })));
      return crds.every((crd) => crd.status?.conditions?.some((condition) => condition.type === "Established" && condition.status === "True"));
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}

/**
 * Builds Karpenter if the cache lacks it, installs its CRDs and starts it unless it runs already.
 * Returns when its readiness probe answers (which includes its check that the CRDs are served).
 */
export async function ensureKarpenter(env: SandboxEnv, log: Logger): Promise<void> {
  const paths = karpenterPaths();
  if (!existsSync(paths.binary) || !existsSync(paths.crdsDir)) await runBuild(log);
  const kubeConfig = kubeConfigOf(env);
  await installCrds(kubeConfig, paths.crdsDir);
  if (karpenterRunning(env)) return;
  const state = readSandboxState(env.dir);
  if (!state) throw new Error(`no sandbox state in ${env.dir}: start the sandbox first`);
  const layout = layoutOf(env.dir);
  const kubeconfig = componentKubeconfig(layout, KARPENTER_COMPONENT);
  if (!existsSync(kubeconfig)) {
    throw new Error(`${kubeconfig} does not exist: this sandbox was started before it could run Karpenter; stop it (npm run sandbox -- down) and start it again`);
  }
  const ports = { ...state.ports };
  if (ports.karpenterHealth === undefined || ports.karpenterMetrics === undefined) {
    throw new Error(`the sandbox in ${env.dir} has no Karpenter ports in state.json; stop it and start it again`);
  }
  const started = spawnDetached({
    name: KARPENTER_COMPONENT,
    command: paths.binary,
    args: [],
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...karpenterEnvironment(layout, ports, KARPENTER_COMPONENT) },
    logDir: layout.logDir,
    pidDir: layout.pidDir,
    port: ports.karpenterHealth,
  });
  const probe = healthProbe("karpenter", { ports, layout, adminToken: undefined });
  const begun = Date.now();
  try {
    await waitUntil(`karpenter on 127.0.0.1:${ports.karpenterHealth}`, probe, {
      timeoutMs: 90_000,
      intervalMs: 250,
      abortIf: () => (started.exit ? `karpenter exited (code ${started.exit.code}); last lines of ${started.record.logFile}:\n${tailFile(started.record.logFile)}` : undefined),
    });
  } catch (error) {
    await stopProcesses([started.record]);
    throw error;
  }
  log(`karpenter ready on 127.0.0.1:${ports.karpenterHealth} (${((Date.now() - begun) / 1000).toFixed(1)}s)`);
}

/**
 * What a reset does about Karpenter: stop it (the next scenario that wants it starts it again),
 * then remove NodePools, NodeClaims and node classes, and the termination finalizer from them and
 * from Karpenter's Nodes, which nothing would take off with Karpenter gone.
 */
export async function clearKarpenter(env: SandboxEnv, kubeConfig: KubeConfig): Promise<void> {
  const record = karpenterRecord(env);
  if (record) await stopProcesses([record]);
  const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const crdPresent = await extensions
    .readCustomResourceDefinition({ name: "nodepools.karpenter.sh" })
    .then(() => true)
    .catch((error: { code?: number }) => {
      if (error.code === 404) return false;
      throw error;
    });
  if (!crdPresent) return;
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  for (const resource of [karpenterResources[1], karpenterResources[0], karpenterResources[2]]) {
    const list = (await custom.listClusterCustomObject(resource).catch(() => ({ items: [] }))) as { items?: { metadata?: { name?: string; finalizers?: string[] } }[] };
    for (const item of list.items ?? []) {
      const name = item.metadata?.name;
      if (!name) continue;
      if (item.metadata?.finalizers?.length) {
        await custom.patchClusterCustomObject({ ...resource, name, body: { metadata: { finalizers: null } } }, mergePatch).catch(ignoreNotFound);
      }
      await custom.deleteClusterCustomObject({ ...resource, name }).catch(ignoreNotFound);
    }
  }
  const core = kubeConfig.makeApiClient(CoreV1Api);
  for (const node of (await core.listNode({ labelSelector: NODEPOOL_LABEL })).items) {
    if (!node.metadata?.finalizers?.includes(TERMINATION_FINALIZER)) continue;
    await core.patchNode({ name: node.metadata.name!, body: { metadata: { finalizers: null } } }, mergePatch).catch(ignoreNotFound);
  }
}

function ignoreNotFound(error: unknown): void {
  if ((error as { code?: number }).code === 404) return;
  throw error;
}
