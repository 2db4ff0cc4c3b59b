// The roll's planner: what one pass observed (the Auto Scaling group, its nodes, their AMIs) and
// what status recorded give the one next action. No I/O, no clock, no randomness: the same inputs
// always give the same action, so a restarted operator that reads the same status and the same
// world picks the same nodes, in the same order, and the same step within each node.
import { nodePoolOf } from "../../karpenter/types.js";
import type { V1Node } from "@kubernetes/client-node";
import type { DrainTimeoutPolicy, HopStatus, NodeGroupStatus, NodeInFlight, SelfManagedGroupSpec } from "../../api/v1alpha1/types.js";
import { compareMinor, parseMinor } from "../../api/v1alpha1/version.js";
import type { AutoScalingGroupInfo, GroupInstance, GroupSize } from "../../cloud/ports.js";
import { nextWave, orderForRoll, type Wave } from "../../drain/batches.js";
import { instanceIdOf, isNodeReady, nodeName } from "../../drain/cordon.js";
import type { DrainPassResult } from "../../drain/engine.js";
import { timeoutOutcome } from "../../drain/pod-filters.js";
import { zoneOf } from "../../kube/workload-snapshot.js";

/** EKS gives up on nodes that do not join within about 15 minutes (NodeCreationFailure); so does the roll. */
export const NEW_NODES_READY_TIMEOUT_MS = 15 * 60_000;
/**
 * How long a terminated instance may stay in its group (Terminating, Terminating:Wait, ...) before
 * the roll fails and says so: an hour for a lifecycle hook's default heartbeat, with room to spare.
 */
export const TERMINATION_TIMEOUT_MS = 90 * 60_000;

/** What one pass read about the group. Only the executor changes it, to record what it just did. */
export interface RollObservation {
  group: AutoScalingGroupInfo;
  /** The group's nodes, by instance id. */
  members: Map<string, V1Node>;
  /** The AMI of each instance of the group, by instance id. */
  images: Record<string, string>;
  /** The EKS-optimized AMI for the hop's version: undefined until looked up, null when there is none. */
  eksOptimizedAmi?: string | null;
  /** Set once this pass has moved the nodes in flight: what is left of them is in status. */
  advanced?: boolean;
}

/** What the spec and the pass say about this roll. */
export interface RollSettings {
  /** The Auto Scaling group's name. */
  groupName: string;
  /** The hop's Kubernetes version. */
  version: string;
  /** The AMI the spec names for this group and version, if it names one. */
  specImage?: string;
  /** False while paused or outside the maintenance window: nothing new starts, work in flight goes on. */
  newWorkAllowed: boolean;
  now: Date;
  maxSurge: number;
  maxUnavailable: number;
  maxParallelNodes: number;
  drain: { timeout: string; timeoutMs: number; onTimeout: DrainTimeoutPolicy; allowForceDelete: boolean };
  /** Seeds the order of old nodes: the upgrade's UID (its name when it has none). */
  orderKey: string;
}

/** One old node chosen for a wave. */
export interface WaveNode {
  name: string;
  zone: string;
  instanceId: string;
}

