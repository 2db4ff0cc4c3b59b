// npm run bench:drain: one run, on the 100-node scenario, of every way to replace its nodes that
// users pick from, each in its own freshly seeded private sandbox: the operator's pipelined roll of
// the self-managed groups, `kubectl drain` one node at a time, `kubectl drain` of N nodes side by
// side (eksctl drain nodegroup --parallel), and the same nodes as EKS managed node groups updated
// by the emulator; with the lower bound the scenario allows. Prints a Markdown table.
//
//   npm run bench:drain                      # all five groups, 100 nodes, every row
//   npm run bench:drain -- --groups 2        # the first two groups only (40 nodes)
//   npm run bench:drain -- --parallel 20     # the operator's maxSurge and maxParallelNodes, kubectl's N
//   npm run bench:drain -- --only operator,kubectl-parallel   # some rows only
//   npm run bench:drain -- --time-factor 0.05                 # SANDBOX_TIME_FACTOR (node boot, EKS waits)
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, TerminateInstanceInAutoScalingGroupCommand, UpdateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateVersionCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeClusterCommand, DescribeNodegroupCommand, DescribeUpdateCommand, EKSClient, UpdateClusterVersionCommand, UpdateNodegroupVersionCommand } from "@aws-sdk/client-eks";
import { DEFAULT_NODE_BOOT_SECONDS } from "../sandbox/eks-emulator/facts.js";
import { DEFAULT_TIME_FACTOR } from "../sandbox/eks-emulator/clock.js";
import { installCrd } from "../sandbox/crd.js";
import { startSandbox } from "../sandbox/runtime/supervisor.js";
import type { SandboxEnv } from "../sandbox/runtime/env.js";
import type { ClusterUpgrade } from "../src/api/v1alpha1/types.js";
import { clusterUpgrades, log, sleep, until as pollUntil } from "./bench-support.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const scenario = join(repoRoot, "sandbox", "scenarios", "large-100-nodes.yaml");
const CLUSTER = "large";
const FROM = "1.31";
const TO = "1.32";
/** Every Deployment of the scenario: 50 replicas under a maxUnavailable 10% budget. */
const REPLICAS = 50;
const BUDGET_MAX_UNAVAILABLE = Math.floor(REPLICAS * 0.1);
/** kwok's pod-ready stage (pod/general): 1 s, plus up to 5 s of jitter. */
const POD_READY_MIN_SECONDS = 1;
const POD_READY_MEAN_SECONDS = 3.5;

const ROWS = ["operator", "kubectl", "kubectl-parallel", "managed"] as const;
type Row = (typeof ROWS)[number];

const { values } = parseArgs({
  options: {
    groups: { type: "string", default: "5" },
    parallel: { type: "string", default: "10" },
    only: { type: "string", default: ROWS.join(",") },
    "time-factor": { type: "string", default: String(DEFAULT_TIME_FACTOR) },
  },
});
const groupCount = Math.min(5, Math.max(1, Number(values.groups)));
const parallel = Math.max(1, Number(values.parallel));
const timeFactor = Number(values["time-factor"]);
const only = values.only.split(",").map((row) => row.trim());
for (const row of only) if (!ROWS.includes(row as Row)) throw new Error(`--only: unknown row "${row}"; rows are ${ROWS.join(", ")}`);
if (!Number.isFinite(timeFactor) || timeFactor <= 0 || timeFactor > 1) throw new Error(`--time-factor must be a number in (0, 1], got "${values["time-factor"]}"`);
const groups = Array.from({ length: groupCount }, (_, index) => `${CLUSTER}-pool-${index + 1}`);
/** What a node takes from launch to Ready in the sandbox, in real seconds. */
const bootSeconds = DEFAULT_NODE_BOOT_SECONDS * timeFactor;

/** Polls every 1000 ms unless told otherwise. */
function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 1000): Promise<T> {
  return pollUntil(what, probe, timeoutMs, everyMs);
}

