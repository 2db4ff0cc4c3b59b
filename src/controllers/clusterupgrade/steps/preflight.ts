// Runs the preflight checks and computes the plan before any change and again before each hop's
// control plane (not while an update the operator started is running). Blocking findings stop
// the upgrade; it re-checks by itself and goes on once the cause is gone.
import { collectAfterLargeRead } from "../../../runtime/garbage.js";
import { parseDuration } from "../../../api/v1alpha1/duration.js";
import { planHops } from "../../../api/v1alpha1/version.js";
import { ConditionType, Reason, type Finding, type HopStatus, type Plan, type PlanHop, type PlanNodeGroup } from "../../../api/v1alpha1/types.js";
import type { ManagedNodeGroupInfo } from "../../../cloud/ports.js";
import { batchesOf, orderForRoll } from "../../../drain/batches.js";
import { checkManagedNodeGroups } from "../../../preflight/capacity-checks.js";
import { checkClusterState, checkControlPlaneNetwork } from "../../../preflight/cluster-checks.js";
import { applyPolicy, blocking } from "../../../preflight/findings.js";
import { checkPodDisruptionBudgets, checkReplicaSpread } from "../../../preflight/pdb-checks.js";
import { LABEL_SELF_MANAGED_GROUP, nodeGroupOf, zoneOf, type WorkloadSnapshot } from "../../../kube/workload-snapshot.js";
import { instanceIdOf } from "../../../drain/cordon.js";
import { isNotFound } from "../../../util/errors.js";
import { checkInsights, checkKubeletSkew } from "../../../preflight/version-checks.js";
import { checkPods, checkWorkloadResilience } from "../../../preflight/workload-checks.js";
import { checkWindowFit } from "../../../preflight/window-checks.js";
import { planOtherNodes } from "../../../preflight/other-nodes.js";
import { checkKarpenter } from "../../../preflight/karpenter.js";
import { expectedHop } from "./controlplane.js";
import { CONTINUE, waitFor, type Step, type StepContext } from "../context.js";
import { chooseAddonVersion, compareAddonVersions, LATE_ADDONS, orderAddons } from "./addons.js";
import { recordFindings } from "./record-findings.js";
import { orderNodeGroups } from "./nodegroups.js";

/** The first hop not yet done, if any. */
function currentHop(context: StepContext): HopStatus | undefined {
  return context.status.hops?.find((hop) => hop.stage !== "Done");
}

/** Checks run before anything starts and before each control-plane hop; never while one is followed. */
export function needsPreflight(context: StepContext): boolean {
  if (!context.status.hops?.length) return true;
  const hop = currentHop(context);
  if (!hop) return false;
  if (hop.from === hop.version) return hop.stage === "Addons" && !(context.status.addons ?? []).some((addon) => addon.hop === hop.version);
  if (hop.stage !== "ControlPlane") return false;
  // A failed update is retried only after the checks pass again: a cause still present (subnets
  // still starved) keeps the upgrade blocked instead of sending EKS the same doomed request.
  if (hop.state === "Failed") return !hop.nextAttemptAt || Date.parse(hop.nextAttemptAt) <= context.now.getTime();
  return !hop.updateId && !hop.clientRequestToken;
}

interface Gathered {
  findings: Finding[];
  plan: Plan;
  overridden: { code: string; reason: string; resource: string }[];
  /** How many objects the snapshot held (no longer held once gather returns). */
  objectsRead: number;
}

function prefixDelegationEnabled(snapshot: WorkloadSnapshot): boolean {
  const awsNode = snapshot.daemonSets.find((daemonSet) => daemonSet.metadata?.namespace === "kube-system" && daemonSet.metadata?.name === "aws-node");
  return awsNode?.spec?.template.spec?.containers.some((container) => container.env?.some((env) => env.name === "ENABLE_PREFIX_DELEGATION" && env.value === "true")) ?? false;
}

async function describeRolledGroups(context: StepContext): Promise<ManagedNodeGroupInfo[]> {
  const clusterName = context.spec.cluster.name;
  const { ordered } = orderNodeGroups(await context.cloud.eks.listNodegroups(clusterName), context.spec.nodeGroups.order, context.spec.nodeGroups.exclude);
  return Promise.all(ordered.map((name) => context.cloud.eks.describeNodegroup(clusterName, name)));
}

