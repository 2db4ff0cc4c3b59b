// Node groups in the spec's order (then the rest by name), one group at a time. Managed node groups
// move to each hop's version before the next control-plane hop (EKS's lock-step rule): EKS runs
// their rolling update itself (surge, cordon, eviction honouring PDBs, PodEvictionFailure after 15
// minutes unless forced) and the operator starts it once and follows it. Self-managed Auto Scaling
// groups are rolled by the operator itself (self-managed.ts, src/nodegroups/self-managed-roll/).
import { compareMinor } from "../../../api/v1alpha1/version.js";
import { createHash } from "node:crypto";
import { ConditionType, Reason, type HopStatus, type ManagedGroupSpec, type NodeGroupStatus, type UpdateError } from "../../../api/v1alpha1/types.js";
import type { ManagedNodeGroupInfo } from "../../../cloud/ports.js";
import { describeBudget } from "../../../drain/engine.js";
import { budgetsFor, podName } from "../../../kube/workload-snapshot.js";
import { describeError, isConflict, isValidation } from "../../../util/errors.js";
import { waitFor, type StepContext, type StepResult } from "../context.js";
import { MAX_KUBELET_SKEW } from "../../../preflight/version-checks.js";
import { nodesOfGroup, rollsInHop } from "../../../nodegroups/self-managed-roll/plan.js";
import { advanceSelfManagedGroup } from "./self-managed.js";
import { describeUpdateErrors, followTrackedUpdate, gateFailedRetry, recordUpdateFailure, remediationFor, resetForRetry } from "./tracked-update.js";

/** Groups in spec.nodeGroups.order first, in that order; then the rest by name. Excluded groups never. */
export function orderNodeGroups(present: string[], order: string[], exclude: string[]): { ordered: string[]; unordered: string[] } {
  const excluded = new Set(exclude);
  const available = present.filter((name) => !excluded.has(name));
  const first = order.filter((name) => available.includes(name));
  const unordered = available.filter((name) => !order.includes(name)).sort((a, b) => a.localeCompare(b));
  return { ordered: [...first, ...unordered], unordered };
}

function failGroup(context: StepContext, entry: NodeGroupStatus, text: string, remediation: string): StepResult {
  return recordUpdateFailure(context, entry, {
    text,
    condition: ConditionType.NodeGroupsUpgraded,
    conditionMessage: (next) => `node group ${entry.name} -> ${entry.targetVersion}: ${text}. To fix: ${remediation}. Next attempt at ${next}.`,
    event: { reason: "NodeGroupUpdateFailed", message: `${entry.name} -> ${entry.targetVersion}: ${text}` },
    waiting: "node group update failed",
  });
}

/**
 * For a PodEvictionFailure: the budgets that cover the pods EKS names (in resourceIds or in its
 * message, as namespace/name), with what they allow now, so the condition says who holds the roll.
 */
async function budgetsHolding(context: StepContext, errors: UpdateError[]): Promise<string> {
  const failures = errors.filter((error) => error.errorCode === "PodEvictionFailure");
  if (failures.length === 0) return "";
  const named = new Set(failures.flatMap((error) => [...(error.resourceIds ?? []), ...(error.errorMessage.match(/[a-z0-9][a-z0-9.-]*\/[a-z0-9][a-z0-9.-]*/g) ?? [])]));
  try {
    const snapshot = await (await context.workloads()).snapshot();
    const holds = new Map<string, string[]>();
    for (const pod of snapshot.pods) {
      const name = podName(pod);
      if (!named.has(name)) continue;
      for (const budget of budgetsFor(pod, snapshot.pdbs)) holds.set(describeBudget(budget), [...(holds.get(describeBudget(budget)) ?? []), name]);
    }
    if (holds.size === 0) return "";
    return `; held by ${[...holds].map(([budget, pods]) => `${budget} (pods ${pods.join(", ")})`).join("; ")}`;
  } catch (error) {
    context.log.warn("cannot read the budgets behind a PodEvictionFailure", { error: describeError(error) });
    return "";
  }
}