/** The next thing to do for the group as a whole. */
export type RollAction =
  /** Not started and nothing old: the group is already at the version. */
  | { kind: "MarkRolled"; total: number }
  /** Not started, and no new work may start now. */
  | { kind: "HoldBeforeStart" }
  | { kind: "Fail"; message: string; remediation: string }
  /** The spec names no AMI: ask EC2 for the EKS-optimized one, then plan again. */
  | { kind: "LookUpAmi" }
  /** Record the original size and template, and an idempotency token for the new template version. */
  | { kind: "MintTemplateToken"; size: GroupSize; template: { id: string; version: string } }
  /** Find (after a lost answer) or create the template version with the token, and record it. */
  | { kind: "CreateTemplateVersion"; imageId: string; size: GroupSize; template: { id: string; version: string } }
  /** Suspend AZRebalance, tag the group, point it at the new version; then plan again. */
  | { kind: "PointGroupAtTemplate"; templateId: string; templateVersion: string }
  /** Move each node in flight on (drain, terminate, wait for it to leave); then plan again once none is left. */
  | { kind: "AdvanceNodes" }
  /** Every old node is replaced; the group is not at its original size yet. */
  | { kind: "RestoreSize"; original: GroupSize }
  | { kind: "AwaitReadyAtOriginalSize"; missing: number }
  /** Release the node marks, resume AZRebalance, untag: the group is at the version. */
  | { kind: "Complete" }
  /** Old nodes left but no new node may start, none in flight: wait at the original size (restoring it first when needed). */
  | { kind: "HoldBetweenWaves"; oldLeft: number; restore: boolean; original: GroupSize }
  /** Nodes in flight have moved as far as they can this pass, and no other may start now. */
  | { kind: "AwaitInFlight"; message: string }
  | { kind: "Surge"; from: number; wave: Wave }
  | { kind: "AwaitNewNodes"; waiting: string }
  /** Slots are free: opt the Ready new nodes out of scale-down, cordon the next old ones, record them. */
  | { kind: "CordonWave"; protect: string[]; batch: WaveNode[]; after: number };

/** The next thing to do for one node in flight. */
export type NodeAction =
  /** The node object is gone: its instance was terminated (by the roll, or by someone else). */
  | { kind: "Gone" }
  /** Its drain timed out and spec.drain.onTimeout is SkipNode: uncordon it and go on without it. */
  | { kind: "Skip"; cordonAgain: boolean }
  | { kind: "Drain"; cordonAgain: boolean; timedOut: boolean; deleteRemaining: boolean }
  /** Drained: terminate its instance with a decrement, unless it is already leaving the group. */
  | { kind: "Terminate"; call: boolean }
  /** Its instance has left the group. */
  | { kind: "Left" }
  | { kind: "AwaitLeaving" }
  | { kind: "Stuck"; message: string; remediation: string };

/** What one drain pass means for the node. */
export type DrainVerdict =
  | { kind: "Denied"; message: string; remediation: string }
  | { kind: "Undrained"; message?: string }
  | { kind: "Drained" };

/** What became of one node in flight this pass: a failure says what and what to do about it. */
export type NodeOutcome = "done" | "skipped" | "waiting" | { failure: string; remediation: string };

/** Where the nodes in flight leave the wave. */
export type WaveVerdict =
  | { kind: "Fail"; message: string; remediation: string }
  | { kind: "Draining"; message: string }
  /** Every node of the wave is gone or skipped: the next wave may be planned. */
  | { kind: "Clear" };

export function sameSize(a: GroupSize, b: GroupSize): boolean {
  return a.min === b.min && a.max === b.max && a.desired === b.desired;
}

/** Nodes whose instances belong to the group, by instance id. */
export function nodesOfGroup(group: AutoScalingGroupInfo, nodes: V1Node[]): Map<string, V1Node> {
  const members = new Set(group.instances.map((instance) => instance.id));
  const byInstance = new Map<string, V1Node>();
  for (const node of nodes) {
    // Karpenter's nodes are Karpenter's to replace, by drift (steps/karpenter.ts): never this roll's
    // to cordon or drain, even if an instance of the group were registered under a NodePool.
    if (nodePoolOf(node.metadata?.labels) !== undefined) continue;
    const id = instanceIdOf(node);
    if (id && members.has(id)) byInstance.set(id, node);
  }
  return byInstance;
}

/** The AMI the spec gives a group for a version: amiIdsByVersion first, amiId for the target version only. */
export function amiFromSpec(groups: SelfManagedGroupSpec[], targetVersion: string, groupName: string, version: string): string | undefined {
  const spec = groups.find((group) => group.autoScalingGroupName === groupName);
  const byVersion = spec?.amiIdsByVersion?.[version];
  if (byVersion) return byVersion;
  if (spec?.amiId && version === targetVersion) return spec.amiId;
  return undefined;
}

/**
 * Whether a self-managed group moves in this hop. In lock-step with the control plane by default;
 * with allowSelfManagedSkew only when its kubelets would otherwise fall more than `maxSkew` minors
 * behind the next hop, and always in the last one.
 */