interface World {
  env: SandboxEnv;
  kubeConfig: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  autoscaling: AutoScalingClient;
  ec2: EC2Client;
  eks: EKSClient;
}

function worldOf(env: SandboxEnv): World {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(env.kubeconfigPath);
  const aws = { region: env.awsRegion, endpoint: env.awsEndpointUrl, credentials: { accessKeyId: env.awsAccessKeyId, secretAccessKey: env.awsSecretAccessKey } };
  return { env, kubeConfig, core: kubeConfig.makeApiClient(k8s.CoreV1Api), autoscaling: new AutoScalingClient(aws), ec2: new EC2Client(aws), eks: new EKSClient({ ...aws, endpoint: env.eksEndpointUrl }) };
}

/** The old nodes of a group, by instance id. */
async function groupNodes(world: World, group: string): Promise<{ instanceId: string; node: string; kubelet: string; ready: boolean }[]> {
  const described = (await world.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))).AutoScalingGroups?.[0];
  const ids = new Set((described?.Instances ?? []).map((instance) => instance.InstanceId!));
  const nodes = (await world.core.listNode()).items;
  return nodes
    .filter((node) => ids.has(node.spec?.providerID?.split("/").pop() ?? ""))
    .map((node) => ({
      instanceId: node.spec!.providerID!.split("/").pop()!,
      node: node.metadata!.name!,
      kubelet: node.status?.nodeInfo?.kubeletVersion ?? "",
      ready: (node.status?.conditions ?? []).some((condition) => condition.type === "Ready" && condition.status === "True"),
    }));
}

/** Samples budgets once a second: the lowest margin (healthy - desired) seen, and how often it went below 0. */
class BudgetSampler {
  lowestMargin = Number.POSITIVE_INFINITY;
  violations = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(policy: k8s.PolicyV1Api) {
    this.done = (async () => {
      while (this.running) {
        const budgets = (await policy.listPodDisruptionBudgetForAllNamespaces()).items;
        for (const budget of budgets) {
          const margin = (budget.status?.currentHealthy ?? 0) - (budget.status?.desiredHealthy ?? 0);
          this.lowestMargin = Math.min(this.lowestMargin, margin);
          if (margin < 0) this.violations++;
        }
        await sleep(1000);
      }
    })();
  }

  async stop(): Promise<{ lowestMargin: number; violations: number }> {
    this.running = false;
    await this.done;
    return { lowestMargin: this.lowestMargin, violations: this.violations };
  }
}

