// npm run bench:scale: the operator's cost on a large cluster. Seeds a private sandbox with N kwok
// nodes in managed and self-managed groups and M pods already bound to them, runs the operator
// from the build (node dist/operator/main.js, the bundle the image runs) with config/manager's
// NODE_OPTIONS and MALLOC_* variables, in a memory cgroup of config/manager's memory limit when the
// machine allows one (Node sizes V8's heap from that limit, so without it the operator runs with a
// heap sized for the whole machine),
// and measures, while sampling its RSS, V8 heap and CPU:
//   - idle: before any ClusterUpgrade exists
//   - plan: a dry-run ClusterUpgrade over every group (apply -> first status, apply -> plan)
//   - roll: a ClusterUpgrade that rolls one 20-node self-managed group
// and counts the operator's API requests by verb and resource from the apiserver's audit log.
// Prints a Markdown summary and writes the samples as JSON beside the sandbox's logs.
//
//   npm run bench:scale                                # 2,000 nodes, 60,000 pods
//   npm run bench:scale -- --nodes 500 --pods 15000
//   npm run bench:scale -- --nodes 100 --pods 3000 --no-roll
//   npm run bench:scale -- --node-options=--max-semi-space-size=2 "--node-options=--max-semi-space-size=2 --max-old-space-size=96"
//                                                      # one operator run per value, on the same seeded world
//   npm run bench:scale -- --env "" --env "MALLOC_TRIM_THRESHOLD_="
//                                                      # config/manager's process settings, then without one of them
//   npm run bench:scale -- --memory-limit 768Mi --memory-limit none
//                                                      # every run in a cgroup of 768Mi, then with no limit
//                                                      # (default: config/manager's limit)
//   npm run bench:scale -- --baseline 81992c3          # each run with that revision's build, then this one's
//   npm run bench:scale -- --roll-minutes 15           # a roll not done by then is reported as far as it got
//   npm run bench:scale -- --no-roll --node-lease-seconds 40 --node-lease-seconds 600
//                                                      # every run with kwok's kubelets renewing their Leases
//                                                      # every 10 s (a kubelet's pace), then every 150 s
// Each run also reports the CPU the sandbox's own processes used while it was idle, planning and rolling.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { parseAllDocuments, stringify } from "yaml";
import { installCrd } from "../sandbox/crd.js";
import { startSandbox } from "../sandbox/runtime/supervisor.js";
import { layoutOf } from "../sandbox/runtime/components.js";
import { readProcessRecords, spawnDetached, stopProcesses, type ProcessRecord } from "../sandbox/runtime/processes.js";
import { installOperatorIdentity, OPERATOR_NAMESPACE, OPERATOR_USER } from "../sandbox/runtime/operator-identity.js";
import { parseScenarioText } from "../sandbox/scenario/schema.js";
import { seedWorld } from "../sandbox/scenario/seed.js";
import type { SandboxEnv } from "../sandbox/runtime/env.js";
import type { ClusterUpgrade, ClusterUpgradeStatus } from "../src/api/v1alpha1/types.js";
import { clusterUpgrades, envWithoutProcessTuning, log, sleep, until as pollUntil } from "./bench-support.js";
import { OPERATOR_BUNDLE_MAIN } from "./bundle.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const CLUSTER = "scale";
const FROM = "1.31";
const TO = "1.32";
/** The namespace of the ClusterUpgrades (and the operator's kubeconfig Secrets). */
const NAMESPACE = "bench";
/**
 * Deployments per workload namespace (bench-000, bench-001, ...): 100 namespaces at 60,000 pods.
 * With every workload in one namespace, the sandbox's disruption controller matched each of 2,000
 * budgets against all 60,000 pods of that namespace, fell minutes behind and stopped the roll
 * (docs/benchmarks.md); a cluster of that size spreads its workloads over namespaces.
 */
const WORKLOADS_PER_NAMESPACE = 20;
/** The self-managed group the first operator run rolls; its size is fixed by the issue's scenario. */
const ROLL_GROUP = "roll";
const ROLL_NODES = 20;
/** Replicas per Deployment: a PodDisruptionBudget each, as the issue asks, and 2,000 of them at 60,000 pods. */
const REPLICAS = 30;
/** Pod creations in flight while seeding. */
const SEED_CONCURRENCY = 64;
/**
 * Nodes backed by moto instances besides the roll group: one managed group and one more
 * self-managed group of this size. moto creates an Auto Scaling group's instances one by one in
 * one request; on this machine a 450-instance group took minutes (docs/benchmarks.md), so the
 * other nodes are kwok Nodes created directly, half of them labelled into the managed group.
 */
const BACKED_GROUP = 10;
const LABEL_CLUSTER = "sandbox.eks-upgrade-operator.io/cluster";
const LABEL_AUTO_SCALING_GROUP = "sandbox.eks-upgrade-operator.io/auto-scaling-group";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "2000" },
    pods: { type: "string", default: "60000" },
    roll: { type: "boolean", default: true },
    "no-roll": { type: "boolean", default: false },
    build: { type: "boolean", default: true },
    "no-build": { type: "boolean", default: false },
    out: { type: "string" },
    // How long a roll may take before the run gives up on it and reports how far it got.
    "roll-minutes": { type: "string", default: "60" },
    // The operator runs with the process settings config/manager gives the container (see
    // managerProcessEnv). Each --node-options replaces its NODE_OPTIONS ("" for Node's defaults);
    // each --env changes the variables it names ("NAME=VALUE ...", "NAME=" unsets one, "" changes
    // nothing). One operator run per value, --node-options ones first, one after another on the
    // same seeded world, each rolling a 20-node group of its own; none given: one run as the
    // manager is set.
    "node-options": { type: "string", multiple: true, default: [] },
    env: { type: "string", multiple: true, default: [] },
    // The memory limit the operator runs under, as a memory cgroup: config/manager's by default
    // (Node sizes V8's heap from it, as in the container), "none" for no limit. Given more than
    // once, every run above is made under each limit.
    "memory-limit": { type: "string", multiple: true, default: [] },
    // A git revision to measure beside the working tree's build: every run is made twice, first
    // with that revision's build (made in a temporary directory), then with this one's.
    baseline: { type: "string" },
    // The lease duration kwok gives its 2,000 simulated kubelets, in seconds; each renews its
    // Lease every quarter of it, as a kubelet does (40, the kubelet's, renews 200 Leases a second
    // at 2,000 nodes). Given more than once, every run above is made with each value in turn, kwok
    // restarted between them. Default: as the sandbox starts kwok.
    "node-lease-seconds": { type: "string", multiple: true, default: [] },
  },
});