export function rollsInHop(hops: HopStatus[], index: number, oldestKubelet: string | undefined, allowSkew: boolean, maxSkew: number): boolean {
  if (!allowSkew || index === hops.length - 1 || !oldestKubelet) return true;
  const next = hops[index + 1];
  return parseMinor(next.version).minor - parseMinor(oldestKubelet).minor > maxSkew;
}

/** A new hop starts the group's roll afresh; the original size and template, if held, stay. */
export function startHop(entry: NodeGroupStatus, version: string): void {
  if (entry.targetVersion === version) return;
  entry.targetVersion = version;
  delete entry.previousLaunchTemplate;
  entry.state = "Pending";
  entry.upgraded = 0;
  entry.inFlight = 0;
  delete entry.launchTemplateVersion;
  delete entry.launchTemplateToken;
  delete entry.imageId;
  delete entry.skippedNodes;
  delete entry.nodes;
  delete entry.message;
}

/** Where a rollback takes a group: the version of the hop undone's start, and the template version and AMI it launched with then. */
export interface RollbackTarget {
  version: string;
  launchTemplate: { id: string; version: string };
  imageId: string;
}

/**
 * Turns a group around for a rollback: the same roll, aimed at a launch template version that
 * already exists, so it starts where a forward roll stands once its version is created. The
 * template the group points at now and its size are what an abort gives back; a forward roll cut
 * short keeps the ones it recorded (its template is the rollback's target then). Nodes in flight
 * must have been released by the caller: their status entries go here.
 */
export function startRollback(entry: NodeGroupStatus, target: RollbackTarget, current: { size: GroupSize; launchTemplate: { id: string; version: string } }): void {
  entry.targetVersion = target.version;
  entry.state = "InProgress";
  entry.upgraded = 0;
  entry.inFlight = 0;
  entry.originalSize ??= { ...current.size };
  entry.originalLaunchTemplate ??= { ...current.launchTemplate };
  entry.launchTemplateVersion = target.launchTemplate.version;
  entry.imageId = target.imageId;
  delete entry.launchTemplateToken;
  delete entry.skippedNodes;
  delete entry.nodes;
  delete entry.waitingForNodesSince;
  delete entry.previousLaunchTemplate;
  delete entry.message;
}

/**
 * An instance still from before the roll. Once the roll has its AMI, any other AMI is old. Before
 * that: a kubelet on another minor than the roll's, or an AMI other than the one the spec names for it.
 */
function isOld(entry: Readonly<NodeGroupStatus>, seen: RollObservation, settings: RollSettings, instanceId: string, node: V1Node): boolean {
  const image = seen.images[instanceId];
  const target = entry.imageId ?? settings.specImage;
  if (target && image) return image !== target;
  // Another minor than the roll's: older on the way forward, newer on the way back.
  const kubelet = node.status?.nodeInfo?.kubeletVersion;
  return kubelet !== undefined && compareMinor(kubelet, settings.version) !== 0;
}

/** The group's old nodes, as [instance id, node]. */
export function oldNodes(entry: Readonly<NodeGroupStatus>, seen: RollObservation, settings: RollSettings): [string, V1Node][] {
  return [...seen.members.entries()].filter(([id, node]) => isOld(entry, seen, settings, id, node));
}

/** Progress counts once the roll has its template version: replaced nodes out of the original desired. */
export function rollCounts(entry: Readonly<NodeGroupStatus>, seen: RollObservation, settings: RollSettings): { total: number; upgraded: number } {
  const total = entry.originalSize!.desired;
  return { total, upgraded: Math.min(total, seen.members.size - oldNodes(entry, seen, settings).length) };
}

export function summarizeHolds(node: NodeInFlight): string {
  const holds = node.podsLeft ?? [];
  if (holds.length === 0) return `${node.name} ${node.phase.toLowerCase()}`;
  const first = holds.slice(0, 3).map((hold) => `${hold.pod}: ${hold.heldBy}`).join("; ");
  return `${node.name} has ${holds.length} pod(s) left (${first}${holds.length > 3 ? "; ..." : ""})`;
}

