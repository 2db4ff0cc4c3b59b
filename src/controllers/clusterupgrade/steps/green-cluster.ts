// spec.blueGreen.createGreen: the green cluster is cloned from blue's EKS configuration at the
// target version: the control plane (role, subnets, security groups, endpoint access, logging,
// network and encryption settings, tags), then blue's managed node groups (role, subnets, sizes,
// instance and AMI types, labels, taints, launch template) and add-ons at the target's default
// versions. Every resource is tagged with the ClusterUpgrade that created it, so a restarted
// operator adopts what it made and never takes over a cluster somebody else created.
import { randomUUID } from "node:crypto";
import { ConditionType, Reason, type ClusterUpgrade, type Finding, type GreenClusterStatus } from "../../../api/v1alpha1/types.js";
import type { ClusterInfo } from "../../../cloud/ports.js";
import { blocking, warning } from "../../../preflight/findings.js";
import { isAlreadyExists, isConflict, isNotFound, isValidation } from "../../../util/errors.js";
import { describeError } from "../../../util/errors.js";
import { CONTINUE, STOP, waitFor, type Step, type StepContext, type StepResult } from "../context.js";
import { greenClaimTags } from "./claim.js";

/** Tag naming the ClusterUpgrade (namespace/name) that created a green cluster or node group. */
export const CREATED_BY_TAG = "eksupgrade.io/created-by";
/** The opt-in tag; green's cluster and node groups carry it as copied from blue. */
const MANAGED_TAG = "eksupgrade.io/managed";
/** Tag naming the cluster a green cluster was cloned from. */
export const CLONED_FROM_TAG = "eksupgrade.io/cloned-from";

export function ownerOf(upgrade: ClusterUpgrade): string {
  return `${upgrade.metadata.namespace}/${upgrade.metadata.name}`;
}

function greenName(context: StepContext): string {
  return context.spec.blueGreen!.greenCluster.name;
}

function greenEks(context: StepContext) {
  return context.cloudIn(context.spec.blueGreen!.greenCluster.region).eks;
}