function count(name: string, text: string | undefined, minimum: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum) {
    process.stderr.write(`--${name} must be a whole number of at least ${minimum} (got ${text})\n`);
    process.exit(2);
  }
  return value;
}

/** The manager container of config/manager/manager.yaml, as far as the bench reads it. */
interface ManagerContainer {
  name: string;
  env?: { name: string; value?: string }[];
  resources?: { limits?: { memory?: string } };
}

function managerContainer(): ManagerContainer {
  const documents = parseAllDocuments(readFileSync(join(repoRoot, "config", "manager", "manager.yaml"), "utf8")).map((document) => document.toJS() as unknown);
  const deployment = documents.find((document) => (document as { kind?: string } | null)?.kind === "Deployment") as
    | { spec: { template: { spec: { containers: ManagerContainer[] } } } }
    | undefined;
  const container = deployment?.spec.template.spec.containers.find((candidate) => candidate.name === "manager");
  if (!container) throw new Error("config/manager/manager.yaml has no Deployment with a manager container");
  return container;
}

/** "768Mi", "1Gi", "512M" or a number of bytes, in bytes. */
function quantityBytes(text: string): number {
  const found = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(text.trim());
  if (!found) throw new Error(`"${text}" is not a memory quantity such as 768Mi`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[found[2] ?? ""] ?? 1;
  return Math.round(Number(found[1]) * unit);
}

/**
 * The variables the manager container sets that tune the Node process itself (NODE_OPTIONS and
 * glibc's MALLOC_*), so that the bench measures the process as it is deployed.
 */
function managerProcessEnv(container: ManagerContainer): Record<string, string> {
  const tuning: Record<string, string> = {};
  for (const variable of container.env ?? []) if (/^(NODE_OPTIONS|MALLOC_\w+)$/.test(variable.name) && variable.value !== undefined) tuning[variable.name] = variable.value;
  return tuning;
}

/**
 * "NAME=VALUE NAME2=VALUE2" as changes to an environment: a word that does not start a new
 * NAME= belongs to the value before it (NODE_OPTIONS=--a --b); an empty value unsets the name.
 */
function parseEnvChanges(text: string): Record<string, string | undefined> {
  const changes: Record<string, string | undefined> = {};
  let current: string | undefined;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(word);
    if (assignment) {
      current = assignment[1];
      changes[current] = assignment[2];
    } else if (current !== undefined) changes[current] = `${changes[current]} ${word}`.trim();
    else throw new Error(`--env "${text}": "${word}" is not NAME=VALUE`);
  }
  for (const [name, value] of Object.entries(changes)) if (value === "") changes[name] = undefined;
  return changes;
}

/** One operator run: the process settings it starts with, and how the report names them. */
interface RunSettings {
  label: string;
  env: Record<string, string>;
  /** The memory cgroup's limit; undefined for none. */
  memoryLimit?: { text: string; bytes: number };
  /** The --baseline revision this run's operator is built from; undefined for the working tree. */
  baseline?: string;
  /** kwok's node lease duration for this run (--node-lease-seconds); undefined: as the sandbox started it. */
  nodeLeaseSeconds?: number;
}

function runSettings(): RunSettings[] {
  const container = managerContainer();
  const manager = managerProcessEnv(container);
  const describe = (env: Record<string, string>): string =>
    Object.entries(env)
      .map(([name, value]) => `${name}="${value}"`)
      .join(" ") || "no process settings";
  const runs: RunSettings[] = [];
  for (const nodeOptions of values["node-options"]) runs.push({ label: describe({ ...manager, NODE_OPTIONS: nodeOptions }), env: { ...manager, NODE_OPTIONS: nodeOptions } });
  for (const text of values.env) {
    const env: Record<string, string> = { ...manager };
    for (const [name, value] of Object.entries(parseEnvChanges(text))) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    runs.push({ label: describe(env), env });
  }
  if (runs.length === 0) runs.push({ label: describe(manager), env: manager });
  const limits = values["memory-limit"].length > 0 ? values["memory-limit"] : [container.resources?.limits?.memory ?? "none"];
  const limited = limits.flatMap((text) => runs.map((settings) => ({ ...settings, ...(text === "none" ? {} : { memoryLimit: { text, bytes: quantityBytes(text) } }) })));
  const leases = values["node-lease-seconds"].map((text) => count("node-lease-seconds", text, 1));
  const leased = leases.length > 0 ? leases.flatMap((nodeLeaseSeconds) => limited.map((settings) => ({ ...settings, nodeLeaseSeconds }))) : limited;
  const baseline = values.baseline;
  return baseline ? leased.flatMap((settings) => [{ ...settings, baseline }, settings]) : leased;
}

/**
 * Builds `revision` in a temporary directory (its files from git archive, this checkout's
 * node_modules) with its own `npm run build`, and returns that directory. Every package the
 * revision locks must be in this checkout's lock at the same version; this checkout may have more.
 */
function buildBaseline(revision: string): string {
  const dir = mkdtempSync(join(tmpdir(), "eksup-bench-baseline-"));
  const archive = spawnSync("sh", ["-c", 'git -C "$0" archive "$1" | tar -x -C "$2"', repoRoot, revision, dir], { stdio: "inherit" });
  if (archive.status !== 0) throw new Error(`git archive ${revision} failed`);
  const missing = packagesMissing(join(dir, "package-lock.json"), join(repoRoot, "package-lock.json"));
  if (missing.length > 0) {
    throw new Error(`${revision} needs packages this checkout's node_modules lacks or has at another version (${missing.slice(0, 5).join(", ")}): its build would run on them`);
  }
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  log(`building ${revision} in ${dir}`);
  const built = spawnSync("npm", ["run", "build"], { cwd: dir, stdio: "inherit" });
  if (built.status !== 0) throw new Error(`building ${revision} failed`);
  return dir;
}

/**
 * The file the image of the checkout in `dir` runs, once built, relative to `dir`: the bundle, or
 * dist/src/main.js for a revision from before it.
 */
function operatorEntry(dir: string): string {
  return existsSync(join(dir, OPERATOR_BUNDLE_MAIN)) ? OPERATOR_BUNDLE_MAIN : join("dist", "src", "main.js");
}

/** The checkout a run starts the operator from: the --baseline revision's, or this one. */
function checkoutOf(settings: RunSettings): string {
  return settings.baseline ? baselineDir! : repoRoot;
}

/** The packages (`node_modules/...@version`) locked in `baseLock` that `lock` has not at that version. */
function packagesMissing(baseLock: string, lock: string): string[] {
  const read = (file: string) => (JSON.parse(readFileSync(file, "utf8")) as { packages?: Record<string, { version?: string }> }).packages ?? {};
  const have = read(lock);
  return Object.entries(read(baseLock))
    .filter(([path, entry]) => path !== "" && have[path]?.version !== entry.version)
    .map(([path, entry]) => `${path}@${entry.version ?? "?"}`);
}