/** Before the template version exists: done already, wait, or the next preparation step. */
function planStart(entry: Readonly<NodeGroupStatus>, seen: RollObservation, settings: RollSettings): RollAction {
  const { group } = seen;
  const { version } = settings;
  if (oldNodes(entry, seen, settings).length === 0 && (entry.nodes ?? []).length === 0) return { kind: "MarkRolled", total: group.size.desired };
  if (!settings.newWorkAllowed) return { kind: "HoldBeforeStart" };
  const template = group.launchTemplate;
  if (!template?.id || !template.version) {
    return {
      kind: "Fail",
      message: `Auto Scaling group ${group.name} does not launch from a launch template (launch configurations and mixed-instance policies without one are not rolled)`,
      remediation: "move the group to a launch template, or exclude it in spec.nodeGroups.exclude and roll it yourself",
    };
  }
  if (!settings.specImage && seen.eksOptimizedAmi === undefined) return { kind: "LookUpAmi" };
  const imageId = settings.specImage ?? seen.eksOptimizedAmi;
  if (!imageId) {
    return {
      kind: "Fail",
      message: `no AMI known for Kubernetes ${version}: none given in the spec and no EKS-optimized AMI found by name`,
      remediation: `set spec.nodeGroups.selfManaged[autoScalingGroupName=${group.name}].amiIdsByVersion["${version}"] (or amiId for the target version)`,
    };
  }
  const found = { size: { ...group.size }, template: { id: template.id, version: template.version } };
  // The token is stored before the call: EC2 answers a repeated token with the same version.
  if (!entry.launchTemplateToken) return { kind: "MintTemplateToken", ...found };
  return { kind: "CreateTemplateVersion", imageId, ...found };
}

/** Every old node is replaced (or skipped): give the size back, wait for Ready nodes, release. */
function planFinish(entry: Readonly<NodeGroupStatus>, seen: RollObservation): RollAction {
  const original = entry.originalSize!;
  if (!sameSize(seen.group.size, original)) return { kind: "RestoreSize", original };
  const ready = [...seen.members.values()].filter((node) => isNodeReady(node)).length;
  if (ready < original.desired) return { kind: "AwaitReadyAtOriginalSize", missing: original.desired - ready };
  return { kind: "Complete" };
}

/** An instance on its way out of the group: already terminated, its desired capacity given back. */
function isLeaving(group: AutoScalingGroupInfo, instanceId: string): boolean {
  return group.instances.some((instance) => instance.id === instanceId && instance.lifecycleState.startsWith("Terminating"));
}

/**
 * The pipeline: the group stays surged by min(maxSurge, old nodes not yet terminated) above its
 * original size, and an old node is cordoned whenever a slot frees up: fewer than the parallel
 * limit drain, and capacity (Ready new nodes plus old nodes still serving) stays at or above
 * original - maxUnavailable without it. Each replaced node thus lets the next one start at once
 * instead of waiting for a whole wave. Every figure comes from the observation and status, so a
 * restarted operator computes the same slots and picks the same nodes.
 */
