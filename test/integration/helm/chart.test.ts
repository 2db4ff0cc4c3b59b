// The Helm chart, linted and rendered by helm, then checked by the sandbox's real API server with a
// server-side dry run: every object must pass its schema, admission and RBAC validation as
// rendered, with the default values and with every value set to something else.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";
import { ensureNamespace } from "../../support/crd.js";
import { sandboxKubeConfig } from "../../support/global-sandbox.js";
import { CHART_DIR, helm, helmBinary, run, SANDBOX_KUBE_VERSION, valueFlags } from "../../support/helm.js";

interface Rendered {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { template?: { spec?: Record<string, unknown> & { containers: { image: string; env?: { name: string; value?: string }[]; resources?: unknown }[] } }; replicas?: number };
  rules?: { resources?: string[]; resourceNames?: string[] }[];
}

const NAMESPACE = "helm-chart";

/** Every value the chart offers set away from its default. */
const NON_DEFAULT = {
  "image.repository": "registry.example.com/platform/eks-upgrade-operator",
  "image.digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  replicaCount: 3,
  resources: { requests: { cpu: "300m", memory: "384Mi" }, limits: { cpu: "2", memory: "1Gi" } },
  watchNamespace: "helm-chart-teams",
  "leaderElection.leaseDurationSeconds": 30,
  "leaderElection.renewDeadlineSeconds": 20,
  "leaderElection.retryPeriodSeconds": 4,
  "aws.region": "eu-west-1",
  "serviceAccount.irsaRoleArn": "arn:aws:iam::111122223333:role/eks-upgrade-operator",
  "serviceAccount.annotations": { "example.com/owner": "platform" },
  "stopSwitch.configMapName": "upgrades-halt",
  logLevel: "debug",
  operatorIdentity: "mgmt-eu-1",
  workers: 8,
  extraEnv: [{ name: "AWS_MAX_ATTEMPTS", value: "7" }],
  secretReaderNamespaces: ["helm-chart-payments"],
  nodeSelector: { "kubernetes.io/os": "linux", "node-role.example.com/ops": "true" },
  tolerations: [{ key: "dedicated", operator: "Equal", value: "ops", effect: "NoSchedule" }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64", "arm64"] }] }] } } },
  priorityClassName: "system-cluster-critical",
  podAnnotations: { "example.com/scrape": "true" },
  podLabels: { team: "platform" },
  imagePullSecrets: [{ name: "registry" }],
};

function template(values: Record<string, unknown>): string {
  return helm(["template", "eks-upgrade-operator", CHART_DIR, "--namespace", NAMESPACE, "--kube-version", SANDBOX_KUBE_VERSION, "--include-crds", ...valueFlags(values)]);
}

function objects(manifest: string): Rendered[] {
  return parseAllDocuments(manifest).map((document) => document.toJS() as Rendered | null).filter((object): object is Rendered => object !== null);
}

/** `kubectl apply --dry-run=server`: the API server validates and admits every object, and stores none. */
function dryRun(manifest: string): string[] {
  return run("kubectl", ["apply", "--dry-run=server", "-o", "name", "-f", "-"], manifest).trim().split("\n");
}

function env(object: Rendered): Record<string, string | undefined> {
  return Object.fromEntries((object.spec?.template?.spec?.containers[0]?.env ?? []).map((variable) => [variable.name, variable.value]));
}

describe("Helm chart: lint, template and a server-side dry run (real API server)", function () {
  // The first run on a machine builds helm (minutes); after that each helm call takes about a second.
  this.timeout(45 * 60_000);

  before(async () => {
    helmBinary();
    const kubeConfig = sandboxKubeConfig();
    for (const namespace of [NAMESPACE, NON_DEFAULT.watchNamespace, ...NON_DEFAULT.secretReaderNamespaces]) await ensureNamespace(kubeConfig, namespace);
  });

  it("passes helm lint with the default values and with every value changed", () => {
    assert.match(helm(["lint", "--strict", CHART_DIR, "--kube-version", SANDBOX_KUBE_VERSION]), /1 chart\(s\) linted, 0 chart\(s\) failed/);
    assert.match(helm(["lint", "--strict", CHART_DIR, "--kube-version", SANDBOX_KUBE_VERSION, ...valueFlags(NON_DEFAULT)]), /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("renders the default install, which the API server accepts as it stands", () => {
    const manifest = template({});
    const kinds = objects(manifest).map((object) => object.kind).sort();
    assert.deepEqual(kinds, [
      "ClusterRole", "ClusterRole", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Deployment", "PodDisruptionBudget",
      "Role", "Role", "RoleBinding", "RoleBinding", "Service", "ServiceAccount", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    ]);
    const accepted = dryRun(manifest);
    assert.equal(accepted.length, kinds.length, accepted.join("\n"));
    assert.ok(accepted.includes("customresourcedefinition.apiextensions.k8s.io/clusterupgrades.eksupgrade.io"), accepted.join("\n"));
    assert.ok(accepted.includes("deployment.apps/eks-upgrade-operator"), accepted.join("\n"));
  });

  it("renders every non-default value where it belongs, and the API server accepts that too", () => {
    const manifest = template(NON_DEFAULT);
    const rendered = objects(manifest);
    const deployment = rendered.find((object) => object.kind === "Deployment")!;
    const pod = deployment.spec!.template!.spec!;
    assert.equal(deployment.spec!.replicas, 3);
    assert.equal(pod.containers[0].image, `${NON_DEFAULT["image.repository"]}@${NON_DEFAULT["image.digest"]}`);
    assert.deepEqual(pod.containers[0].resources, NON_DEFAULT.resources);
    assert.deepEqual(pod.nodeSelector, NON_DEFAULT.nodeSelector);
    assert.deepEqual(pod.tolerations, NON_DEFAULT.tolerations);
    assert.deepEqual(pod.affinity, NON_DEFAULT.affinity);
    assert.equal(pod.priorityClassName, NON_DEFAULT.priorityClassName);
    assert.deepEqual(pod.imagePullSecrets, NON_DEFAULT.imagePullSecrets);
    const variables = env(deployment);
    assert.equal(variables.WATCH_NAMESPACE, NON_DEFAULT.watchNamespace);
    assert.equal(variables.AWS_REGION, "eu-west-1");
    assert.equal(variables.LOG_LEVEL, "debug");
    assert.equal(variables.STOP_SWITCH_CONFIGMAP, "upgrades-halt");
    assert.equal(variables.LEASE_DURATION_SECONDS, "30");
    assert.equal(variables.LEASE_RENEW_DEADLINE_SECONDS, "20");
    assert.equal(variables.LEASE_RETRY_PERIOD_SECONDS, "4");
    assert.equal(variables.OPERATOR_IDENTITY, "mgmt-eu-1");
    assert.equal(variables.WORKERS, "8");
    assert.equal(variables.AWS_MAX_ATTEMPTS, "7");
    const account = rendered.find((object) => object.kind === "ServiceAccount")!;
    assert.deepEqual(account.metadata.annotations, { "example.com/owner": "platform", "eks.amazonaws.com/role-arn": NON_DEFAULT["serviceAccount.irsaRoleArn"] });
    const leaderRole = rendered.find((object) => object.kind === "Role" && object.metadata.name.endsWith("-leader-election"))!;
    assert.deepEqual(leaderRole.rules?.find((rule) => rule.resources?.includes("configmaps"))?.resourceNames, ["upgrades-halt"]);
    const secretReaders = rendered.filter((object) => object.kind === "Role" && object.metadata.name.endsWith("-secret-reader")).map((object) => object.metadata.namespace).sort();
    assert.deepEqual(secretReaders, [NAMESPACE, "helm-chart-payments", "helm-chart-teams"]);
    const accepted = dryRun(manifest);
    assert.equal(accepted.length, rendered.length, accepted.join("\n"));
  });

  it("adds the alerts and the dashboard of config/monitoring when asked, and nothing of them by default", () => {
    assert.ok(!objects(template({})).some((object) => object.kind === "PrometheusRule" || object.metadata.name.endsWith("-dashboard")));
    const rendered = objects(template({ "monitoring.prometheusRule.enabled": true, "monitoring.prometheusRule.labels": { release: "kube-prometheus-stack" }, "monitoring.grafanaDashboard.enabled": true }));
    const rule = rendered.find((object) => object.kind === "PrometheusRule") as (Rendered & { spec: { groups: unknown } }) | undefined;
    const expected = parseAllDocuments(readFileSync(fileURLToPath(new URL("../../../config/monitoring/prometheus-rule.yaml", import.meta.url)), "utf8"))[0].toJS() as { spec: { groups: unknown } };
    assert.deepEqual(rule?.spec.groups, expected.spec.groups);
    assert.equal((rule?.metadata as { labels?: Record<string, string> }).labels?.release, "kube-prometheus-stack");
    const dashboard = rendered.find((object) => object.kind === "ConfigMap" && object.metadata.name === "eks-upgrade-operator-dashboard") as (Rendered & { data: Record<string, string> }) | undefined;
    assert.ok(dashboard, "no dashboard ConfigMap");
    assert.deepEqual(JSON.parse(dashboard.data["eks-upgrade-operator.json"]), JSON.parse(readFileSync(fileURLToPath(new URL("../../../config/monitoring/grafana-dashboard.json", import.meta.url)), "utf8")));
    // The sandbox has no Prometheus Operator CRDs; the ConfigMap alone goes through the dry run.
    assert.deepEqual(dryRun(stringify(dashboard)), ["configmap/eks-upgrade-operator-dashboard"]);
  });

  it("runs a single replica without leader election and without a disruption budget", () => {
    const rendered = objects(template({ replicaCount: 1, "leaderElection.enabled": false }));
    assert.equal(env(rendered.find((object) => object.kind === "Deployment")!).LEADER_ELECTION, "false");
    assert.equal(rendered.filter((object) => object.kind === "PodDisruptionBudget").length, 0);
  });

  it("refuses settings that cannot work, naming the value to change", () => {
    assert.throws(() => template({ "leaderElection.enabled": false }), /leaderElection\.enabled is false with replicaCount 2.*set replicaCount to 1/);
    assert.throws(() => template({ logLevel: "loud" }), /logLevel "loud" is not one of error, warn, info/);
    assert.throws(() => template({ "image.digest": "0123" }), /image\.digest "0123" must start with sha256:/);
    assert.throws(() => template({ "serviceAccount.create": false }), /serviceAccount\.name: name the existing ServiceAccount/);
  });
});
