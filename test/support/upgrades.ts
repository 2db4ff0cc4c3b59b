// Helpers for end-to-end tests that apply ClusterUpgrades to the sandbox and follow them.
import * as k8s from "@kubernetes/client-node";
import { fileURLToPath } from "node:url";
import type { ClusterUpgrade } from "../../src/api/v1alpha1/types.js";
import { ensureNamespace, installCrd } from "./crd.js";
import { resetSandbox, sandboxEnv, sandboxKubeConfig } from "./global-sandbox.js";
import { installOperatorIdentityAhead } from "./operator.js";
import { waitUntil } from "./wait.js";

const CRD = { group: "eksupgrade.io", version: "v1alpha1", plural: "clusterupgrades" } as const;

export function scenarioPath(name: string): string {
  return fileURLToPath(new URL(`../../sandbox/scenarios/${name}.yaml`, import.meta.url));
}

export interface EmulatorCall {
  operation: string;
  clusterName?: string;
  nodegroupName?: string;
  addonName?: string;
  request: Record<string, unknown>;
  status: number;
}

/** Every EKS call the emulator received for a cluster (optionally one operation). */
export async function emulatorCalls(clusterName: string, operation?: string): Promise<EmulatorCall[]> {
  const query = new URLSearchParams({ clusterName, ...(operation ? { operation } : {}) });
  const response = await fetch(`${sandboxEnv().emulatorAdminUrl}/calls?${query.toString()}`);
  const report = (await response.json()) as { calls: EmulatorCall[] };
  return report.calls;
}

/** Changes how the EKS emulator times one cluster's updates (EKS seconds, scaled by the sandbox clock). */
export async function emulatorClusterSettings(clusterName: string, settings: { controlPlaneUpdateSeconds?: number; addonUpdateSeconds?: number }): Promise<void> {
  const response = await fetch(`${sandboxEnv().emulatorAdminUrl}/clusters/${encodeURIComponent(clusterName)}/settings`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(settings),
  });
  if (!response.ok) throw new Error(`the EKS emulator refused the settings of cluster ${clusterName}: ${response.status} ${await response.text()}`);
}

export class UpgradeWorld {
  readonly kubeConfig: k8s.KubeConfig;
  private readonly api: k8s.CustomObjectsApi;

  private constructor(readonly namespace: string) {
    this.kubeConfig = sandboxKubeConfig();
    this.api = this.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  }

  /** Resets the sandbox to `scenario`, installs the CRD and the namespaces the tests use. */
  static async prepare(scenario: string, namespace = "e2e"): Promise<UpgradeWorld> {
    await resetSandbox({ scenario: scenarioPath(scenario) });
    const world = new UpgradeWorld(namespace);
    await installCrd(world.kubeConfig);
    await ensureNamespace(world.kubeConfig, namespace);
    await ensureNamespace(world.kubeConfig, "eks-upgrade-system");
    // Seeding itself calls CreateCluster and friends: start each test with an empty call log.
    await fetch(`${sandboxEnv().emulatorAdminUrl}/calls`, { method: "DELETE" });
    // The operator's RBAC and token, ready before a test starts operators (which would otherwise
    // prepare them synchronously, a few seconds each time).
    await installOperatorIdentityAhead([namespace]);
    return world;
  }

  async apply(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.api.createNamespacedCustomObject({ ...CRD, namespace: this.namespace, body: { apiVersion: "eksupgrade.io/v1alpha1", kind: "ClusterUpgrade", metadata: { name }, spec } });
  }

  async read(name: string): Promise<ClusterUpgrade> {
    return (await this.api.getNamespacedCustomObject({ ...CRD, namespace: this.namespace, name })) as ClusterUpgrade;
  }

  async patchSpec(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.api.patchNamespacedCustomObject({ ...CRD, namespace: this.namespace, name, body: { spec } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
  }

  async waitFor(name: string, what: string, predicate: (upgrade: ClusterUpgrade) => boolean, timeoutMs = 5 * 60_000): Promise<ClusterUpgrade> {
    let last: ClusterUpgrade | undefined;
    try {
      return await waitUntil(
        `ClusterUpgrade ${name}: ${what}`,
        async () => {
          last = await this.read(name);
          return predicate(last) ? last : undefined;
        },
        timeoutMs,
      );
    } catch (error) {
      // Say where the upgrade stood: the phase and the Ready message name what held it.
      const seen = last ? `; last seen phase ${last.status?.phase ?? "(none)"}, Ready: ${condition(last, "Ready")?.message ?? "(none)"}` : "";
      throw new Error(`${(error as Error).message}${seen}`);
    }
  }

  waitForPhase(name: string, phase: string, timeoutMs = 5 * 60_000): Promise<ClusterUpgrade> {
    return this.waitFor(name, `phase ${phase}`, (upgrade) => upgrade.status?.phase === phase, timeoutMs);
  }
}

export function condition(upgrade: ClusterUpgrade, type: string): { status: string; reason: string; message: string } | undefined {
  return upgrade.status?.conditions?.find((entry) => entry.type === type);
}