async function planAddons(context: StepContext, hops: string[]): Promise<{ perHop: Map<string, { name: string; from: string; to: string }[]>; findings: Finding[] }> {
  const clusterName = context.spec.cluster.name;
  const skipped = new Set(context.spec.addons.skip);
  const names = orderAddons((await context.cloud.eks.listAddons(clusterName)).filter((name) => !skipped.has(name)));
  const perHop = new Map<string, { name: string; from: string; to: string }[]>(hops.map((hop) => [hop, []]));
  const findings: Finding[] = [];
  for (const name of names) {
    let version = (await context.cloud.eks.describeAddon(clusterName, name)).version;
    for (const [index, hop] of hops.entries()) {
      const pinned = index === hops.length - 1 ? context.spec.addons.pinned.find((pin) => pin.name === name)?.version : undefined;
      const target = chooseAddonVersion(await context.cloud.eks.listAddonVersions(name, hop), context.spec.addons.policy, pinned);
      if (!target) {
        findings.push(blocking("VER002", `Addon/${name}`, pinned ? `add-on ${name}: pinned version ${pinned} is not compatible with Kubernetes ${hop}` : `add-on ${name} has no version compatible with Kubernetes ${hop}`, `pick a compatible version (aws eks describe-addon-versions --addon-name ${name} --kubernetes-version ${hop}) or add it to spec.addons.skip`));
        break;
      }
      const to = compareAddonVersions(version, target) >= 0 ? version : target;
      perHop.get(hop)!.push({ name, from: version, to });
      version = to;
    }
  }
  // kube-proxy moves after the nodes: list it last in each hop.
  for (const [hop, entries] of perHop) perHop.set(hop, [...entries.filter((entry) => !LATE_ADDONS.has(entry.name)), ...entries.filter((entry) => LATE_ADDONS.has(entry.name))]);
  return { perHop, findings };
}

/** Nodes drained at once in a self-managed group: a wave's surge plus maxUnavailable, within maxParallelNodes. */
function selfManagedParallelism(context: StepContext): number {
  return Math.max(1, Math.min(context.spec.nodeGroups.maxSurge + context.spec.nodeGroups.maxUnavailable, context.spec.drain.maxParallelNodes));
}

/** An Auto Scaling group named in spec.nodeGroups.selfManaged: its instances, or missing. */
type SelfManagedGroup = { name: string; instanceIds: Set<string> } | { name: string; missing: true };

/**
 * Describes the self-managed groups to roll. It needs no snapshot, so it runs while the cluster is
 * read; the groups are described one after another, as few as a spec names.
 */
async function describeSelfManagedGroups(context: StepContext): Promise<SelfManagedGroup[]> {
  const excluded = new Set(context.spec.nodeGroups.exclude);
  const described: SelfManagedGroup[] = [];
  for (const { autoScalingGroupName: name } of context.spec.nodeGroups.selfManaged.filter((group) => !excluded.has(group.autoScalingGroupName))) {
    try {
      const group = await context.cloud.autoscaling.describeGroup(name);
      described.push({ name, instanceIds: new Set(group.instances.map((instance) => instance.id)) });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      described.push({ name, missing: true });
    }
  }
  return described;
}

/**
 * Names each node of the spec's self-managed groups after its Auto Scaling group (in the snapshot
 * only), and reports groups that do not exist.
 */
function tagSelfManagedNodes(described: SelfManagedGroup[], snapshot: WorkloadSnapshot): { names: string[]; findings: Finding[] } {
  const names: string[] = [];
  const findings: Finding[] = [];
  for (const group of described) {
    if ("missing" in group) {
      findings.push(blocking("NG003", `AutoScalingGroup/${group.name}`, `Auto Scaling group ${group.name} named in spec.nodeGroups.selfManaged does not exist in this region`, "correct the name (aws autoscaling describe-auto-scaling-groups), or remove it from spec.nodeGroups.selfManaged"));
      continue;
    }
    for (const node of snapshot.nodes) {
      const id = instanceIdOf(node);
      if (id && group.instanceIds.has(id)) node.metadata = { ...node.metadata, labels: { ...node.metadata?.labels, [LABEL_SELF_MANAGED_GROUP]: group.name } };
    }
    names.push(group.name);
  }
  return { names, findings };
}