type UpdateConfig = { maxUnavailable?: number; maxUnavailablePercentage?: number; updateStrategy?: "DEFAULT" | "MINIMAL" };

/** The updateConfig spec asks for a managed group, completed from the group's own where spec is silent; undefined when spec says nothing. */
export function wantedUpdateConfig(override: ManagedGroupSpec | undefined, live: ManagedNodeGroupInfo): UpdateConfig | undefined {
  if (!override || (override.maxUnavailable === undefined && override.maxUnavailablePercentage === undefined && override.updateStrategy === undefined)) return undefined;
  const size =
    override.maxUnavailable !== undefined
      ? { maxUnavailable: override.maxUnavailable }
      : override.maxUnavailablePercentage !== undefined
        ? { maxUnavailablePercentage: override.maxUnavailablePercentage }
        : live.maxUnavailablePercentage !== undefined
          ? { maxUnavailablePercentage: live.maxUnavailablePercentage }
          : { maxUnavailable: live.maxUnavailable ?? 1 };
  return { ...size, ...(override.updateStrategy ? { updateStrategy: override.updateStrategy } : {}) };
}

function hasUpdateConfig(wanted: UpdateConfig, live: ManagedNodeGroupInfo): boolean {
  return (
    wanted.maxUnavailable === live.maxUnavailable &&
    wanted.maxUnavailablePercentage === live.maxUnavailablePercentage &&
    (wanted.updateStrategy === undefined || wanted.updateStrategy === (live.updateStrategy ?? "DEFAULT"))
  );
}

/**
 * Puts spec's updateConfig (maxUnavailable or maxUnavailablePercentage, updateStrategy) on the
 * group before its version update, since EKS reads it when the roll starts. The token is derived
 * from the upgrade, group and hop, so a call repeated after a lost answer or a restart returns the
 * same EKS update. Undefined once the group has it.
 */
async function applyUpdateConfig(context: StepContext, entry: NodeGroupStatus, hop: HopStatus, override: ManagedGroupSpec | undefined, live: ManagedNodeGroupInfo): Promise<StepResult | undefined> {
  const clusterName = context.spec.cluster.name;
  const wanted = wantedUpdateConfig(override, live);
  if (!wanted || hasUpdateConfig(wanted, live)) {
    delete entry.configUpdateId;
    return undefined;
  }
  if (!entry.configUpdateId) {
    const clientRequestToken = createHash("sha256").update(`${context.upgrade.metadata.uid ?? context.upgrade.metadata.name}/${entry.name}/${hop.version}/update-config`).digest("hex").slice(0, 32);
    const update = await context.cloud.eks.startNodegroupConfigUpdate({ clusterName, nodegroupName: entry.name, clientRequestToken, updateConfig: wanted });
    entry.configUpdateId = update.id;
    context.event("Normal", "NodeGroupConfigUpdateStarted", `${entry.name}: updateConfig ${JSON.stringify(wanted)} before the version update, EKS update ${update.id}`);
    return waitFor(context.timings.updatePollMs, "node group update configuration");
  }
  const update = await context.cloud.eks.describeUpdate(clusterName, entry.configUpdateId, { nodegroupName: entry.name });
  if (update.status === "InProgress") return waitFor(context.timings.updatePollMs, "node group update configuration");
  delete entry.configUpdateId;
  if (update.status === "Successful") return waitFor(0, "node group update configuration applied");
  entry.state = "Failed";
  entry.message = `EKS did not apply updateConfig ${JSON.stringify(wanted)} to ${entry.name} (update ${update.id} ${update.status}${update.errors.length ? `: ${describeUpdateErrors(update.errors)}` : ""})`;
  context.setCondition(
    ConditionType.NodeGroupsUpgraded,
    "False",
    Reason.HopFailed,
    `${entry.message}. To fix: correct spec.nodeGroups.managed[name=${entry.name}] (maxUnavailable 1-100 or maxUnavailablePercentage 1-100, not both; updateStrategy DEFAULT or MINIMAL); the operator tries again on its next pass.`,
  );
  return waitFor(context.timings.idleRecheckMs, "node group update configuration failed");
}

