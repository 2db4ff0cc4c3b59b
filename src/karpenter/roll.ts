// The drift roll, as pure functions: which field of a NodePool or node class makes Karpenter
// replace the pool's nodes with the hop's version, how far the replacement is, and what holds the
// nodes still on the old version. Karpenter itself replaces the nodes (its disruption controller,
// honouring NodePool budgets, do-not-disrupt and PodDisruptionBudgets); the operator never drains them.
import type { V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { compareMinor } from "../api/v1alpha1/version.js";
import type { NodePoolStatus } from "../api/v1alpha1/types.js";
import {
  DO_NOT_DISRUPT_ANNOTATION,
  KUBERNETES_VERSION_ANNOTATION,
  isCondition,
  nodePoolOf,
  type AmiSelectorTerm,
  type EC2NodeClass,
  type NodeClaim,
  type NodePool,
} from "./types.js";

/** The write that makes a pool drift: either a template annotation of the pool, or its EC2NodeClass's AMI terms. */
export type DriftLever =
  | { kind: "NodePool"; name: string; field: string; current: string | undefined; desired: string }
  | { kind: "EC2NodeClass"; name: string; field: string; current: AmiSelectorTerm[] | undefined; desired: AmiSelectorTerm[]; resourceVersion: string | undefined };

export const ANNOTATION_FIELD = `spec.template.metadata.annotations["${KUBERNETES_VERSION_ANNOTATION}"]`;
export const AMI_TERMS_FIELD = "spec.amiSelectorTerms";

/** Alias families whose versions are EKS AMI release dates (vYYYYMMDD), which the operator can look up per minor. */
const DATED_ALIAS_FAMILIES = new Set(["al2023", "al2"]);

export function nodeClassName(pool: NodePool): string {
  const ref = pool.spec.template.spec.nodeClassRef;
  return `${ref.kind}/${ref.name}`;
}

export function usesEC2NodeClass(pool: NodePool): boolean {
  return pool.spec.template.spec.nodeClassRef.kind === "EC2NodeClass";
}

/** Node classes that select no image by Kubernetes version (the kwok provider's, for one) drift through the template. */
export function templateLever(pool: NodePool, version: string): DriftLever {
  return { kind: "NodePool", name: pool.metadata.name, field: ANNOTATION_FIELD, current: pool.spec.template.metadata?.annotations?.[KUBERNETES_VERSION_ANNOTATION], desired: version };
}

/**
 * An EC2NodeClass drifts when its amiSelectorTerms resolve to another image. With an alias such as
 * al2023@latest, Karpenter resolves it against the control plane's version and drifts every node
 * once it sees the new version, at a moment of its choosing; pinning the alias to the release of
 * the hop's AMI (al2023@v20250115) makes the image, and the moment, the upgrade's. Terms that
 * select by id, name, tags or SSM parameter are the user's own choice of image: refused with why.
 */
export function amiAliasLever(nodeClass: EC2NodeClass, release: string): DriftLever | { refused: string } {
  const terms = nodeClass.spec.amiSelectorTerms ?? [];
  const alias = terms.length === 1 ? terms[0].alias : undefined;
  if (!alias) {
    return {
      refused: `EC2NodeClass ${nodeClass.metadata.name} selects its AMIs by ${terms.length ? terms.map((term) => Object.keys(term).join("+")).join(", ") : "nothing"}, not by one alias: the operator pins only aliases. Point its amiSelectorTerms at the new version's AMI yourself (Karpenter then drifts the nodes), or use an alias such as al2023@latest`,
    };
  }
  const family = alias.split("@")[0];
  if (!DATED_ALIAS_FAMILIES.has(family)) {
    return { refused: `EC2NodeClass ${nodeClass.metadata.name} uses alias ${alias}: the operator pins only ${[...DATED_ALIAS_FAMILIES].join(" and ")} aliases, whose versions are EKS AMI release dates. Pin this family's version for the new Kubernetes version yourself` };
  }
  return {
    kind: "EC2NodeClass",
    name: nodeClass.metadata.name,
    field: AMI_TERMS_FIELD,
    current: terms,
    desired: [{ alias: `${family}@${release}` }],
    resourceVersion: nodeClass.metadata.resourceVersion,
  };
}

export function leverKey(lever: { kind: string; name: string; field: string }): string {
  return `${lever.kind}/${lever.name} ${lever.field}`;
}

export function leverValue(lever: DriftLever, which: "current" | "desired"): string | undefined {
  const value = lever[which];
  return value === undefined ? undefined : JSON.stringify(value);
}

function kubeletOf(node: V1Node): string | undefined {
  return node.status?.nodeInfo?.kubeletVersion;
}

/** A node whose kubelet cannot be read counts as old: only a node known to run the version is done. */
export function runsVersion(node: V1Node, version: string): boolean {
  const kubelet = kubeletOf(node);
  if (!kubelet) return false;
  try {
    return compareMinor(kubelet, version) >= 0;
  } catch {
    return false;
  }
}

export interface PoolObservation {
  pool: NodePool;
  nodes: V1Node[];
  claims: NodeClaim[];
}

export function observePools(pools: NodePool[], claims: NodeClaim[], nodes: V1Node[]): PoolObservation[] {
  return [...pools]
    .sort((left, right) => left.metadata.name.localeCompare(right.metadata.name))
    .map((pool) => ({
      pool,
      nodes: nodes.filter((node) => nodePoolOf(node.metadata?.labels) === pool.metadata.name),
      claims: claims.filter((claim) => nodePoolOf(claim.metadata.labels) === pool.metadata.name),
    }));
}

export function outdatedNodes(observation: PoolObservation, version: string): V1Node[] {
  return observation.nodes.filter((node) => !runsVersion(node, version));
}

/** The counts of a pool's entry; outdatedAtStart is kept from the first observation of the hop. */
export function poolCounts(observation: PoolObservation, version: string, entry: Pick<NodePoolStatus, "outdatedAtStart">): Pick<NodePoolStatus, "total" | "atVersion" | "drifted" | "replaced" | "outdatedAtStart"> {
  const live = observation.nodes.filter((node) => !node.metadata?.deletionTimestamp);
  const outdated = outdatedNodes(observation, version).length;
  const outdatedAtStart = entry.outdatedAtStart ?? outdated;
  return {
    total: live.length,
    atVersion: live.filter((node) => runsVersion(node, version)).length,
    drifted: observation.claims.filter((claim) => !claim.metadata.deletionTimestamp && isCondition(claim, "Drifted")).length,
    replaced: Math.max(0, outdatedAtStart - outdated),
    outdatedAtStart,
  };
}

function isActivePod(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.metadata?.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed";
}

function budgetAppliesToDrift(reasons: string[] | undefined): boolean {
  return !reasons || reasons.length === 0 || reasons.includes("Drifted");
}

function allowsNone(nodes: string): boolean {
  return /^0+%?$/.test(nodes.trim());
}

export interface BlockerInputs {
  observation: PoolObservation;
  version: string;
  pods: V1Pod[];
  pdbs: V1PodDisruptionBudget[];
  /** The PodDisruptionBudgets that select a pod (the drain engine's matching). */
  budgetsFor: (pod: V1Pod, pdbs: V1PodDisruptionBudget[]) => V1PodDisruptionBudget[];
}

/**
 * What keeps a pool's old nodes from being replaced, each by name: do-not-disrupt on a node or on
 * a pod of an old node (Karpenter leaves such a node alone until the pool's terminationGracePeriod,
 * if any), NodePool budgets that allow no drift, and PodDisruptionBudgets that allow no eviction
 * from a node Karpenter is draining.
 */
export function driftBlockers(inputs: BlockerInputs): string[] {
  const { observation, version, pods, pdbs } = inputs;
  const blockers: string[] = [];
  const pool = observation.pool;
  const grace = pool.spec.template.spec.terminationGracePeriod;
  const until = grace ? ` until the NodePool's terminationGracePeriod (${grace}) runs out` : "";
  const old = outdatedNodes(observation, version);
  for (const node of old) {
    const name = node.metadata?.name ?? "";
    if (node.metadata?.annotations?.[DO_NOT_DISRUPT_ANNOTATION] === "true") blockers.push(`node ${name} is annotated ${DO_NOT_DISRUPT_ANNOTATION}=true${until}`);
    for (const pod of pods) {
      if (pod.spec?.nodeName !== name || !isActivePod(pod)) continue;
      if (pod.metadata?.annotations?.[DO_NOT_DISRUPT_ANNOTATION] === "true") {
        blockers.push(`pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${name} is annotated ${DO_NOT_DISRUPT_ANNOTATION}=true${until}`);
      }
    }
  }
  for (const [index, budget] of (pool.spec.disruption?.budgets ?? []).entries()) {
    if (!budgetAppliesToDrift(budget.reasons) || !allowsNone(budget.nodes)) continue;
    const when = budget.schedule ? ` while its schedule "${budget.schedule}" (UTC, for ${budget.duration ?? "?"}) is active` : "";
    blockers.push(`NodePool ${pool.metadata.name} disruption budget ${index} (nodes: ${budget.nodes}) allows no drift${when}`);
  }
  const draining = new Set(
    observation.nodes
      .filter((node) => node.metadata?.deletionTimestamp || node.spec?.taints?.some((taint) => taint.key === "karpenter.sh/disrupted"))
      .map((node) => node.metadata?.name ?? ""),
  );
  for (const pod of pods) {
    if (!draining.has(pod.spec?.nodeName ?? "") || !isActivePod(pod)) continue;
    for (const budget of inputs.budgetsFor(pod, pdbs)) {
      if ((budget.status?.disruptionsAllowed ?? 0) > 0) continue;
      blockers.push(`PodDisruptionBudget ${budget.metadata?.namespace}/${budget.metadata?.name} (0 disruptions allowed) holds pod ${pod.metadata?.namespace}/${pod.metadata?.name} on node ${pod.spec?.nodeName}`);
    }
  }
  return [...new Set(blockers)];
}
