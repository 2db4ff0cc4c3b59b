// `kubectl eksupgrade` against the sandbox with the operator running: the plugin built the way the
// package ships it (the "bin" of package.json, from the suite's compiled tree, no tsx), put on
// PATH as kubectl-eksupgrade and run through kubectl's own plugin lookup, as a user who holds only
// config/rbac's clusterupgrade-editor-role in one namespace. Plan on a healthy cluster and on a
// PDB trap, then status, why, pause, resume and abort on an upgrade the trap blocks.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import type { ClusterUpgrade } from "../../src/api/v1alpha1/types.js";
import { testBuildDir } from "../support/build.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { UpgradeWorld } from "../support/upgrades.js";
import { waitUntil } from "../support/wait.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const USER = "upgrader";

/**
 * Lays the test build (test/support/build.ts, compiled with the build's compiler options) out as
 * an installed package: its package.json, dist/ and node_modules side by side, and the package's
 * bin linked as kubectl-eksupgrade in a directory for PATH, as `npm install -g` would. Returns
 * that directory.
 */
function installPlugin(): string {
  const root = mkdtempSync(join(tmpdir(), "eksup-plugin-"));
  const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { bin?: Record<string, string> };
  const bin = manifest.bin?.["kubectl-eksupgrade"];
  assert.ok(bin, 'package.json has no "bin" entry kubectl-eksupgrade');
  assert.match(bin, /^dist\//, "the bin is under dist/, where the build puts it");
  copyFileSync(join(repoRoot, "package.json"), join(root, "package.json"));
  symlinkSync(testBuildDir, join(root, "dist"));
  symlinkSync(join(repoRoot, "node_modules"), join(root, "node_modules"));
  chmodSync(join(root, bin), 0o755);
  const binDir = join(root, "bin");
  mkdirSync(binDir);
  symlinkSync(join(root, bin), join(binDir, "kubectl-eksupgrade"));
  return binDir;
}

let pluginPath = "";

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `kubectl eksupgrade ARGS`; never rejects, so a test can assert on a failing exit too. */
function plugin(kubeconfig: string, ...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    // The plugin's #!/usr/bin/env node finds this node first.
    const env = { PATH: [pluginPath, dirname(process.execPath), process.env.PATH ?? ""].join(delimiter), HOME: process.env.HOME ?? "", KUBECONFIG: kubeconfig };
    execFile("kubectl", ["eksupgrade", ...args], { cwd: tmpdir(), env, timeout: 150_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function expectExit(outcome: Outcome, code: number, what: string): void {
  assert.equal(outcome.code, code, `${what}: exit ${outcome.code}, expected ${code}\nstdout:\n${outcome.stdout}\nstderr:\n${outcome.stderr}`);
}

/**
 * A ServiceAccount bound to clusterupgrade-editor-role in the world's namespace only, and a
 * kubeconfig for it whose context sets that namespace: the plugin finds it there without -n.
 */
async function editorKubeconfig(world: UpgradeWorld): Promise<string> {
  const admin = world.kubeConfig;
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace: world.namespace, body: { metadata: { name: USER } } });
  await rbac.createNamespacedRoleBinding({
    namespace: world.namespace,
    body: {
      metadata: { name: USER },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "clusterupgrade-editor-role" },
      subjects: [{ kind: "ServiceAccount", name: USER, namespace: world.namespace }],
    },
  });
  const token = (await core.createNamespacedServiceAccountToken({ name: USER, namespace: world.namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } })).status?.token;
  assert.ok(token, "the TokenRequest returned no token");
  const cluster = admin.getCurrentCluster()!;
  const user = new k8s.KubeConfig();
  user.loadFromOptions({
    clusters: [cluster],
    users: [{ name: USER, token }],
    contexts: [{ name: USER, cluster: cluster.name, user: USER, namespace: world.namespace }],
    currentContext: USER,
  });
  const path = join(mkdtempSync(join(tmpdir(), "eksup-plugin-")), "kubeconfig");
  writeFileSync(path, user.exportConfig());
  // The RoleBinding reaches the API server's authorizer a moment after it is created.
  const api = user.makeApiClient(k8s.CustomObjectsApi);
  await waitUntil(`${USER} may list clusterupgrades`, async () => {
    try {
      await api.listNamespacedCustomObject({ group: "eksupgrade.io", version: "v1alpha1", plural: "clusterupgrades", namespace: world.namespace });
      return true;
    } catch {
      return false;
    }
  }, 30_000);
  return path;
}

