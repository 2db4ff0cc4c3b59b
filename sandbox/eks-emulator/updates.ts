/**
 * Updates: the records every UpdateClusterVersion, UpdateNodegroupVersion/Config and UpdateAddon
 * leaves behind (idempotent by clientRequestToken), DescribeUpdate and ListUpdates, and the
 * control-plane version update itself.
 */
import { randomUUID } from "node:crypto";
import type { EmulatorContext } from "./context.js";
import { invalidParameter, invalidRequest, resourceInUse, resourceNotFound } from "./errors.js";
import { BLOCKING_INSIGHT_STATUS, CLUSTER_STATUS_LAG_SECONDS, ROLLBACK_READINESS_CATEGORY, ROLLBACK_WINDOW_SECONDS } from "./facts.js";
import { checkControlPlaneNetwork, type UpdateErrorDetail } from "./network-check.js";
import { epochSeconds, optionalString, paginate, requireString, type Json } from "./request.js";
import type { ClusterRecord, EmulatorState, UpdateRecord } from "./state.js";
import { checkControlPlaneHop, checkControlPlaneRollback, compareMinorVersions, isDowngrade, laggingNodegroups, parseMinorVersion } from "./versions.js";

export function updateView(update: UpdateRecord): Json {
  return {
    id: update.id,
    status: update.status,
    type: update.type,
    params: update.params,
    createdAt: epochSeconds(update.createdAt),
    errors: update.errors,
  };
}

/** The update an earlier call with the same clientRequestToken started, if any. */
export function updateForToken(state: EmulatorState, clusterName: string, scope: string, token: string | undefined): UpdateRecord | undefined {
  if (!token) return undefined;
  const id = state.updatesByToken.get(`${clusterName}/${scope}/${token}`);
  return id ? state.updates.get(id) : undefined;
}

export function newUpdate(
  context: EmulatorContext,
  clusterName: string,
  type: UpdateRecord["type"],
  params: UpdateRecord["params"],
  token: string | undefined,
  scope: { nodegroupName?: string; addonName?: string },
): UpdateRecord {
  const update: UpdateRecord = {
    id: randomUUID(),
    clusterName,
    nodegroupName: scope.nodegroupName,
    addonName: scope.addonName,
    status: "InProgress",
    type,
    params,
    createdAt: context.deps.clock.now(),
    errors: [],
    clientRequestToken: token,
  };
  context.state.updates.set(update.id, update);
  if (token) {
    const scopeKey = scope.nodegroupName ? `nodegroup/${scope.nodegroupName}` : scope.addonName ? `addon/${scope.addonName}` : "cluster";
    context.state.updatesByToken.set(`${clusterName}/${scopeKey}/${token}`, update.id);
  }
  return update;
}

export function finishUpdate(context: EmulatorContext, update: UpdateRecord, status: "Successful" | "Failed", errors: UpdateErrorDetail[]): void {
  update.status = status;
  update.errors = errors;
  context.deps.log.info("update finished", { id: update.id, cluster: update.clusterName, status, errors: errors.map((e) => e.errorCode) });
}

export class UpdateOperations {
  constructor(private readonly context: EmulatorContext) {}

  updateClusterVersion(name: string, body: Json): Json {
    const { context } = this;
    const cluster = context.cluster(name);
    const token = optionalString(body, "clientRequestToken");
    // eks-upgrade-facts "Control plane": clientRequestToken makes the call idempotent, so a retry
    // gets the first answer back even after the cluster moved on.
    const known = updateForToken(context.state, name, "cluster", token);
    if (known) return { update: updateView(known) };

    const target = requireString(body, "version");
    const running = context.state.updatesOf(name, {}).find((update) => update.status === "InProgress");
    if (running) {
      throw resourceInUse(`Update already in progress for cluster ${name} (update ${running.id})`, { clusterName: name });
    }
    if (cluster.status !== "ACTIVE") {
      throw resourceInUse(`Cluster ${name} is in ${cluster.status} state`, { clusterName: name });
    }
    const force = body.force === true;
    if (isDowngrade(cluster.version, target)) return this.startRollback(cluster, target, force, token);
    const hop = checkControlPlaneHop(cluster.version, target);
    if (!hop.ok) throw invalidParameter(hop.reason, { clusterName: name });

    if (!force) this.refuseBlockedUpgrade(cluster, target);

    const update = newUpdate(context, name, "VersionUpdate", [
      { type: "Version", value: target },
      { type: "PlatformVersion", value: "eks.1" },
    ], token, {});
    context.runInBackground(`cluster ${name} version update`, (signal) => this.runControlPlaneUpdate(cluster, update, target, signal));
    return { update: updateView(update) };
  }