async function advanceGroup(context: StepContext, entry: NodeGroupStatus, hop: HopStatus): Promise<StepResult | undefined> {
  const clusterName = context.spec.cluster.name;
  const live = await context.cloud.eks.describeNodegroup(clusterName, entry.name);
  entry.total = live.desiredSize;
  entry.version = live.version;
  if (entry.targetVersion !== hop.version) {
    resetForRetry(entry);
    delete entry.errors;
    delete entry.attempts;
    entry.targetVersion = hop.version;
    entry.state = "Pending";
    entry.upgraded = 0;
    // What the group ran before this hop: the way back for a rollback of the hop.
    const previous = { ...(live.releaseVersion ? { releaseVersion: live.releaseVersion } : {}), ...(live.launchTemplate?.version ? { launchTemplateVersion: live.launchTemplate.version } : {}) };
    if (Object.keys(previous).length) entry.previousRelease = previous;
    else delete entry.previousRelease;
  }
  if (!entry.updateId && compareMinor(live.version, hop.version) >= 0) {
    entry.state = "Succeeded";
    entry.upgraded = entry.total;
    entry.inFlight = 0;
    return undefined;
  }
  const backoff = gateFailedRetry(entry, context.now, "node group retry backoff");
  if (backoff) return backoff;
  if (!entry.updateId && !context.newWorkAllowed) return waitFor(context.timings.idleRecheckMs, "outside maintenance window");
  const override = context.spec.nodeGroups.managed.find((group) => group.name === entry.name);
  if (!entry.updateId) {
    const configured = await applyUpdateConfig(context, entry, hop, override, live);
    if (configured) return configured;
  }
  const finalHop = hop.version === context.spec.targetVersion;
  const calls = {
    start: (clientRequestToken: string) =>
      context.cloud.eks.startNodegroupVersionUpdate({
        clusterName,
        nodegroupName: entry.name,
        clientRequestToken,
        force: context.spec.nodeGroups.force,
        ...(override?.launchTemplateVersion && finalHop ? { launchTemplateVersion: override.launchTemplateVersion } : { version: hop.version }),
        ...(override?.releaseVersion && finalHop ? { releaseVersion: override.releaseVersion } : {}),
      }),
    describe: (updateId: string) => context.cloud.eks.describeUpdate(clusterName, updateId, { nodegroupName: entry.name }),
  };
  try {
    return await followTrackedUpdate<StepResult | undefined>(entry, calls, {
      minted: () => waitFor(0, "persist client request token"),
      inProgress: (update, justStarted) => {
        entry.state = "InProgress";
        entry.inFlight = Math.min(entry.total, override?.maxUnavailable ?? live.maxUnavailable ?? 1);
        if (justStarted) context.event("Normal", "NodeGroupUpdateStarted", `${entry.name} ${live.version} -> ${hop.version}, EKS update ${update.id}`);
        context.setCondition(ConditionType.NodeGroupsUpgraded, "False", Reason.Reconciling, `EKS update ${update.id} is rolling managed node group ${entry.name} (${entry.total} nodes) from ${live.version} to ${hop.version}; EKS evicts pods through the Eviction API, honouring PodDisruptionBudgets`);
        return waitFor(context.timings.updatePollMs, "node group update in progress");
      },
      failed: async (update) => failGroup(context, entry, describeUpdateErrors(update.errors) + (await budgetsHolding(context, update.errors ?? [])), remediationFor(update.errors)),
      succeeded: () => {
        entry.state = "Succeeded";
        entry.version = hop.version;
        entry.upgraded = entry.total;
        entry.inFlight = 0;
        context.event("Normal", "NodeGroupUpdated", `${entry.name} now at ${hop.version}`);
        return undefined;
      },
    });
  } catch (error) {
    if (isConflict(error)) {
      context.setCondition(ConditionType.NodeGroupsUpgraded, "False", Reason.Reconciling, `node group ${entry.name} is busy with another update (${describeError(error)}); waiting`);
      return waitFor(context.timings.updatePollMs, "node group busy");
    }
    if (isValidation(error)) return failGroup(context, entry, describeError(error), "read EKS's message");
    throw error;
  }
}

