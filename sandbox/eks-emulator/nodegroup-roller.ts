/**
 * EKS's rolling update of a managed node group (eks-upgrade-facts "Managed node group update"),
 * played against moto's Auto Scaling group and the sandbox's real kube-apiserver:
 *  1. the launch template gets a version with the new AMI, the group starts using it;
 *  2. scale up: max and desired rise by the surge, and the new nodes must become Ready (no surge
 *     with updateStrategy MINIMAL: an old node's termination makes room for its replacement);
 *  3. old nodes (nodegroup-image label not the new AMI) are cordoned, then, maxUnavailable at a
 *     time, picked at random, drained through the Eviction API (PDBs respected, 429 retried every
 *     5 s, 15 minutes per pod before PodEvictionFailure unless force), left 60 s, and terminated;
 *  4. scale down: max and desired return to the node group's sizes.
 * Every wait goes through the sandbox clock, so SANDBOX_TIME_FACTOR shortens all of them.
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { sleepMs, type SandboxClock } from "./clock.js";
import type { MotoCloud } from "./cloud.js";
import {
  DEFAULT_MAX_UNAVAILABLE,
  DEFAULT_TERMINATION_GRACE_SECONDS,
  DRAINED_NODE_WAIT_SECONDS,
  EVICTION_RETRY_SECONDS,
  POD_EVICTION_TIMEOUT_SECONDS,
  SURGE_NODES_PER_ZONE,
} from "./facts.js";
import type { KubeAccess } from "./kube.js";
import type { Logger } from "./log.js";
import type { UpdateErrorDetail } from "./network-check.js";
import { LABEL_CLUSTER, LABEL_NODEGROUP, LABEL_NODEGROUP_IMAGE, instanceIdFromProviderId } from "./node-spec.js";
import type { NodegroupRecord } from "./state.js";

/** How long new nodes may take to register and become Ready before NodeCreationFailure (EKS seconds). */
export const NODE_READY_TIMEOUT_SECONDS = 15 * 60;
/**
 * Real time, on top of a pod's grace period, that an evicted pod may take to disappear whatever the
 * time factor: kwok deletes it after the grace period, later when thousands of pods keep it busy.
 */
const MIN_REAL_TERMINATION_MARGIN_MS = 60_000;
/**
 * The 15-minute eviction budget never shrinks below this much real time: a PDB frees a
 * disruption only after the ReplicaSet controller, the scheduler, kwok and the disruption
 * controller have all reacted, in real seconds, to the previous eviction.
 */
const MIN_REAL_EVICTION_BUDGET_MS = 30_000;
/** Same idea for Nodes: the mirror and kwok need real seconds to register or remove them. */
const MIN_REAL_NODE_WAIT_MS = 60_000;
/** How often the roller looks at Nodes and Pods while it waits (real milliseconds, not scaled). */
const POLL_MS = 250;

/**
 * eks-upgrade-facts: maxUnavailable defaults to 1; maxUnavailablePercentage is a share of the
 * group's nodes, never below one node.
 */
export function resolveMaxUnavailable(
  updateConfig: { maxUnavailable?: number; maxUnavailablePercentage?: number; updateStrategy?: "DEFAULT" | "MINIMAL" },
  nodeCount: number,
): number {
  if (updateConfig.maxUnavailable !== undefined) return Math.max(1, updateConfig.maxUnavailable);
  if (updateConfig.maxUnavailablePercentage !== undefined) {
    return Math.max(1, Math.floor((nodeCount * updateConfig.maxUnavailablePercentage) / 100));
  }
  return DEFAULT_MAX_UNAVAILABLE;
}

/**
 * eks-upgrade-facts: the group grows by up to max(2 x AZs, maxUnavailable) new nodes. "Up to": the
 * emulator never starts more new nodes than there are old ones to replace.
 */
export function computeSurge(zoneCount: number, maxUnavailable: number, oldNodeCount: number, strategy: "DEFAULT" | "MINIMAL" = "DEFAULT"): number {
  // eks-upgrade-facts: MINIMAL terminates first and launches no node ahead of the old ones.
  if (strategy === "MINIMAL") return 0;
  return Math.min(oldNodeCount, Math.max(SURGE_NODES_PER_ZONE * zoneCount, maxUnavailable));
}