const RUNS = runSettings();

/** The group each operator run rolls: `roll`, then `roll-2`, `roll-3`, ... */
const rollGroups = RUNS.map((_, index) => (index === 0 ? ROLL_GROUP : `${ROLL_GROUP}-${index + 1}`));
const NODES = count("nodes", values.nodes, ROLL_NODES * RUNS.length + 2 * BACKED_GROUP);
const PODS = count("pods", values.pods, REPLICAS);
const ROLL = values.roll && !values["no-roll"];
const BUILD = values.build && !values["no-build"];
const ROLL_MINUTES = count("roll-minutes", values["roll-minutes"], 1);

/** Polls every 250 ms unless told otherwise. */
function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  return pollUntil(what, probe, timeoutMs, everyMs);
}

/** How far the rolled group got, from the ClusterUpgrade's status. */
function rolledNodes(status: ClusterUpgradeStatus | undefined): string {
  const group = status?.nodeGroups?.find((entry) => entry.kind === "SelfManaged" && entry.state !== "Succeeded") ?? status?.nodeGroups?.[0];
  return group ? `${group.upgraded} of ${group.total} nodes of ${group.name} replaced, ${group.inFlight} in flight` : "no node group started";
}

function workloadNamespace(index: number): string {
  return `bench-${String(Math.floor(index / WORKLOADS_PER_NAMESPACE)).padStart(3, "0")}`;
}

/** Runs `work` on every item with at most `limit` in flight. */
async function pool_<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The world

interface GroupPlan {
  name: string;
  kind: "managed" | "self-managed";
  size: number;
}

/** The groups backed by instances; the rest of the nodes are added as kwok Nodes (see BACKED_GROUP). */
function groupsFor(): GroupPlan[] {
  return [
    ...rollGroups.map((name) => ({ name, kind: "self-managed" as const, size: ROLL_NODES })),
    { name: "managed-1", kind: "managed", size: BACKED_GROUP },
    { name: "pool-1", kind: "self-managed", size: BACKED_GROUP },
  ];
}

/**
 * Nodes without instances, cloned from a mirrored node of the managed group (they keep its node
 * group label, so EKS's group and the nodes match) and of the self-managed pool (they lose its
 * group: self-managed membership is by instance, so they stand for nodes no ClusterUpgrade names).
 * The sandbox's cluster label is dropped, or the node mirror would delete them as orphans.
 */
async function addKwokNodes(kubeConfig: k8s.KubeConfig, count: number): Promise<void> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const nodes = await listAll((page) => core.listNode(page));
  const managed = nodes.find((node) => node.metadata?.labels?.["eks.amazonaws.com/nodegroup"] === "managed-1");
  const pool = nodes.find((node) => node.metadata?.labels?.[LABEL_AUTO_SCALING_GROUP] === `${CLUSTER}-pool-1`);
  if (!managed || !pool) throw new Error("no mirrored node of managed-1 or pool-1 to clone");
  const create = rawCreator(kubeConfig);
  const zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
  const indexes = Array.from({ length: count }, (_, index) => index);
  await pool_(indexes, SEED_CONCURRENCY, async (index) => {
    const template = index % 2 === 0 ? managed : pool;
    const name = `kwok-${String(index).padStart(5, "0")}.ec2.internal`;
    const zone = zones[index % zones.length];
    const labels: Record<string, string> = { ...template.metadata!.labels, "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone };
    delete labels[LABEL_CLUSTER];
    delete labels[LABEL_AUTO_SCALING_GROUP];
    const status = { ...template.status, addresses: [{ type: "Hostname", address: name }], conditions: undefined, daemonEndpoints: undefined };
    await create("/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name, labels, annotations: template.metadata!.annotations }, spec: { providerID: `aws:///${zone}/i-kwok${String(index).padStart(12, "0")}` }, status });
  });
}

function scenarioYaml(groups: GroupPlan[]): string {
  return stringify({
    name: `scale-${NODES}-nodes`,
    description: `bench:scale: ${NODES} nodes; pods are seeded by the bench itself`,
    waitForPods: false,
    clusters: [
      {
        name: CLUSTER,
        version: FROM,
        controlPlaneUpdateSeconds: 5,
        vpc: {
          cidr: "10.0.0.0/16",
          subnets: [
            { name: "private-a", zone: "a", cidr: "10.0.0.0/18" },
            { name: "private-b", zone: "b", cidr: "10.0.64.0/18" },
            { name: "private-c", zone: "c", cidr: "10.0.128.0/18" },
          ],
        },
        nodeGroups: groups.map((group) => ({
          name: group.name,
          kind: group.kind,
          instanceType: "m5.xlarge",
          size: { min: group.size, max: group.size * 2, desired: group.size },
        })),
      },
    ],
  });
}

interface Seeding {
  nodeSeconds: number;
  podSeconds: number;
  readySeconds: number;
  workloads: number;
}

/** The record of one of the sandbox's processes: kube-controller-manager and kwok are stopped while pods are created. */
function processRecord(env: SandboxEnv, name: string): ProcessRecord {
  const record = readProcessRecords(layoutOf(env.dir).pidDir).find((candidate) => candidate.name === name);
  if (!record) throw new Error(`no ${name} record in ${layoutOf(env.dir).pidDir}`);
  return record;
}

/**
 * POSTs over kept-alive connections, without the API client's (de)serialisation: seeding is bound
 * by the bench's own CPU otherwise, on a machine whose two cores also run the whole sandbox.
 */
function rawCreator(kubeConfig: k8s.KubeConfig, method = "POST", contentType = "application/json"): (path: string, body: object) => Promise<void> {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  if (!cluster || !user?.token) throw new Error("the sandbox's admin kubeconfig has no cluster or token");
  const ca = cluster.caData ? Buffer.from(cluster.caData, "base64") : cluster.caFile ? readFileSync(cluster.caFile) : undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: SEED_CONCURRENCY, ca });
  return (path, body) =>
    new Promise((resolve, reject) => {
      const sent = request(new URL(path, cluster.server), { method, agent, headers: { authorization: `Bearer ${user.token}`, "content-type": contentType } }, (answer) => {
        let text = "";
        answer.setEncoding("utf8");
        answer.on("data", (chunk: string) => (text += chunk));
        answer.on("end", () => ((answer.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`${method} ${path}: ${answer.statusCode} ${text.slice(0, 300)}`))));
      });
      sent.on("error", reject);
      sent.end(JSON.stringify(body));
    });
}