async function describeOrUndefined(context: StepContext, name: string, region: string | undefined): Promise<ClusterInfo | undefined> {
  try {
    return await context.cloudIn(region).eks.describeCluster(name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * What the preflight checks before a clone: green's name is free (or holds the cluster this
 * ClusterUpgrade created), blue can be read, and what will not be cloned.
 */
export async function cloneFindings(context: StepContext): Promise<Finding[]> {
  const green = greenName(context);
  const blue = context.spec.cluster.name;
  const findings: Finding[] = [];
  const existing = await describeOrUndefined(context, green, context.spec.blueGreen!.greenCluster.region);
  const owner = ownerOf(context.upgrade);
  if (existing && existing.tags?.[CREATED_BY_TAG] !== owner) {
    findings.push(
      blocking(
        "BG010",
        `EKSCluster/${green}`,
        `cluster ${green} already exists and was not created by ClusterUpgrade ${owner} (tag ${CREATED_BY_TAG} is ${existing.tags?.[CREATED_BY_TAG] ? `"${existing.tags[CREATED_BY_TAG]}"` : "absent"})`,
        `set spec.blueGreen.createGreen to false to use ${green} as green, or name a cluster that does not exist in spec.blueGreen.greenCluster.name`,
      ),
    );
  }
  const blueCluster = await describeOrUndefined(context, blue, context.spec.cluster.region);
  if (!blueCluster) {
    findings.push(blocking("BG011", `EKSCluster/${blue}`, `blue cluster ${blue} was not found, so there is nothing to clone`, "fix spec.cluster.name and region"));
  }
  for (const group of context.spec.nodeGroups.selfManaged ?? []) {
    findings.push(
      warning(
        "BG012",
        `AutoScalingGroup/${group.autoScalingGroupName}`,
        `self-managed node group ${group.autoScalingGroupName} of blue is not cloned: its launch template and bootstrap belong to your infrastructure code`,
        `create the matching self-managed group for green ${green} once it exists, before traffic moves (green's workloads are verified first)`,
      ),
    );
  }
  return findings;
}

function report(context: StepContext, green: GreenClusterStatus, message: string): void {
  green.message = message;
  context.setCondition(ConditionType.GreenCreated, "False", Reason.CreatingGreen, message);
  context.setCondition(ConditionType.Progressing, "True", Reason.CreatingGreen, message);
}

function fail(context: StepContext, green: GreenClusterStatus, message: string): StepResult {
  // The Event is sent once, when the creation turns Failed; later passes only restate the conditions.
  if (green.state !== "Failed") context.event("Warning", "GreenCreationFailed", message);
  green.state = "Failed";
  green.message = message;
  context.setCondition(ConditionType.GreenCreated, "False", Reason.GreenCreationFailed, message);
  context.setCondition(ConditionType.Progressing, "False", Reason.GreenCreationFailed, message);
  return STOP;
}

function deleteAdvice(green: GreenClusterStatus, name: string): string {
  const groups = (green.nodeGroups ?? []).map((group) => `aws eks delete-nodegroup --cluster-name ${name} --nodegroup-name ${group.name}; `).join("");
  return `${groups}aws eks delete-cluster --name ${name}`;
}

async function createControlPlane(context: StepContext, green: GreenClusterStatus): Promise<StepResult> {
  const name = greenName(context);
  const eks = greenEks(context);
  const existing = await describeOrUndefined(context, name, context.spec.blueGreen!.greenCluster.region);
  if (!existing) {
    const blueprint = await context.cloud.eks.describeClusterBlueprint(green.clonedFrom);
    // Green is claimed from its first moment: blue's claim tag, copied with the rest, is replaced by this upgrade's.
    blueprint.tags = { ...blueprint.tags, [CREATED_BY_TAG]: ownerOf(context.upgrade), [CLONED_FROM_TAG]: green.clonedFrom, ...greenClaimTags(context) };
    try {
      await eks.createCluster({ name, version: green.version, blueprint, clientRequestToken: green.clientRequestToken });
    } catch (error) {
      // Another pass (or a previous operator) created it meanwhile: the next pass reads it.
      if (isConflict(error)) return waitFor(0, "green cluster exists; read it again");
      if (isValidation(error)) return fail(context, green, `EKS refused to create green cluster ${name} cloned from ${green.clonedFrom} at ${green.version}: ${describeError(error)}. Fix blue's configuration or create green with your infrastructure code (set createGreen to false), then delete and re-create this ClusterUpgrade.`);
      throw error;
    }
    context.event("Normal", "CreatingGreen", `creating green cluster ${name} at ${green.version}, cloned from ${green.clonedFrom} (subnets ${blueprint.subnetIds.join(", ")}; security groups ${blueprint.securityGroupIds.join(", ") || "none besides the cluster's own"})`);
    report(context, green, `creating green cluster ${name} at ${green.version} cloned from ${green.clonedFrom}: CreateCluster sent`);
    return waitFor(context.timings.controlPlanePollMs, "green control plane CREATING");
  }
  if (existing.tags?.[CREATED_BY_TAG] !== ownerOf(context.upgrade)) {
    return fail(context, green, `cluster ${name} exists but was not created by ClusterUpgrade ${ownerOf(context.upgrade)}; refusing to take it over. Set createGreen to false to use it as green, or name another green cluster.`);
  }
  if (existing.status === "FAILED") {
    return fail(context, green, `EKS reports green cluster ${name} FAILED while creating it. Delete it (${deleteAdvice(green, name)}), fix the cause in blue's configuration (subnets, role, security groups), then delete and re-create this ClusterUpgrade.`);
  }
  if (existing.status !== "ACTIVE") {
    report(context, green, `creating green cluster ${name} at ${green.version} cloned from ${green.clonedFrom}: EKS reports ${existing.status} (a control plane takes about 10 minutes)`);
    return waitFor(context.timings.controlPlanePollMs, `green control plane ${existing.status}`);
  }
  green.state = "NodeGroups";
  context.event("Normal", "GreenControlPlaneActive", `green cluster ${name} is ACTIVE at ${existing.version}; creating its node groups and add-ons`);
  return waitFor(0, "green control plane ACTIVE");
}

/** Which node groups and add-ons green gets, decided once and recorded before the first create. */
async function planParts(context: StepContext, green: GreenClusterStatus): Promise<void> {
  const eks = context.cloud.eks;
  const blue = green.clonedFrom;
  green.nodeGroups = [...(await eks.listNodegroups(blue))].sort().map((name) => ({ name, status: "Pending", clientRequestToken: randomUUID() }));
  green.addons = [];
  green.notCloned = (context.spec.nodeGroups.selfManaged ?? []).map((group) => `self-managed group ${group.autoScalingGroupName}: create it for green with your infrastructure code`);
  for (const addon of (await eks.listAddons(blue)).sort()) {
    const versions = await eks.listAddonVersions(addon, green.version);
    const chosen = versions.find((version) => version.isDefault) ?? versions[0];
    if (!chosen) green.notCloned.push(`add-on ${addon}: EKS lists no version for Kubernetes ${green.version}`);
    else green.addons.push({ name: addon, version: chosen.version, status: "Pending", clientRequestToken: randomUUID() });
  }
}

async function partOrUndefined<T>(describe: () => Promise<T>): Promise<T | undefined> {
  try {
    return await describe();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Why an existing node group or add-on that EKS would not create again is not adopted, or
 * undefined when its created-by tag names this ClusterUpgrade: a part is only taken over when it
 * is provably the one this upgrade created.
 */
function adoptionRefused(part: string, cluster: string, owner: string, tags: Record<string, string> | undefined, error: unknown): string | undefined {
  const createdBy = tags?.[CREATED_BY_TAG];
  if (createdBy === owner) return undefined;
  return `${part} already exists in green cluster ${cluster} and was not created by ClusterUpgrade ${owner} (tag ${CREATED_BY_TAG} is ${createdBy ? `"${createdBy}"` : "absent"}); EKS said: ${describeError(error)}.`;
}

async function createParts(context: StepContext, green: GreenClusterStatus): Promise<StepResult> {
  const name = greenName(context);
  const eks = greenEks(context);
  if (!green.nodeGroups) {
    await planParts(context, green);
    return waitFor(0, "green's node groups and add-ons planned");
  }
  // A plan recorded before the tokens were kept gets them now, written before any create is sent.
  const untokened = [...green.nodeGroups, ...(green.addons ?? [])].filter((part) => part.status === "Pending" && !part.clientRequestToken);
  if (untokened.length) {
    for (const part of untokened) part.clientRequestToken = randomUUID();
    return waitFor(0, "green's creation tokens recorded");
  }
  const owner = ownerOf(context.upgrade);
  for (const group of green.nodeGroups) {
    if (group.status === "Pending") {
      const blueprint = await context.cloud.eks.describeNodegroupBlueprint(green.clonedFrom, group.name);
      blueprint.tags = { ...blueprint.tags, [CREATED_BY_TAG]: owner };
      try {
        // The token in status is the same on every retry, so EKS answers a repeat of a create it
        // already took with that create instead of a second node group.
        await eks.createNodegroup({ clusterName: name, nodegroupName: group.name, version: green.version, blueprint, clientRequestToken: group.clientRequestToken! });
        context.event("Normal", "CreatingGreen", `creating node group ${group.name} in green cluster ${name} (${blueprint.scaling.desired} nodes, ${blueprint.instanceTypes.join(", ") || "default instance type"})`);
      } catch (error) {
        if (isValidation(error)) return fail(context, green, `EKS refused node group ${group.name} for green cluster ${name}: ${describeError(error)}. Delete what was created (${deleteAdvice(green, name)}), fix blue's node group settings, then delete and re-create this ClusterUpgrade.`);
        if (!isAlreadyExists(error)) throw error;
        const existing = await partOrUndefined(() => eks.describeNodegroup(name, group.name));
        if (!existing) throw new Error(`EKS answered CreateNodegroup for ${group.name} in green cluster ${name} that it is in use, yet DescribeNodegroup finds no such node group; retrying`, { cause: error });
        const refused = adoptionRefused(`node group ${group.name}`, name, owner, existing.tags, error);
        if (refused) return fail(context, green, `${refused} Delete that node group (aws eks delete-nodegroup --cluster-name ${name} --nodegroup-name ${group.name}) or delete green (${deleteAdvice(green, name)}), then delete and re-create this ClusterUpgrade.`);
      }
      group.status = "CREATING";
      continue;
    }
    if (group.status === "ACTIVE") continue;
    const found = await eks.describeNodegroup(name, group.name);
    group.status = found.status;
    if (found.status === "CREATE_FAILED" || found.status === "DEGRADED") {
      const issues = found.healthIssues.map((issue) => `${issue.code}: ${issue.message}`).join("; ") || "no health issue reported";
      return fail(context, green, `node group ${group.name} of green cluster ${name} is ${found.status} (${issues}). Delete what was created (${deleteAdvice(green, name)}), fix the cause, then delete and re-create this ClusterUpgrade.`);
    }
  }
  for (const addon of green.addons ?? []) {
    if (addon.status === "Pending") {
      const source = await context.cloud.eks.describeAddon(green.clonedFrom, addon.name);
      try {
        await eks.createAddon({
          clusterName: name,
          addonName: addon.name,
          version: addon.version,
          clientRequestToken: addon.clientRequestToken!,
          // Tagged so a later "already exists" can be proven ours; the managed tag is what the
          // create-green IAM policy asks of every tag written at creation.
          tags: { [CREATED_BY_TAG]: owner, [MANAGED_TAG]: "true" },
          ...(source.serviceAccountRoleArn ? { serviceAccountRoleArn: source.serviceAccountRoleArn } : {}),
          ...(source.configurationValues ? { configurationValues: source.configurationValues } : {}),
        });
      } catch (error) {
        if (isValidation(error)) return fail(context, green, `EKS refused add-on ${addon.name} ${addon.version} for green cluster ${name}: ${describeError(error)}. Delete what was created (${deleteAdvice(green, name)}), then delete and re-create this ClusterUpgrade.`);
        if (!isAlreadyExists(error)) throw error;
        const existing = await partOrUndefined(() => eks.describeAddon(name, addon.name));
        if (!existing) throw new Error(`EKS answered CreateAddon for ${addon.name} in green cluster ${name} that it is in use, yet DescribeAddon finds no such add-on; retrying`, { cause: error });
        const refused = adoptionRefused(`add-on ${addon.name}`, name, owner, existing.tags, error);
        if (refused) return fail(context, green, `${refused} Delete it from green (aws eks delete-addon --cluster-name ${name} --addon-name ${addon.name}) or delete green (${deleteAdvice(green, name)}), then delete and re-create this ClusterUpgrade.`);
      }
      addon.status = "CREATING";
      continue;
    }
    if (addon.status === "ACTIVE") continue;
    const found = await eks.describeAddon(name, addon.name);
    addon.status = found.status;
    if (found.status === "CREATE_FAILED") {
      return fail(context, green, `add-on ${addon.name} of green cluster ${name} is CREATE_FAILED (${found.issues.map((issue) => `${issue.code}: ${issue.message}`).join("; ") || "no issue reported"}). Fix it in EKS or delete green (${deleteAdvice(green, name)}), then delete and re-create this ClusterUpgrade.`);
    }
  }
  const waiting = [
    ...green.nodeGroups.filter((group) => group.status !== "ACTIVE").map((group) => `node group ${group.name} ${group.status}`),
    ...(green.addons ?? []).filter((addon) => addon.status !== "ACTIVE").map((addon) => `add-on ${addon.name} ${addon.status}`),
  ];
  if (waiting.length) {
    report(context, green, `green cluster ${name} is ACTIVE; waiting for ${waiting.join(", ")}`);
    return waitFor(context.timings.updatePollMs, "green node groups and add-ons CREATING");
  }
  green.state = "Ready";
  green.readyAt = context.now.toISOString();
  const skipped = green.notCloned?.length ? `; not cloned: ${green.notCloned.join("; ")}` : "";
  const message = `green cluster ${name} created at ${green.version}, cloned from ${green.clonedFrom}, with ${green.nodeGroups.length} node group(s) and ${(green.addons ?? []).length} add-on(s) ACTIVE${skipped}. Deploy your workloads to it; traffic moves once they are verified.`;
  green.message = message;
  context.setCondition(ConditionType.GreenCreated, "True", Reason.Succeeded, message);
  context.event("Normal", "GreenCreated", message);
  // The next pass verifies the new cluster in the preflight before any traffic moves.
  return waitFor(0, "green created; verify it");
}

export const greenClusterStep: Step = {
  name: "greenCluster",
  async run(context) {
    if (!context.spec.blueGreen!.createGreen) return CONTINUE;
    let green = context.status.green;
    if (green?.state === "Ready") {
      context.setCondition(ConditionType.GreenCreated, "True", Reason.Succeeded, green.message ?? `green cluster ${greenName(context)} was created`);
      return CONTINUE;
    }
    if (green?.state === "Failed") return fail(context, green, green.message ?? "creating the green cluster failed");
    if (!green) {
      if (!context.newWorkAllowed) return waitFor(context.timings.idleRecheckMs, "green creation waits for a window");
      // The token is stored before CreateCluster is called: a retry cannot create a second cluster.
      green = context.status.green = {
        state: "Creating",
        clonedFrom: context.spec.cluster.name,
        version: context.spec.targetVersion,
        clientRequestToken: randomUUID(),
        startedAt: context.now.toISOString(),
      };
      context.status.startedAt ??= context.now.toISOString();
      report(context, green, `creating green cluster ${greenName(context)} at ${green.version} cloned from ${green.clonedFrom}`);
      return waitFor(0, "green creation token recorded");
    }
    if (green.state === "Creating") return createControlPlane(context, green);
    return createParts(context, green);
  },
};
