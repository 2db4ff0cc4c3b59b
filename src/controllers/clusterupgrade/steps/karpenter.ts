// Karpenter's NodePools, after the node groups of each hop: the operator makes each pool's nodes
// drift to the hop's version (an EC2NodeClass's AMI alias pinned to the hop's release, or the
// pool's template annotation where the node class selects no image by version) and follows the
// NodeClaims until every node of the pool runs it. Karpenter replaces the nodes itself, honouring
// its budgets, do-not-disrupt and PodDisruptionBudgets; this operator never drains them.
//
// Every write is recorded in status.karpenter.changes first (one pass), then made (the next), so
// an abort or a deletion can put back exactly what was there, whenever the operator restarted.
import { ConditionType, Reason, type HopStatus, type KarpenterChange, type KarpenterStatus, type NodePoolStatus } from "../../../api/v1alpha1/types.js";
import type { KarpenterApi } from "../../../karpenter/reader.js";
import {
  amiAliasLever,
  driftBlockers,
  leverKey,
  leverValue,
  nodeClassName,
  observePools,
  outdatedNodes,
  poolCounts,
  templateLever,
  usesEC2NodeClass,
  type DriftLever,
  type PoolObservation,
} from "../../../karpenter/roll.js";
import { KUBERNETES_VERSION_ANNOTATION, type AmiSelectorTerm } from "../../../karpenter/types.js";
import { budgetsFor } from "../../../kube/workload-snapshot.js";
import { describeError, isConflict, isNotFound } from "../../../util/errors.js";
import { waitFor, type StepContext, type StepResult } from "../context.js";

function entryFor(karpenter: KarpenterStatus, observation: PoolObservation, version: string): NodePoolStatus {
  const name = observation.pool.metadata.name;
  let entry = karpenter.nodePools.find((pool) => pool.name === name);
  if (!entry) {
    entry = { name, nodeClass: nodeClassName(observation.pool), targetVersion: version, state: "Pending", total: 0, atVersion: 0, drifted: 0, replaced: 0 };
    karpenter.nodePools.push(entry);
  }
  if (entry.targetVersion !== version) {
    Object.assign(entry, { targetVersion: version, state: "Pending", replaced: 0 });
    delete entry.outdatedAtStart;
    delete entry.blockers;
  }
  entry.nodeClass = nodeClassName(observation.pool);
  return entry;
}

/** The lever for a pool, or why the operator leaves the pool to the user. */
async function leverFor(context: StepContext, api: KarpenterApi, observation: PoolObservation, version: string): Promise<DriftLever | { refused: string } | { waiting: string }> {
  const pool = observation.pool;
  if (!usesEC2NodeClass(pool)) return templateLever(pool, version);
  const className = pool.spec.template.spec.nodeClassRef.name;
  const nodeClass = await api.getEC2NodeClass(className);
  if (!nodeClass) return { refused: `NodePool ${pool.metadata.name} names EC2NodeClass ${className}, which does not exist` };
  const release = await context.cloud.ec2.eksOptimizedAmiRelease(version);
  if (!release) return { waiting: `no EKS-optimized AMI is published for Kubernetes ${version} yet; EC2NodeClass ${className} keeps its AMIs until one is` };
  return amiAliasLever(nodeClass, release);
}

async function write(api: KarpenterApi, lever: DriftLever, value: string | undefined): Promise<void> {
  if (lever.kind === "NodePool") {
    await api.setNodePoolTemplateAnnotation(lever.name, KUBERNETES_VERSION_ANNOTATION, value === undefined ? null : (JSON.parse(value) as string), undefined);
  } else {
    await api.setAmiSelectorTerms(lever.name, value === undefined ? [] : (JSON.parse(value) as AmiSelectorTerm[]), lever.resourceVersion);
  }
}

/**
 * Brings the lever to its desired value: records the change (and returns, so the record is
 * written before the object is), then writes it. Undefined once the live value is the desired one.
 */
