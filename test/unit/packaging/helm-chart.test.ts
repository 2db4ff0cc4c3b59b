// The Helm chart and config/ install the same operator: the chart's CRD is crds/ byte for byte,
// its RBAC rules are config/rbac's, its manager runs with config/manager's pod and container
// settings, and its admission policy is config/admission's. A change to one side only fails here.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type * as k8s from "@kubernetes/client-node";
import { parse, parseAllDocuments } from "yaml";
import { ensureTool } from "../../../sandbox/runtime/tools.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const chart = path.join(root, "charts", "eks-upgrade-operator");
/** The sandbox's Kubernetes version; the chart requires 1.30 or later and helm assumes 1.20 offline. */
const KUBE_VERSION = "1.34.4";

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: k8s.V1ObjectMeta;
  [field: string]: unknown;
}

function documents(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

function render(helm: string, args: string[]): KubeObject[] {
  const output = execFileSync(helm, ["template", "eks-upgrade-operator", chart, "--namespace", "eks-upgrade-system", "--kube-version", KUBE_VERSION, "--include-crds", ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return documents(output);
}

function configObjects(...files: string[]): KubeObject[] {
  return files.flatMap((file) => documents(readFileSync(path.join(root, file), "utf8")));
}

function one<T = KubeObject>(objects: KubeObject[], kind: string, name: string): T & KubeObject {
  const matches = objects.filter((object) => object.kind === kind && object.metadata.name === name);
  assert.equal(matches.length, 1, `expected one ${kind} ${name}, found ${matches.length} (${objects.map((object) => `${object.kind}/${object.metadata.name}`).join(", ")})`);
  return matches[0] as T & KubeObject;
}

describe("charts/eks-upgrade-operator against config/ and crds/", function () {
  // A machine without the cached helm builds it first (minutes); afterwards each render takes well under a second.
  this.timeout(45 * 60_000);
  let helm: string;
  let rendered: KubeObject[];
  let config: KubeObject[];

  before(() => {
    helm = ensureTool("helm");
    rendered = render(helm, []);
    config = configObjects(
      "config/rbac/role.yaml",
      "config/rbac/leader_election_role.yaml",
      "config/rbac/secret_reader_role.yaml",
      "config/rbac/clusterupgrade_editor_role.yaml",
      "config/rbac/clusterupgrade_viewer_role.yaml",
      "config/manager/manager.yaml",
      "config/manager/service.yaml",
      "config/manager/pod_disruption_budget.yaml",
      "config/admission/frozen-intent-policy.yaml",
    );
  });

  it("ships crds/ unchanged, and renders it as the only CRD", () => {
    assert.equal(
      readFileSync(path.join(chart, "crds", "eksupgrade.io_clusterupgrades.yaml"), "utf8"),
      readFileSync(path.join(root, "crds", "eksupgrade.io_clusterupgrades.yaml"), "utf8"),
      "charts/eks-upgrade-operator/crds/ differs from crds/: copy crds/eksupgrade.io_clusterupgrades.yaml into the chart",
    );
    const crds = rendered.filter((object) => object.kind === "CustomResourceDefinition");
    assert.deepEqual(crds, documents(readFileSync(path.join(root, "crds", "eksupgrade.io_clusterupgrades.yaml"), "utf8")));
  });

  it("grants the operator exactly config/rbac's rules", () => {
    const pairs: [kind: string, chartName: string, configName: string][] = [
      ["ClusterRole", "eks-upgrade-operator", "eks-upgrade-operator"],
      ["Role", "eks-upgrade-operator-leader-election", "eks-upgrade-operator-leader-election"],
      ["Role", "eks-upgrade-operator-secret-reader", "eks-upgrade-operator-secret-reader"],
      ["ClusterRole", "eks-upgrade-operator-clusterupgrade-editor", "clusterupgrade-editor-role"],
      ["ClusterRole", "eks-upgrade-operator-clusterupgrade-viewer", "clusterupgrade-viewer-role"],
    ];
    for (const [kind, chartName, configName] of pairs) {
      const ours = one<k8s.V1ClusterRole>(rendered, kind, chartName);
      const theirs = one<k8s.V1ClusterRole>(config, kind, configName);
      assert.deepEqual(ours.rules, theirs.rules, `${kind} ${chartName} (chart) and ${configName} (config/rbac) grant different rules`);
      const aggregation = (object: KubeObject): string[] => Object.keys(object.metadata.labels ?? {}).filter((label) => label.startsWith("rbac.authorization.k8s.io/aggregate-to-"));
      assert.deepEqual(aggregation(ours), aggregation(theirs), `${chartName} is aggregated differently from ${configName}`);
    }
    const roles = rendered.filter((object) => ["ClusterRole", "Role"].includes(object.kind)).map((object) => `${object.kind}/${object.metadata.name}`);
    assert.equal(roles.length, pairs.length, `the chart renders roles config/rbac does not have: ${roles.join(", ")}`);
  });

  it("binds the operator's roles to the chart's ServiceAccount in its namespace", () => {
    const bindings = rendered.filter((object) => object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding") as (k8s.V1RoleBinding & KubeObject)[];
    assert.deepEqual(bindings.map((binding) => binding.roleRef.name).sort(), [
      "eks-upgrade-operator",
      "eks-upgrade-operator-leader-election",
      "eks-upgrade-operator-secret-reader",
    ]);
    for (const binding of bindings) {
      assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "eks-upgrade-operator", namespace: "eks-upgrade-system" }], binding.metadata.name);
    }
    one(rendered, "ServiceAccount", "eks-upgrade-operator");
  });

  it("runs the manager with config/manager's pod and container settings", () => {
    const ours = one<k8s.V1Deployment>(rendered, "Deployment", "eks-upgrade-operator");
    const theirs = one<k8s.V1Deployment>(config, "Deployment", "eks-upgrade-operator");
    const spec = (deployment: k8s.V1Deployment): k8s.V1DeploymentSpec => deployment.spec!;
    assert.equal(spec(ours).replicas, spec(theirs).replicas);
    assert.deepEqual(spec(ours).strategy, spec(theirs).strategy);
    assert.equal(spec(ours).revisionHistoryLimit, spec(theirs).revisionHistoryLimit);
    const pod = (deployment: k8s.V1Deployment): k8s.V1PodSpec => spec(deployment).template.spec!;
    for (const field of ["securityContext", "terminationGracePeriodSeconds", "volumes", "serviceAccountName"] as const) {
      assert.deepEqual(pod(ours)[field], pod(theirs)[field], `spec.template.spec.${field}`);
    }
    // The chart's selector adds the release (two releases in one namespace must not share pods).
    const spread = (deployment: k8s.V1Deployment): unknown => pod(deployment).topologySpreadConstraints?.map(({ labelSelector: _selector, ...rest }) => rest);
    assert.deepEqual(spread(ours), spread(theirs));
    const ourContainer = pod(ours).containers[0];
    const theirContainer = pod(theirs).containers[0];
    for (const field of ["name", "image", "imagePullPolicy", "ports", "livenessProbe", "readinessProbe", "resources", "securityContext", "volumeMounts"] as const) {
      assert.deepEqual(ourContainer[field], theirContainer[field], `containers[0].${field}`);
    }
    // Same variables with the same values; the chart also names the stop switch, whose name follows the release.
    const env = (container: k8s.V1Container): k8s.V1EnvVar[] => (container.env ?? []).filter((variable) => variable.name !== "STOP_SWITCH_CONFIGMAP");
    assert.deepEqual(env(ourContainer), env(theirContainer));
    assert.deepEqual(ourContainer.env?.find((variable) => variable.name === "STOP_SWITCH_CONFIGMAP"), { name: "STOP_SWITCH_CONFIGMAP", value: "eks-upgrade-operator-stop" });
  });

  it("names the Lease the operator uses and the stop switch it reads by default", () => {
    const main = readFileSync(path.join(root, "src/main.ts"), "utf8");
    const lease = /LEASE_NAME = "([^"]+)"/.exec(main)?.[1];
    const stopSwitch = /GLOBAL_STOP_CONFIGMAP = "([^"]+)"/.exec(main)?.[1];
    const rules = one<k8s.V1Role>(rendered, "Role", "eks-upgrade-operator-leader-election").rules ?? [];
    assert.deepEqual(rules.filter((rule) => rule.resourceNames).map((rule) => rule.resourceNames), [[lease], [stopSwitch]]);
  });

  it("renders config/manager's metrics Service and disruption budget, and config/admission's policy", () => {
    const service = one<k8s.V1Service>(rendered, "Service", "eks-upgrade-operator-metrics");
    assert.deepEqual(service.spec?.ports, one<k8s.V1Service>(config, "Service", "eks-upgrade-operator-metrics").spec?.ports);
    const budget = one<k8s.V1PodDisruptionBudget>(rendered, "PodDisruptionBudget", "eks-upgrade-operator");
    const { selector: _ours, ...ourBudget } = budget.spec!;
    const { selector: _theirs, ...theirBudget } = one<k8s.V1PodDisruptionBudget>(config, "PodDisruptionBudget", "eks-upgrade-operator").spec!;
    assert.deepEqual(ourBudget, theirBudget);
    for (const kind of ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]) {
      const name = "clusterupgrades.eksupgrade.io-frozen-intent";
      assert.deepEqual(one(rendered, kind, name), one(config, kind, name), `${kind} differs from config/admission`);
    }
  });

  it("selects its own pods with the Deployment, the Service and the budget", () => {
    const deployment = one<k8s.V1Deployment>(rendered, "Deployment", "eks-upgrade-operator");
    const selector = deployment.spec!.selector.matchLabels;
    assert.deepEqual(one<k8s.V1Service>(rendered, "Service", "eks-upgrade-operator-metrics").spec?.selector, selector);
    assert.deepEqual(one<k8s.V1PodDisruptionBudget>(rendered, "PodDisruptionBudget", "eks-upgrade-operator").spec?.selector?.matchLabels, selector);
    for (const [label, value] of Object.entries(selector ?? {})) assert.equal(deployment.spec!.template.metadata?.labels?.[label], value, label);
  });

  it("keeps values.yaml's image in step with config/manager and the chart's appVersion with package.json", () => {
    const values = parse(readFileSync(path.join(chart, "values.yaml"), "utf8")) as { image: { repository: string } };
    const chartYaml = parse(readFileSync(path.join(chart, "Chart.yaml"), "utf8")) as { version: string; appVersion: string };
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
    assert.equal(chartYaml.appVersion, pkg.version);
    assert.equal(chartYaml.version, pkg.version);
    const configImage = one<k8s.V1Deployment>(config, "Deployment", "eks-upgrade-operator").spec!.template.spec!.containers[0].image!;
    assert.equal(`${values.image.repository}:${chartYaml.appVersion}`, configImage);
  });
});