function planNodeGroups(context: StepContext, groups: ManagedNodeGroupInfo[], selfManaged: string[], snapshot: WorkloadSnapshot): PlanNodeGroup[] {
  const upgradeUid = context.upgrade.metadata.uid ?? context.upgrade.metadata.name;
  const nodesOf = (name: string): { name: string; uid: string; zone: string }[] =>
    snapshot.nodes.filter((node) => nodeGroupOf(node) === name).map((node) => ({ name: node.metadata?.name ?? "", uid: node.metadata?.uid ?? node.metadata?.name ?? "", zone: zoneOf(node) }));
  const selfManagedPlans: PlanNodeGroup[] = selfManaged.map((name) => {
    const nodes = nodesOf(name);
    return { name, kind: "SelfManaged", nodeCount: nodes.length, batches: batchesOf(orderForRoll(nodes, upgradeUid), selfManagedParallelism(context)).map((batch) => batch.map((node) => node.name)) };
  });
  const managedPlans: PlanNodeGroup[] = groups.map((group) => {
    const nodes = snapshot.nodes
      .filter((node) => nodeGroupOf(node) === group.name)
      .map((node) => ({ name: node.metadata?.name ?? "", uid: node.metadata?.uid ?? node.metadata?.name ?? "", zone: zoneOf(node) }));
    const parallel = context.spec.nodeGroups.managed.find((entry) => entry.name === group.name)?.maxUnavailable ?? group.maxUnavailable ?? context.spec.nodeGroups.maxUnavailable;
    return { name: group.name, kind: "Managed", nodeCount: nodes.length, batches: batchesOf(orderForRoll(nodes, upgradeUid), parallel).map((batch) => batch.map((node) => node.name)) };
  });
  const order = orderNodeGroups([...managedPlans, ...selfManagedPlans].map((plan) => plan.name), context.spec.nodeGroups.order, []).ordered;
  return [...managedPlans, ...selfManagedPlans].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
}

