import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type * as k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { CLUSTER_PERMISSIONS, NAMESPACE_PERMISSIONS, SECRET_PERMISSIONS, comparePermissions, type PolicyRule } from "./rbac.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const NAMESPACE = "eks-upgrade-system";
const SERVICE_ACCOUNT = "eks-upgrade-operator";
const IMAGE_REPOSITORY = "ghcr.io/eks-upgrade-operator/eks-upgrade-operator";
const HTTP_PORT = 8080;

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: k8s.V1ObjectMeta;
}

/** Runs kubectl's built-in kustomize, as `kubectl apply -k` would. */
function kustomize(directory: string): KubeObject[] {
  const output = execFileSync("kubectl", ["kustomize", path.join(root, directory)], { encoding: "utf8", timeout: 60_000 });
  return parseAllDocuments(output)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

function only<T extends KubeObject>(objects: KubeObject[], kind: string, name?: string): T {
  const matches = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  assert.equal(matches.length, 1, `expected exactly one ${kind}${name ? ` ${name}` : ""}, found ${matches.length}`);
  return matches[0] as T;
}

/** Reads a CPU quantity in millicores or a memory quantity in bytes, for the forms the manifests use. */
function quantity(value: string | undefined): number {
  assert.ok(value, "quantity missing");
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(value);
  assert.ok(match, `unsupported quantity ${value}`);
  const amount = Number(match[1]);
  const unit = match[2];
  if (unit === "m") return amount;
  if (unit === undefined) return amount * 1000;
  return amount * { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[unit]!;
}

describe("config/default (kubectl kustomize)", function () {
  this.timeout(60_000);
  let objects: KubeObject[];
  let deployment: k8s.V1Deployment & KubeObject;
  let container: k8s.V1Container;

  before(() => {
    objects = kustomize("config/default");
    deployment = only(objects, "Deployment", "eks-upgrade-operator");
    container = deployment.spec!.template.spec!.containers[0]!;
  });

  it("builds the CRD, namespace, RBAC, Deployment, metrics Service, disruption budget and admission policy", () => {
    const kinds = objects.map((object) => `${object.kind}/${object.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      "ClusterRole/clusterupgrade-editor-role",
      "ClusterRole/clusterupgrade-viewer-role",
      "ClusterRole/eks-upgrade-operator",
      "ClusterRoleBinding/eks-upgrade-operator",
      "CustomResourceDefinition/clusterupgrades.eksupgrade.io",
      "Deployment/eks-upgrade-operator",
      "Namespace/eks-upgrade-system",
      "PodDisruptionBudget/eks-upgrade-operator",
      "Role/eks-upgrade-operator-leader-election",
      "Role/eks-upgrade-operator-secret-reader",
      "RoleBinding/eks-upgrade-operator-leader-election",
      "RoleBinding/eks-upgrade-operator-secret-reader",
      "Service/eks-upgrade-operator-metrics",
      "ServiceAccount/eks-upgrade-operator",
      "ValidatingAdmissionPolicy/clusterupgrades.eksupgrade.io-frozen-intent",
      "ValidatingAdmissionPolicyBinding/clusterupgrades.eksupgrade.io-frozen-intent",
    ]);
  });

  it("puts every namespaced object in the operator namespace and labels everything", () => {
    const clusterScoped = new Set(["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);
    for (const object of objects) {
      const label = `${object.kind}/${object.metadata.name}`;
      if (clusterScoped.has(object.kind)) assert.equal(object.metadata.namespace, undefined, label);
      else assert.equal(object.metadata.namespace, NAMESPACE, label);
      assert.equal(object.metadata.labels?.["app.kubernetes.io/part-of"], "eks-upgrade-operator", label);
    }
  });

  it("labels the namespace for the restricted Pod Security Standard", () => {
    const namespace = only(objects, "Namespace");
    assert.equal(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
  });

  it("runs two replicas that spread over nodes and survive a rolling update", () => {
    const spec = deployment.spec!;
    assert.equal(spec.replicas, 2);
    assert.equal(spec.strategy?.rollingUpdate?.maxUnavailable, 0);
    const spread = spec.template.spec!.topologySpreadConstraints ?? [];
    const byHostname = spread.find((constraint) => constraint.topologyKey === "kubernetes.io/hostname");
    assert.ok(byHostname, "no spread across nodes");
    assert.equal(byHostname.whenUnsatisfiable, "DoNotSchedule");
    assert.deepEqual(byHostname.labelSelector?.matchLabels, spec.selector.matchLabels);
  });

  it("uses the versioned image of this release", () => {
    const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
    assert.equal(container.image, `${IMAGE_REPOSITORY}:${version}`);
  });

  it("runs as non-root with a read-only root filesystem, no privilege escalation and no capabilities", () => {
    const pod = deployment.spec!.template.spec!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.runAsUser, 65532);
    assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
    const security = container.securityContext!;
    assert.equal(security.runAsNonRoot, true);
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.notEqual(security.privileged, true);
    assert.deepEqual(security.capabilities?.drop, ["ALL"]);
    assert.equal(security.capabilities?.add, undefined);
    assert.equal(security.seccompProfile?.type, "RuntimeDefault");
    assert.equal(pod.hostNetwork, undefined);
    assert.equal(pod.hostPID, undefined);
  });

  it("gives /tmp a size-limited emptyDir, since the root filesystem is read-only", () => {
    const pod = deployment.spec!.template.spec!;
    const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === "/tmp");
    assert.ok(mount, "/tmp is not mounted");
    const volume = pod.volumes?.find((candidate) => candidate.name === mount.name);
    assert.ok(volume?.emptyDir, "/tmp is not an emptyDir");
    assert.ok(volume.emptyDir.sizeLimit, "the emptyDir has no size limit");
  });

  it("probes /healthz and /readyz on the operator's HTTP port", () => {
    const port = container.ports?.find((candidate) => candidate.containerPort === HTTP_PORT);
    assert.ok(port?.name, `no named container port ${HTTP_PORT}`);
    const resolve = (value: number | string | undefined): number | undefined => (value === port.name ? HTTP_PORT : (value as number | undefined));
    assert.equal(container.livenessProbe?.httpGet?.path, "/healthz");
    assert.equal(resolve(container.livenessProbe?.httpGet?.port), HTTP_PORT);
    assert.equal(container.readinessProbe?.httpGet?.path, "/readyz");
    assert.equal(resolve(container.readinessProbe?.httpGet?.port), HTTP_PORT);
  });

  it("sets requests and limits, with requests within limits", () => {
    const { requests, limits } = container.resources ?? {};
    for (const resource of ["cpu", "memory"]) {
      const request = quantity(requests?.[resource]);
      const limit = quantity(limits?.[resource]);
      assert.ok(request <= limit, `${resource} request ${requests?.[resource]} exceeds limit ${limits?.[resource]}`);
    }
  });

  it("passes the pod name and namespace through the downward API and waits 60 s on shutdown", () => {
    const fieldOf = (name: string): string | undefined => container.env?.find((variable) => variable.name === name)?.valueFrom?.fieldRef?.fieldPath;
    assert.equal(fieldOf("POD_NAME"), "metadata.name");
    assert.equal(fieldOf("POD_NAMESPACE"), "metadata.namespace");
    assert.ok(container.env?.some((variable) => variable.name === "AWS_REGION" && variable.value), "AWS_REGION is not set");
    assert.equal(deployment.spec!.template.spec!.terminationGracePeriodSeconds, 60);
  });

  it("exposes metrics through a Service that selects the operator pods", () => {
    const service = only<k8s.V1Service & KubeObject>(objects, "Service");
    const podLabels = deployment.spec!.template.metadata!.labels!;
    for (const [key, value] of Object.entries(service.spec!.selector!)) assert.equal(podLabels[key], value, `selector ${key}`);
    const [port] = service.spec!.ports!;
    assert.equal(port?.port, HTTP_PORT);
    assert.ok(container.ports?.some((candidate) => candidate.name === port?.targetPort || candidate.containerPort === port?.targetPort));
  });

  it("keeps one replica through voluntary disruptions, without letting an unready one block drains", () => {
    const budget = only<k8s.V1PodDisruptionBudget & KubeObject>(objects, "PodDisruptionBudget");
    assert.equal(budget.spec?.maxUnavailable, 1);
    assert.equal(budget.spec?.unhealthyPodEvictionPolicy, "AlwaysAllow");
    assert.deepEqual(budget.spec?.selector?.matchLabels, deployment.spec!.selector.matchLabels);
  });

  it("runs under the ServiceAccount that every binding names", () => {
    assert.equal(deployment.spec!.template.spec!.serviceAccountName, SERVICE_ACCOUNT);
    only(objects, "ServiceAccount", SERVICE_ACCOUNT);
    for (const binding of objects.filter((object) => object.kind === "ClusterRoleBinding" || object.kind === "RoleBinding")) {
      const { subjects, roleRef } = binding as k8s.V1RoleBinding & KubeObject;
      assert.deepEqual(subjects, [{ kind: "ServiceAccount", name: SERVICE_ACCOUNT, namespace: NAMESPACE }], binding.metadata.name);
      only(objects, roleRef.kind, roleRef.name);
    }
  });

  it("grants cluster-wide exactly the permissions the operator needs, without wildcards", () => {
    const role = only<k8s.V1ClusterRole & KubeObject>(objects, "ClusterRole", "eks-upgrade-operator");
    assert.deepEqual(comparePermissions((role.rules ?? []) as PolicyRule[], CLUSTER_PERMISSIONS), { wildcards: [], excess: [], missing: [] });
    const clusterBindings = objects.filter((object) => object.kind === "ClusterRoleBinding") as (k8s.V1ClusterRoleBinding & KubeObject)[];
    assert.deepEqual(
      clusterBindings.map((binding) => binding.roleRef.name),
      ["eks-upgrade-operator"],
      "the operator's ServiceAccount is bound cluster-wide to its own ClusterRole only",
    );
  });

  it("allows evictions, and reads Secrets only by name and only in the operator namespace", () => {
    const clusterRules = objects
      .filter((object) => object.kind === "ClusterRole")
      .flatMap((role) => (role as k8s.V1ClusterRole & KubeObject).rules ?? []);
    assert.ok(clusterRules.some((rule) => rule.resources?.includes("pods/eviction") && rule.verbs.includes("create")));
    assert.deepEqual(clusterRules.filter((rule) => rule.resources?.includes("secrets")), [], "no ClusterRole mentions Secrets");
    const reader = only<k8s.V1Role & KubeObject>(objects, "Role", "eks-upgrade-operator-secret-reader");
    assert.equal(reader.metadata.namespace, NAMESPACE);
    assert.deepEqual(comparePermissions((reader.rules ?? []) as PolicyRule[], SECRET_PERMISSIONS), { wildcards: [], excess: [], missing: [] });
    const binding = only<k8s.V1RoleBinding & KubeObject>(objects, "RoleBinding", "eks-upgrade-operator-secret-reader");
    assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "eks-upgrade-operator-secret-reader" });
  });

  it("grants leases and the stop-switch ConfigMap only in the operator namespace", () => {
    const role = only<k8s.V1Role & KubeObject>(objects, "Role", "eks-upgrade-operator-leader-election");
    assert.equal(role.metadata.namespace, NAMESPACE);
    assert.deepEqual(comparePermissions((role.rules ?? []) as PolicyRule[], NAMESPACE_PERMISSIONS), { wildcards: [], excess: [], missing: [] });
  });

  it("ships editor and viewer roles for people: the viewer aggregates to view, the editor to nothing", () => {
    const editor = only<k8s.V1ClusterRole & KubeObject>(objects, "ClusterRole", "clusterupgrade-editor-role");
    const viewer = only<k8s.V1ClusterRole & KubeObject>(objects, "ClusterRole", "clusterupgrade-viewer-role");
    const aggregations = (role: KubeObject): string[] =>
      Object.entries(role.metadata.labels ?? {})
        .filter(([key, value]) => key.startsWith("rbac.authorization.k8s.io/aggregate-to-") && value === "true")
        .map(([key]) => key.slice("rbac.authorization.k8s.io/aggregate-to-".length));
    // Creating a ClusterUpgrade borrows the operator's cluster-wide drain rights and its AWS role:
    // it must be granted on purpose, not arrive with the built-in edit or admin roles.
    assert.deepEqual(aggregations(editor), []);
    assert.deepEqual(aggregations(viewer), ["view"]);
    assert.deepEqual(comparePermissions((viewer.rules ?? []) as PolicyRule[], {
      "eksupgrade.io/clusterupgrades": ["get", "list", "watch"],
      "eksupgrade.io/clusterupgrades/status": ["get"],
    }), { wildcards: [], excess: [], missing: [] });
    assert.deepEqual(comparePermissions((editor.rules ?? []) as PolicyRule[], {
      "eksupgrade.io/clusterupgrades": ["get", "list", "watch", "create", "update", "patch", "delete"],
      "eksupgrade.io/clusterupgrades/status": ["get"],
    }), { wildcards: [], excess: [], missing: [] });
    for (const binding of objects.filter((object) => object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding") as (k8s.V1RoleBinding & KubeObject)[]) {
      assert.ok(!binding.roleRef.name.startsWith("clusterupgrade-"), `${binding.metadata.name} binds a role meant for people`);
    }
  });

  it("limits the lease and ConfigMap rules to the objects the operator names in src/main.ts", () => {
    const main = readFileSync(path.join(root, "src/main.ts"), "utf8");
    const leaseName = /LEASE_NAME = "([^"]+)"/.exec(main)?.[1];
    const stopSwitchName = /GLOBAL_STOP_CONFIGMAP = "([^"]+)"/.exec(main)?.[1];
    assert.ok(leaseName && stopSwitchName, "src/main.ts no longer names the Lease and the stop-switch ConfigMap");
    const rules = only<k8s.V1Role & KubeObject>(objects, "Role", "eks-upgrade-operator-leader-election").rules ?? [];
    for (const rule of rules) {
      const unnamed = rule.verbs.filter((verb) => verb !== "create");
      if (unnamed.length === 0) continue;
      const expectedName: string = rule.resources?.includes("leases") ? leaseName : stopSwitchName;
      assert.deepEqual(rule.resourceNames, [expectedName], `${rule.resources?.join(",")} ${rule.verbs.join(",")}`);
    }
  });
});

describe("config/samples (kubectl kustomize)", function () {
  this.timeout(60_000);

  it("builds one ClusterUpgrade per strategy", () => {
    const upgrades = kustomize("config/samples") as (KubeObject & { spec: { strategy?: string } })[];
    assert.ok(upgrades.every((object) => object.apiVersion === "eksupgrade.io/v1alpha1" && object.kind === "ClusterUpgrade"));
    assert.deepEqual(upgrades.map((upgrade) => upgrade.spec.strategy ?? "InPlace").sort(), ["BlueGreen", "InPlace"]);
  });
});

describe("RBAC permission check", () => {
  it("reports wildcards, extra grants and missing grants", () => {
    const report = comparePermissions(
      [
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "delete", "deletecollection"] },
        { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
      ],
      { "/pods": ["get", "list", "watch", "delete"], "/pods/eviction": ["create"] },
    );
    assert.equal(report.wildcards.length, 3);
    assert.ok(report.excess.includes("/pods deletecollection"));
    assert.ok(report.excess.includes("*/* *"));
    assert.deepEqual(report.missing, ["/pods/eviction create"]);
  });

  it("reports nothing for rules that match the permissions exactly", () => {
    const report = comparePermissions([{ apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ["get", "list", "watch"] }], {
      "policy/poddisruptionbudgets": ["get", "list", "watch"],
    });
    assert.deepEqual(report, { wildcards: [], excess: [], missing: [] });
  });
});