  /**
   * eks-upgrade-facts "Control-plane rollback": UpdateClusterVersion to the version the cluster
   * was upgraded from, one minor back and within 7 days (in EKS time), starts an update of type
   * VersionRollback. ROLLBACK_READINESS findings in ERROR refuse it unless force=true; so do, as
   * findings of that category, managed node groups newer than the target (EKS does not roll them
   * back, and nodes may never be newer than the control plane). Add-ons are not judged: one built
   * per minor (kube-proxy) cannot go back before the control plane, since UpdateAddon takes only
   * versions that support the cluster's current minor.
   */
  private startRollback(cluster: ClusterRecord, target: string, force: boolean, token: string | undefined): Json {
    const { context } = this;
    const { clock } = context.deps;
    const last = cluster.lastVersionUpgrade;
    const verdict = checkControlPlaneRollback({
      current: cluster.version,
      target,
      ...(last ? { lastUpgrade: { from: last.from, to: last.to }, secondsSinceUpgrade: clock.eksSecondsSince(last.at) } : {}),
      windowSeconds: ROLLBACK_WINDOW_SECONDS,
    });
    if (!verdict.ok) {
      throw verdict.error === "InvalidParameterException" ? invalidParameter(verdict.reason, { clusterName: cluster.name }) : invalidRequest(verdict.reason, { clusterName: cluster.name });
    }
    if (!force) {
      const findings = this.rollbackReadinessErrors(cluster, target);
      if (findings.length > 0) {
        throw invalidRequest(
          `Cluster rollback to ${target} is blocked by ${ROLLBACK_READINESS_CATEGORY} insights in ERROR: ${findings.join("; ")}. Resolve them or retry with force`,
          { clusterName: cluster.name },
        );
      }
    }
    const update = newUpdate(context, cluster.name, "VersionRollback", [
      { type: "Version", value: target },
      { type: "PlatformVersion", value: "eks.1" },
    ], token, {});
    context.runInBackground(`cluster ${cluster.name} version rollback`, (signal) => this.runControlPlaneUpdate(cluster, update, target, signal));
    return { update: updateView(update) };
  }

  /** The ROLLBACK_READINESS findings in ERROR: the seeded ones, and node groups EKS would not roll back for the user. */
  private rollbackReadinessErrors(cluster: ClusterRecord, target: string): string[] {
    const { state } = this.context;
    const seeded = state
      .insightsOf(cluster.name)
      .filter((insight) => insight.category === ROLLBACK_READINESS_CATEGORY && insight.status === BLOCKING_INSIGHT_STATUS && insight.kubernetesVersion === target)
      .map((insight) => insight.name);
    const targetVersion = parseMinorVersion(target)!;
    const newerGroups = state
      .nodegroupsOf(cluster.name)
      .filter((group) => {
        const version = parseMinorVersion(group.version);
        return version !== undefined && compareMinorVersions(version, targetVersion) > 0;
      })
      .map((group) => `node group ${group.nodegroupName} runs ${group.version}, newer than ${target}`);
    return [...seeded, ...newerGroups.sort()];
  }