async function operatorRoll(world: World): Promise<number> {
  await installCrd(world.kubeConfig);
  for (const name of ["bench", "eks-upgrade-system"]) await world.core.createNamespace({ body: { metadata: { name } } }).catch(() => undefined);
  const logFile = join(world.env.dir, "logs", "operator-bench.log");
  const operator = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src", "main.ts")], {
    cwd: repoRoot,
    env: { ...process.env, ...world.env.variables, LEADER_ELECTION: "false", POD_NAMESPACE: "eks-upgrade-system", HTTP_PORT: "0", CONTROL_PLANE_POLL_SECONDS: "1", UPDATE_POLL_SECONDS: "1", IDLE_RECHECK_SECONDS: "2" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const sink = createWriteStream(logFile);
  operator.stdout.pipe(sink);
  operator.stderr.pipe(sink);
  try {
    const upgrades = clusterUpgrades(world.kubeConfig, "bench");
    await upgrades.create("roll", {
      cluster: { name: CLUSTER },
      targetVersion: TO,
      nodeGroups: { order: groups, exclude: [], selfManaged: groups.map((autoScalingGroupName) => ({ autoScalingGroupName })), maxSurge: parallel, maxUnavailable: 0 },
      drain: { maxParallelNodes: parallel, evictionRetryInterval: "1s" },
      preflight: { ignore: [{ code: "WRK003", reason: "benchmark workloads have no readiness probes" }] },
    });
    const read = (): Promise<ClusterUpgrade> => upgrades.read("roll");
    await until("the node group stage", async () => ((await read()).status?.hops?.[0]?.stage === "NodeGroups" ? true : undefined), 15 * 60_000);
    const started = Date.now();
    log(`operator: node groups started (${groups.length} groups, pipelined, up to ${parallel} nodes at a time)`);
    const last = await until(
      "the roll to finish",
      async () => {
        const upgrade = await read();
        const stage = upgrade.status?.hops?.[0]?.stage;
        if (upgrade.status?.phase === "Failed" || upgrade.status?.phase === "Blocked") throw new Error(`the upgrade stopped: ${JSON.stringify(upgrade.status?.conditions)}`);
        return stage === "LateAddons" || stage === "Done" ? upgrade : undefined;
      },
      90 * 60_000,
    );
    const seconds = (Date.now() - started) / 1000;
    log(`operator: node groups done in ${seconds.toFixed(0)} s (${last.status?.progress ?? ""})`);
    return seconds;
  } finally {
    operator.kill("SIGTERM");
  }
}

async function newTemplateVersion(world: World, group: string): Promise<void> {
  const described = (await world.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))).AutoScalingGroups![0];
  const template = described.LaunchTemplate!;
  const images = (await world.ec2.send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: [`amazon-eks-node-al2023-x86_64-standard-${TO}-v*`] }] }))).Images ?? [];
  const image = images.sort((a, b) => b.Name!.localeCompare(a.Name!))[0].ImageId!;
  const created = await world.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: template.LaunchTemplateId, SourceVersion: template.Version, LaunchTemplateData: { ImageId: image } }));
  await world.autoscaling.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: group,
      LaunchTemplate: { LaunchTemplateId: template.LaunchTemplateId, Version: String(created.LaunchTemplateVersion!.VersionNumber) },
      MaxSize: described.DesiredCapacity! * 2,
      DesiredCapacity: described.DesiredCapacity! * 2,
    }),
  );
}

function kubectlDrain(world: World, node: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("kubectl", ["drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=15m"], {
      env: { ...process.env, KUBECONFIG: world.env.kubeconfigPath },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`kubectl drain ${node} failed (exit ${code}): ${stderr}`))));
  });
}

/**
 * What peers do for self-managed nodes: new nodes for the whole group first, then `kubectl drain`
 * of the old ones, `width` at a time (1: a runbook; N: eksctl drain nodegroup --parallel N), then
 * their termination.
 */
