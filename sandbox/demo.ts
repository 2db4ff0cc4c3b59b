// `npm run demo`: the operator's main job on the embedded default. Brings the sandbox up with its
// default scenario (building what it needs on first use), installs the CRD, starts the operator
// as its own process, applies the demo ClusterUpgrade and shows its progress live until it
// finishes; then says how to look around with kubectl. The sandbox stays up afterwards.
import * as k8s from "@kubernetes/client-node";
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { defaultStateDir, inspectSandbox, installOperatorIdentity, kubeConfigOf, startSandbox, type SandboxEnv } from "./runtime/index.js";
import { repoRoot } from "./runtime/config.js";
import { ensureNamespace, installCrd } from "./crd.js";
import type { ClusterUpgrade } from "../src/api/v1alpha1/types.js";

const DEMO_MANIFEST = join(repoRoot, "sandbox", "demo", "clusterupgrade.yaml");
const TERMINAL_PHASES = new Set(["Succeeded", "Failed", "InvalidSpec", "Aborted", "Planned"]);
/** The demo gives up if the upgrade has not finished by then (the default scenario takes a few minutes). */
const DEMO_TIMEOUT_MS = 20 * 60_000;

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function sandboxUp(): Promise<SandboxEnv> {
  const { state, records, running } = inspectSandbox(defaultStateDir);
  if (state && records.length > 0 && running.length === records.length) {
    say(`==> using the sandbox already running in ${state.env.dir}`);
    return state.env;
  }
  say("==> starting the sandbox (the first run builds Kubernetes from source: 20-30 minutes)");
  const handle = await startSandbox({ dir: defaultStateDir, scenario: join(repoRoot, "sandbox", "scenarios", "default.yaml") });
  return handle.env;
}

/** The operator runs under its own ServiceAccount, with exactly the rights config/rbac grants. */
function startOperator(env: SandboxEnv, kubeconfig: string): ChildProcess {
  mkdirSync(join(env.dir, "logs"), { recursive: true });
  const logPath = join(env.dir, "logs", "operator.log");
  const log = createWriteStream(logPath, { flags: "a" });
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src", "main.ts")], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...env.variables,
      KUBECONFIG: kubeconfig,
      POD_NAME: "demo-operator",
      POD_NAMESPACE: "eks-upgrade-system",
      HTTP_PORT: "0",
      // The sandbox runs EKS faster than life; poll it accordingly.
      CONTROL_PLANE_POLL_SECONDS: "2",
      UPDATE_POLL_SECONDS: "2",
      IDLE_RECHECK_SECONDS: "5",
      LOG_LEVEL: "info",
      // Webhooks and probes of a local demo are plain HTTP on loopback, refused by default.
      OUTBOUND_ALLOW_HTTP: "true",
      OUTBOUND_ALLOWLIST: "127.0.0.1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  say(`==> operator started (pid ${child.pid}); its JSON log: ${logPath}`);
  return child;
}

