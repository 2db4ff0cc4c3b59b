// The chaos suite's world (sandbox/scenarios/chaos.yaml) and the two upgrades it runs at once: a
// two-hop in-place upgrade of cluster demo (its managed group "general" rolled by EKS, its
// self-managed group "demo-legacy" by the operator) and a blue/green cutover from blue to green.
// It takes the snapshots the invariants compare (before and after) and judges each upgrade.
import * as k8s from "@kubernetes/client-node";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeLaunchTemplatesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeNodegroupCommand, EKSClient } from "@aws-sdk/client-eks";
import { ListHostedZonesByNameCommand, ListResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { ClusterUpgrade } from "../../src/api/v1alpha1/types.js";
import { BudgetWatcher } from "../support/budgets.js";
import { sandboxAwsClientConfig, sandboxEnv } from "../support/global-sandbox.js";
import { condition, emulatorCalls, emulatorClusterSettings, UpgradeWorld } from "../support/upgrades.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";
import {
  groupsRestored,
  nodesClean,
  noSecretsIn,
  onePerHop,
  phasesNotifiedOnce,
  templateVersionsAsNeeded,
  weightsAt,
  type GroupSnapshot,
  type NodeSnapshot,
  type Secret,
  type TemplateVersions,
  type Verdict,
} from "./invariants.js";

export type ScenarioId = "inplace" | "bluegreen";

export const SCENARIO_TITLES: Record<ScenarioId, string> = {
  inplace: "in-place 1.29->1.31, managed + self-managed",
  bluegreen: "blue/green cutover blue->green",
};

/** The invariants, in the table's column order. */
export const INVARIANTS = ["calls", "budgets", "nodes", "groups", "templates", "route53", "notified", "secrets"] as const;
export type InvariantId = (typeof INVARIANTS)[number];

const HOPS = ["1.30", "1.31"];
const RECORD = "www.shop.example.com";
const WEBHOOK_SECRET = "chaos-webhook";
const TERMINAL = new Set(["Succeeded", "Failed", "Aborted", "InvalidSpec"]);

/** The ClusterUpgrades, by scenario. */
const UPGRADE_NAMES: Record<ScenarioId, string> = { inplace: "inplace", bluegreen: "cutover" };

export interface Before {
  groups: GroupSnapshot[];
  templates: TemplateVersions;
  /** New launch template versions the in-place roll needs, by template id: one per hop for each rolled group. */
  neededVersions: Record<string, number>;
}

export interface UpgradeOutcome {
  scenario: ScenarioId;
  appliedAt: number;
  /** When it was first seen in a terminal phase (epoch ms). */
  endedAt?: number;
  phase: string;
  /** The Ready condition's message at the end. */
  message: string;
  upgrade?: ClusterUpgrade;
}

export class ChaosWorld {
  readonly outcomes = new Map<ScenarioId, UpgradeOutcome>();
  private zoneId = "";

  private constructor(
    readonly world: UpgradeWorld,
    readonly webhook: WebhookReceiver,
  ) {}

  /**
   * Resets the sandbox to the chaos scenario (cluster demo's control-plane updates taking
   * `controlPlaneUpdateSeconds` when given) and puts the webhook's URL in a Secret.
   */
  static async prepare(controlPlaneUpdateSeconds?: number): Promise<ChaosWorld> {
    const world = await UpgradeWorld.prepare("chaos");
    if (controlPlaneUpdateSeconds !== undefined) await emulatorClusterSettings("demo", { controlPlaneUpdateSeconds });
    const webhook = await WebhookReceiver.start();
    await world.kubeConfig.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
      namespace: world.namespace,
      body: { metadata: { name: WEBHOOK_SECRET }, stringData: { url: webhook.url } },
    });
    const chaos = new ChaosWorld(world, webhook);
    const zones = await new Route53Client(sandboxAwsClientConfig()).send(new ListHostedZonesByNameCommand({ DNSName: "shop.example.com" }));
    chaos.zoneId = zones.HostedZones!.find((zone) => zone.Name === "shop.example.com.")!.Id!.replace("/hostedzone/", "");
    return chaos;
  }

  watchBudgets(): Promise<BudgetWatcher> {
    return BudgetWatcher.start(this.world.kubeConfig);
  }

  async snapshot(): Promise<Before> {
    const groups = await groupSnapshots();
    const templates = await templateVersions();
    // The roll adds a launch template version per hop: the operator to demo-legacy's template, EKS
    // (the emulator) to the managed group's.
    const eks = new EKSClient({ ...sandboxAwsClientConfig(), endpoint: sandboxEnv().eksEndpointUrl });
    const general = (await eks.send(new DescribeNodegroupCommand({ clusterName: "demo", nodegroupName: "general" }))).nodegroup!;
    const rolled = ["demo-legacy", general.resources!.autoScalingGroups![0].name!];
    const neededVersions: Record<string, number> = {};
    for (const name of rolled) {
      const id = groups.find((group) => group.name === name)?.launchTemplateId;
      if (!id) throw new Error(`Auto Scaling group ${name} has no launch template: the chaos scenario changed`);
      neededVersions[id] = HOPS.length;
    }
    return { groups, templates, neededVersions };
  }

  spec(scenario: ScenarioId, options: { trafficSteps: number[]; stepInterval: string }): Record<string, unknown> {
    const notifications = { webhookSecretRef: { name: WEBHOOK_SECRET, key: "url" } };
    if (scenario === "inplace") {
      return {
        cluster: { name: "demo" },
        targetVersion: "1.31",
        nodeGroups: { order: ["demo-legacy", "general"], selfManaged: [{ autoScalingGroupName: "demo-legacy" }], maxSurge: 1, maxUnavailable: 0 },
        // The cache's emptyDir is a scratch copy (see sandbox/demo/clusterupgrade.yaml).
        drain: { evictionRetryInterval: "1s", deleteEmptyDirData: true },
        notifications,
      };
    }
    return {
      cluster: { name: "blue" },
      targetVersion: "1.31",
      strategy: "BlueGreen",
      blueGreen: {
        greenCluster: { name: "green" },
        verify: { workloads: [{ kind: "Deployment", namespace: "shop", name: "storefront" }] },
        route53: { hostedZoneId: this.zoneId, recordName: RECORD, blueSetIdentifier: "blue", greenSetIdentifier: "green" },
        trafficSteps: options.trafficSteps,
        stepInterval: options.stepInterval,
      },
      notifications,
    };
  }

  async apply(scenario: ScenarioId, spec: Record<string, unknown>): Promise<void> {
    await this.world.apply(UPGRADE_NAMES[scenario], spec);
    this.outcomes.set(scenario, { scenario, appliedAt: Date.now(), phase: "(not read yet)", message: "" });
  }

  /** Polls every upgrade until each is in a terminal phase or the deadline passes; records when each ended. */
  async awaitEnd(deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      for (const outcome of this.outcomes.values()) {
        if (outcome.endedAt) continue;
        try {
          const upgrade = await this.world.read(UPGRADE_NAMES[outcome.scenario]);
          outcome.upgrade = upgrade;
          outcome.phase = upgrade.status?.phase ?? "(none)";
          outcome.message = condition(upgrade, "Ready")?.message ?? "";
          if (TERMINAL.has(outcome.phase)) outcome.endedAt = Date.now();
        } catch {
          // The API server is not faulted; a failed read is retried on the next poll.
        }
      }
      if ([...this.outcomes.values()].every((outcome) => outcome.endedAt)) return;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  /**
   * Waits until each ended upgrade has no notification pending (the operator posts the last one
   * after the status write that records it), up to the deadline; returns the final objects.
   */
  async awaitNotifications(deadline: number): Promise<void> {
    for (const outcome of this.outcomes.values()) {
      while (Date.now() < deadline) {
        const upgrade = await this.world.read(UPGRADE_NAMES[outcome.scenario]);
        outcome.upgrade = upgrade;
        if ((upgrade.status?.notifications?.pending?.length ?? 0) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  async weights(): Promise<Record<string, number>> {
    const sets = (await new Route53Client(sandboxAwsClientConfig()).send(new ListResourceRecordSetsCommand({ HostedZoneId: this.zoneId }))).ResourceRecordSets ?? [];
    return Object.fromEntries(sets.filter((set) => set.Name === `${RECORD}.` && set.SetIdentifier).map((set) => [set.SetIdentifier!, set.Weight!]));
  }

  /** The verdicts of one upgrade; `shared` are the world-wide ones (budgets, nodes, groups, templates, secrets). */
  async judge(scenario: ScenarioId, shared: Pick<Record<InvariantId, Verdict>, "budgets" | "nodes" | "groups" | "templates" | "secrets">): Promise<Record<InvariantId, Verdict | undefined>> {
    const outcome = this.outcomes.get(scenario)!;
    const name = UPGRADE_NAMES[scenario];
    const deliveries = this.webhook.for(`${this.world.namespace}/${name}`);
    const notified = phasesNotifiedOnce(deliveries, outcome.upgrade?.status?.notifications, outcome.phase);
    if (scenario === "inplace") {
      const calls = await emulatorCalls("demo");
      const cluster = onePerHop(calls, "UpdateClusterVersion", HOPS, "demo");
      const nodegroup = onePerHop(
        calls.filter((call) => call.nodegroupName === "general"),
        "UpdateNodegroupVersion",
        HOPS,
        "general",
      );
      return { ...shared, calls: both(cluster, nodegroup), route53: undefined, notified };
    }
    // A cutover changes neither cluster's version.
    const [blue, green] = await Promise.all([emulatorCalls("blue"), emulatorCalls("green")]);
    const calls = both(
      both(onePerHop(blue, "UpdateClusterVersion", [], "blue"), onePerHop(blue, "UpdateNodegroupVersion", [], "blue")),
      both(onePerHop(green, "UpdateClusterVersion", [], "green"), onePerHop(green, "UpdateNodegroupVersion", [], "green")),
    );
    return { ...shared, calls, route53: weightsAt(await this.weights(), { blue: 0, green: 255 }), notified };
  }

  async close(): Promise<void> {
    await this.webhook.close();
  }
}

function both(first: Verdict, second: Verdict): Verdict {
  return { ok: first.ok && second.ok, detail: `${first.detail}; ${second.detail}` };
}

export async function groupSnapshots(): Promise<GroupSnapshot[]> {
  const groups = (await new AutoScalingClient(sandboxAwsClientConfig()).send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
  return groups.map((group) => ({
    name: group.AutoScalingGroupName!,
    min: group.MinSize!,
    max: group.MaxSize!,
    desired: group.DesiredCapacity!,
    suspended: (group.SuspendedProcesses ?? []).map((process) => process.ProcessName!).sort(),
    launchTemplateId: group.LaunchTemplate?.LaunchTemplateId ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.LaunchTemplateId,
  }));
}

export async function templateVersions(): Promise<TemplateVersions> {
  const templates = (await new EC2Client(sandboxAwsClientConfig()).send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates ?? [];
  return Object.fromEntries(templates.map((template) => [template.LaunchTemplateId!, { name: template.LaunchTemplateName!, latest: template.LatestVersionNumber! }]));
}

export async function nodeSnapshots(kubeConfig: k8s.KubeConfig): Promise<NodeSnapshot[]> {
  const nodes = (await kubeConfig.makeApiClient(k8s.CoreV1Api).listNode()).items;
  return nodes.map((node) => ({
    name: node.metadata!.name!,
    unschedulable: node.spec?.unschedulable === true,
    keys: [...Object.keys(node.metadata?.labels ?? {}), ...Object.keys(node.metadata?.annotations ?? {})],
  }));
}

/** The secrets no operator log may show: its AWS secret key, its ServiceAccount token, the webhook URL's token. */
export function operatorSecrets(options: { awsSecretAccessKey: string; kubeconfigPath: string; webhook: WebhookReceiver }): Secret[] {
  const kubeconfig = parse(readFileSync(options.kubeconfigPath, "utf8")) as { users?: { user?: { token?: string } }[] };
  const token = kubeconfig.users?.find((user) => user.user?.token)?.user?.token;
  if (!token) throw new Error(`${options.kubeconfigPath} holds no ServiceAccount token`);
  return [
    { what: "the AWS secret access key", value: options.awsSecretAccessKey },
    { what: "the ServiceAccount token", value: token },
    { what: "the webhook URL's secret token", value: options.webhook.token },
  ];
}

export function secretsVerdict(logPaths: readonly string[], secrets: readonly Secret[]): Verdict {
  return noSecretsIn(
    logPaths.map((path) => ({ path, text: readFileSync(path, "utf8") })),
    secrets,
  );
}

export { groupsRestored, nodesClean, templateVersionsAsNeeded };
