// Whole in-place upgrades on the sandbox: the operator runs as its own process against the real
// kube-apiserver, the EKS emulator and moto, and is killed and restarted mid-flight.
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { fileURLToPath } from "node:url";
import type { ClusterUpgrade } from "../../src/api/v1alpha1/types.js";
import { ensureNamespace, installCrd } from "../support/crd.js";
import { resetSandbox, sandboxEnv, sandboxKubeConfig } from "../support/global-sandbox.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { waitUntil } from "../support/wait.js";

const DEFAULT_SCENARIO = fileURLToPath(new URL("../../sandbox/scenarios/default.yaml", import.meta.url));
const NAMESPACE = "e2e";
const CRD = { group: "eksupgrade.io", version: "v1alpha1", plural: "clusterupgrades" } as const;

interface EmulatorCall {
  operation: string;
  request: Record<string, unknown>;
  status: number;
}

async function emulatorCalls(operation: string): Promise<EmulatorCall[]> {
  const response = await fetch(`${sandboxEnv().emulatorAdminUrl}/calls?operation=${operation}&clusterName=demo`);
  const report = (await response.json()) as { calls: EmulatorCall[] };
  return report.calls;
}

describe("in-place upgrade end to end (sandbox)", function () {
  this.timeout(10 * 60_000);
  let kubeConfig: k8s.KubeConfig;
  let api: k8s.CustomObjectsApi;
  let operator: OperatorProcess | undefined;

  async function read(name: string): Promise<ClusterUpgrade> {
    return (await api.getNamespacedCustomObject({ ...CRD, namespace: NAMESPACE, name })) as ClusterUpgrade;
  }

  async function apply(name: string, spec: Record<string, unknown>): Promise<void> {
    await api.createNamespacedCustomObject({ ...CRD, namespace: NAMESPACE, body: { apiVersion: "eksupgrade.io/v1alpha1", kind: "ClusterUpgrade", metadata: { name }, spec } });
  }

  function waitForPhase(name: string, phase: string, timeoutMs = 5 * 60_000): Promise<ClusterUpgrade> {
    return waitUntil(
      `ClusterUpgrade ${name} to reach ${phase}`,
      async () => {
        const upgrade = await read(name);
        return upgrade.status?.phase === phase ? upgrade : undefined;
      },
      timeoutMs,
    );
  }

  beforeEach(async function () {
    this.timeout(3 * 60_000);
    await resetSandbox({ scenario: DEFAULT_SCENARIO });
    kubeConfig = sandboxKubeConfig();
    await installCrd(kubeConfig);
    await ensureNamespace(kubeConfig, NAMESPACE);
    await ensureNamespace(kubeConfig, "eks-upgrade-system");
    api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  });

  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
  });

  it("takes cluster demo from 1.29 to 1.31 in two hops with add-ons and its managed node group", async () => {
    operator = startOperatorProcess();
    await apply("two-hops", { cluster: { name: "demo" }, targetVersion: "1.31", nodeGroups: { order: ["general"] } });
    const done = await waitForPhase("two-hops", "Succeeded");
    const status = done.status!;
    assert.equal(status.currentVersion, "1.31");
    assert.deepEqual(status.hops?.map((hop) => [hop.from, hop.version, hop.state, hop.stage]), [
      ["1.29", "1.30", "Succeeded", "Done"],
      ["1.30", "1.31", "Succeeded", "Done"],
    ]);
    assert.ok(status.hops?.every((hop) => hop.updateId && hop.startedAt && hop.finishedAt && hop.controlPlaneSeconds !== undefined));
    // kube-proxy goes after the nodes, every add-on ends on a version made for 1.31.
    const lastHopAddons = status.addons?.filter((addon) => addon.hop === "1.31").map((addon) => addon.name);
    assert.deepEqual(lastHopAddons, ["vpc-cni", "coredns", "kube-proxy"]);
    assert.equal(status.nodeGroups?.find((group) => group.name === "general")?.version, "1.31");
    const updates = await emulatorCalls("UpdateClusterVersion");
    assert.deepEqual(updates.map((call) => call.request.version), ["1.30", "1.31"], "exactly one UpdateClusterVersion per hop");
    // The managed group's nodes were replaced by 1.31 kubelets; the self-managed group was left alone.
    const nodes = await kubeConfig.makeApiClient(k8s.CoreV1Api).listNode();
    const kubelets = (group: string): string[] =>
      nodes.items.filter((node) => node.metadata?.labels?.["eks.amazonaws.com/nodegroup"] === group).map((node) => node.status?.nodeInfo?.kubeletVersion ?? "");
    assert.ok(kubelets("general").length >= 3);
    assert.ok(kubelets("general").every((version) => version.startsWith("v1.31")), `general kubelets: ${kubelets("general").join(", ")}`);
    assert.equal(nodes.items.filter((node) => node.spec?.unschedulable).length, 0, "no node left cordoned");
    const ready = status.conditions?.find((condition) => condition.type === "Ready");
    assert.equal(ready?.status, "True");
    assert.match(ready.message, /runs 1.31: 2 control-plane hop\(s\)/);
  });

  it("killed with SIGKILL during a control-plane update, a new operator finishes with still one call per hop", async () => {
    operator = startOperatorProcess();
    await apply("killed", { cluster: { name: "demo" }, targetVersion: "1.31", nodeGroups: { order: ["general"] } });
    await waitUntil("the first hop's update to be recorded", async () => {
      const upgrade = await read("killed");
      return upgrade.status?.hops?.[0]?.updateId ? upgrade : undefined;
    });
    await operator.kill();
    operator = startOperatorProcess();
    const done = await waitForPhase("killed", "Succeeded");
    assert.equal(done.status?.currentVersion, "1.31");
    const updates = await emulatorCalls("UpdateClusterVersion");
    assert.deepEqual(updates.map((call) => call.request.version), ["1.30", "1.31"]);
  });

  it("refuses a cluster that does not exist with InvalidSpec and calls nothing that changes", async () => {
    operator = startOperatorProcess();
    await apply("missing", { cluster: { name: "no-such-cluster" }, targetVersion: "1.31" });
    const upgrade = await waitForPhase("missing", "InvalidSpec", 60_000);
    const specValid = upgrade.status?.conditions?.find((condition) => condition.type === "SpecValid");
    assert.equal(specValid?.reason, "ClusterNotFound");
    assert.match(specValid.message, /no-such-cluster was not found/);
    assert.equal((await emulatorCalls("UpdateClusterVersion")).length, 0);
  });
});