async function kubectlRoll(world: World, width: number): Promise<number> {
  const started = Date.now();
  for (const group of groups) {
    const old = (await groupNodes(world, group)).filter((node) => node.kubelet.startsWith(`v${FROM}`));
    await newTemplateVersion(world, group);
    await until(`${old.length} new Ready nodes in ${group}`, async () => ((await groupNodes(world, group)).filter((node) => node.ready && node.kubelet.startsWith(`v${TO}`)).length >= old.length ? true : undefined), 15 * 60_000);
    const queue = old.sort((a, b) => a.node.localeCompare(b.node)).map((node) => node.node);
    await Promise.all(
      Array.from({ length: Math.min(width, queue.length) }, async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) await kubectlDrain(world, next);
      }),
    );
    for (const node of old) await world.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: node.instanceId, ShouldDecrementDesiredCapacity: true }));
    await until(`${group} back to its size`, async () => ((await groupNodes(world, group)).length === old.length ? true : undefined), 10 * 60_000);
    log(`kubectl x${width}: ${group} done after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return (Date.now() - started) / 1000;
}

async function awaitUpdate(world: World, what: string, describe: () => Promise<string | undefined>): Promise<void> {
  await until(
    what,
    async () => {
      const status = await describe();
      if (status === "Failed" || status === "Cancelled") throw new Error(`${what}: the update ended ${status}`);
      return status === "Successful" ? true : undefined;
    },
    60 * 60_000,
  );
}

/**
 * The same nodes as EKS managed node groups (the scenario with kind: managed), each updated by the
 * emulator the way EKS does it, one group after another like the operator; maxUnavailable is the
 * operator's parallelism. The control plane moves first (not timed), as EKS requires.
 */
async function managedRoll(world: World): Promise<number> {
  const cluster = await world.eks.send(new UpdateClusterVersionCommand({ name: CLUSTER, version: TO }));
  await awaitUpdate(world, "the control plane at 1.32", async () => (await world.eks.send(new DescribeUpdateCommand({ name: CLUSTER, updateId: cluster.update!.id! }))).update?.status);
  await until("the cluster ACTIVE", async () => ((await world.eks.send(new DescribeClusterCommand({ name: CLUSTER }))).cluster?.status === "ACTIVE" ? true : undefined), 10 * 60_000);
  const started = Date.now();
  for (const group of groups) {
    const nodegroupName = group.slice(CLUSTER.length + 1);
    await until(`${nodegroupName} ACTIVE`, async () => ((await world.eks.send(new DescribeNodegroupCommand({ clusterName: CLUSTER, nodegroupName }))).nodegroup?.status === "ACTIVE" ? true : undefined), 10 * 60_000);
    const update = await world.eks.send(new UpdateNodegroupVersionCommand({ clusterName: CLUSTER, nodegroupName, version: TO }));
    await awaitUpdate(world, `node group ${nodegroupName} at ${TO}`, async () => (await world.eks.send(new DescribeUpdateCommand({ name: CLUSTER, nodegroupName, updateId: update.update!.id! }))).update?.status);
    log(`managed: ${nodegroupName} done after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return (Date.now() - started) / 1000;
}

/** The scenario with its self-managed groups turned into managed node groups of the same shape. */
function managedScenario(): string {
  const text = readFileSync(scenario, "utf8").replaceAll("kind: self-managed,", `kind: managed, maxUnavailable: ${parallel},`);
  if (!text.includes("kind: managed")) throw new Error(`${scenario}: no self-managed group to turn into a managed one`);
  const path = join(mkdtempSync(join(tmpdir(), "eksup-bench-scenario-")), "large-100-nodes-managed.yaml");
  writeFileSync(path, text);
  return path;
}

async function instancesCheck(world: World): Promise<string> {
  const reservations = (await world.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["running"] }] }))).Reservations ?? [];
  return `${reservations.flatMap((reservation) => reservation.Instances ?? []).length} running instances`;
}

/** A private sandbox seeded with the 100-node scenario; stopped by the caller. */
async function freshWorld(label: string, seededFrom: string): Promise<{ world: World; stop: (keepLogs: boolean) => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `eksup-bench-${label}-`));
  log(`${label}: sandbox in ${dir}; seeding ${seededFrom} (minutes on two cores)`);
  const begun = Date.now();
  const handle = await startSandbox({ dir, ports: "auto", scenario: seededFrom, ownerPid: process.pid, timeFactor: String(timeFactor) });
  log(`${label}: sandbox up and seeded in ${((Date.now() - begun) / 1000).toFixed(0)} s`);
  return { world: worldOf(handle.env), stop: (keepLogs) => handle.stop({ keepLogs }) };
}

interface Measured {
  nodes: number;
  seconds: number;
  budgets: { lowestMargin: number; violations: number };
  load: string;
}