/**
 * Stops kube-controller-manager before the kwok nodes and the pods are created, after the bench's
 * namespaces have their default ServiceAccount (which pods need, and a controller makes).
 */
async function stopControllerManager(env: SandboxEnv, kubeConfig: k8s.KubeConfig, workloads: number): Promise<ProcessRecord> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const namespaces = [NAMESPACE, ...new Set(Array.from({ length: workloads }, (_, index) => workloadNamespace(index)))];
  await pool_(namespaces, 16, async (namespace) => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await until(`namespace ${namespace}'s default ServiceAccount`, () => core.readNamespacedServiceAccount({ namespace, name: "default" }).then(() => true).catch(() => undefined), 120_000);
  });
  const manager = processRecord(env, "kube-controller-manager");
  await stopProcesses([manager]);
  return manager;
}

/**
 * Back with an hour of grace for node heartbeats: kwok keeps 2,000 node leases fresh only slowly
 * on two loaded cores, and the node lifecycle controller would mark nodes NotReady, their pods
 * unready and then evict them, which is kwok's lag and not something the operator should be
 * measured against. The controller itself stays: it is what lifts the not-ready taint from the
 * nodes a roll adds, and without it their replacement pods never schedule.
 */
function restartControllerManager(env: SandboxEnv, manager: ProcessRecord): void {
  // Its own rate limit (100/s, as the sandbox starts it) is lifted too: after a restart on a
  // 60,000-pod world its controllers resync everything through it, and at 2,000 budgets the
  // disruption controller fell behind the roll.
  respawn(env, manager, ["--node-monitor-grace-period=3600s", "--kube-api-qps=500", "--kube-api-burst=1000"]);
}

/**
 * Starts a stopped process of the sandbox again as its record says, with each of `flags`
 * ("--name=value") in place of the argument that set the same flag.
 */
function respawn(env: SandboxEnv, record: ProcessRecord, flags: string[] = []): void {
  const names = flags.map((flag) => flag.slice(0, flag.indexOf("=") + 1));
  const args = [...record.args.filter((arg) => !names.some((name) => arg.startsWith(name))), ...flags];
  const layout = layoutOf(env.dir);
  spawnDetached({ name: record.name, command: record.command, args, cwd: env.dir, env: process.env, logDir: layout.logDir, pidDir: layout.pidDir, port: record.port });
}

const LEASE_FLAG = "--node-lease-duration-seconds=";

/**
 * Restarts kwok with a node lease duration of `seconds`, unless it runs with that one already, and
 * waits for it to be healthy and past the renewals it makes as it starts. No node goes NotReady
 * meanwhile: the bench's kube-controller-manager allows an hour between heartbeats
 * (restartControllerManager).
 */
async function useNodeLease(env: SandboxEnv, seconds: number): Promise<void> {
  const kwok = processRecord(env, "kwok");
  if (kwok.args.includes(`${LEASE_FLAG}${seconds}`)) return;
  await stopProcesses([kwok]);
  respawn(env, kwok, [`${LEASE_FLAG}${seconds}`]);
  await until("kwok to be healthy", async () => ((await fetch(`http://127.0.0.1:${kwok.port}/healthz`).then((answer) => answer.ok).catch(() => false)) ? true : undefined), 60_000, 500);
  await sleep(20_000);
  log(`kwok restarted with ${LEASE_FLAG}${seconds}`);
}

/** kwok's node lease duration as it runs now, in seconds. */
function nodeLeaseSeconds(env: SandboxEnv): number | undefined {
  const arg = processRecord(env, "kwok").args.find((candidate) => candidate.startsWith(LEASE_FLAG));
  return arg === undefined ? undefined : Number(arg.slice(LEASE_FLAG.length));
}

/**
 * CPU seconds used so far by each process of the sandbox (kube-apiserver, etcd, kwok, the EKS
 * emulator, ...) and by this command, by name: with everything on the same cores, what the API
 * server and the simulated kubelets take is time the operator's requests wait for.
 */
function sandboxCpu(env: SandboxEnv): Map<string, number> {
  const used = new Map<string, number>();
  for (const record of readProcessRecords(layoutOf(env.dir).pidDir)) {
    const sample = procSample(record.pid);
    if (sample) used.set(record.name, sample.cpuSeconds);
  }
  const own = process.cpuUsage();
  used.set("bench:scale", (own.user + own.system) / 1e6);
  return used;
}

/** The cores each sandbox process used between two sandboxCpu readings `seconds` apart, largest first. */
function describeSandboxCpu(before: Map<string, number>, after: Map<string, number>, seconds: number): string {
  const cores = [...after]
    .filter(([name]) => before.has(name))
    .map(([name, cpu]) => [name, (cpu - before.get(name)!) / seconds] as const)
    .sort((a, b) => b[1] - a[1]);
  const sum = cores.reduce((total, [, value]) => total + value, 0);
  return `${cores.map(([name, value]) => `${name} ${value.toFixed(2)}`).join(", ")} (${sum.toFixed(2)} cores in all)`;
}

/** What kwok would have written once the pod's container runs and is Ready. */
function runningStatus(index: number): object {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const condition = (type: string): object => ({ type, status: "True", lastTransitionTime: now });
  return {
    status: {
      phase: "Running",
      conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map(condition),
      podIP: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
      hostIP: "10.0.0.1",
      startTime: now,
      containerStatuses: [{ name: "app", image: "registry.k8s.io/pause:3.10", imageID: "", ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } }],
    },
  };
}

