// The bad-input corpus: malformed ClusterUpgrades sent to the real kube-apiserver of the sandbox.
// The CRD's OpenAPI schema or one of its CEL rules must reject each one, with a message that names
// the field at fault; a sound object must be accepted, so the corpus cannot pass by rejecting all.
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { sandboxKubeConfig } from "../../support/global-sandbox.js";
import { ensureNamespace, installCrd, statusMessage } from "../../support/crd.js";

const NAMESPACE = "bad-input";
const route53 = { hostedZoneId: "Z0123456789ABC", recordName: "app.example.com", blueSetIdentifier: "blue", greenSetIdentifier: "green" };
const sound = { cluster: { name: "prod", region: "eu-west-1" }, targetVersion: "1.31" };

interface BadCase {
  name: string;
  spec: Record<string, unknown>;
  /** What the API server's message must contain: the field path and/or the rule's message. */
  expect: RegExp;
}

const corpus: BadCase[] = [
  { name: "target version with a patch", spec: { ...sound, targetVersion: "1.31.2" }, expect: /spec\.targetVersion/ },
  { name: "target version word", spec: { ...sound, targetVersion: "latest" }, expect: /spec\.targetVersion/ },
  { name: "target version below what EKS ever ran", spec: { ...sound, targetVersion: "1.9" }, expect: /spec\.targetVersion/ },
  { name: "target version missing", spec: { cluster: { name: "prod" } }, expect: /spec\.targetVersion: Required/ },
  { name: "cluster missing", spec: { targetVersion: "1.31" }, expect: /spec\.cluster: Required/ },
  { name: "cluster name with spaces", spec: { ...sound, cluster: { name: "my cluster" } }, expect: /spec\.cluster\.name/ },
  { name: "region malformed", spec: { ...sound, cluster: { name: "prod", region: "Europe" } }, expect: /spec\.cluster\.region/ },
  { name: "unknown strategy", spec: { ...sound, strategy: "Canary" }, expect: /spec\.strategy.*Unsupported value: "Canary"/ },
  { name: "BlueGreen without its block", spec: { ...sound, strategy: "BlueGreen" }, expect: /spec\.blueGreen is required when spec\.strategy is BlueGreen/ },
  { name: "blueGreen block with InPlace", spec: { ...sound, blueGreen: { greenCluster: { name: "green" }, route53 } }, expect: /spec\.blueGreen may only be set when spec\.strategy is BlueGreen/ },
  { name: "negative maxUnavailable", spec: { ...sound, nodeGroups: { maxUnavailable: -1 } }, expect: /spec\.nodeGroups\.maxUnavailable/ },
  { name: "absurd maxUnavailable", spec: { ...sound, nodeGroups: { maxUnavailable: 5000 } }, expect: /spec\.nodeGroups\.maxUnavailable/ },
  { name: "absurd parallel drains", spec: { ...sound, drain: { maxParallelNodes: 0 } }, expect: /spec\.drain\.maxParallelNodes/ },
  { name: "surge and unavailable both zero", spec: { ...sound, nodeGroups: { maxUnavailable: 0, maxSurge: 0 } }, expect: /maxSurge and maxUnavailable cannot both be 0/ },
  { name: "node group both ordered and excluded", spec: { ...sound, nodeGroups: { order: ["a"], exclude: ["a"] } }, expect: /both in spec\.nodeGroups\.order and spec\.nodeGroups\.exclude/ },
  { name: "DeletePods without force", spec: { ...sound, drain: { onTimeout: "DeletePods" } }, expect: /spec\.drain\.onTimeout.*allowForceDelete/ },
  { name: "unknown timeout policy", spec: { ...sound, drain: { onTimeout: "Panic" } }, expect: /spec\.drain\.onTimeout/ },
  { name: "drain timeout without unit", spec: { ...sound, drain: { timeout: "15" } }, expect: /spec\.drain\.timeout/ },
  { name: "window without duration", spec: { ...sound, maintenanceWindows: [{ schedule: "0 22 * * *" }] }, expect: /spec\.maintenanceWindows\[0\]\.duration: Required/ },
  { name: "window schedule with three fields", spec: { ...sound, maintenanceWindows: [{ schedule: "0 22 *", duration: "4h" }] }, expect: /spec\.maintenanceWindows\[0\]\.schedule/ },
  { name: "window duration in days", spec: { ...sound, maintenanceWindows: [{ schedule: "0 22 * * *", duration: "1d" }] }, expect: /spec\.maintenanceWindows\[0\]\.duration/ },
  { name: "window time zone with spaces", spec: { ...sound, maintenanceWindows: [{ schedule: "0 22 * * *", duration: "1h", timeZone: "Central European" }] }, expect: /spec\.maintenanceWindows\[0\]\.timeZone/ },
  { name: "blackout ending before it starts", spec: { ...sound, blackouts: [{ start: "2026-12-24T00:00:00Z", end: "2026-12-20T00:00:00Z" }] }, expect: /spec\.blackouts\[0\]\.end.*a blackout must end after it starts/ },
  { name: "blackout date not a timestamp", spec: { ...sound, blackouts: [{ start: "Christmas", end: "2026-12-27T00:00:00Z" }] }, expect: /spec\.blackouts\[0\]\.start/ },
  { name: "traffic steps not increasing", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, trafficSteps: [10, 50, 25, 100] } }, expect: /spec\.blueGreen\.trafficSteps.*strictly increasing/ },
  { name: "traffic steps not ending at 100", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, trafficSteps: [10, 50] } }, expect: /spec\.blueGreen\.trafficSteps.*the last traffic step must be 100/ },
  { name: "traffic step above 100 percent", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, trafficSteps: [50, 150] } }, expect: /spec\.blueGreen\.trafficSteps\[1\]/ },
  { name: "weight above 255", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, weightSteps: [{ blue: 300, green: 10 }, { blue: 0, green: 255 }] } }, expect: /spec\.blueGreen\.weightSteps\[0\]\.blue/ },
  { name: "negative weight", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, weightSteps: [{ blue: 255, green: -1 }, { blue: 0, green: 255 }] } }, expect: /spec\.blueGreen\.weightSteps\[0\]\.green/ },
  { name: "green weights decreasing", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, weightSteps: [{ blue: 100, green: 200 }, { blue: 0, green: 100 }] } }, expect: /spec\.blueGreen\.weightSteps.*green weights must be strictly increasing/ },
  { name: "both weights zero", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, weightSteps: [{ blue: 0, green: 0 }, { blue: 0, green: 255 }] } }, expect: /spec\.blueGreen\.weightSteps\[0\].*both weights to 0/ },
  { name: "steps and weights together", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, trafficSteps: [100], weightSteps: [{ blue: 0, green: 255 }] } }, expect: /set either trafficSteps or weightSteps/ },
  { name: "same set identifier for blue and green", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53: { ...route53, greenSetIdentifier: "blue" } } }, expect: /spec\.blueGreen\.route53\.greenSetIdentifier.*must differ/ },
  { name: "green cluster is blue", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "prod" }, route53 } }, expect: /spec\.blueGreen\.greenCluster\.name.*different cluster/ },
  { name: "hosted zone id malformed", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53: { ...route53, hostedZoneId: "example.com" } } }, expect: /spec\.blueGreen\.route53\.hostedZoneId/ },
  { name: "record type MX", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53: { ...route53, recordType: "MX" } } }, expect: /spec\.blueGreen\.route53\.recordType/ },
  { name: "add-on pin without eksbuild form", spec: { ...sound, addons: { pinned: [{ name: "vpc-cni", version: "1.18" }] } }, expect: /spec\.addons\.pinned\[0\]\.version/ },
  { name: "ignored finding without a reason", spec: { ...sound, preflight: { ignore: [{ code: "IP001" }] } }, expect: /spec\.preflight\.ignore\[0\]\.reason: Required/ },
  { name: "self-managed AMI malformed", spec: { ...sound, nodeGroups: { selfManaged: [{ autoScalingGroupName: "legacy", amiId: "ubuntu" }] } }, expect: /spec\.nodeGroups\.selfManaged\[0\]\.amiId/ },
  { name: "release version and launch template together", spec: { ...sound, nodeGroups: { managed: [{ name: "ng", releaseVersion: "1.31.2-20241109", launchTemplateVersion: "3" }] } }, expect: /spec\.nodeGroups\.managed\[0\]\.releaseVersion.*not both/ },
  { name: "webhook that is not a URL", spec: { ...sound, notifications: { webhookUrl: "slack" } }, expect: /spec\.notifications\.webhookUrl/ },
  // Switches that remove a safety net must come with what makes them deliberate.
  { name: "control-plane force without insight overrides", spec: { ...sound, controlPlane: { force: true } }, expect: /spec\.controlPlane\.force.*requires spec\.preflight\.insightOverrides/ },
  { name: "control-plane force with an empty override list", spec: { ...sound, controlPlane: { force: true }, preflight: { insightOverrides: [] } }, expect: /spec\.controlPlane\.force.*requires spec\.preflight\.insightOverrides/ },
  { name: "deleteBlue after 30 minutes", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, blueRetention: { keepFor: "30m", scaleDown: true, deleteBlue: true } } }, expect: /spec\.blueGreen\.blueRetention\.keepFor.*deleteBlue requires keepFor of at least 1h/ },
  { name: "deleteBlue one second short of an hour", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, blueRetention: { keepFor: "59m59s", scaleDown: true, deleteBlue: true } } }, expect: /spec\.blueGreen\.blueRetention\.keepFor.*at least 1h/ },
  { name: "deleteBlue without scaleDown", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, blueRetention: { deleteBlue: true } } }, expect: /spec\.blueGreen\.blueRetention\.deleteBlue.*deleteBlue requires scaleDown/ },
  { name: "zero grace period without force", spec: { ...sound, drain: { gracePeriodSeconds: 0 } }, expect: /spec\.drain\.gracePeriodSeconds.*requires spec\.drain\.allowForceDelete: true/ },
  { name: "negative grace period", spec: { ...sound, drain: { gracePeriodSeconds: -5, allowForceDelete: true } }, expect: /spec\.drain\.gracePeriodSeconds/ },
  { name: "grace period longer than a day", spec: { ...sound, drain: { gracePeriodSeconds: 86401 } }, expect: /spec\.drain\.gracePeriodSeconds/ },
  // Malformed gates and notifications.
  { name: "probe URL without a scheme", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, gates: { httpProbes: [{ url: "green.example.com/healthz" }] } } }, expect: /spec\.blueGreen\.gates\.httpProbes\[0\]\.url/ },
  { name: "probe timeout of 0 s", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, gates: { httpProbes: [{ url: "https://green.example.com/healthz", timeoutSeconds: 0 }] } } }, expect: /spec\.blueGreen\.gates\.httpProbes\[0\]\.timeoutSeconds/ },
  { name: "probe timeout above a minute", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, gates: { httpProbes: [{ url: "https://green.example.com/healthz", timeoutSeconds: 61 }] } } }, expect: /spec\.blueGreen\.gates\.httpProbes\[0\]\.timeoutSeconds/ },
  { name: "failure threshold 0", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, gates: { failureThreshold: 0 } } }, expect: /spec\.blueGreen\.gates\.failureThreshold/ },
  { name: "webhook URL longer than 2048 characters", spec: { ...sound, notifications: { webhookUrl: `https://hooks.example.com/${"a".repeat(2048)}` } }, expect: /spec\.notifications\.webhookUrl/ },
  { name: "webhook Secret without a key", spec: { ...sound, notifications: { webhookSecretRef: { name: "slack" } } }, expect: /spec\.notifications\.webhookSecretRef\.key: Required/ },
  // Overrides must say why.
  { name: "insight override without a reason", spec: { ...sound, preflight: { insightOverrides: [{ insightId: "a1b2c3" }] } }, expect: /spec\.preflight\.insightOverrides\[0\]\.reason: Required/ },
  { name: "insight override with a one-word reason", spec: { ...sound, preflight: { insightOverrides: [{ insightId: "a1b2c3", reason: "ok" }] } }, expect: /spec\.preflight\.insightOverrides\[0\]\.reason/ },
  { name: "ignored finding code malformed", spec: { ...sound, preflight: { ignore: [{ code: "ip1", reason: "known and accepted by the team" }] } }, expect: /spec\.preflight\.ignore\[0\]\.code/ },
  // Names and identities.
  { name: "cluster name longer than EKS allows", spec: { ...sound, cluster: { name: "c".repeat(101) } }, expect: /spec\.cluster\.name/ },
  { name: "kubeconfig Secret with an empty name", spec: { ...sound, cluster: { name: "prod", kubeconfigSecretRef: { name: "" } } }, expect: /spec\.cluster\.kubeconfigSecretRef\.name/ },
  { name: "green region malformed", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green", region: "Ireland" }, route53 } }, expect: /spec\.blueGreen\.greenCluster\.region/ },
  { name: "Route53 record without a name", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53: { ...route53, recordName: undefined } } }, expect: /spec\.blueGreen\.route53\.recordName: Required/ },
  { name: "unknown external-dns mode", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53: { ...route53, externalDNS: "Ignore" } } }, expect: /spec\.blueGreen\.route53\.externalDNS/ },
  { name: "verify a Job", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, verify: { workloads: [{ kind: "Job", namespace: "shop", name: "migrate" }] } } }, expect: /spec\.blueGreen\.verify\.workloads\[0\]\.kind/ },
  // Enumerations, sizes and durations.
  { name: "unknown add-on policy", spec: { ...sound, addons: { policy: "Newest" } }, expect: /spec\.addons\.policy/ },
  { name: "unknown conflict resolution", spec: { ...sound, addons: { resolveConflicts: "MERGE" } }, expect: /spec\.addons\.resolveConflicts/ },
  { name: "managed group with maxUnavailable 0", spec: { ...sound, nodeGroups: { managed: [{ name: "workers", maxUnavailable: 0 }] } }, expect: /spec\.nodeGroups\.managed\[0\]\.maxUnavailable/ },
  { name: "step interval without a unit", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, stepInterval: "5" } }, expect: /spec\.blueGreen\.stepInterval/ },
  { name: "keepFor in days", spec: { ...sound, strategy: "BlueGreen", blueGreen: { greenCluster: { name: "green" }, route53, blueRetention: { keepFor: "2d" } } }, expect: /spec\.blueGreen\.blueRetention\.keepFor/ },
  { name: "expected hop duration as a word", spec: { ...sound, controlPlane: { expectedHopDuration: "long" } }, expect: /spec\.controlPlane\.expectedHopDuration/ },
  { name: "self-managed AMI per version malformed", spec: { ...sound, nodeGroups: { selfManaged: [{ autoScalingGroupName: "legacy", amiIdsByVersion: { "1.31": "latest" } }] } }, expect: /spec\.nodeGroups\.selfManaged\[0\]\.amiIdsByVersion/ },
];