/** The oldest kubelet among a self-managed group's nodes, to decide whether it must move in this hop. */
async function oldestKubelet(context: StepContext, groupName: string): Promise<string | undefined> {
  const group = await context.cloud.autoscaling.describeGroup(groupName);
  const nodes = nodesOfGroup(group, await (await context.workloads()).listNodes());
  const kubelets = [...nodes.values()].map((node) => node.status?.nodeInfo?.kubeletVersion).filter((version): version is string => Boolean(version));
  return kubelets.sort(compareMinor)[0];
}

export async function advanceNodeGroups(context: StepContext, hop: HopStatus, isLastHop: boolean): Promise<StepResult | undefined> {
  const clusterName = context.spec.cluster.name;
  const selfManaged = context.spec.nodeGroups.selfManaged.map((group) => group.autoScalingGroupName);
  const managed = await context.cloud.eks.listNodegroups(clusterName);
  const { ordered, unordered } = orderNodeGroups([...managed, ...selfManaged.filter((name) => !managed.includes(name))], context.spec.nodeGroups.order, context.spec.nodeGroups.exclude);
  if (context.status.plan) context.status.plan.unorderedNodeGroups = unordered;
  context.status.nodeGroups ??= [];
  const hops = context.status.hops ?? [hop];
  const hopIndex = Math.max(0, hops.indexOf(hop));
  // Every group gets its entry up front, sized from the plan, so progress counts what is still to come.
  const planned = context.status.plan?.hops.find((entry) => entry.to === hop.version)?.nodeGroups ?? [];
  for (const name of ordered) {
    if (context.status.nodeGroups.some((group) => group.name === name)) continue;
    const kind = selfManaged.includes(name) && !managed.includes(name) ? "SelfManaged" : "Managed";
    context.status.nodeGroups.push({ name, kind, total: planned.find((group) => group.name === name)?.nodeCount ?? 0, upgraded: 0, inFlight: 0, state: "Pending" });
  }
  for (const name of ordered) {
    const entry = context.status.nodeGroups.find((group) => group.name === name)!;
    const kind = entry.kind;
    let result: StepResult | undefined;
    if (kind === "SelfManaged") {
      const moving =
        entry.state === "InProgress" ||
        rollsInHop(hops, hopIndex, context.spec.nodeGroups.allowSelfManagedSkew ? await oldestKubelet(context, name) : undefined, context.spec.nodeGroups.allowSelfManagedSkew, MAX_KUBELET_SKEW);
      if (!moving) {
        entry.message = `stays on its version in hop ${hop.version} (spec.nodeGroups.allowSelfManagedSkew; within ${MAX_KUBELET_SKEW} minors of the next hop)`;
        continue;
      }
      result = await advanceSelfManagedGroup(context, entry, hop);
    } else {
      result = await advanceGroup(context, entry, hop);
    }
    if (result) return result;
  }
  const groups = context.status.nodeGroups.filter((group) => ordered.includes(group.name));
  context.setCondition(
    ConditionType.NodeGroupsUpgraded,
    isLastHop ? "True" : "False",
    isLastHop ? Reason.Upgraded : Reason.Reconciling,
    `${groups.length} node group(s) at ${hop.version}${groups.length ? `: ${groups.map((group) => `${group.name}${group.kind === "SelfManaged" ? " (self-managed)" : ""}`).join(", ")}` : ""}`,
  );
  return undefined;
}
