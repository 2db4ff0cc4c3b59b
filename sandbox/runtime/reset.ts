// Puts a running sandbox back to an empty state without restarting anything: moto and the EKS
// emulator forget everything, Kubernetes loses every non-system namespace, workload and Node,
// and the scenario (if any) is seeded again.
import {
  ApiextensionsV1Api,
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { emulatorEntryPoint } from "./config.js";
import type { SandboxEnv } from "./env.js";
import { httpCall, waitUntil } from "./http.js";
import { clearKarpenter } from "./karpenter.js";
import { kubeConfigOf, seedIfRequested, waitForManagedNodesReady } from "./seeding.js";

type Logger = (line: string) => void;

/** Namespaces the control plane owns; everything else is test or scenario data. */
export const systemNamespaces: ReadonlySet<string> = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);

export interface ResetOptions {
  /** Scenario to seed afterwards: a path, or null/undefined for none. */
  scenario?: string | null;
  log?: Logger;
  /** How long to wait for namespaces to finish terminating. */
  timeoutMs?: number;
}

async function post(url: string, what: string): Promise<void> {
  const response = await httpCall(url, { method: "POST", timeoutMs: 10_000 });
  if (response.status < 200 || response.status >= 300) {
    throw new Error(`resetting ${what}: POST ${url} answered ${response.status}: ${response.body.slice(0, 300)}`);
  }
}

export async function resetSandbox(env: SandboxEnv, options: ResetOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[sandbox] ${line}\n`));
  await post(`${env.awsEndpointUrl}/moto-api/reset`, "moto");
  if (existsSync(emulatorEntryPoint)) await post(`${env.emulatorAdminUrl}/reset`, "the EKS emulator");
  await clearKubernetes(env, options.timeoutMs ?? 90_000);
  log("reset: moto, EKS emulator and Kubernetes cleared");
  if (options.scenario) {
    await seedIfRequested(options.scenario, env, log);
    await waitForManagedNodesReady(env, 60_000, log);
  }
}

async function clearKubernetes(env: SandboxEnv, timeoutMs: number): Promise<void> {
  const kubeConfig = kubeConfigOf(env);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const policy = kubeConfig.makeApiClient(PolicyV1Api);
  // Karpenter first: left running it would start nodes for the pods deleted below, and its
  // finalizers would hold the Nodes deleted below.
  await clearKarpenter(env, kubeConfig);

  const doomed = (await core.listNamespace()).items
    .map((namespace) => namespace.metadata!.name!)
    .filter((name) => !systemNamespaces.has(name));
  // Custom objects whose controller is not running (an operator stopped by a test) would hold
  // their namespace in Terminating for ever: a reset drops their finalizers first.
  await dropCustomObjectFinalizers(kubeConfig, new Set(doomed));
  // The workload controllers go first, then their pods at once (grace period 0): the namespace
  // controller then finds next to nothing left and finishes in one pass, rather than evicting pods
  // that wait out their grace periods on a fake kubelet while it backs off between passes.
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  for (const namespace of [...doomed, "default"]) {
    await Promise.all([
      apps.deleteCollectionNamespacedDeployment({ namespace }).catch(ignoreNotFound),
      apps.deleteCollectionNamespacedStatefulSet({ namespace }).catch(ignoreNotFound),
      apps.deleteCollectionNamespacedDaemonSet({ namespace }).catch(ignoreNotFound),
      batch.deleteCollectionNamespacedJob({ namespace, propagationPolicy: "Background" }).catch(ignoreNotFound),
    ]);
    // After the Deployments, so that none makes a new ReplicaSet behind this.
    await apps.deleteCollectionNamespacedReplicaSet({ namespace }).catch(ignoreNotFound);
    await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }).catch(ignoreNotFound);
    if (namespace === "default") await policy.deleteCollectionNamespacedPodDisruptionBudget({ namespace }).catch(ignoreNotFound);
  }
  await Promise.all(doomed.map((name) => core.deleteNamespace({ name }).catch(ignoreNotFound)));
  await core.deleteCollectionNode({});
  // Node Leases go with their Nodes, but only when the garbage collector gets to them. A scenario
  // seeded again brings Nodes of the same names (moto hands out the same addresses), and kwok then
  // keeps renewing a Lease the collector deletes behind it: the node goes NotReady, its pods are
  // marked NotReady and every budget over them blocks. Deleting the Leases here avoids the race.
  const leases = kubeConfig.makeApiClient(CoordinationV1Api);
  await leases.deleteCollectionNamespacedLease({ namespace: "kube-node-lease" }).catch(ignoreNotFound);

  let remaining = "";
  let passes = 0;
  try {
    await waitUntil(
      "sandbox reset",
      async () => {
        // Finalizers may be added again while the namespace controller works; drop them now and then.
        if (++passes % 10 === 0) await dropCustomObjectFinalizers(kubeConfig, new Set(doomed));
        const namespaces = (await core.listNamespace()).items.filter((namespace) => doomed.includes(namespace.metadata!.name!));
        const nodes = (await core.listNode()).items;
        const pods = (await core.listNamespacedPod({ namespace: "default" })).items;
        let nodeLeases = (await leases.listNamespacedLease({ namespace: "kube-node-lease" })).items;
        if (nodes.length === 0 && nodeLeases.length > 0) {
          // kwok may renew a Lease once more while its Node is being deleted: delete it again.
          await leases.deleteCollectionNamespacedLease({ namespace: "kube-node-lease" }).catch(ignoreNotFound);
          nodeLeases = (await leases.listNamespacedLease({ namespace: "kube-node-lease" })).items;
        }
        remaining = [
          ...namespaces.map((namespace) => {
            const why = namespace.status?.conditions?.filter((condition) => condition.status === "True").map((condition) => condition.message);
            return `namespace ${namespace.metadata!.name!}${why?.length ? ` (${why.join("; ")})` : ""}`;
          }),
          ...nodes.map((node) => `node ${node.metadata!.name!}`),
          ...pods.map((pod) => `pod default/${pod.metadata!.name!}`),
          ...nodeLeases.map((lease) => `node lease ${lease.metadata!.name!}`),
        ].join(", ");
        return remaining === "";
      },
      { timeoutMs, intervalMs: 500 },
    );
  } catch (error) {
    throw new Error(`sandbox reset: still present after ${timeoutMs / 1000}s: ${remaining}`, { cause: error });
  }
}

async function dropCustomObjectFinalizers(kubeConfig: KubeConfig, namespaces: ReadonlySet<string>): Promise<void> {
  if (namespaces.size === 0) return;
  const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  for (const crd of (await extensions.listCustomResourceDefinition()).items) {
    if (crd.spec.scope !== "Namespaced") continue;
    const version = crd.spec.versions.find((candidate) => candidate.served)?.name;
    if (!version) continue;
    const resource = { group: crd.spec.group, version, plural: crd.spec.names.plural };
    const list = (await custom.listCustomObjectForAllNamespaces(resource).catch(() => ({ items: [] }))) as {
      items?: { metadata?: { name?: string; namespace?: string; finalizers?: string[] } }[];
    };
    for (const item of list.items ?? []) {
      const { name, namespace, finalizers } = item.metadata ?? {};
      if (!name || !namespace || !namespaces.has(namespace) || !finalizers?.length) continue;
      await custom
        .patchNamespacedCustomObject({ ...resource, namespace, name, body: { metadata: { finalizers: null } } }, mergePatch)
        .catch(ignoreNotFound);
    }
  }
}

function ignoreNotFound(error: unknown): void {
  if ((error as { code?: number }).code === 404) return;
  throw error;
}