/** Deterministic shuffle (mulberry32 seeded from a string): "random" order, reproducible per update id. */
export function seededShuffle<T>(items: readonly T[], seed: string): T[] {
  let state = 0;
  for (const char of seed) state = (Math.imul(state, 31) + char.charCodeAt(0)) | 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * The pods a drain must remove (eks-upgrade-facts "Draining"): everything except DaemonSet pods
 * and mirror pods, which stay until the node goes, and pods already finished.
 */
export function podsToEvict(pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter((pod) => {
    if (pod.metadata?.annotations?.["kubernetes.io/config.mirror"] !== undefined) return false;
    if (pod.metadata?.ownerReferences?.some((owner) => owner.kind === "DaemonSet")) return false;
    const phase = pod.status?.phase;
    return phase !== "Succeeded" && phase !== "Failed";
  });
}

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false;
}

export class PodEvictionFailure extends Error {
  constructor(
    readonly nodeName: string,
    readonly podRefs: string[],
    detail: string,
  ) {
    super(detail);
  }
}

class RollFailure extends Error {
  constructor(readonly detail: UpdateErrorDetail) {
    super(detail.errorMessage);
  }
}

export interface RollRequest {
  nodegroup: NodegroupRecord;
  updateId: string;
  newImageId: string;
  force: boolean;
  zoneCount: number;
  signal: AbortSignal;
}

export type RollOutcome = { ok: true } | { ok: false; errors: UpdateErrorDetail[] };

export class NodegroupRoller {
  constructor(
    private readonly cloud: MotoCloud,
    private readonly kube: KubeAccess,
    private readonly clock: SandboxClock,
    private readonly log: Logger,
  ) {}

  async roll(request: RollRequest): Promise<RollOutcome> {
    try {
      await this.rollOrThrow(request);
      return { ok: true };
    } catch (error) {
      if (error instanceof RollFailure) return { ok: false, errors: [error.detail] };
      if (error instanceof PodEvictionFailure) {
        return {
          ok: false,
          errors: [
            {
              errorCode: "PodEvictionFailure",
              errorMessage:
                `Reached max retries while trying to evict pods from nodes in node group ${request.nodegroup.nodegroupName}: ` +
                error.message,
              resourceIds: [error.nodeName, ...error.podRefs],
            },
          ],
        };
      }
      throw error;
    }
  }

  private async rollOrThrow(request: RollRequest): Promise<void> {
    const group = request.nodegroup;
    const oldNodes = (await this.groupNodes(group)).filter(
      (node) => node.metadata?.labels?.[LABEL_NODEGROUP_IMAGE] !== request.newImageId,
    );
    if (oldNodes.length === 0) return;

    const maxUnavailable = resolveMaxUnavailable(group.updateConfig, oldNodes.length);
    const surge = computeSurge(request.zoneCount, maxUnavailable, oldNodes.length, group.updateConfig.updateStrategy);
    const asg = await this.cloud.describeGroup(group.autoScalingGroupName);
    if (!asg) throw new RollFailure(nodeCreationFailure(group, "its Auto Scaling group no longer exists"));
    // A retry after a failed update finds the group already surged: never shrink it here.
    const surgedDesired = Math.max(asg.desiredCapacity, group.scaling.desiredSize + surge);
    const surgedMax = Math.max(asg.maxSize, group.scaling.maxSize + surge, surgedDesired);
    this.log.info("node group update: scale up", { nodegroup: group.nodegroupName, surge, maxUnavailable, old: oldNodes.length });
    await this.cloud.updateGroup(group.autoScalingGroupName, { maxSize: surgedMax, desiredCapacity: surgedDesired });
    await this.waitForNewNodes(request, Math.min(surge, surgedDesired));

    for (const node of oldNodes) await this.kube.setUnschedulable(node.metadata?.name ?? "", true);

    const order = seededShuffle(
      oldNodes.map((node) => node.metadata?.name ?? ""),
      request.updateId,
    );
    while (order.length > 0) {
      const batch = order.splice(0, maxUnavailable);
      this.log.info("node group update: draining", { nodegroup: group.nodegroupName, nodes: batch });
      await Promise.all(batch.map((nodeName) => this.drainNode(nodeName, request)));
      await this.clock.sleep(DRAINED_NODE_WAIT_SECONDS, request.signal);
      for (const nodeName of batch) await this.terminateNode(nodeName, request);
      await this.waitForNodesGone(batch, request);
      await this.waitForNewNodes(request, await this.expectedNewNodes(request));
    }

    await this.scaleDown(request);
  }