async function applyLever(context: StepContext, api: KarpenterApi, karpenter: KarpenterStatus, lever: DriftLever): Promise<StepResult | undefined> {
  const key = leverKey(lever);
  const desired = leverValue(lever, "desired")!;
  const current = leverValue(lever, "current");
  let change = karpenter.changes.find((candidate) => leverKey(candidate) === key);
  if (current === desired) {
    if (change && change.state === "Pending" && change.applied === desired) change.state = "Applied";
    return undefined;
  }
  if (!context.newWorkAllowed) return waitFor(context.timings.idleRecheckMs, "outside maintenance window");
  if (!change) {
    change = { kind: lever.kind, name: lever.name, field: lever.field, ...(current !== undefined ? { original: current } : {}), applied: desired, state: "Pending" };
    karpenter.changes.push(change);
    return waitFor(0, `record the change of ${key} before making it`);
  }
  if (change.applied !== desired || change.state !== "Pending") {
    Object.assign(change, { applied: desired, state: "Pending" });
    return waitFor(0, `record the change of ${key} before making it`);
  }
  try {
    await write(api, lever, desired);
  } catch (error) {
    if (isConflict(error)) return waitFor(0, `${key} changed while being written; read it again`);
    throw error;
  }
  change.state = "Applied";
  context.event("Normal", "KarpenterDriftStarted", `${lever.kind} ${lever.name}: ${lever.field} ${current ?? "(unset)"} -> ${desired}, so that Karpenter replaces the nodes by drift`);
  return waitFor(context.timings.updatePollMs, "Karpenter drift started");
}

function describePool(entry: NodePoolStatus): string {
  if (entry.state === "Failed" || (entry.state === "Pending" && entry.message)) return `NodePool ${entry.name}: ${entry.message}`;
  const blocked = entry.blockers?.length ? `; held by ${entry.blockers.join("; ")}` : "";
  return `NodePool ${entry.name}: ${entry.atVersion}/${entry.total} nodes at ${entry.targetVersion}, ${entry.drifted} drifted, ${entry.replaced} replaced${blocked}`;
}

/** Moves every NodePool to `hop.version`. Undefined once every pool's nodes run it (or there is no Karpenter). */
export async function advanceKarpenter(context: StepContext, hop: HopStatus, isLastHop: boolean): Promise<StepResult | undefined> {
  const access = await context.workloads();
  const api = access.karpenter();
  const pools = await api.listNodePools();
  if (!pools?.length) return undefined;
  const karpenter: KarpenterStatus = (context.status.karpenter ??= { nodePools: [], changes: [] });
  const [claims, nodes] = await Promise.all([api.listNodeClaims(), access.listNodes()]);
  const observations = observePools(pools, claims, nodes);
  let waiting: StepResult | undefined;
  const snapshot = observations.some((observation) => outdatedNodes(observation, hop.version).length > 0) ? await access.snapshot() : undefined;

  for (const observation of observations) {
    const entry = entryFor(karpenter, observation, hop.version);
    if (entry.state === "Succeeded") continue;
    // Nodes that all run the version already need no drift: changing the template would replace
    // every one of them for nothing (a hop already at its version, a pool someone moved by hand).
    // An empty pool still gets the lever, so the nodes it makes later run the version.
    // Judged at the pool's first sight in the hop only: later, all nodes at the version is the
    // drift's own end, which the normal path below reports.
    const firstSight = entry.outdatedAtStart === undefined;
    if (firstSight && observation.nodes.length > 0 && outdatedNodes(observation, hop.version).length === 0) {
      Object.assign(entry, poolCounts(observation, hop.version, entry), { state: "Succeeded", message: `all ${observation.nodes.length} node(s) run ${hop.version}; nothing to drift` });
      delete entry.blockers;
      continue;
    }
    const lever = await leverFor(context, api, observation, hop.version);
    if ("refused" in lever || "waiting" in lever) {
      entry.state = "refused" in lever ? "Failed" : "Pending";
      entry.message = "refused" in lever ? lever.refused : lever.waiting;
      waiting ??= waitFor(context.timings.idleRecheckMs, `NodePool ${entry.name} cannot drift`);
      continue;
    }
    // Counted before the first write of the hop, so outdatedAtStart is what drift has to replace.
    Object.assign(entry, poolCounts(observation, hop.version, entry));
    const applying = await applyLever(context, api, karpenter, lever);
    if (applying && applying.outcome === "wait" && applying.requeueAfterMs === 0) return applying;
    if (applying) {
      entry.message = applying.outcome === "wait" ? applying.reason : undefined;
      waiting ??= applying;
      continue;
    }
    if (outdatedNodes(observation, hop.version).length === 0) {
      context.event("Normal", "NodePoolUpgraded", `NodePool ${entry.name}: all ${entry.total} node(s) run ${hop.version}`);
      Object.assign(entry, { state: "Succeeded", message: `all ${entry.total} node(s) run ${hop.version}` });
      delete entry.blockers;
      continue;
    }
    entry.state = "InProgress";
    const blockers = snapshot ? driftBlockers({ observation, version: hop.version, pods: snapshot.pods, pdbs: snapshot.pdbs, budgetsFor }) : [];
    if (blockers.length) entry.blockers = blockers;
    else delete entry.blockers;
    entry.message = `Karpenter is replacing the old nodes by drift: ${entry.total - entry.atVersion} to go`;
    waiting ??= waitFor(context.timings.updatePollMs, "Karpenter drift in progress");
  }

  const current = karpenter.nodePools.filter((entry) => pools.some((pool) => pool.metadata.name === entry.name));
  if (waiting) {
    context.setCondition(ConditionType.NodeGroupsUpgraded, "False", Reason.Reconciling, `Karpenter at ${hop.version}: ${current.map(describePool).join(". ")}`);
    return waiting;
  }
  if (isLastHop) for (const change of karpenter.changes) if (change.state === "Applied") change.state = "Kept";
  context.setCondition(
    ConditionType.NodeGroupsUpgraded,
    isLastHop ? "True" : "False",
    isLastHop ? Reason.Upgraded : Reason.Reconciling,
    `node groups and ${current.length} Karpenter NodePool(s) at ${hop.version}: ${current.map((entry) => entry.name).join(", ")}`,
  );
  return undefined;
}