function planPipeline(entry: Readonly<NodeGroupStatus>, seen: RollObservation, settings: RollSettings, old: [string, V1Node][]): RollAction {
  const { group } = seen;
  const original = entry.originalSize!;
  const inFlight = entry.nodes ?? [];
  const flying = new Set(inFlight.map((node) => node.name));
  const terminated = new Set(inFlight.filter((node) => node.phase === "Terminating").map((node) => node.name));
  const remaining = old.filter(([id, node]) => !isLeaving(group, id) && !terminated.has(nodeName(node)));
  const pendingOld = old.filter(([, node]) => !flying.has(nodeName(node)));
  if (!settings.newWorkAllowed) {
    if (inFlight.length) return { kind: "AwaitInFlight", message: `draining ${inFlight.map(summarizeHolds).join("; ")}; no new node starts while paused or outside the maintenance window` };
    return { kind: "HoldBetweenWaves", oldLeft: old.length, restore: !sameSize(group.size, original), original };
  }
  if (pendingOld.length === 0) return { kind: "AwaitInFlight", message: `draining ${inFlight.map(summarizeHolds).join("; ")}` };
  const wave = nextWave(remaining.length, {
    originalDesired: original.desired,
    originalMin: original.min,
    originalMax: original.max,
    maxSurge: settings.maxSurge,
    maxUnavailable: settings.maxUnavailable,
    maxParallelNodes: settings.maxParallelNodes,
  });
  if (!sameSize(group.size, wave.size)) return { kind: "Surge", from: group.size.desired, wave };
  const oldIds = new Set(old.map(([id]) => id));
  const fresh = group.instances.filter((instance) => !oldIds.has(instance.id) && !instance.lifecycleState.startsWith("Terminating"));
  const freshReady = fresh.filter((instance) => {
    const node = seen.members.get(instance.id);
    return node !== undefined && isNodeReady(node);
  });
  const draining = inFlight.filter((node) => node.phase !== "Terminating").length;
  const serving = freshReady.length + pendingOld.length;
  const slots = Math.min(wave.drain - draining, serving - (original.desired - settings.maxUnavailable), pendingOld.length);
  if (slots > 0) {
    const order = orderForRoll(
      pendingOld.map(([, node]) => ({ name: nodeName(node), uid: node.metadata?.uid ?? nodeName(node), zone: zoneOf(node) })),
      settings.orderKey,
    );
    const batch = order.slice(0, slots).map((chosen) => ({
      name: chosen.name,
      zone: chosen.zone,
      instanceId: pendingOld.find(([, candidate]) => nodeName(candidate) === chosen.name)![0],
    }));
    return { kind: "CordonWave", protect: freshReady.map((instance) => instance.id), batch, after: pendingOld.length - batch.length };
  }
  if (inFlight.length) return { kind: "AwaitInFlight", message: `draining ${inFlight.map(summarizeHolds).join("; ")}; the next old node starts once a new one is Ready` };
  // Nothing drains and capacity allows nothing to: the new nodes must join.
  const notReady = fresh.filter((instance) => !freshReady.includes(instance));
  const inService = group.instances.filter((instance) => instance.lifecycleState === "InService").length;
  const waiting = notReady.map((instance) => instance.id).join(", ") || `${Math.max(1, wave.size.desired - inService)} instance(s) still launching`;
  const since = entry.waitingForNodesSince ?? settings.now.toISOString();
  if (settings.now.getTime() - Date.parse(since) > NEW_NODES_READY_TIMEOUT_MS) {
    return {
      kind: "Fail",
      message: `new instances have no Ready node after ${NEW_NODES_READY_TIMEOUT_MS / 60_000} minutes (${waiting}); no old node drains until they join`,
      remediation:
        "check the AMI, the launch template's user data, the instance profile and the security groups (EKS would report NodeCreationFailure); the roll goes on by itself once the nodes are Ready, or abort it with spec.abort",
    };
  }
  return { kind: "AwaitNewNodes", waiting };
}

/** The group's next action. `entry` is read, never changed. */
export function planRoll(entry: Readonly<NodeGroupStatus>, seen: RollObservation, settings: RollSettings): RollAction {
  if (!entry.launchTemplateVersion) return planStart(entry, seen, settings);
  if (seen.group.launchTemplate?.version !== entry.launchTemplateVersion) {
    return { kind: "PointGroupAtTemplate", templateId: entry.originalLaunchTemplate!.id, templateVersion: entry.launchTemplateVersion };
  }
  // Nodes in flight move first, once a pass: they are the current safe unit, finished even when
  // paused or outside a window.
  const inFlight = entry.nodes ?? [];
  if (inFlight.length && !seen.advanced) return { kind: "AdvanceNodes" };
  const skipped = new Set(entry.skippedNodes ?? []);
  const old = oldNodes(entry, seen, settings).filter(([, node]) => !skipped.has(nodeName(node)));
  if (old.length === 0 && inFlight.length === 0) return planFinish(entry, seen);
  return planPipeline(entry, seen, settings, old);
}