async function measure(label: string, roll: (world: World) => Promise<number>, seededFrom = scenario): Promise<Measured> {
  const { world, stop } = await freshWorld(label, seededFrom);
  let finished = false;
  try {
    const described = (await world.autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
    // Managed node groups have Auto Scaling groups of EKS's naming: count the nodes of the cluster instead.
    const nodes = (await world.core.listNode()).items.filter((node) => described.some((group) => (group.Instances ?? []).some((instance) => node.spec?.providerID?.endsWith(`/${instance.InstanceId}`)))).length;
    log(`${label}: ${nodes} nodes; ${await instancesCheck(world)}`);
    const sampler = new BudgetSampler(world.kubeConfig.makeApiClient(k8s.PolicyV1Api));
    const loadBefore = loadavg()[0];
    const seconds = await roll(world);
    const budgets = await sampler.stop();
    finished = true;
    log(`${label}: ${seconds.toFixed(0)} s, lowest budget margin ${budgets.lowestMargin}, ${budgets.violations} sample(s) below`);
    return { nodes, seconds, budgets, load: `${loadBefore.toFixed(1)} -> ${loadavg()[0].toFixed(1)}` };
  } finally {
    // A failed roll keeps the sandbox's logs (the operator's among them) for the post-mortem.
    await stop(!finished);
  }
}

async function main(): Promise<void> {
  const nodeCount = groups.length * 20;
  // The lower bound: the budgets let a Deployment lose BUDGET_MAX_UNAVAILABLE pods at a time, so
  // replacing its pods takes `rounds` sequential pod starts; and with `parallel` new nodes at a time,
  // the new capacity takes ceil(nodes / surge) boots. Both constraints hold at once; neither hides the other.
  const rounds = Math.ceil(REPLICAS / BUDGET_MAX_UNAVAILABLE);
  const boots = Math.ceil(nodeCount / parallel);
  const bound = Math.max(rounds * POD_READY_MEAN_SECONDS, boots * bootSeconds);
  const boundMin = Math.max(rounds * POD_READY_MIN_SECONDS, boots * bootSeconds);
  log(`rows ${only.join(", ")}; ${nodeCount} nodes; time factor ${timeFactor} (node boot ${bootSeconds.toFixed(1)} s); lower bound ${bound.toFixed(0)} s`);
  const results: [string, Measured][] = [];
  const names: Record<Row, string> = {
    operator: `operator: pipelined roll (maxSurge ${parallel}, maxParallelNodes ${parallel}, maxUnavailable 0), Eviction API paced by the budgets`,
    kubectl: "`kubectl drain` one node at a time (all new nodes first, then drain, then terminate)",
    "kubectl-parallel": `\`kubectl drain\` ${parallel} nodes at a time, like \`eksctl drain nodegroup --parallel ${parallel}\` (all new nodes first)`,
    managed: `EKS managed node groups updated by the emulator (maxUnavailable ${parallel}, surge max(2 x zones, maxUnavailable), 60 s after each drain x time factor)`,
  };
  // Each roll gets its own freshly seeded sandbox: same scenario, same starting point.
  for (const row of ROWS.filter((candidate) => only.includes(candidate))) {
    if (row === "operator") results.push([names[row], await measure(row, operatorRoll)]);
    if (row === "kubectl") results.push([names[row], await measure(row, (world) => kubectlRoll(world, 1))]);
    if (row === "kubectl-parallel") results.push([names[row], await measure(row, (world) => kubectlRoll(world, parallel))]);
    if (row === "managed") results.push([names[row], await measure(row, managedRoll, managedScenario())]);
  }
  const lines = [
    `| Roll of ${nodeCount} nodes (${groups.length} groups of 20, one group after another) | Seconds | Ratio to the bound | Lowest budget margin | Samples below budget | Load average (1 min) before -> after |`,
    "| --- | ---: | ---: | ---: | ---: | --- |",
    ...results.map(([name, result]) => `| ${name} | ${result.seconds.toFixed(0)} | ${(result.seconds / bound).toFixed(1)} | ${result.budgets.lowestMargin} | ${result.budgets.violations} | ${result.load} |`),
    `| lower bound: max(${rounds} budget rounds (${REPLICAS} pods, maxUnavailable ${BUDGET_MAX_UNAVAILABLE}) x kwok pod start (${POD_READY_MEAN_SECONDS} s mean, ${POD_READY_MIN_SECONDS} s min), ${boots} boots (${nodeCount} nodes / surge ${parallel}) x ${bootSeconds.toFixed(1)} s) | ${bound.toFixed(0)} (min ${boundMin.toFixed(0)}) | 1.0 | | | |`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:drain failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