describe("the CRD rejects malformed ClusterUpgrades (real API server)", function () {
  let api: k8s.CustomObjectsApi;

  before(async function () {
    this.timeout(60_000);
    const kubeConfig = sandboxKubeConfig();
    await installCrd(kubeConfig);
    await ensureNamespace(kubeConfig, NAMESPACE);
    api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  });

  function create(name: string, spec: Record<string, unknown>): Promise<unknown> {
    return api.createNamespacedCustomObject({
      group: "eksupgrade.io",
      version: "v1alpha1",
      namespace: NAMESPACE,
      plural: "clusterupgrades",
      body: { apiVersion: "eksupgrade.io/v1alpha1", kind: "ClusterUpgrade", metadata: { name }, spec },
    });
  }

  it(`has at least 60 cases (${corpus.length})`, () => {
    assert.ok(corpus.length >= 60);
  });

  it("accepts a sound object and a full BlueGreen one", async () => {
    await create("sound", sound);
    await create("sound-bluegreen", {
      ...sound,
      strategy: "BlueGreen",
      blueGreen: { greenCluster: { name: "green" }, route53, trafficSteps: [10, 50, 100], gates: { httpProbes: [{ url: "https://app.example.com/healthz" }] } },
      maintenanceWindows: [{ schedule: "0 22 * * 1-5", duration: "4h", timeZone: "Europe/Berlin" }],
      blackouts: [{ start: "2026-12-20T00:00:00Z", end: "2027-01-04T00:00:00Z" }],
    });
  });

  for (const [index, badCase] of corpus.entries()) {
    it(`rejects: ${badCase.name}`, async () => {
      const error = await create(`bad-${index}`, badCase.spec).then(
        () => undefined,
        (caught: unknown) => caught as { code?: number; body?: unknown },
      );
      assert.ok(error, "the API server accepted it");
      assert.equal(error.code, 422, `expected 422 Invalid, got ${error.code}: ${String(error.body)}`);
      assert.match(statusMessage(error.body), badCase.expect);
    });
  }

  it("refuses to unset abort once set", async () => {
    await create("aborted", { ...sound, abort: true });
    const error = await api
      .patchNamespacedCustomObject(
        { group: "eksupgrade.io", version: "v1alpha1", namespace: NAMESPACE, plural: "clusterupgrades", name: "aborted", body: { spec: { abort: false } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      )
      .then(
        () => undefined,
        (caught: unknown) => caught as { code?: number; body?: unknown },
      );
    assert.equal(error?.code, 422);
    assert.match(statusMessage(error?.body), /abort cannot be unset/);
  });
});
