// The frozen-intent admission policy (config/admission) on the sandbox's real kube-apiserver: once
// status.frozenIntent is set, edits of the cluster, region, strategy, target and the blue/green
// route are refused with a message naming the field and the way out; everything an operator on
// call needs mid-upgrade (pause, abort, windows, drain, notifications) is still accepted, and so is
// any edit before the intent is frozen.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { sandboxEnv, sandboxKubeConfig } from "../../support/global-sandbox.js";
import { ensureNamespace, installCrd, statusMessage } from "../../support/crd.js";

const NAMESPACE = "frozen-intent";
const POLICY_FILE = fileURLToPath(new URL("../../../config/admission/frozen-intent-policy.yaml", import.meta.url));
const resource = { group: "eksupgrade.io", version: "v1alpha1", namespace: NAMESPACE, plural: "clusterupgrades" };
const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
const route53 = { hostedZoneId: "Z0123456789ABC", recordName: "app.example.com", blueSetIdentifier: "blue", greenSetIdentifier: "green" };
const inPlace = { cluster: { name: "prod", region: "eu-west-1" }, targetVersion: "1.31", strategy: "InPlace" };
const blueGreen = { ...inPlace, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53 } };

describe("admission: an upgrade's intent is frozen once it started (real API server)", function () {
  this.timeout(120_000);
  let api: k8s.CustomObjectsApi;
  let counter = 0;

  async function installPolicy(kubeConfig: k8s.KubeConfig): Promise<void> {
    const admission = kubeConfig.makeApiClient(k8s.AdmissionregistrationV1Api);
    for (const document of k8s.loadAllYaml(readFileSync(POLICY_FILE, "utf8")) as { kind: string; metadata: { name: string } }[]) {
      if (document.kind === "ValidatingAdmissionPolicy") {
        const body = document as k8s.V1ValidatingAdmissionPolicy;
        await admission.deleteValidatingAdmissionPolicy({ name: document.metadata.name }).catch(() => undefined);
        await admission.createValidatingAdmissionPolicy({ body });
      } else {
        const body = document as k8s.V1ValidatingAdmissionPolicyBinding;
        await admission.deleteValidatingAdmissionPolicyBinding({ name: document.metadata.name }).catch(() => undefined);
        await admission.createValidatingAdmissionPolicyBinding({ body });
      }
    }
    // kube-controller-manager type-checks the expressions against the CRD's schema and writes what it dislikes into status.
    const deadline = Date.now() + 30_000;
    let policy = await admission.readValidatingAdmissionPolicy({ name: "clusterupgrades.eksupgrade.io-frozen-intent" });
    while (policy.status?.observedGeneration !== policy.metadata?.generation && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      policy = await admission.readValidatingAdmissionPolicy({ name: "clusterupgrades.eksupgrade.io-frozen-intent" });
    }
    assert.equal(policy.status?.observedGeneration, policy.metadata?.generation, "the policy was never type-checked");
    assert.deepEqual(policy.status?.typeChecking?.expressionWarnings ?? [], [], "the policy's CEL type-checks against the CRD");
  }

  /** A new ClusterUpgrade, optionally with status.frozenIntent written through the status subresource as the operator does. */
  async function upgrade(spec: Record<string, unknown>, frozen: boolean): Promise<string> {
    const name = `cu-${++counter}`;
    await api.createNamespacedCustomObject({ ...resource, body: { apiVersion: "eksupgrade.io/v1alpha1", kind: "ClusterUpgrade", metadata: { name }, spec } });
    if (frozen) {
      const frozenIntent: Record<string, unknown> = { cluster: { name: "prod", region: "eu-west-1" }, strategy: spec.strategy, targetVersion: "1.31", frozenAt: "2026-11-29T08:00:00Z" };
      if (spec.strategy === "BlueGreen") frozenIntent.blueGreen = { greenCluster: { name: "green" }, route53 };
      await api.patchNamespacedCustomObjectStatus({ ...resource, name, body: { status: { frozenIntent } } }, mergePatch);
    }
    return name;
  }

  function edit(name: string, spec: Record<string, unknown>): Promise<{ code?: number; message: string } | undefined> {
    return api.patchNamespacedCustomObject({ ...resource, name, body: { spec } }, mergePatch).then(
      () => undefined,
      (caught: unknown) => {
        const error = caught as { code?: number; body?: unknown };
        return { code: error.code, message: statusMessage(error.body) };
      },
    );
  }

  before(async function () {
    const kubeConfig = sandboxKubeConfig();
    await installCrd(kubeConfig);
    await ensureNamespace(kubeConfig, NAMESPACE);
    api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    await installPolicy(kubeConfig);
    // A new policy takes effect once the API server's informers see it and its binding: wait for a first refusal.
    const probe = await upgrade(inPlace, true);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (await edit(probe, { targetVersion: "1.32" })) return;
      await edit(probe, { targetVersion: "1.31" });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.fail("the admission policy never took effect");
  });

  // Later suites in the same sandbox (the end-to-end stories) run without the policy, as on a
  // cluster that never installed it: there the operator's own check is what they exercise.
  after(async () => {
    const admission = sandboxKubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
    await admission.deleteValidatingAdmissionPolicyBinding({ name: "clusterupgrades.eksupgrade.io-frozen-intent" }).catch(() => undefined);
    await admission.deleteValidatingAdmissionPolicy({ name: "clusterupgrades.eksupgrade.io-frozen-intent" }).catch(() => undefined);
  });

  const refused: { name: string; base: Record<string, unknown>; spec: Record<string, unknown>; expect: RegExp }[] = [
    { name: "target version raised", base: inPlace, spec: { targetVersion: "1.32" }, expect: /spec\.targetVersion cannot change while the upgrade is in progress: it was 1\.31 .* would become 1\.32\. Set it back to 1\.31, or set spec\.abort: true and create a new ClusterUpgrade/ },
    { name: "cluster renamed", base: inPlace, spec: { cluster: { name: "staging", region: "eu-west-1" } }, expect: /spec\.cluster\.name cannot change .* it was prod .* would become staging/ },
    { name: "region changed", base: inPlace, spec: { cluster: { name: "prod", region: "us-east-1" } }, expect: /spec\.cluster\.region cannot change .* it was eu-west-1 .* would become us-east-1/ },
    { name: "region removed", base: inPlace, spec: { cluster: { name: "prod", region: null } }, expect: /spec\.cluster\.region cannot change .* would become \(unset\)/ },
    { name: "InPlace switched to BlueGreen", base: inPlace, spec: { strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53 } }, expect: /spec\.strategy cannot change .* it was InPlace .* would become BlueGreen/ },
    { name: "green cluster renamed", base: blueGreen, spec: { blueGreen: { greenCluster: { name: "green-2" } } }, expect: /spec\.blueGreen\.greenCluster\.name cannot change .* it was green .* would become green-2/ },
    { name: "green region set", base: blueGreen, spec: { blueGreen: { greenCluster: { region: "us-west-2" } } }, expect: /spec\.blueGreen\.greenCluster\.region cannot change .* it was \(unset\) .* would become us-west-2/ },
    { name: "hosted zone changed", base: blueGreen, spec: { blueGreen: { route53: { hostedZoneId: "Z9999999999999" } } }, expect: /spec\.blueGreen\.route53\.hostedZoneId cannot change/ },
    { name: "record renamed", base: blueGreen, spec: { blueGreen: { route53: { recordName: "other.example.com" } } }, expect: /spec\.blueGreen\.route53\.recordName cannot change .* it was app\.example\.com/ },
    { name: "blue set identifier changed", base: blueGreen, spec: { blueGreen: { route53: { blueSetIdentifier: "old" } } }, expect: /spec\.blueGreen\.route53\.blueSetIdentifier cannot change/ },
    { name: "green set identifier changed", base: blueGreen, spec: { blueGreen: { route53: { greenSetIdentifier: "new" } } }, expect: /spec\.blueGreen\.route53\.greenSetIdentifier cannot change/ },
  ];

  for (const testCase of refused) {
    it(`refuses: ${testCase.name}`, async () => {
      const name = await upgrade(testCase.base, true);
      const error = await edit(name, testCase.spec);
      assert.ok(error, "the API server accepted the edit");
      assert.equal(error.code, 422, error.message);
      assert.match(error.message, testCase.expect);
    });
  }

  const allowed: { name: string; base: Record<string, unknown>; spec: Record<string, unknown> }[] = [
    { name: "pause", base: inPlace, spec: { paused: true } },
    { name: "abort", base: inPlace, spec: { abort: true } },
    { name: "maintenance windows", base: inPlace, spec: { maintenanceWindows: [{ schedule: "0 22 * * 1-5", duration: "4h", timeZone: "Europe/Berlin" }] } },
    { name: "blackouts", base: inPlace, spec: { blackouts: [{ start: "2026-12-20T00:00:00Z", end: "2027-01-04T00:00:00Z" }] } },
    { name: "drain policy", base: inPlace, spec: { drain: { timeout: "30m", onTimeout: "SkipNode" } } },
    { name: "notifications", base: inPlace, spec: { notifications: { webhookUrl: "https://hooks.example.com/upgrades" } } },
    { name: "blue/green traffic steps and manual approval", base: blueGreen, spec: { blueGreen: { trafficSteps: [5, 50, 100], manualApproval: true } } },
  ];

  for (const testCase of allowed) {
    it(`accepts mid-upgrade: ${testCase.name}`, async () => {
      const name = await upgrade(testCase.base, true);
      assert.equal(await edit(name, testCase.spec), undefined);
    });
  }

  it("accepts setting a field back to its frozen value", async () => {
    // An edit stored before the policy existed (simulated: the spec written, then the intent frozen at the old value).
    const name = await upgrade({ ...inPlace, targetVersion: "1.32" }, true);
    assert.equal(await edit(name, { paused: true }), undefined, "an unrelated edit keeps the stored value");
    assert.equal(await edit(name, { targetVersion: "1.31" }), undefined, "back to the frozen value");
    assert.ok(await edit(name, { targetVersion: "1.32" }), "and away from it again is refused");
  });

  it("accepts any edit before the intent is frozen", async () => {
    const name = await upgrade(inPlace, false);
    assert.equal(await edit(name, { targetVersion: "1.32", cluster: { name: "staging", region: "us-east-1" } }), undefined);
    assert.equal(await edit(name, { strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53 } }), undefined);
  });

  it("lets the operator write status and finalizers of a frozen upgrade", async () => {
    const name = await upgrade(inPlace, true);
    await api.patchNamespacedCustomObjectStatus({ ...resource, name, body: { status: { phase: "UpgradingControlPlane" } } }, mergePatch);
    await api.patchNamespacedCustomObject({ ...resource, name, body: { metadata: { finalizers: ["eksupgrade.io/release"] } } }, mergePatch);
    await api.patchNamespacedCustomObject({ ...resource, name, body: { metadata: { finalizers: null } } }, mergePatch);
  });

  it("installs with the rest of config/default (server-side dry run), cluster-scoped", async () => {
    await ensureNamespace(sandboxKubeConfig(), "eks-upgrade-system");
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const output = execFileSync("kubectl", ["apply", "-k", `${root}config/default`, "--dry-run=server", "-o", "name"], {
      encoding: "utf8",
      env: { ...process.env, KUBECONFIG: sandboxEnv().kubeconfigPath },
      timeout: 60_000,
    });
    assert.match(output, /validatingadmissionpolicy\.admissionregistration\.k8s\.io\/clusterupgrades\.eksupgrade\.io-frozen-intent/);
    assert.match(output, /validatingadmissionpolicybinding\.admissionregistration\.k8s\.io\/clusterupgrades\.eksupgrade\.io-frozen-intent/);
  });
});
