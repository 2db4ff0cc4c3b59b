// `helm install` of the chart into the sandbox, then the operator run as the chart's Deployment
// would run it: its ServiceAccount's token (minted with the TokenRequest API, as the kubelet would
// project it; the sandbox has no kubelet for the pod), the Deployment's environment, and the
// release namespace. It must reconcile ClusterUpgrades and honour the release's stop switch with
// the chart's RBAC alone: any request the API server refused it is a failure.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { auditLogFiles, operatorRequests } from "../support/audit.js";
import { sandboxEnv } from "../support/global-sandbox.js";
import { CHART_DIR, helm, helmBinary, run, valueFlags } from "../support/helm.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { condition, emulatorCalls, UpgradeWorld } from "../support/upgrades.js";
import { waitUntil } from "../support/wait.js";

const RELEASE = "eksup-e2e";
const NAMESPACE = "eksup-helm";
/** The chart's full name for this release: every object it makes is named so. */
const FULLNAME = `${RELEASE}-eks-upgrade-operator`;
const STOP_SWITCH = `${FULLNAME}-stop`;
const ADMISSION_POLICY = "clusterupgrades.eksupgrade.io-frozen-intent";

interface DeploymentObject {
  kind: string;
  spec?: { template: { spec: { serviceAccountName: string; containers: { env?: k8s.V1EnvVar[] }[] } } };
}

/** The manager container's environment, with the downward API fields filled as the kubelet would. */
function deploymentEnvironment(manifest: string, podName: string): Record<string, string> {
  const deployment = parseAllDocuments(manifest).map((document) => document.toJS() as DeploymentObject | null).find((object) => object?.kind === "Deployment");
  assert.ok(deployment?.spec, "helm get manifest shows no Deployment");
  const fields: Record<string, string> = { "metadata.name": podName, "metadata.namespace": NAMESPACE };
  const env: Record<string, string> = {};
  for (const variable of deployment.spec.template.spec.containers[0]?.env ?? []) {
    const field = variable.valueFrom?.fieldRef?.fieldPath;
    const value = variable.value ?? (field ? fields[field] : undefined);
    assert.ok(value !== undefined, `the chart sets ${variable.name} from something this test cannot fill in`);
    env[variable.name] = value;
  }
  return env;
}