async function seedPods(env: SandboxEnv, kubeConfig: k8s.KubeConfig, nodeNames: string[], manager: ProcessRecord): Promise<Omit<Seeding, "nodeSeconds">> {
  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  const policy = kubeConfig.makeApiClient(k8s.PolicyV1Api);
  const workloads = Math.ceil(PODS / REPLICAS);
  const create = rawCreator(kubeConfig);
  const setStatus = rawCreator(kubeConfig, "PATCH", "application/merge-patch+json");
  const started = Date.now();
  let created = 0;
  let nodeCursor = 0;
  const indexes = Array.from({ length: workloads }, (_, index) => index);
  // The Deployments, ReplicaSets and budgets first (a few thousand objects), then every pod at once.
  const pods: { name: string; namespace: string; index: number; body: object }[] = [];
  await pool_(indexes, 16, async (index) => {
    const name = `svc-${String(index).padStart(5, "0")}`;
    const namespace = workloadNamespace(index);
    const replicas = Math.min(REPLICAS, PODS - index * REPLICAS);
    const labels = { app: name };
    const template = {
      metadata: { labels: { ...labels, "pod-template-hash": "bench" } },
      spec: {
        containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "1m", memory: "4Mi" } }, readinessProbe: { exec: { command: ["true"] } } }],
        terminationGracePeriodSeconds: 1,
      },
    };
    const deployment = await apps.createNamespacedDeployment({
      namespace,
      body: { metadata: { name, labels }, spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: template.spec } } },
    });
    const replicaSet = await apps.createNamespacedReplicaSet({
      namespace,
      body: {
        metadata: { name: `${name}-bench`, labels: template.metadata.labels, annotations: { "deployment.kubernetes.io/revision": "1" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: deployment.metadata!.uid!, controller: true, blockOwnerDeletion: true }] },
        spec: { replicas, selector: { matchLabels: template.metadata.labels }, template },
      },
    });
    await policy.createNamespacedPodDisruptionBudget({ namespace, body: { metadata: { name }, spec: { maxUnavailable: "10%", selector: { matchLabels: labels } } } });
    const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: replicaSet.metadata!.name!, uid: replicaSet.metadata!.uid!, controller: true, blockOwnerDeletion: true };
    for (let replica = 0; replica < replicas; replica++) {
      pods.push({ name: `${name}-${replica}`, namespace, index: pods.length, body: { apiVersion: "v1", kind: "Pod", metadata: { name: `${name}-${replica}`, namespace, labels: template.metadata.labels, ownerReferences: [owner] }, spec: { ...template.spec, nodeName: nodeNames[nodeCursor++ % nodeNames.length] } } });
    }
  });
  const workloadSeconds = (Date.now() - started) / 1000;
  log(`seeding: ${workloads} Deployments, ReplicaSets and budgets in ${workloadSeconds.toFixed(0)} s`);
  const podsStarted = Date.now();
  // kwok is stopped while the pods are created: it would otherwise see each pod before the bench
  // gives it its status, and in one run of 60,000 pods here it got there first for 28,000 of them,
  // set them back to ContainerCreating and then took them through its stages at about 14 a second. Back,
  // it finds every pod with an IP and leaves them alone. Nothing needs it meanwhile: the nodes
  // exist and kube-controller-manager, which would notice their leases age, is stopped too.
  const kwok = processRecord(env, "kwok");
  await stopProcesses([kwok]);
  await pool_(pods, SEED_CONCURRENCY, async ({ name, namespace, index, body }) => {
    await create(`/api/v1/namespaces/${namespace}/pods`, body);
    // Running and Ready at once, with an IP: kwok's pod stages select pods without one, so kwok
    // leaves these alone. Left to kwok, 60,000 pods went Ready at about 14 a second here (two
    // patches and an Event each), and the world took over an hour to be ready.
    await setStatus(`/api/v1/namespaces/${namespace}/pods/${name}/status`, runningStatus(index));
    created++;
    if (created % 5000 === 0) log(`seeding: ${created} of ${PODS} pods created (${(created / ((Date.now() - podsStarted) / 1000)).toFixed(0)}/s)`);
  });
  const podSeconds = (Date.now() - podsStarted) / 1000;
  log(`seeding: ${created} pods, ${workloads} Deployments, ReplicaSets and budgets in ${podSeconds.toFixed(0)} s; restarting kwok and kube-controller-manager`);
  respawn(env, kwok);
  restartControllerManager(env, manager);
  // Every budget healthy and allowing disruptions means every pod is Running and Ready (kwok)
  // and the disruption controller has caught up: the world the preflight expects.
  await until(
    "every budget to count its pods healthy",
    async () => {
      const budgets = (await listAll((page) => policy.listPodDisruptionBudgetForAllNamespaces(page))).filter((budget) => budget.metadata?.namespace?.startsWith(`${NAMESPACE}-`));
      const healthy = budgets.filter((budget) => (budget.status?.currentHealthy ?? 0) >= (budget.status?.expectedPods ?? 1) && (budget.status?.expectedPods ?? 0) > 0).length;
      log(`seeding: ${healthy} of ${workloads} budgets see all their pods healthy`);
      return healthy === workloads ? true : undefined;
    },
    60 * 60_000,
    10_000,
  );
  const readySeconds = (Date.now() - started) / 1000;
  return { podSeconds, readySeconds, workloads };
}

async function listAll<T>(read: (page: { limit: number; _continue?: string }) => Promise<{ items: T[]; metadata?: { _continue?: string } }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await read(token ? { limit: 500, _continue: token } : { limit: 500 });
    items.push(...page.items);
    token = page.metadata?._continue || undefined;
  } while (token);
  return items;
}

// ---------------------------------------------------------------------------------------------
// The operator and its samples

interface Sample {
  t: number;
  phase: string;
  rssMiB: number;
  heapUsedMiB?: number;
  heapTotalMiB?: number;
  cpuSeconds: number;
}

const TICKS = 100;
const PAGE = 4096;

function procSample(pid: number): { rssMiB: number; cpuSeconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12, rss (24) at 21.
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS;
    const rssMiB = (Number(fields[21]) * PAGE) / 2 ** 20;
    return { rssMiB, cpuSeconds };
  } catch {
    return undefined;
  }
}

async function heapSample(port: number): Promise<{ used: number; total: number } | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const read = (name: string): number | undefined => {
      const match = new RegExp(`^${name} ([0-9.e+]+)`, "m").exec(text);
      return match ? Number(match[1]) / 2 ** 20 : undefined;
    };
    const used = read("nodejs_heap_size_used_bytes");
    const total = read("nodejs_heap_size_total_bytes");
    return used === undefined || total === undefined ? undefined : { used, total };
  } catch {
    return undefined;
  }
}

class Sampler {
  readonly samples: Sample[] = [];
  phase = "start";
  private running = true;
  private readonly done: Promise<void>;

