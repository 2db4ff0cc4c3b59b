// spec.abort: release what the upgrade holds and stop for good. Control-plane, add-on and managed
// node-group updates already started in EKS cannot be cancelled (EKS API reference), so the
// status says which are still running.
import { ConditionType, Reason, type ClusterUpgradeStatus } from "../../../api/v1alpha1/types.js";
import { CONTINUE, STOP, waitFor, type Step } from "../context.js";
import { cancelRetirement } from "./blue-retention.js";
import { abortCutover } from "./bluegreen.js";
import { holdsAnything, releaseHeld } from "./release.js";

export function runningEksUpdates(status: ClusterUpgradeStatus): string[] {
  const running: string[] = [];
  for (const hop of status.hops ?? []) if (hop.state === "InProgress" && hop.updateId) running.push(`control plane to ${hop.version} (update ${hop.updateId})`);
  for (const addon of status.addons ?? []) if (addon.state === "InProgress" && addon.updateId) running.push(`add-on ${addon.name} to ${addon.toVersion} (update ${addon.updateId})`);
  for (const group of status.nodeGroups ?? [])
    if (group.kind === "Managed" && group.state === "InProgress" && group.updateId) running.push(`node group ${group.name} to ${group.targetVersion ?? "?"} (update ${group.updateId})`);
  for (const item of status.rollback?.items ?? []) if (item.state === "InProgress" && item.updateId) running.push(`rollback of ${item.kind === "NodeGroup" ? "node group" : "add-on"} ${item.name} to ${item.toVersion} (update ${item.updateId})`);
  if (status.rollback?.controlPlane?.state === "InProgress" && status.rollback.controlPlane.updateId) running.push(`control-plane rollback to ${status.rollback.to} (update ${status.rollback.controlPlane.updateId})`);
  for (const group of status.blueRetention?.groups ?? [])
    if (group.state === "ScalingDown" && group.updateId) running.push(`scale-down of blue node group ${group.name} (update ${group.updateId})`);
  if (status.green && (status.green.state === "Creating" || status.green.state === "NodeGroups")) running.push(`creation of green cluster (${status.green.state === "Creating" ? "control plane" : "node groups and add-ons"})`);
  return running;
}

/** Work that finishes its current safe unit before a pause or a closed window takes effect. */
export function workInFlight(status: ClusterUpgradeStatus): string[] {
  const nodes = (status.nodeGroups ?? []).flatMap((group) => (group.kind === "SelfManaged" ? (group.nodes ?? []).map((node) => `node ${node.name} of ${group.name} (${node.phase.toLowerCase()})`) : []));
  return [...runningEksUpdates(status), ...nodes];
}

export const abortStep: Step = {
  name: "abort",
  async run(context) {
    if (!context.spec.abort) return CONTINUE;
    const returning = await abortCutover(context);
    if (returning) return returning;
    const retirement = await cancelRetirement(context);
    if (retirement.waiting) {
      context.setCondition(ConditionType.Progressing, "True", Reason.Aborting, `aborting: ${retirement.waiting}`);
      return waitFor(context.timings.updatePollMs, "abort: blue scale-down still running");
    }
    if (retirement.restored.length) {
      for (const line of retirement.restored) context.event("Normal", "Released", line);
      context.status.released = [...(context.status.released ?? []), ...retirement.restored];
      context.setCondition(ConditionType.BlueRetired, "False", Reason.Aborted, `retirement of blue called off by spec.abort: ${retirement.restored.join("; ")}`);
    }
    if (holdsAnything(context.status)) {
      context.setCondition(ConditionType.Progressing, "True", Reason.Aborting, "aborting: uncordoning nodes and restoring Auto Scaling groups");
      const released = await releaseHeld({ upgrade: context.upgrade, status: context.status, cloud: context.cloud, nodes: await context.workloads() });
      for (const line of released) context.event("Normal", "Released", line);
      context.status.released = [...(context.status.released ?? []), ...released];
    }
    const running = runningEksUpdates(context.status);
    const tail = running.length ? ` EKS updates already started cannot be cancelled and are still running: ${running.join("; ")}.` : "";
    const released = context.status.released?.length ? ` Released: ${context.status.released.join("; ")}.` : "";
    if (!context.status.finishedAt) context.status.finishedAt = context.now.toISOString();
    context.end(Reason.Aborted, `the upgrade was aborted at ${context.status.currentVersion ?? "an unknown version"}`, `${released}${tail}`.trim() || undefined);
    return STOP;
  },
};