/** A kubeconfig holding only the ServiceAccount's token and the API server's CA: what in-cluster config gives a pod. */
async function serviceAccountKubeconfig(admin: k8s.KubeConfig, serviceAccount: string): Promise<{ path: string; user: string }> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({ name: serviceAccount, namespace: NAMESPACE, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = request.status?.token;
  assert.ok(token, "the TokenRequest returned no token");
  const cluster = admin.getCurrentCluster();
  assert.ok(cluster, "the sandbox kubeconfig has no cluster");
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "sandbox", server: cluster.server, ...(cluster.caData ? { caData: cluster.caData } : {}), ...(cluster.caFile ? { caFile: cluster.caFile } : {}) }],
    users: [{ name: serviceAccount, token }],
    contexts: [{ name: "in-cluster", cluster: "sandbox", user: serviceAccount }],
    currentContext: "in-cluster",
  });
  const dir = join(sandboxEnv().dir, "helm");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${serviceAccount}.kubeconfig`);
  writeFileSync(path, config.exportConfig(), { mode: 0o600 });
  return { path, user: `system:serviceaccount:${NAMESPACE}:${serviceAccount}` };
}

describe("helm install, then the operator under the chart's ServiceAccount (sandbox)", function () {
  this.timeout(45 * 60_000);
  let world: UpgradeWorld;
  let operator: OperatorProcess | undefined;
  const startedAt = Date.now();

  before(async () => {
    helmBinary();
    world = await UpgradeWorld.prepare("default");
    const admission = world.kubeConfig.makeApiClient(k8s.AdmissionregistrationV1Api);
    // The admission test installs the same cluster-scoped policy from config/admission; helm does
    // not take over objects it did not create, so it goes first (that test installs it afresh).
    await admission.deleteValidatingAdmissionPolicyBinding({ name: ADMISSION_POLICY }).catch(() => undefined);
    await admission.deleteValidatingAdmissionPolicy({ name: ADMISSION_POLICY }).catch(() => undefined);
    // A reset removes the release's namespace (and helm's record of it) but not its cluster-wide objects.
    run("kubectl", ["delete", "clusterrole,clusterrolebinding", "-l", `app.kubernetes.io/instance=${RELEASE}`, "--ignore-not-found"]);
  });

  afterEach(function () {
    // The sandbox and its logs are removed after the run: show what the operator said.
    if (this.currentTest?.state === "failed" && operator) {
      const lines = readFileSync(operator.logPath, "utf8").trim().split("\n");
      console.error(`last lines of the operator's log (${operator.logPath}):\n${lines.slice(-40).join("\n")}`);
    }
  });

  after(async () => {
    await operator?.stop();
    try {
      helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout", "2m"]);
    } finally {
      await world.kubeConfig.makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: NAMESPACE }).catch(() => undefined);
    }
  });

  it("installs the chart, and the operator it describes reconciles with the chart's RBAC alone", async () => {
    // The Deployment's own pods stay Pending: no node carries this label, so kwok starts no
    // stand-in pods on the nodes the upgrade would drain.
    const output = helm([
      "install", RELEASE, CHART_DIR, "--namespace", NAMESPACE, "--create-namespace",
      ...valueFlags({ watchNamespace: world.namespace, nodeSelector: { "eksupgrade.io/e2e-no-kubelet": "true" } }),
    ]);
    assert.match(output, /STATUS: deployed/);
    // The notes tell how to check the leader and how to pull the release's own stop switch.
    assert.match(output, new RegExp(`kubectl -n ${NAMESPACE} get lease eks-upgrade-operator`));
    assert.match(output, /No IRSA role is set/);
    assert.match(output, new RegExp(`kubectl -n ${NAMESPACE} create configmap ${STOP_SWITCH} --from-literal=stop=true`));
    const manifest = helm(["get", "manifest", RELEASE, "--namespace", NAMESPACE]);
    const env = deploymentEnvironment(manifest, `${FULLNAME}-0`);
    assert.equal(env.WATCH_NAMESPACE, world.namespace);
    assert.equal(env.STOP_SWITCH_CONFIGMAP, STOP_SWITCH);
    const deployment = parseAllDocuments(manifest).map((document) => document.toJS() as DeploymentObject | null).find((object) => object?.kind === "Deployment")!;
    const identity = await serviceAccountKubeconfig(world.kubeConfig, deployment.spec!.template.spec.serviceAccountName);

    // The sandbox's test timings on top (shorter polls and Lease), and its AWS endpoints, which a
    // pod in EKS would not need.
    operator = startOperatorProcess(env, { kubeconfigPath: identity.path });

    await world.apply("planned", { cluster: { name: "demo" }, targetVersion: "1.31", dryRun: true });
    const planned = await world.waitForPhase("planned", "Planned", 3 * 60_000);
    assert.equal(condition(planned, "PreflightPassed")?.status, "True");
    assert.deepEqual(planned.status!.plan!.hops.map((hop) => [hop.from, hop.to]), [["1.29", "1.30"], ["1.30", "1.31"]]);

    // The leader's Lease is in the release namespace, held by this process.
    const lease = await world.kubeConfig.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: NAMESPACE, name: "eks-upgrade-operator" });
    assert.match(lease.spec?.holderIdentity ?? "", /^eksup-e2e-eks-upgrade-operator-0-\d+$/);

    // The metrics the chart's alerts and dashboard read: this replica leads, and the planned
    // upgrade's phase has a start time.
    const metrics = await waitUntil("the operator's /metrics with the planned upgrade's phase", async () => {
      const port = /"httpPort":(\d+)/.exec(readFileSync(operator!.logPath, "utf8"))?.[1];
      if (!port) return undefined;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text.includes('eksupgrade_upgrade_phase_entered_timestamp_seconds{namespace="e2e",name="planned",phase="Planned"}') ? text : undefined;
    }, 60_000);
    assert.match(metrics, /^eksupgrade_leader 1$/m);
    assert.match(metrics, /^eksupgrade_drain_timeout_seconds\{namespace="e2e",name="planned"\} 900$/m);
    assert.match(metrics, /^eksupgrade_upgrade_traffic_rolled_back\{namespace="e2e",name="planned"\} 0$/m);

    // The release's stop switch pauses a real upgrade before it changes anything.
    const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: STOP_SWITCH }, data: { stop: "true" } } });
    await world.apply("halted", { cluster: { name: "demo" }, targetVersion: "1.30" });
    const paused = await world.waitForPhase("halted", "Paused", 2 * 60_000);
    assert.match(condition(paused, "Paused")!.message, new RegExp(`ConfigMap ${STOP_SWITCH} with stop`));
    assert.equal((await emulatorCalls("demo", "UpdateClusterVersion")).length, 0);

    // Every request the operator made as the chart's ServiceAccount was allowed. The audit log is
    // written in batches, so wait until it shows the Lease renewals.
    const requests = await waitUntil("the operator's requests in the audit log", () => {
      const seen = operatorRequests(auditLogFiles(join(sandboxEnv().dir, "logs")), startedAt, identity.user);
      return Promise.resolve(seen.some((request) => request.objectRef?.resource === "clusterupgrades" && request.objectRef.subresource === "status") ? seen : undefined);
    }, 60_000);
    const refused = requests.filter((request) => request.responseStatus?.code === 403).map((request) => `${request.verb} ${request.requestURI}`);
    assert.deepEqual(refused, [], "the API server refused requests of the chart's ServiceAccount");
  });
});