  constructor(pid: number, port: number) {
    const begun = Date.now();
    this.done = (async () => {
      while (this.running) {
        const proc = procSample(pid);
        const heap = await heapSample(port);
        if (proc) this.samples.push({ t: (Date.now() - begun) / 1000, phase: this.phase, ...proc, ...(heap ? { heapUsedMiB: heap.used, heapTotalMiB: heap.total } : {}) });
        await sleep(1000);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Peak and mean RSS, peak heap and the average CPU (cores) over the samples of the phases named. */
  summary(...phases: string[]): { rssPeak: number; rssMean: number; heapPeak: number; cpuCores: number; seconds: number } | undefined {
    const samples = this.samples.filter((sample) => phases.includes(sample.phase));
    if (samples.length < 2) return undefined;
    const first = samples[0];
    const last = samples[samples.length - 1];
    const seconds = last.t - first.t;
    return {
      rssPeak: Math.max(...samples.map((sample) => sample.rssMiB)),
      rssMean: samples.reduce((sum, sample) => sum + sample.rssMiB, 0) / samples.length,
      heapPeak: Math.max(...samples.map((sample) => sample.heapUsedMiB ?? 0)),
      cpuCores: seconds > 0 ? (last.cpuSeconds - first.cpuSeconds) / seconds : 0,
      seconds,
    };
  }
}

interface MemoryCgroup {
  dir: string;
  /** The file a process writes its pid to, to join. */
  procs: string;
}

/**
 * A memory cgroup limited to `bytes` (cgroup v2, else v1), as the kubelet puts a container in one;
 * undefined when this machine does not let the command make one (not root, no memory controller).
 */
function memoryCgroup(bytes: number, name: string): MemoryCgroup | undefined {
  const candidates = [
    { root: "/sys/fs/cgroup", marker: "cgroup.controllers", limitFile: "memory.max" },
    { root: "/sys/fs/cgroup/memory", marker: "memory.limit_in_bytes", limitFile: "memory.limit_in_bytes" },
  ];
  for (const { root, marker, limitFile } of candidates) {
    if (!existsSync(join(root, marker))) continue;
    const dir = join(root, name);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, limitFile), String(bytes));
      return { dir, procs: join(dir, "cgroup.procs") };
    } catch (error) {
      log(`no memory cgroup under ${root} (${error instanceof Error ? error.message : String(error)})`);
      try {
        rmdirSync(dir);
      } catch {
        // Not made, or not empty: nothing to tidy.
      }
    }
  }
  return undefined;
}

function removeCgroup(cgroup: MemoryCgroup | undefined): void {
  if (!cgroup) return;
  try {
    rmdirSync(cgroup.dir);
  } catch (error) {
    log(`could not remove ${cgroup.dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function startOperator(env: SandboxEnv, kubeconfig: string, port: number, settings: RunSettings, run: number, cgroup: MemoryCgroup | undefined): ChildProcess {
  const logFile = join(env.dir, "logs", run === 1 ? "operator-bench.log" : `operator-bench-${run}.log`);
  const main = join(checkoutOf(settings), operatorEntry(checkoutOf(settings)));
  // In the memory cgroup when there is one: the shell joins it and becomes node, so that Node
  // finds the limit when it sizes its heap, and the pid sampled is node's.
  const [command, args] = cgroup ? ["/bin/sh", ["-c", 'echo $$ > "$0" && exec "$@"', cgroup.procs, process.execPath, main]] : [process.execPath, [main]];
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: {
      ...envWithoutProcessTuning(),
      ...env.variables,
      ...settings.env,
      KUBECONFIG: kubeconfig,
      LEADER_ELECTION: "false",
      POD_NAMESPACE: OPERATOR_NAMESPACE,
      HTTP_PORT: String(port),
      LOG_LEVEL: "info",
      CONTROL_PLANE_POLL_SECONDS: "1",
      UPDATE_POLL_SECONDS: "1",
      IDLE_RECHECK_SECONDS: "2",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const sink = createWriteStream(logFile);
  child.stdout.pipe(sink);
  child.stderr.pipe(sink);
  return child;
}

// ---------------------------------------------------------------------------------------------
// API requests from the audit log

interface AuditLine {
  auditID: string;
  verb: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
  stageTimestamp?: string;
}

function requestsBetween(env: SandboxEnv, fromMs: number, toMs: number): Map<string, number> {
  const counts = new Map<string, number>();
  const seen = new Set<string>();
  const text = readFileSync(join(layoutOf(env.dir).logDir, "audit.log"), "utf8");
  for (const line of text.split("\n")) {
    if (!line.includes(OPERATOR_USER)) continue;
    const event = JSON.parse(line) as AuditLine;
    if (event.user?.username !== OPERATOR_USER || seen.has(event.auditID)) continue;
    const at = Date.parse(event.stageTimestamp ?? "");
    if (at < fromMs || at > toMs) continue;
    seen.add(event.auditID);
    const resource = [event.objectRef?.resource ?? "?", event.objectRef?.subresource].filter(Boolean).join("/");
    const key = `${event.verb} ${resource}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function total(counts: Map<string, number>): number {
  return [...counts.values()].reduce((sum, value) => sum + value, 0);
}

function describeCounts(counts: Map<string, number>): string {
  return [...counts].sort((a, b) => b[1] - a[1]).map(([key, value]) => `${key} ${value}`).join(", ");
}

// ---------------------------------------------------------------------------------------------

interface Seeded {
  env: SandboxEnv;
  kubeConfig: k8s.KubeConfig;
  groups: GroupPlan[];
  operatorKubeconfig: string;
}

/**
 * One operator run on the seeded world with `settings`: idle, a dry-run plan over every group,
 * and a roll of `rollGroup`. Returns its part of the report and its samples; the operator is
 * stopped, and its ClusterUpgrades deleted, before it returns.
 */
async function operatorRun(world: Seeded, run: number, settings: RunSettings, rollGroup: string): Promise<{ lines: string[]; samples: Sample[] }> {
  const { env, kubeConfig, groups } = world;
  if (settings.nodeLeaseSeconds !== undefined) await useNodeLease(env, settings.nodeLeaseSeconds);
  const leaseNote = `kwok's node leases ${nodeLeaseSeconds(env) ?? "?"} s`;
  const port = await freePort();
  const operatorStart = Date.now();
  const loadStart = loadavg()[0];
  const limit = settings.memoryLimit;
  const cgroup = limit ? memoryCgroup(limit.bytes, `eksup-bench-scale-${process.pid}-${run}`) : undefined;
  const code = settings.baseline ? `code of ${settings.baseline} (--baseline)` : "code of this checkout";
  const limitNote = `${code}, ` + (limit ? (cgroup ? `memory limit ${limit.text} (a memory cgroup, as the container's)` : `no memory limit (no cgroup could be made for ${limit.text})`) : "no memory limit");
  const operator = startOperator(env, world.operatorKubeconfig, port, settings, run, cgroup);
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) =>
    operator.once("exit", (code, signal) => {
      exit = signal ? `signal ${signal}${signal === "SIGKILL" && cgroup ? " (the memory limit's OOM kill, unless the bench sent it)" : ""}` : `code ${code}`;
      resolve();
    }),
  );
  // A probe that fails at once when the operator is gone, rather than waiting out its timeout.
  const alive = <T>(probe: () => Promise<T | undefined>) => async (): Promise<T | undefined> => {
    if (exit !== undefined) throw new Error(`the operator exited (${exit})`);
    return probe();
  };
  const sampler = new Sampler(operator.pid!, port);
  const upgrades = clusterUpgrades(kubeConfig, NAMESPACE);
  const read = (name: string): Promise<ClusterUpgrade> => upgrades.read(name);
  const gone = (name: string): Promise<true> => until(`ClusterUpgrade ${name} to be gone`, async () => ((await read(name).then(() => false).catch(() => true)) ? true : undefined), 120_000);
  try {
    sampler.phase = "startup";
    await until("the operator to be ready", alive(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).then((answer) => answer.ok).catch(() => false)) ? true : undefined)), 120_000);
    sampler.phase = "idle";
    const idleStart = Date.now();
    log(`run ${run} (${settings.label}, ${limitNote}, ${leaseNote}): operator ready after ${((idleStart - operatorStart) / 1000).toFixed(1)} s; idle for 30 s`);
    const idleCpu = sandboxCpu(env);
    await sleep(30_000);
    const idleEnd = Date.now();
    const idleSandbox = describeSandboxCpu(idleCpu, sandboxCpu(env), (idleEnd - idleStart) / 1000);