  /** Nodes of the group now, from the apiserver. */
  private async groupNodes(group: NodegroupRecord): Promise<V1Node[]> {
    return this.kube.listNodes(`${LABEL_CLUSTER}=${group.clusterName},${LABEL_NODEGROUP}=${group.nodegroupName}`);
  }

  /** New-image nodes the group should hold now: its desired size less the old nodes still there. */
  private async expectedNewNodes(request: RollRequest): Promise<number> {
    const asg = await this.cloud.describeGroup(request.nodegroup.autoScalingGroupName);
    const nodes = await this.groupNodes(request.nodegroup);
    const old = nodes.filter((node) => node.metadata?.labels?.[LABEL_NODEGROUP_IMAGE] !== request.newImageId).length;
    return Math.max(0, (asg?.desiredCapacity ?? 0) - old);
  }

  private async waitForNewNodes(request: RollRequest, count: number): Promise<void> {
    const deadline = Date.now() + Math.max(this.clock.scaledMs(NODE_READY_TIMEOUT_SECONDS), MIN_REAL_NODE_WAIT_MS);
    for (;;) {
      const ready = (await this.groupNodes(request.nodegroup)).filter(
        (node) => node.metadata?.labels?.[LABEL_NODEGROUP_IMAGE] === request.newImageId && isNodeReady(node),
      ).length;
      if (ready >= count) return;
      if (Date.now() > deadline) {
        throw new RollFailure(
          nodeCreationFailure(request.nodegroup, `only ${ready} of ${count} new nodes became Ready in time`),
        );
      }
      await this.pause(request.signal);
    }
  }

  /** Waits until the node mirror removed the Nodes of terminated instances. */
  private async waitForNodesGone(nodeNames: readonly string[], request: RollRequest): Promise<void> {
    const deadline = Date.now() + Math.max(this.clock.scaledMs(NODE_READY_TIMEOUT_SECONDS), MIN_REAL_NODE_WAIT_MS);
    for (;;) {
      const present = new Set((await this.groupNodes(request.nodegroup)).map((node) => node.metadata?.name));
      const left = nodeNames.filter((name) => present.has(name));
      if (left.length === 0) return;
      if (Date.now() > deadline) {
        throw new RollFailure(nodeCreationFailure(request.nodegroup, `terminated nodes ${left.join(", ")} did not go away`));
      }
      await this.pause(request.signal);
    }
  }

  /** Evicts every evictable pod of the node, in parallel, each with its own 15-minute budget. */
  private async drainNode(nodeName: string, request: RollRequest): Promise<void> {
    const pods = podsToEvict(await this.kube.podsOnNode(nodeName));
    const results = await Promise.allSettled(pods.map((pod) => this.evictOne(pod, request)));
    const failed: string[] = [];
    const reasons: string[] = [];
    results.forEach((result, index) => {
      if (result.status === "rejected") {
        const pod = pods[index];
        failed.push(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
        reasons.push(result.reason instanceof Error ? result.reason.message : String(result.reason));
      }
    });
    if (request.signal.aborted) throw request.signal.reason;
    if (failed.length > 0) {
      throw new PodEvictionFailure(nodeName, failed, `node ${nodeName}: ${reasons.join("; ")}`);
    }
  }

  private async evictOne(pod: V1Pod, request: RollRequest): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    const uid = pod.metadata?.uid;
    const deadline = Date.now() + Math.max(this.clock.scaledMs(POD_EVICTION_TIMEOUT_SECONDS), MIN_REAL_EVICTION_BUDGET_MS);
    const grace = pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS;
    let lastRefusal = "";
    for (;;) {
      const outcome = await this.kube.evictPod(namespace, name);
      if (outcome.kind === "gone") return;
      if (outcome.kind === "evicted") {
        await this.waitForPodGone(namespace, name, uid, deadline, request, grace);
        return;
      }
      lastRefusal = `${outcome.status}: ${outcome.message}`;
      if (request.force) {
        // eks-upgrade-facts: with force the update deletes pods regardless of PDBs.
        await this.kube.deletePod(namespace, name);
        await this.waitForPodGone(namespace, name, uid, deadline, request, grace);
        return;
      }
      if (Date.now() + this.clock.scaledMs(EVICTION_RETRY_SECONDS) > deadline) {
        throw new Error(`pod ${namespace}/${name} could not be evicted (${lastRefusal})`);
      }
      await this.clock.sleep(EVICTION_RETRY_SECONDS, request.signal);
    }
  }

