// npm run bench:drain: the operator's roll of the 100-node scenario's self-managed groups against a
// baseline that replaces the same nodes the way peer tools do by default (new nodes first, then
// `kubectl drain` of the old ones one by one, then their termination), in one run on one private
// sandbox, with the lower bound the PodDisruptionBudgets allow. Prints a Markdown table.
//
//   npm run bench:drain                      # all five groups, 100 nodes
//   npm run bench:drain -- --groups 2        # the first two groups only (40 nodes)
//   npm run bench:drain -- --parallel 20     # the operator's maxSurge and maxParallelNodes
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, TerminateInstanceInAutoScalingGroupCommand, UpdateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateVersionCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { installCrd } from "../sandbox/crd.js";
import { startSandbox } from "../sandbox/runtime/supervisor.js";
import type { SandboxEnv } from "../sandbox/runtime/env.js";
import type { ClusterUpgrade } from "../src/api/v1alpha1/types.js";

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

const { values } = parseArgs({ options: { groups: { type: "string", default: "5" }, parallel: { type: "string", default: "10" } } });
const groupCount = Math.min(5, Math.max(1, Number(values.groups)));
const parallel = Math.max(1, Number(values.parallel));
const groups = Array.from({ length: groupCount }, (_, index) => `${CLUSTER}-pool-${index + 1}`);

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface World {
  env: SandboxEnv;
  kubeConfig: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  autoscaling: AutoScalingClient;
  ec2: EC2Client;
}

