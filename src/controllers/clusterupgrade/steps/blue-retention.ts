// Blue after a promoted cutover (spec.blueGreen.blueRetention). Blue is kept untouched for keepFor
// as the fallback; then, only when scaleDown is set, its managed node groups and the self-managed
// groups the spec names go to zero (their sizes recorded first, so they can be scaled back), and
// only when deleteBlue is also set, its managed node groups and the cluster itself are deleted.
// Before each irreversible move the Route53 weights are read again: blue must receive no traffic.
import { parseDuration } from "../../../api/v1alpha1/duration.js";
import { ConditionType, Reason, type BlueRetentionStatus, type CutoverStatus, type ReasonName, type RetiredGroup } from "../../../api/v1alpha1/types.js";
import { isNotFound } from "../../../util/errors.js";
import { STOP, waitFor, type StepContext, type StepResult } from "../context.js";
import { readWeights, resolveRoute } from "../../../bluegreen/route.js";
import { describeUpdateErrors, followTrackedUpdate, resetForRetry } from "./tracked-update.js";

const DEFAULT_KEEP_FOR = "24h";

function blueName(context: StepContext): string {
  return context.spec.cluster.name;
}

function scaleBackCommand(cluster: string, group: RetiredGroup, region: string | undefined): string {
  const size = group.originalSize;
  const regionFlag = region ? ` --region ${region}` : "";
  if (group.kind === "Managed") {
    return `aws eks update-nodegroup-config --cluster-name ${cluster} --nodegroup-name ${group.name} --scaling-config minSize=${size.min},maxSize=${size.max},desiredSize=${size.desired}${regionFlag}`;
  }
  return `aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${group.name} --min-size ${size.min} --max-size ${size.max} --desired-capacity ${size.desired}${regionFlag}`;
}

function groupList(groups: RetiredGroup[] | undefined): string {
  return (groups ?? []).map((group) => `${group.kind === "Managed" ? "node group" : "Auto Scaling group"} ${group.name} (was ${group.originalSize.min}/${group.originalSize.desired}/${group.originalSize.max} min/desired/max)`).join(", ");
}

function setRetired(context: StepContext, status: "True" | "False", reason: ReasonName, message: string): void {
  const retention = context.status.blueRetention;
  if (retention) retention.message = message;
  context.setCondition(ConditionType.BlueRetired, status, reason, message);
}

/** Blue must receive no traffic before any of its capacity goes; a human may have moved it back. */
async function blueServes(context: StepContext): Promise<string | undefined> {
  const route = resolveRoute(context.spec.blueGreen!.route53);
  const { weights } = await readWeights(context.cloud.route53, route);
  if (weights.blue === 0) return undefined;
  return `blue's weighted record ${route.recordName} (${route.blueSetIdentifier}) has weight ${weights.blue} (green ${weights.green}) in Route53`;
}

async function collectGroups(context: StepContext): Promise<RetiredGroup[]> {
  const eks = context.cloud.eks;
  const cluster = blueName(context);
  const managed = await Promise.all((await eks.listNodegroups(cluster)).map((name) => eks.describeNodegroup(cluster, name)));
  const groups: RetiredGroup[] = managed.map((group) => ({ name: group.name, kind: "Managed", originalSize: { min: group.minSize, max: group.maxSize, desired: group.desiredSize }, state: "Pending" }));
  for (const spec of context.spec.nodeGroups.selfManaged ?? []) {
    const group = await context.cloud.autoscaling.describeGroup(spec.autoScalingGroupName);
    groups.push({ name: group.name, kind: "SelfManaged", originalSize: { ...group.size }, state: "Pending" });
  }
  return groups;
}

type ScaleDown = { done: boolean; minted?: boolean; failed?: string };

/** Moves one group towards zero; done once it is there. */
async function scaleDownGroup(context: StepContext, group: RetiredGroup): Promise<ScaleDown> {
  if (group.state === "ScaledDown") return { done: true };
  const cluster = blueName(context);
  const zero = { min: 0, max: Math.max(1, group.originalSize.max), desired: 0 };
  if (group.kind === "SelfManaged") {
    await context.cloud.autoscaling.setSize(group.name, zero);
    group.state = "ScaledDown";
    context.event("Normal", "BlueScaledDown", `Auto Scaling group ${group.name} of blue cluster ${cluster} scaled to 0 (was ${group.originalSize.desired}); scale it back with: ${scaleBackCommand(cluster, group, context.spec.cluster.region)}`);
    return { done: true };
  }
  if (group.originalSize.desired === 0 && group.originalSize.min === 0) {
    group.state = "ScaledDown";
    return { done: true };
  }
  return followTrackedUpdate<ScaleDown>(
    group,
    {
      start: (clientRequestToken) => context.cloud.eks.startNodegroupScalingUpdate({ clusterName: cluster, nodegroupName: group.name, clientRequestToken, scaling: zero }),
      describe: (updateId) => context.cloud.eks.describeUpdate(cluster, updateId, { nodegroupName: group.name }),
    },
    {
      minted: () => {
        group.state = "ScalingDown";
        return { done: false, minted: true };
      },
      inProgress: () => {
        group.state = "ScalingDown";
        return { done: false };
      },
      succeeded: (update) => {
        group.state = "ScaledDown";
        context.event("Normal", "BlueScaledDown", `node group ${group.name} of blue cluster ${cluster} scaled to 0 (update ${update.id}); scale it back with: ${scaleBackCommand(cluster, group, context.spec.cluster.region)}`);
        return { done: true };
      },
      failed: (update) => {
        const failed = `scaling node group ${group.name} to 0 failed (update ${update.id}: ${describeUpdateErrors(update.errors)})`;
        resetForRetry(group);
        group.state = "Pending";
        return { done: false, failed };
      },
    },
  );
}