async function gather(context: StepContext): Promise<Gathered> {
  const cluster = context.cluster!;
  const live = cluster.version;
  const hops = planHops(live, context.spec.targetVersion);
  const checkedHops = hops.length ? hops : [live];
  const reader = await context.workloads();
  // Every AWS read that does not need the snapshot runs while the cluster is read: at 60,000 pods
  // the snapshot takes seconds, and nothing after it waits on AWS.
  const [snapshot, [groups, subnets], existingSecurityGroupIds, describedSelfManaged, insights, addonPlan] = await Promise.all([
    reader.snapshot({ nodePools: true }),
    // The subnets to check are the cluster's and those of the managed groups it rolls.
    describeRolledGroups(context).then(async (groups) => {
      const subnetIds = [...new Set([...cluster.subnetIds, ...groups.flatMap((group) => group.subnetIds)])];
      return [groups, await context.cloud.ec2.describeSubnets(subnetIds)] as const;
    }),
    context.cloud.ec2.existingSecurityGroups(cluster.securityGroupIds),
    describeSelfManagedGroups(context),
    // Rollback readiness speaks of the way back, not of this upgrade: the rollback step reads it.
    context.cloud.eks.listInsights(cluster.name).then((all) => all.filter((insight) => insight.category !== "ROLLBACK_READINESS")),
    planAddons(context, checkedHops),
  ]);
  const selfManaged = tagSelfManagedNodes(describedSelfManaged, snapshot);
  const controlPlane = { cluster, subnets: subnets.filter((subnet) => cluster.subnetIds.includes(subnet.id)), existingSecurityGroupIds, ownUpdateInFlight: false };
  const rolled = new Set([...groups.map((group) => group.name), ...selfManaged.names]);
  const parallelByGroup = new Map([
    ...groups.map((group): [string, number] => [group.name, context.spec.nodeGroups.managed.find((entry) => entry.name === group.name)?.maxUnavailable ?? group.maxUnavailable ?? 1]),
    ...selfManaged.names.map((name): [string, number] => [name, selfManagedParallelism(context)]),
  ]);
  // Who drains each rolled group decides which pods it refuses: EKS for managed groups, the
  // operator's drain engine, under spec.drain, for self-managed ones.
  const drainers = new Map<string, "Operator" | "EKS">([
    ...groups.map((group): [string, "EKS"] => [group.name, "EKS"]),
    ...selfManaged.names.map((name): [string, "Operator"] => [name, "Operator"]),
  ]);
  const hopDuration = expectedHop(context);
  const insightResult = checkInsights(insights, hops, context.spec.preflight.insightOverrides);
  const findings = [
    ...checkClusterState(controlPlane),
    ...checkControlPlaneNetwork(controlPlane),
    ...checkManagedNodeGroups(groups, subnets, prefixDelegationEnabled(snapshot)),
    ...checkPodDisruptionBudgets(snapshot, rolled),
    ...checkReplicaSpread(snapshot, parallelByGroup),
    ...checkPods(snapshot, { rolledGroups: drainers, drain: context.spec.drain }),
    ...checkWorkloadResilience(snapshot, { criticalNamespaces: context.spec.preflight.criticalNamespaces }),
    ...checkKubeletSkew(snapshot.nodes, hops, live, rolled),
    ...insightResult.findings,
    ...addonPlan.findings,
    ...selfManaged.findings,
    ...checkKarpenter({ snapshot, hops: checkedHops, windows: context.spec.maintenanceWindows, now: context.now, drainTimeout: context.spec.drain.timeout }),
    ...checkWindowFit({
      windows: context.spec.maintenanceWindows,
      pendingHops: hops.map((version, index) => `${index === 0 ? live : hops[index - 1]} -> ${version}`),
      expectedHopMs: hopDuration.ms,
      expectedFrom: hopDuration.from,
    }),
  ];
  const nodeGroups = planNodeGroups(context, groups, selfManaged.names, snapshot);
  const planHopsList: PlanHop[] = checkedHops.map((version, index) => ({
    from: index === 0 ? live : checkedHops[index - 1],
    to: version,
    controlPlane: hops.length > 0,
    addons: addonPlan.perHop.get(version) ?? [],
    nodeGroups,
    ...(context.spec.bake && hops.length > 0
      ? { bake: `after the control plane reaches ${version}, add-ons move only to versions that also support ${index === 0 ? live : checkedHops[index - 1]}, and the nodes stay on ${index === 0 ? live : checkedHops[index - 1]} for ${context.spec.bake.duration} while the gates are read; then the rest move` }
      : {}),
  }));
  const unordered = orderNodeGroups(nodeGroups.map((group) => group.name), context.spec.nodeGroups.order, []).unordered;
  const otherNodes = planOtherNodes(snapshot);
  return {
    findings,
    plan: { computedAt: context.now.toISOString(), hops: planHopsList, ...(unordered.length ? { unorderedNodeGroups: unordered } : {}), ...(otherNodes.length ? { otherNodes } : {}) },
    overridden: insightResult.overridden.map(({ insight, reason }) => ({ code: "INS001", reason, resource: `UpgradeInsight/${insight.id}` })),
    objectsRead: snapshot.nodes.length + snapshot.pods.length + snapshot.pdbs.length + snapshot.deployments.length + snapshot.statefulSets.length + snapshot.replicaSets.length + snapshot.daemonSets.length,
  };
}

export const preflightStep: Step = {
  name: "preflight",
  async run(context) {
    if (!needsPreflight(context)) return CONTINUE;
    const gathered = await gather(context);
    // The snapshot is garbage now; on a large cluster it is given back before the next step.
    collectAfterLargeRead(gathered.objectsRead);
    const findings = applyPolicy(gathered.findings, context.spec.preflight);
    const previousOverrides = new Set((context.status.preflight?.overrides ?? []).map((override) => override.resource));
    for (const override of gathered.overridden) {
      if (!previousOverrides.has(override.resource)) context.event("Warning", "InsightOverridden", `${override.resource} is ERROR but overridden by the spec: ${override.reason}`);
    }
    context.status.plan = gathered.plan;
    const blockingFindings = recordFindings(context, findings, gathered.overridden, "");
    if (blockingFindings.length > 0) {
      // A dry run reports the findings with the plan and stops; a real run waits and re-checks.
      if (context.spec.dryRun) return CONTINUE;
      return waitFor(parseDuration(context.spec.preflight.recheckInterval), "preflight blocked");
    }
    const warnings = findings.length - blockingFindings.length;
    context.setCondition(ConditionType.PreflightPassed, "True", Reason.ChecksPassed, warnings ? `passed with ${warnings} warning(s): ${[...new Set(findings.map((finding) => finding.code))].join(", ")}` : "all checks passed");
    return CONTINUE;
  },
};