function worldOf(env: SandboxEnv): World {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(env.kubeconfigPath);
  const aws = { region: env.awsRegion, endpoint: env.awsEndpointUrl, credentials: { accessKeyId: env.awsAccessKeyId, secretAccessKey: env.awsSecretAccessKey } };
  return { env, kubeConfig, core: kubeConfig.makeApiClient(k8s.CoreV1Api), autoscaling: new AutoScalingClient(aws), ec2: new EC2Client(aws) };
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
    const objects = world.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const ref = { group: "eksupgrade.io", version: "v1alpha1", plural: "clusterupgrades", namespace: "bench" };
    await objects.createNamespacedCustomObject({
      ...ref,
      body: {
        apiVersion: "eksupgrade.io/v1alpha1",
        kind: "ClusterUpgrade",
        metadata: { name: "roll" },
        spec: {
          cluster: { name: CLUSTER },
          targetVersion: TO,
          nodeGroups: { order: groups, exclude: [], selfManaged: groups.map((autoScalingGroupName) => ({ autoScalingGroupName })), maxSurge: parallel, maxUnavailable: 0 },
          drain: { maxParallelNodes: parallel, evictionRetryInterval: "1s" },
          preflight: { ignore: [{ code: "WRK003", reason: "benchmark workloads have no readiness probes" }] },
        },
      },
    });
    const read = async (): Promise<ClusterUpgrade> => (await objects.getNamespacedCustomObject({ ...ref, name: "roll" })) as ClusterUpgrade;
    await until("the node group stage", async () => ((await read()).status?.hops?.[0]?.stage === "NodeGroups" ? true : undefined), 15 * 60_000);
    const started = Date.now();
    log(`operator: node groups started (${groups.length} groups, waves of ${parallel})`);
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

/** What peers do by default: new nodes for the whole group first, then `kubectl drain` of each old node in turn. */
async function kubectlRoll(world: World): Promise<number> {
  const started = Date.now();
  for (const group of groups) {
    const old = (await groupNodes(world, group)).filter((node) => node.kubelet.startsWith(`v${FROM}`));
    await newTemplateVersion(world, group);
    await until(`${old.length} new Ready nodes in ${group}`, async () => ((await groupNodes(world, group)).filter((node) => node.ready && node.kubelet.startsWith(`v${TO}`)).length >= old.length ? true : undefined), 15 * 60_000);
    for (const node of old.sort((a, b) => a.node.localeCompare(b.node))) {
      const drained = spawnSync("kubectl", ["drain", node.node, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=15m"], {
        env: { ...process.env, KUBECONFIG: world.env.kubeconfigPath },
        encoding: "utf8",
      });
      if (drained.status !== 0) throw new Error(`kubectl drain ${node.node} failed: ${drained.stderr}`);
    }
    for (const node of old) await world.autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: node.instanceId, ShouldDecrementDesiredCapacity: true }));
    await until(`${group} back to its size`, async () => ((await groupNodes(world, group)).length === old.length ? true : undefined), 10 * 60_000);
    log(`kubectl: ${group} done after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return (Date.now() - started) / 1000;
}

async function instancesCheck(world: World): Promise<string> {
  const reservations = (await world.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["running"] }] }))).Reservations ?? [];
  return `${reservations.flatMap((reservation) => reservation.Instances ?? []).length} running instances`;
}

/** A private sandbox seeded with the 100-node scenario; stopped by the caller. */
async function freshWorld(label: string): Promise<{ world: World; stop: (keepLogs: boolean) => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `eksup-bench-${label}-`));
  log(`${label}: sandbox in ${dir}; seeding ${scenario} (several minutes on two cores)`);
  const handle = await startSandbox({ dir, ports: "auto", scenario, ownerPid: process.pid });
  return { world: worldOf(handle.env), stop: (keepLogs) => handle.stop({ keepLogs }) };
}

async function measure(label: string, roll: (world: World) => Promise<number>): Promise<{ nodes: number; seconds: number; budgets: { lowestMargin: number; violations: number }; load: string }> {
  const { world, stop } = await freshWorld(label);
  let finished = false;
  try {
    const nodes = (await Promise.all(groups.map((group) => groupNodes(world, group)))).flat().length;
    log(`${label}: ${nodes} nodes in ${groups.join(", ")}; ${await instancesCheck(world)}`);
    const sampler = new BudgetSampler(world.kubeConfig.makeApiClient(k8s.PolicyV1Api));
    const loadBefore = loadavg()[0];
    const seconds = await roll(world);
    const budgets = await sampler.stop();
    finished = true;
    return { nodes, seconds, budgets, load: `${loadBefore.toFixed(1)} -> ${loadavg()[0].toFixed(1)}` };
  } finally {
    // A failed roll keeps the sandbox's logs (the operator's among them) for the post-mortem.
    await stop(!finished);
  }
}

async function main(): Promise<void> {
  // Each roll gets its own freshly seeded sandbox: same scenario, same starting point.
  const operator = await measure("operator", operatorRoll);
  const baseline = await measure("kubectl", kubectlRoll);
  const rounds = Math.ceil(REPLICAS / BUDGET_MAX_UNAVAILABLE);
  const rows = [
    [`operator: waves of ${parallel} (maxSurge ${parallel}, maxParallelNodes ${parallel}), Eviction API`, operator],
    ["baseline: all new nodes first, then `kubectl drain` one node at a time, then terminate", baseline],
  ] as const;
  const lines = [
    `| Roll of ${operator.nodes} self-managed nodes (${groups.length} groups) | Seconds | Lowest budget margin | Samples below budget | Load average (1 min) before -> after |`,
    "| --- | ---: | ---: | ---: | --- |",
    ...rows.map(([name, result]) => `| ${name} | ${result.seconds.toFixed(0)} | ${result.budgets.lowestMargin} | ${result.budgets.violations} | ${result.load} |`),
    `| lower bound from the budgets: ${rounds} sequential replacement rounds per Deployment (${REPLICAS} pods, maxUnavailable ${BUDGET_MAX_UNAVAILABLE}) x kwok's pod-ready latency (${POD_READY_MIN_SECONDS} s min, ${POD_READY_MEAN_SECONDS} s mean) | ${rounds * POD_READY_MIN_SECONDS} / ${(rounds * POD_READY_MEAN_SECONDS).toFixed(0)} | | | |`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:drain failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