/** Deletes blue's managed node groups, then the cluster; true once EKS no longer knows the cluster. */
async function deleteBlue(context: StepContext, retention: BlueRetentionStatus): Promise<{ done: boolean; waiting: string }> {
  const eks = context.cloud.eks;
  const cluster = blueName(context);
  const pending: string[] = [];
  for (const group of retention.groups ?? []) {
    if (group.kind !== "Managed" || group.state === "Deleted") continue;
    try {
      const found = await eks.describeNodegroup(cluster, group.name);
      if (found.status !== "DELETING") await eks.deleteNodegroup(cluster, group.name);
      group.state = "Deleting";
      pending.push(`node group ${group.name}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      group.state = "Deleted";
      context.event("Normal", "BlueDeleted", `node group ${group.name} of blue cluster ${cluster} deleted`);
    }
  }
  if (pending.length) return { done: false, waiting: `deleting ${pending.join(", ")} of blue cluster ${cluster}` };
  try {
    const found = await eks.describeCluster(cluster);
    if (found.status !== "DELETING") {
      await eks.deleteCluster(cluster);
      context.event("Warning", "BlueDeleted", `deleting blue cluster ${cluster} (spec.blueGreen.blueRetention.deleteBlue)`);
    }
    return { done: false, waiting: `EKS is deleting blue cluster ${cluster}` };
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return { done: true, waiting: "" };
  }
}

/**
 * Runs after the promotion on every pass: keeps blue for keepFor, then scales it down and deletes
 * it when the spec asks. Returns STOP once nothing more will happen, a wait otherwise.
 */
export async function retainBlue(context: StepContext, cutover: CutoverStatus): Promise<StepResult> {
  const policy = context.spec.blueGreen!.blueRetention ?? {};
  const keepFor = policy.keepFor ?? DEFAULT_KEEP_FOR;
  const cluster = blueName(context);
  const keepUntil = new Date(Date.parse(cutover.promotedAt ?? context.now.toISOString()) + parseDuration(keepFor));
  const retention: BlueRetentionStatus = (context.status.blueRetention ??= { state: "Keeping", keepUntil: keepUntil.toISOString() });
  // scaleDown may be switched on or off while blue is kept.
  if (!policy.scaleDown && retention.state === "Keeping") retention.state = "Kept";
  if (policy.scaleDown && retention.state === "Kept") retention.state = "Keeping";
  if (retention.state === "Kept") {
    setRetired(context, "False", Reason.NotApplicable, `blue cluster ${cluster} is kept as it is: blueRetention.scaleDown is false, so the operator never scales it down or deletes it. It receives no traffic; keep it as a fallback until ${retention.keepUntil} (keepFor ${keepFor}), then retire it with your infrastructure code.`);
    return STOP;
  }
  if (retention.state === "ScaledDown" || retention.state === "Deleted") {
    const how = retention.state === "Deleted" ? `deleted (its managed node groups, then the cluster) at ${retention.finishedAt}` : `scaled to zero at ${retention.finishedAt}: ${groupList(retention.groups)}; scale back with the commands in the BlueScaledDown events`;
    setRetired(context, "True", Reason.BlueRetired, `blue cluster ${cluster} ${how}`);
    return STOP;
  }
  const then = policy.deleteBlue ? "scaled to zero and then deleted (deleteBlue)" : "scaled to zero (scaleDown)";
  if (retention.state === "Keeping") {
    const leftMs = keepUntil.getTime() - context.now.getTime();
    if (leftMs > 0) {
      setRetired(context, "False", Reason.RetainingBlue, `blue cluster ${cluster} is kept untouched as the fallback until ${retention.keepUntil} (keepFor ${keepFor}); it will then be ${then}`);
      return waitFor(leftMs, "blue kept as fallback");
    }
    if (!context.newWorkAllowed) {
      setRetired(context, "False", Reason.RetainingBlue, `keepFor has passed; blue cluster ${cluster} will be ${then} inside the next maintenance window`);
      return waitFor(context.timings.idleRecheckMs, "blue retirement waits for a window");
    }
    const serving = await blueServes(context);
    if (serving) {
      setRetired(context, "False", Reason.BlueStillServing, `not retiring blue cluster ${cluster}: ${serving}. Move all traffic to green (weight 0 for blue) to let it go on, or set blueRetention.scaleDown to false to keep blue.`);
      return waitFor(context.timings.idleRecheckMs, "blue still receives traffic");
    }
    retention.groups = await collectGroups(context);
    retention.state = "ScalingDown";
    context.event("Normal", "RetiringBlue", `keepFor ${keepFor} has passed and blue receives no traffic: scaling blue cluster ${cluster} to zero: ${groupList(retention.groups) || "no node groups"}`);
    // Persist the original sizes before the first change.
    setRetired(context, "False", Reason.RetiringBlue, `scaling blue cluster ${cluster} to zero: ${groupList(retention.groups) || "no node groups"}`);
    return waitFor(0, "blue sizes recorded");
  }
  if (retention.state === "ScalingDown") {
    const failures: string[] = [];
    let minted = false;
    let done = true;
    for (const group of retention.groups ?? []) {
      // Outside a window, a scale-down already sent is followed; none is started.
      if (group.state === "Pending" && !context.newWorkAllowed) {
        done = false;
        continue;
      }
      const result = await scaleDownGroup(context, group);
      done &&= result.done;
      minted ||= Boolean(result.minted);
      if (result.failed) failures.push(result.failed);
    }
    if (minted) return waitFor(0, "scale-down token recorded");
    if (!done) {
      const left = (retention.groups ?? []).filter((group) => group.state !== "ScaledDown").map((group) => `${group.name} (${group.state}${group.updateId ? `, update ${group.updateId}` : ""})`);
      const failed = failures.length ? `; ${failures.join("; ")}; retrying` : "";
      setRetired(context, "False", Reason.RetiringBlue, `scaling blue cluster ${cluster} to zero; waiting for ${left.join(", ")}${failed}`);
      return waitFor(failures.length ? context.timings.failedUpdateBackoffMs : context.timings.updatePollMs, "blue scale-down in progress");
    }
    if (!policy.deleteBlue) {
      retention.state = "ScaledDown";
      retention.finishedAt = context.now.toISOString();
      return retainBlue(context, cutover);
    }
    retention.state = "Deleting";
  }
  // Deleting: blue's traffic is checked once more; deletion cannot be undone.
  const serving = await blueServes(context);
  if (serving) {
    setRetired(context, "False", Reason.BlueStillServing, `not deleting blue cluster ${cluster}: ${serving}. Move all traffic to green, or set blueRetention.deleteBlue to false to keep blue scaled to zero.`);
    return waitFor(context.timings.idleRecheckMs, "blue still receives traffic");
  }
  const deletion = await deleteBlue(context, retention);
  if (!deletion.done) {
    setRetired(context, "False", Reason.RetiringBlue, deletion.waiting);
    return waitFor(context.timings.updatePollMs, "blue deletion in progress");
  }
  retention.state = "Deleted";
  retention.finishedAt = context.now.toISOString();
  context.event("Warning", "BlueDeleted", `blue cluster ${cluster} was deleted (spec.blueGreen.blueRetention.deleteBlue)`);
  return retainBlue(context, cutover);
}

/**
 * spec.abort after the promotion: a retirement not finished is called off. Groups already scaled
 * down are scaled back to their recorded sizes (a scale-down still running is waited for first);
 * a deletion already started cannot be undone. Returns what was restored, or what is awaited.
 */
export async function cancelRetirement(context: StepContext): Promise<{ restored: string[]; waiting?: string }> {
  const retention = context.status.blueRetention;
  if (!retention || !["Keeping", "ScalingDown"].includes(retention.state)) return { restored: [] };
  const cluster = blueName(context);
  for (const group of retention.groups ?? []) {
    if (group.kind !== "Managed" || group.state !== "ScalingDown" || !group.updateId) continue;
    const update = await context.cloud.eks.describeUpdate(cluster, group.updateId, { nodegroupName: group.name });
    if (update.status === "InProgress") return { restored: [], waiting: `scale-down of node group ${group.name} (update ${group.updateId}) is still running in EKS; it is scaled back once it ends` };
  }
  const restored: string[] = [];
  for (const group of retention.groups ?? []) {
    if (group.state === "Pending" && !group.updateId) continue;
    const size = group.originalSize;
    if (group.kind === "SelfManaged") await context.cloud.autoscaling.setSize(group.name, size);
    else {
      const token = `${context.upgrade.metadata.uid ?? context.upgrade.metadata.name}-restore-${group.name}`.slice(0, 64);
      await context.cloud.eks.startNodegroupScalingUpdate({ clusterName: cluster, nodegroupName: group.name, clientRequestToken: token, scaling: size });
    }
    resetForRetry(group);
    group.state = "Pending";
    restored.push(`${group.kind === "Managed" ? "node group" : "Auto Scaling group"} ${group.name} of blue scaled back to ${size.min}/${size.desired}/${size.max} (min/desired/max)`);
  }
  retention.state = "Kept";
  return { restored };
}