  /**
   * eks-upgrade-facts "Control plane": an insight in ERROR for the target version blocks the
   * update unless force=true. Managed node groups older than the control plane block it the same
   * way (eks-upgrade-facts "Version skew": EKS can refuse when node groups lag).
   */
  private refuseBlockedUpgrade(cluster: ClusterRecord, target: string): void {
    const { state } = this.context;
    const blocking = state
      .insightsOf(cluster.name)
      .filter((insight) => insight.category !== ROLLBACK_READINESS_CATEGORY && insight.kubernetesVersion === target && insight.status === BLOCKING_INSIGHT_STATUS);
    if (blocking.length > 0) {
      throw invalidRequest(
        `Cluster upgrade to ${target} is blocked by upgrade insights in ERROR: ${blocking.map((insight) => insight.name).join(", ")}. ` +
          `Resolve them or retry with force`,
        { clusterName: cluster.name },
      );
    }
    const lagging = laggingNodegroups(
      cluster.version,
      state.nodegroupsOf(cluster.name).map((group) => ({ name: group.nodegroupName, version: group.version })),
    );
    if (lagging.length > 0) {
      throw invalidRequest(
        `Nodegroup(s) ${lagging.join(", ")} run an older Kubernetes version than the control plane (${cluster.version}); ` +
          `update them before updating the cluster to ${target}, or retry with force`,
        { clusterName: cluster.name },
      );
    }
  }

  private async runControlPlaneUpdate(
    cluster: ClusterRecord,
    update: UpdateRecord,
    target: string,
    signal: AbortSignal,
  ): Promise<void> {
    const { clock } = this.context.deps;
    const total = cluster.controlPlaneUpdateSeconds;
    const lag = Math.min(CLUSTER_STATUS_LAG_SECONDS, total / 2);
    await clock.sleep(lag, signal);
    cluster.status = "UPDATING";
    const errors = await this.controlPlaneNetworkErrors(cluster);
    if (errors.length > 0) {
      // EKS fails such an update early; it reverts and the cluster keeps its version.
      await clock.sleep(lag, signal);
      finishUpdate(this.context, update, "Failed", errors);
      cluster.status = "ACTIVE";
      return;
    }
    await clock.sleep(Math.max(0, total - lag), signal);
    // The new control-plane interfaces are placed while the update runs: addresses that run out
    // mid-flight fail it too, and EKS reverts to the old version.
    const lateErrors = await this.controlPlaneNetworkErrors(cluster);
    if (lateErrors.length > 0) {
      finishUpdate(this.context, update, "Failed", lateErrors);
      cluster.status = "ACTIVE";
      return;
    }
    // Only an upgrade opens the way back; a rollback closes it (the next move down would be two minors).
    cluster.lastVersionUpgrade = update.type === "VersionUpdate" ? { from: cluster.version, to: target, at: clock.now() } : undefined;
    cluster.version = target;
    cluster.platformVersion = "eks.1";
    cluster.status = "ACTIVE";
    finishUpdate(this.context, update, "Successful", []);
  }

  private async controlPlaneNetworkErrors(cluster: ClusterRecord): Promise<UpdateErrorDetail[]> {
    const { cloud } = this.context.deps;
    const [subnets, groups] = await Promise.all([
      cloud.observeSubnets(cluster.subnetIds),
      cloud.existingSecurityGroups(cluster.securityGroupIds),
    ]);
    return checkControlPlaneNetwork({
      clusterSubnetIds: cluster.subnetIds,
      clusterSecurityGroupIds: cluster.securityGroupIds,
      subnets,
      securityGroupIds: groups,
    });
  }

  describeUpdate(name: string, updateId: string, query: URLSearchParams): Json {
    this.context.cluster(name);
    const update = this.context.state.updates.get(updateId);
    const nodegroupName = query.get("nodegroupName") ?? undefined;
    const addonName = query.get("addonName") ?? undefined;
    if (
      !update ||
      update.clusterName !== name ||
      update.nodegroupName !== nodegroupName ||
      update.addonName !== addonName
    ) {
      throw resourceNotFound(`No update found for ID: ${updateId}`, { clusterName: name, nodegroupName, addonName });
    }
    return { update: updateView(update) };
  }

  listUpdates(name: string, query: URLSearchParams): Json {
    const { context } = this;
    context.cluster(name);
    const nodegroupName = query.get("nodegroupName") ?? undefined;
    const addonName = query.get("addonName") ?? undefined;
    if (nodegroupName !== undefined) context.nodegroup(name, nodegroupName);
    if (addonName !== undefined) context.addon(name, addonName);
    const ids = context.state.updatesOf(name, { nodegroupName, addonName }).map((update) => update.id);
    const page = paginate(ids, query);
    return { updateIds: page.items, nextToken: page.nextToken };
  }
}