    const managed = groups.filter((group) => group.kind === "managed").map((group) => group.name);
    const selfManaged = groups.filter((group) => group.kind === "self-managed").map((group) => `${CLUSTER}-${group.name}`);

    // A dry run over every group: the full preflight and plan, nothing changed.
    sampler.phase = "plan";
    const planName = `plan-${run}`;
    const planCpu = sandboxCpu(env);
    const planStart = Date.now();
    await upgrades.create(planName, { cluster: { name: CLUSTER }, targetVersion: TO, dryRun: true, nodeGroups: { selfManaged: selfManaged.map((autoScalingGroupName) => ({ autoScalingGroupName })) } });
    const firstStatus = await until("the first status", alive(async () => ((await read(planName)).status ? Date.now() : undefined)), 60_000, 50);
    const planned = await until(
      "the plan",
      alive(async () => {
        const status = (await read(planName)).status;
        return status?.phase === "Planned" || status?.phase === "Blocked" ? { at: Date.now(), status } : undefined;
      }),
      30 * 60_000,
      100,
    );
    const planEnd = Date.now();
    const planSandbox = describeSandboxCpu(planCpu, sandboxCpu(env), (planEnd - planStart) / 1000);
    const findings = planned.status.preflight?.findings ?? [];
    log(`run ${run}: plan: first status after ${firstStatus - planStart} ms, phase ${planned.status.phase} after ${planned.at - planStart} ms, ${findings.length} findings, ${planned.status.plan?.hops.length ?? 0} hop(s) planned`);
    await upgrades.remove(planName);
    await gone(planName);

    let roll: { seconds: number; start: number; end: number; phase: string; sandbox: string } | undefined;
    if (ROLL) {
      sampler.phase = "roll";
      const rollName = `roll-${run}`;
      const rollCpu = sandboxCpu(env);
      const rollStart = Date.now();
      const group = `${CLUSTER}-${rollGroup}`;
      await upgrades.create(rollName, {
        cluster: { name: CLUSTER },
        targetVersion: TO,
        nodeGroups: {
          order: [group],
          exclude: [...managed, ...selfManaged.filter((name) => name !== group)],
          selfManaged: [{ autoScalingGroupName: group }],
          maxSurge: 10,
          maxUnavailable: 0,
        },
        drain: { maxParallelNodes: 10, evictionRetryInterval: "1s" },
      });
      const deadline = rollStart + ROLL_MINUTES * 60_000;
      const last = await until(
        "the roll to finish",
        alive(async () => {
          const status = (await read(rollName)).status;
          if (status?.phase === "Succeeded" || status?.phase === "Failed" || status?.phase === "Blocked") return status;
          // The roll's own preflight (as large as the dry run's) and the control plane hop are
          // behind it: from here on the samples are the node roll alone.
          if (status?.phase === "UpgradingNodeGroups") sampler.phase = "nodes";
          // Out of time: what the roll reached is the result, written as such.
          if (Date.now() >= deadline) return { ...status, phase: `${status?.phase ?? "no phase"} (stopped after ${ROLL_MINUTES} min, ${rolledNodes(status)})` };
          return undefined;
        }),
        ROLL_MINUTES * 60_000 + 60_000,
        1000,
      );
      const rollEnd = Date.now();
      roll = { seconds: (rollEnd - rollStart) / 1000, start: rollStart, end: rollEnd, phase: last.phase ?? "?", sandbox: describeSandboxCpu(rollCpu, sandboxCpu(env), (rollEnd - rollStart) / 1000) };
      log(`run ${run}: roll of ${group}: ${last.phase} after ${roll.seconds.toFixed(0)} s`);
      if (last.phase !== "Succeeded") log(`roll status: ${JSON.stringify(last.conditions?.filter((condition) => condition.status !== "True"))}`);
      sampler.phase = "end";
      // The next run's operator must meet no upgrade of this one's on the cluster.
      await upgrades.remove(rollName);
      await gone(rollName);
    }
    sampler.phase = "end";
    await sleep(2000);
    await sampler.stop();

    const idle = sampler.summary("idle");
    const plan = sampler.summary("plan");
    const rolling = roll ? sampler.summary("roll", "nodes") : undefined;
    const nodesOnly = roll ? sampler.summary("nodes") : undefined;
    const idleRequests = requestsBetween(env, idleStart, idleEnd);
    const planRequests = requestsBetween(env, planStart, planEnd);
    const rollRequests = roll ? requestsBetween(env, roll.start, roll.end) : new Map<string, number>();
    const mib = (value: number | undefined): string => (value === undefined ? "-" : value.toFixed(0));
    const lines = [
      `#### Operator run ${run}: ${settings.label}, ${limitNote}, ${leaseNote}`,
      "",
      `Load average (1 min) ${loadStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end; ${cpus().length} cores. Operator: node ${operatorEntry(checkoutOf(settings))}.`,
      "",
      "| Phase | Seconds | RSS peak (MiB) | RSS mean (MiB) | Heap used peak (MiB) | CPU (cores, mean) | API requests |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      `| idle, no ClusterUpgrade | ${idle?.seconds.toFixed(0) ?? "-"} | ${mib(idle?.rssPeak)} | ${mib(idle?.rssMean)} | ${mib(idle?.heapPeak)} | ${idle?.cpuCores.toFixed(3) ?? "-"} | ${total(idleRequests)} |`,
      `| preflight and plan (dry run, every group) | ${((planEnd - planStart) / 1000).toFixed(1)} | ${mib(plan?.rssPeak)} | ${mib(plan?.rssMean)} | ${mib(plan?.heapPeak)} | ${plan?.cpuCores.toFixed(3) ?? "-"} | ${total(planRequests)} |`,
      ...(roll ? [`| roll of ${ROLL_NODES} self-managed nodes (${rollGroup}, ${roll.phase}) | ${roll.seconds.toFixed(0)} | ${mib(rolling?.rssPeak)} | ${mib(rolling?.rssMean)} | ${mib(rolling?.heapPeak)} | ${rolling?.cpuCores.toFixed(3) ?? "-"} | ${total(rollRequests)} |`] : []),
      ...(nodesOnly ? [`| of which the node group phase (after the roll's preflight and control plane hop) | ${nodesOnly.seconds.toFixed(0)} | ${mib(nodesOnly.rssPeak)} | ${mib(nodesOnly.rssMean)} | ${mib(nodesOnly.heapPeak)} | ${nodesOnly.cpuCores.toFixed(3)} | |`] : []),
      "",
      `Apply to first status: ${firstStatus - planStart} ms. Apply to plan: ${planned.at - planStart} ms (phase ${planned.status.phase}, ${findings.length} findings: ${[...new Set(findings.map((finding) => finding.code))].join(", ") || "none"}).`,
      "",
      `Sandbox CPU (cores), idle: ${idleSandbox}.`,
      `Sandbox CPU (cores), plan: ${planSandbox}.`,
      ...(roll ? [`Sandbox CPU (cores), roll: ${roll.sandbox}.`] : []),
      "",
      `Requests, idle: ${describeCounts(idleRequests) || "none"}.`,
      `Requests, plan: ${describeCounts(planRequests)}.`,
      ...(roll ? [`Requests, roll: ${describeCounts(rollRequests)}.`] : []),
      "",
    ];
    return { lines, samples: sampler.samples };
  } finally {
    await sampler.stop();
    operator.kill("SIGTERM");
    await Promise.race([exited, sleep(15_000)]);
    removeCgroup(cgroup);
  }
}