/** The ClusterUpgrades of the world's namespace that are not being deleted. */
async function liveUpgrades(world: UpgradeWorld): Promise<string[]> {
  const api = world.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const list = (await api.listNamespacedCustomObject({ group: "eksupgrade.io", version: "v1alpha1", plural: "clusterupgrades", namespace: world.namespace })) as { items: ClusterUpgrade[] };
  return list.items.filter((item) => !item.metadata.deletionTimestamp).map((item) => item.metadata.name);
}

describe("kubectl eksupgrade against the sandbox", function () {
  this.timeout(5 * 60_000);
  let operator: OperatorProcess | undefined;

  before(() => {
    pluginPath = installPlugin();
  });

  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
  });

  it("plans an upgrade of a healthy cluster as tables and as JSON, and removes the dry run unless --keep", async () => {
    const world = await UpgradeWorld.prepare("default");
    operator = startOperatorProcess();
    const kubeconfig = await editorKubeconfig(world);

    const table = await plugin(kubeconfig, "plan", "demo", "--to", "1.31");
    expectExit(table, 0, "plan");
    assert.match(table.stdout, /^HOP\s+CONTROL PLANE\s+ADD-ONS\s+NODE GROUPS\s+NODES$/m);
    assert.match(table.stdout, /^1\.29 -> 1\.30\s+upgrade\s/m);
    assert.match(table.stdout, /^1\.30 -> 1\.31\s+upgrade\s/m);
    assert.match(table.stdout, /^1\.31\s+kube-proxy\s+\S+\s+\S+$/m);
    assert.match(table.stdout, /^1\.30\s+general\s+Managed\s+1\/\d+\s+\S+/m);
    assert.match(table.stderr, /^clusterupgrade\.eksupgrade\.io\/demo-plan-\S+ deleted$/m);
    // Deleted when plan returns; the operator's finalizer may keep it a while longer.
    assert.deepEqual(await liveUpgrades(world), []);

    const json = await plugin(kubeconfig, "plan", "demo", "--to=1.31", "-o", "json", "--keep");
    expectExit(json, 0, "plan -o json");
    const planned = JSON.parse(json.stdout) as ClusterUpgrade;
    assert.equal(planned.spec.dryRun, true);
    assert.equal(planned.status?.phase, "Planned");
    assert.deepEqual(planned.status?.plan?.hops.map((hop) => [hop.from, hop.to]), [["1.29", "1.30"], ["1.30", "1.31"]]);
    assert.equal(planned.status?.plan?.hops[0].nodeGroups.find((group) => group.name === "general")?.nodeCount, 3);
    const name = planned.metadata.name;
    assert.match(name, /^demo-plan-/);
    assert.deepEqual(await liveUpgrades(world), [name]);

    const status = await plugin(kubeconfig, "status", name, "-o", "json");
    expectExit(status, 0, "status -o json");
    assert.equal((JSON.parse(status.stdout) as ClusterUpgrade).metadata.uid, planned.metadata.uid);
    const why = await plugin(kubeconfig, "why", name);
    expectExit(why, 0, "why");
    assert.match(why.stdout, /\(Planned\): it is a dry run/);
    assert.ok(why.stdout.includes(`kubectl patch clusterupgrade ${name} -n e2e --type merge -p '{"spec":{"dryRun":false}}'`), why.stdout);
  });

  it("reports a blocked upgrade, says why, pauses, resumes and aborts it, with kubectl's exit codes", async () => {
    const world = await UpgradeWorld.prepare("pdb-trap");
    operator = startOperatorProcess();
    const kubeconfig = await editorKubeconfig(world);

    // A plan that preflight blocks exits 3 and prints the findings.
    const blockedPlan = await plugin(kubeconfig, "plan", "trap", "--to", "1.31");
    expectExit(blockedPlan, 3, "plan of the trap");
    assert.match(blockedPlan.stdout, /^Blocking\s+PDB002\s+PodDisruptionBudget\/payments\/payments\s/m);
    assert.match(blockedPlan.stdout, /^PDB003\s+PodDisruptionBudget\/payments\/ledger,PodDisruptionBudget\/payments\/ledger-tier\s/m);

    await world.apply("trap", { cluster: { name: "trap" }, targetVersion: "1.31" });
    const blocked = await world.waitForPhase("trap", "Blocked", 2 * 60_000);
    const first = blocked.status!.preflight!.findings.find((finding) => finding.severity === "Blocking")!;

    const status = await plugin(kubeconfig, "status", "trap");
    expectExit(status, 0, "status");
    assert.match(status.stdout, /^Phase:\s+Blocked$/m);
    assert.match(status.stdout, /^PreflightPassed\s+False\s+BlockingFindings\s/m);

    const why = await plugin(kubeconfig, "why", "trap", "-o", "json");
    expectExit(why, 0, "why -o json");
    const hold = JSON.parse(why.stdout) as { kind: string; subject: string; detail: string; fix: string; command?: string };
    assert.equal(hold.kind, "Finding");
    assert.equal(hold.subject, first.resource);
    assert.equal(hold.detail, first.message);
    assert.ok(hold.fix.startsWith(first.remediation), hold.fix);
    if (first.resource.startsWith("PodDisruptionBudget/")) assert.match(hold.command ?? "", /^kubectl describe pdb \S+ -n payments$/);

    const paused = await plugin(kubeconfig, "pause", "trap");
    expectExit(paused, 0, "pause");
    assert.equal(paused.stdout.trim(), "clusterupgrade.eksupgrade.io/trap paused");
    await world.waitForPhase("trap", "Paused", 60_000);
    const whyPaused = await plugin(kubeconfig, "why", "trap");
    expectExit(whyPaused, 0, "why while paused");
    assert.match(whyPaused.stdout, /it is paused/);
    assert.match(whyPaused.stdout, /^ {2}kubectl eksupgrade resume trap -n e2e$/m);

    const resumed = await plugin(kubeconfig, "resume", "trap", "-n", "e2e");
    expectExit(resumed, 0, "resume");
    assert.equal((await world.read("trap")).spec.paused, false);
    await world.waitForPhase("trap", "Blocked", 60_000);

    // Not a blue/green upgrade: nothing to approve.
    const approve = await plugin(kubeconfig, "approve", "trap");
    expectExit(approve, 1, "approve of an in-place upgrade");
    assert.match(approve.stderr, /no steps to approve/);

    // Without a terminal, abort refuses to go on unasked.
    const unasked = await plugin(kubeconfig, "abort", "trap");
    expectExit(unasked, 1, "abort without --yes");
    assert.match(unasked.stderr, /--yes/);
    assert.notEqual((await world.read("trap")).spec.abort, true);
    const aborted = await plugin("/nonexistent", "abort", "trap", "--yes", "--kubeconfig", kubeconfig);
    expectExit(aborted, 0, "abort --yes");
    await world.waitForPhase("trap", "Aborted", 60_000);
    const whyAborted = await plugin(kubeconfig, "why", "trap");
    assert.match(whyAborted.stdout, /\(Aborted\): nothing: the upgrade was aborted/);

    // kubectl's answers for a missing object and for a namespace the user may not read.
    const missing = await plugin(kubeconfig, "status", "no-such-upgrade");
    expectExit(missing, 1, "status of a missing upgrade");
    assert.match(missing.stderr, /^Error from server \(NotFound\): .*"no-such-upgrade" not found/m);
    assert.equal(missing.stdout, "");
    const forbidden = await plugin(kubeconfig, "status", "trap", "-n", "kube-system");
    expectExit(forbidden, 1, "status in a namespace without a grant");
    assert.match(forbidden.stderr, /^Error from server \(Forbidden\): /m);
  });
});