  private async waitForPodGone(
    namespace: string,
    name: string,
    uid: string | undefined,
    evictionDeadline: number,
    request: RollRequest,
    graceSeconds: number,
  ): Promise<void> {
    // The grace period and kwok's work happen in real time, not in scaled EKS time: a scaled
    // budget shorter than them would fail drains that EKS's 15 minutes never would.
    const deadline = Math.max(evictionDeadline, Date.now() + graceSeconds * 1000 + MIN_REAL_TERMINATION_MARGIN_MS);
    while ((await this.kube.readPod(namespace, name, uid)) !== undefined) {
      if (Date.now() > deadline) throw new Error(`pod ${namespace}/${name} was evicted but did not terminate in time`);
      await this.pause(request.signal);
    }
  }

  /**
   * Terminates the node's instance. While the group is above the node group's desired size the
   * termination also lowers desired (that is the scale-down of the surge); otherwise the group
   * launches a replacement with the new launch template version.
   */
  private async terminateNode(nodeName: string, request: RollRequest): Promise<void> {
    const node = (await this.groupNodes(request.nodegroup)).find((candidate) => candidate.metadata?.name === nodeName);
    const instanceId = instanceIdFromProviderId(node?.spec?.providerID);
    if (!instanceId) return;
    const asg = await this.cloud.describeGroup(request.nodegroup.autoScalingGroupName);
    const decrement = (asg?.desiredCapacity ?? 0) > request.nodegroup.scaling.desiredSize;
    await this.cloud.terminateInGroup(instanceId, decrement);
  }

  /**
   * Returns max and desired to the node group's sizes. Normally desired is already back (each
   * surge node was paid for by a decrementing termination); if the group is still larger, the
   * extra nodes are drained and terminated one by one rather than cut by a blind scale-in.
   */
  private async scaleDown(request: RollRequest): Promise<void> {
    const group = request.nodegroup;
    for (;;) {
      const asg = await this.cloud.describeGroup(group.autoScalingGroupName);
      if (!asg || asg.desiredCapacity <= group.scaling.desiredSize) break;
      const nodes = await this.groupNodes(group);
      const victim = nodes.map((node) => node.metadata?.name ?? "").sort()[0];
      if (victim === undefined) break;
      await this.kube.setUnschedulable(victim, true);
      await this.drainNode(victim, request);
      await this.terminateNode(victim, request);
      await this.waitForNodesGone([victim], request);
    }
    await this.cloud.updateGroup(group.autoScalingGroupName, {
      minSize: group.scaling.minSize,
      maxSize: group.scaling.maxSize,
      desiredCapacity: group.scaling.desiredSize,
    });
  }

  private async pause(signal: AbortSignal): Promise<void> {
    await sleepMs(POLL_MS, signal);
  }
}

function nodeCreationFailure(group: NodegroupRecord, detail: string): UpdateErrorDetail {
  return {
    errorCode: "NodeCreationFailure",
    errorMessage: `Instances failed to join the kubernetes cluster for node group ${group.nodegroupName}: ${detail}`,
    resourceIds: [group.autoScalingGroupName],
  };
}