/** The --baseline revision's checkout, once built. */
let baselineDir: string | undefined;

async function main(): Promise<void> {
  if (BUILD) {
    log("npm run build");
    const built = spawnSync("npm", ["run", "build"], { cwd: repoRoot, stdio: "inherit" });
    if (built.status !== 0) throw new Error("npm run build failed");
  }
  if (values.baseline) baselineDir = buildBaseline(values.baseline);
  const dir = mkdtempSync(join(tmpdir(), "eksup-bench-scale-"));
  const loadStart = loadavg()[0];
  log(`sandbox in ${dir}: ${NODES} nodes, ${PODS} pods; ${cpus().length} cores, load ${loadavg().map((value) => value.toFixed(1)).join(" ")}`);
  const handle = await startSandbox({ dir, ports: "auto", ownerPid: process.pid, build: false, scenario: null });
  const env = handle.env;
  try {
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(env.kubeconfigPath);
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const groups = groupsFor();
    const scenarioFile = join(dir, "bench-scale.yaml");
    writeFileSync(scenarioFile, scenarioYaml(groups));
    const nodeStart = Date.now();
    await seedWorld(parseScenarioText(readFileSync(scenarioFile, "utf8"), scenarioFile), env);
    const backedSeconds = (Date.now() - nodeStart) / 1000;
    const backed = groups.reduce((sum, group) => sum + group.size, 0);
    log(`seeding: ${backed} nodes backed by instances in ${backedSeconds.toFixed(0)} s; adding ${NODES - backed} kwok nodes`);
    const manager = await stopControllerManager(env, kubeConfig, Math.ceil(PODS / REPLICAS));
    const kwokStart = Date.now();
    await addKwokNodes(kubeConfig, NODES - backed);
    const kwokSeconds = (Date.now() - kwokStart) / 1000;
    const nodeNames = (await listAll((page) => core.listNode(page))).map((node) => node.metadata!.name!).sort();
    // Pods are bound to every node at once; kwok runs them whether or not it has made their node Ready yet.
    const ready = (await listAll((page) => core.listNode(page))).filter((node) => node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True")).length;
    log(`seeding: ${nodeNames.length} nodes created (${ready} Ready so far) ${kwokSeconds.toFixed(0)} s after the first kwok node`);
    const nodeSeconds = (Date.now() - nodeStart) / 1000;
    log(`seeding: ${nodeNames.length} Ready nodes in ${groups.length} groups in ${nodeSeconds.toFixed(0)} s`);
    const seeding = { nodeSeconds, backedSeconds, kwokSeconds, ...(await seedPods(env, kubeConfig, nodeNames, manager)) };
    log(`seeding: every pod Running and every budget healthy ${seeding.readySeconds.toFixed(0)} s after the first pod`);

    await installCrd(kubeConfig);
    const operatorKubeconfig = await installOperatorIdentity(env, { secretNamespaces: [NAMESPACE] });
    const world: Seeded = { env, kubeConfig, groups, operatorKubeconfig };
    const header = [
      `### ${NODES} nodes, ${PODS} pods (${seeding.workloads} Deployments, each with a PodDisruptionBudget, ${WORKLOADS_PER_NAMESPACE} to a namespace)`,
      "",
      `Load average (1 min) ${loadStart.toFixed(1)} when the command started. Seeding: ${backed} nodes backed by instances (groups ${groups.map((group) => `${group.name} ${group.size}`).join(", ")}) in ${seeding.backedSeconds.toFixed(0)} s, then ${NODES - backed} kwok Nodes created in ${seeding.kwokSeconds.toFixed(0)} s (${((NODES - backed) / seeding.kwokSeconds).toFixed(0)} nodes/s); ${PODS} pods created in ${seeding.podSeconds.toFixed(0)} s (${(PODS / seeding.podSeconds).toFixed(0)} pods/s); all Running and every budget healthy after ${seeding.readySeconds.toFixed(0)} s.`,
      "",
    ];
    process.stdout.write(`${header.join("\n")}\n`);
    const runs: { settings: RunSettings; samples: Sample[] }[] = [];
    for (const [index, settings] of RUNS.entries()) {
      const { lines, samples } = await operatorRun(world, index + 1, settings, rollGroups[index]);
      runs.push({ settings, samples });
      // Printed as each run ends: a later run that fails leaves the earlier figures on record.
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    const out = values.out ?? join(dir, "bench-scale.json");
    writeFileSync(out, JSON.stringify({ nodes: NODES, pods: PODS, seeding, runs }, null, 1));
    process.stdout.write(`Samples: ${out}\n`);
  } finally {
    if (process.env.BENCH_KEEP_SANDBOX !== "true") await handle.stop();
    else {
      // The sandbox's watchdog stops it once this process is gone; a kept sandbox must outlive it.
      const watchdog = readProcessRecords(layoutOf(dir).pidDir).find((record) => record.name === "watchdog");
      if (watchdog) process.kill(watchdog.pid, "SIGTERM");
      log(`sandbox kept: . ${dir}/env; stop it with EKSUP_SANDBOX_DIR=${dir} npm run sandbox -- down`);
    }
  }
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