/**
 * One node in flight. `live` is its node object (undefined once deleted), `member` its instance
 * while the group still lists it.
 */
export function planNode(node: Readonly<NodeInFlight>, live: V1Node | undefined, member: GroupInstance | undefined, settings: RollSettings): NodeAction {
  if (!live) return { kind: "Gone" };
  const now = settings.now.getTime();
  if (node.phase === "Cordoned" || node.phase === "Draining") {
    const cordonAgain = !live.spec?.unschedulable;
    const timedOut = now - Date.parse(node.since) > settings.drain.timeoutMs;
    const afterTimeout = timeoutOutcome(settings.drain);
    if (timedOut && afterTimeout === "SkipNode") return { kind: "Skip", cordonAgain };
    // A pod whose eviction was denied is a fault to fix, never one for the timeout to delete.
    const denied = (node.podsLeft ?? []).some((hold) => hold.evictionDenied);
    return { kind: "Drain", cordonAgain, timedOut, deleteRemaining: timedOut && afterTimeout === "DeletePods" && !denied };
  }
  // Already leaving the group (a restart after the call): never terminate, or decrement, twice.
  if (node.phase === "Drained") return { kind: "Terminate", call: Boolean(member && !member.lifecycleState.startsWith("Terminating") && node.instanceId) };
  // Terminating: done once the instance has left the group (the node object follows).
  if (!member) return { kind: "Left" };
  const leaving = now - Date.parse(node.since);
  if (leaving > TERMINATION_TIMEOUT_MS) {
    return {
      kind: "Stuck",
      message: `instance ${member.id} (${node.name}) has been ${member.lifecycleState || "in the group"} for ${Math.floor(leaving / 60_000)} minutes since the operator terminated it`,
      remediation: `look at ${member.id}'s lifecycle hooks and scaling activities in Auto Scaling group ${settings.groupName} (complete or abandon a hook that waits); the roll goes on by itself once the instance has left`,
    };
  }
  return { kind: "AwaitLeaving" };
}

/** What a drain pass over `node` means: a denied eviction fails the roll; an empty node is drained. */
export function judgeDrain(node: Readonly<NodeInFlight>, pass: DrainPassResult, timedOut: boolean, settings: RollSettings): DrainVerdict {
  if (pass.denied.length) {
    return {
      kind: "Denied",
      message: `eviction denied on ${node.name}: ${pass.denied.map((entry) => `${entry.pod} (${entry.reason})`).join("; ")}`,
      remediation:
        "let the operator evict these pods (RBAC: create on pods/eviction; or the admission webhook or policy that denies it); the drain goes on by itself once the eviction is allowed, and the timeout never deletes a denied pod",
    };
  }
  if (!pass.drained) return timedOut ? { kind: "Undrained", message: `drain past its ${settings.drain.timeout} timeout; spec.drain.onTimeout ${settings.drain.onTimeout} keeps waiting` } : { kind: "Undrained" };
  return { kind: "Drained" };
}

/** Where the wave stands once each node in flight has moved: `outcomes[i]` belongs to `nodes[i]`. */
export function settleWave(nodes: readonly NodeInFlight[], outcomes: readonly NodeOutcome[]): { remaining: NodeInFlight[]; verdict: WaveVerdict } {
  const remaining = nodes.filter((_, index) => outcomes[index] !== "done" && outcomes[index] !== "skipped");
  const failures = outcomes.filter((outcome) => typeof outcome === "object");
  if (failures.length) {
    return {
      remaining,
      verdict: { kind: "Fail", message: failures.map((outcome) => outcome.failure).join("; "), remediation: [...new Set(failures.map((outcome) => outcome.remediation))].join("; ") },
    };
  }
  if (remaining.length) return { remaining, verdict: { kind: "Draining", message: `draining ${remaining.map(summarizeHolds).join("; ")}` } };
  return { remaining, verdict: { kind: "Clear" } };
}