async function applyDemo(kubeConfig: k8s.KubeConfig): Promise<ClusterUpgrade> {
  const manifest = parse(readFileSync(DEMO_MANIFEST, "utf8")) as ClusterUpgrade;
  const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const { namespace, name } = manifest.metadata;
  await ensureNamespace(kubeConfig, namespace);
  try {
    await api.deleteNamespacedCustomObject({ group: "eksupgrade.io", version: "v1alpha1", plural: "clusterupgrades", namespace, name });
    say(`==> removed the ClusterUpgrade ${namespace}/${name} of an earlier demo`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  } catch {
    // none from an earlier run
  }
  await api.createNamespacedCustomObject({ group: "eksupgrade.io", version: "v1alpha1", plural: "clusterupgrades", namespace, body: manifest });
  say(`==> applied ${DEMO_MANIFEST} (ClusterUpgrade ${namespace}/${name}: cluster ${manifest.spec.cluster.name} to ${manifest.spec.targetVersion})`);
  return manifest;
}

function describeLine(upgrade: ClusterUpgrade): string {
  const status = upgrade.status ?? {};
  const active = status.conditions?.find((condition) => condition.type === "Progressing")?.message ?? "";
  return `${status.phase ?? "Pending"} | current ${status.currentVersion ?? "?"} -> ${upgrade.spec.targetVersion} | ${status.progress || "-"} | ${active}`;
}

async function follow(kubeConfig: k8s.KubeConfig, manifest: ClusterUpgrade, operator: ChildProcess): Promise<ClusterUpgrade> {
  const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const { namespace, name } = manifest.metadata;
  const deadline = Date.now() + DEMO_TIMEOUT_MS;
  let lastLine = "";
  const seenEvents = new Set<string>();
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  while (Date.now() < deadline) {
    if (operator.exitCode !== null) throw new Error(`the operator exited with code ${operator.exitCode}; see its log`);
    const upgrade = (await api.getNamespacedCustomObject({ group: "eksupgrade.io", version: "v1alpha1", plural: "clusterupgrades", namespace, name })) as ClusterUpgrade;
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
    for (const event of events.items.sort((a, b) => String(a.firstTimestamp ?? a.eventTime).localeCompare(String(b.firstTimestamp ?? b.eventTime)))) {
      const id = event.metadata?.uid ?? "";
      if (seenEvents.has(id)) continue;
      seenEvents.add(id);
      say(`   event  ${event.type?.padEnd(7)} ${event.reason}: ${event.message}`);
    }
    const line = describeLine(upgrade);
    if (line !== lastLine) {
      say(`   ${new Date().toISOString().slice(11, 19)}  ${line}`);
      lastLine = line;
    }
    if (upgrade.status?.phase && TERMINAL_PHASES.has(upgrade.status.phase) && upgrade.status.observedGeneration === upgrade.metadata.generation) return upgrade;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`the upgrade did not finish within ${DEMO_TIMEOUT_MS / 60_000} minutes`);
}

async function stopOperator(operator: ChildProcess): Promise<void> {
  if (operator.exitCode !== null) return;
  const exited = new Promise((resolve) => operator.once("exit", resolve));
  operator.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (operator.exitCode === null) operator.kill("SIGKILL");
}

async function main(): Promise<void> {
  const env = await sandboxUp();
  const kubeConfig = kubeConfigOf(env);
  await installCrd(kubeConfig);
  say("==> CRD clusterupgrades.eksupgrade.io installed");
  await ensureNamespace(kubeConfig, "eks-upgrade-system");
  const demoNamespace = (parse(readFileSync(DEMO_MANIFEST, "utf8")) as ClusterUpgrade).metadata.namespace;
  const operatorKubeconfig = await installOperatorIdentity(env, { secretNamespaces: [demoNamespace] });
  say(`==> operator runs as ServiceAccount eks-upgrade-system/eks-upgrade-operator (config/rbac); kubeconfig ${operatorKubeconfig}`);
  const operator = startOperator(env, operatorKubeconfig);
  const stopOnSignal = (): void => {
    void stopOperator(operator).finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    const manifest = await applyDemo(kubeConfig);
    const final = await follow(kubeConfig, manifest, operator);
    say("");
    say(`==> finished: phase ${final.status?.phase}`);
    for (const condition of final.status?.conditions ?? []) say(`   ${condition.type.padEnd(22)} ${condition.status.padEnd(8)} ${condition.reason}: ${condition.message}`);
    if (final.status?.phase !== "Succeeded") process.exitCode = 1;
  } finally {
    await stopOperator(operator);
  }
  say("");
  say("Look around (the sandbox keeps running):");
  say("  source .sandbox/env");
  say("  kubectl get cu -A                       # phase, progress, versions");
  say("  kubectl describe cu -n demo demo-upgrade   # conditions, hops, add-ons, node groups, events");
  say("  kubectl get nodes -L eks.amazonaws.com/nodegroup,topology.kubernetes.io/zone");
  say("  aws eks describe-cluster --name demo     # through the EKS emulator (AWS CLI, if installed)");
  say("  npm run sandbox -- down                  # stop everything");
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