/** Whether an abort or a deletion has Karpenter changes to put back. */
export function holdsKarpenterChanges(karpenter: KarpenterStatus | undefined): boolean {
  return (karpenter?.changes ?? []).some((change) => change.state === "Pending" || change.state === "Applied");
}

async function liveValue(api: KarpenterApi, change: KarpenterChange): Promise<{ value: string | undefined; resourceVersion: string | undefined } | undefined> {
  if (change.kind === "NodePool") {
    const pool = (await api.listNodePools())?.find((candidate) => candidate.metadata.name === change.name);
    if (!pool) return undefined;
    const value = pool.spec.template.metadata?.annotations?.[KUBERNETES_VERSION_ANNOTATION];
    return { value: value === undefined ? undefined : JSON.stringify(value), resourceVersion: pool.metadata.resourceVersion };
  }
  const nodeClass = await api.getEC2NodeClass(change.name);
  if (!nodeClass) return undefined;
  const terms = nodeClass.spec.amiSelectorTerms;
  return { value: terms === undefined ? undefined : JSON.stringify(terms), resourceVersion: nodeClass.metadata.resourceVersion };
}

/**
 * Puts back each recorded change that is still the upgrade's: where the live value is what the
 * upgrade wrote, the original returns (Karpenter then drifts the nodes back to it); where someone
 * changed it since, it is left alone and said so. Idempotent. Returns one line per change.
 */
export async function restoreKarpenter(karpenter: KarpenterStatus | undefined, api: KarpenterApi): Promise<string[]> {
  const lines: string[] = [];
  for (const change of karpenter?.changes ?? []) {
    if (change.state !== "Pending" && change.state !== "Applied") continue;
    const what = `${change.kind} ${change.name} ${change.field}`;
    const live = await liveValue(api, change);
    if (!live) {
      Object.assign(change, { state: "Restored", message: `${change.kind} ${change.name} no longer exists; nothing to restore` });
      lines.push(`${what}: gone, nothing to restore`);
      continue;
    }
    if (live.value === change.original) {
      Object.assign(change, { state: "Restored", message: "already at its original value" });
      continue;
    }
    if (live.value !== change.applied) {
      Object.assign(change, { state: "LeftAlone", message: `changed by someone else since the upgrade wrote it (now ${live.value ?? "unset"}); left as it is` });
      lines.push(`${what}: left as it is (changed by someone else since)`);
      continue;
    }
    try {
      if (change.kind === "NodePool") {
        await api.setNodePoolTemplateAnnotation(change.name, KUBERNETES_VERSION_ANNOTATION, change.original === undefined ? null : (JSON.parse(change.original) as string), live.resourceVersion);
      } else {
        await api.setAmiSelectorTerms(change.name, change.original === undefined ? [] : (JSON.parse(change.original) as AmiSelectorTerm[]), live.resourceVersion);
      }
    } catch (error) {
      if (isNotFound(error)) continue;
      throw new Error(`restoring ${what}: ${describeError(error)}`, { cause: error });
    }
    Object.assign(change, { state: "Restored", message: `restored to ${change.original ?? "unset"}` });
    lines.push(`restored ${what} to ${change.original ?? "unset"}`);
  }
  return lines;
}
