// What the preflight reads of Karpenter's objects, and how: NodePools (karpenter.sh/v1) through the
// custom objects API, page by page, kept to the fields the checks use. A cluster without
// Karpenter has no such resource and answers 404: that is "no NodePools", not an error.
import type * as k8s from "@kubernetes/client-node";
import { readKubeError } from "../util/classify.js";
import { listAll } from "./paged-list.js";
import { KARPENTER_GROUP, KARPENTER_VERSION } from "../karpenter/types.js";

/** One entry of spec.disruption.budgets: nodes is a count or a percentage ("0", "10%"). */
export interface PreflightDisruptionBudget {
  nodes: string;
  reasons?: string[];
  /** Cron, always UTC in Karpenter; goes with duration. */
  schedule?: string;
  duration?: string;
}

/** The fields of a NodePool the preflight reads; the rest of the object is dropped. */
export interface PreflightNodePool {
  name: string;
  budgets?: PreflightDisruptionBudget[];
  /** spec.template.spec.expireAfter: a duration or "Never"; Karpenter's default is 720h. */
  expireAfter?: string;
  /** spec.template.spec.terminationGracePeriod. */
  terminationGracePeriod?: string;
  /** spec.template.spec.nodeClassRef.group: eks.amazonaws.com for EKS Auto Mode's own NodePools. */
  nodeClassGroup?: string;
}

/** The label Karpenter's Helm chart puts on its controller Deployment. */
export const KARPENTER_APP_LABEL = "app.kubernetes.io/name";

export function isKarpenterController(deployment: k8s.V1Deployment): boolean {
  return deployment.metadata?.labels?.[KARPENTER_APP_LABEL] === "karpenter";
}

interface RawNodePool {
  metadata?: { name?: string };
  spec?: {
    disruption?: { budgets?: { nodes?: unknown; reasons?: unknown; schedule?: unknown; duration?: unknown }[] };
    template?: { spec?: { expireAfter?: unknown; terminationGracePeriod?: unknown; nodeClassRef?: { group?: unknown } } };
  };
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined);

export function slimNodePool(raw: RawNodePool): PreflightNodePool {
  const spec = raw.spec?.template?.spec;
  const budgets = raw.spec?.disruption?.budgets?.map((budget) => {
    const reasons = Array.isArray(budget.reasons) ? budget.reasons.filter((reason): reason is string => typeof reason === "string") : undefined;
    const schedule = text(budget.schedule);
    const duration = text(budget.duration);
    return { nodes: text(budget.nodes) ?? "10%", ...(reasons ? { reasons } : {}), ...(schedule ? { schedule } : {}), ...(duration ? { duration } : {}) };
  });
  const expireAfter = text(spec?.expireAfter);
  const terminationGracePeriod = text(spec?.terminationGracePeriod);
  const nodeClassGroup = text(spec?.nodeClassRef?.group);
  return {
    name: raw.metadata?.name ?? "",
    ...(budgets ? { budgets } : {}),
    ...(expireAfter ? { expireAfter } : {}),
    ...(terminationGracePeriod ? { terminationGracePeriod } : {}),
    ...(nodeClassGroup ? { nodeClassGroup } : {}),
  };
}

/** Every NodePool of the cluster; undefined when the cluster has no NodePool resource (no Karpenter). */
export async function listNodePools(customObjects: k8s.CustomObjectsApi): Promise<PreflightNodePool[] | undefined> {
  try {
    return await listAll(async (page) => {
      const body = (await customObjects.listClusterCustomObject({ group: KARPENTER_GROUP, version: KARPENTER_VERSION, plural: "nodepools", ...page })) as { items?: RawNodePool[]; metadata?: { continue?: string } };
      return { items: body.items ?? [], metadata: { _continue: body.metadata?.continue } };
    }, slimNodePool);
  } catch (error) {
    if (readKubeError(error).statusCode === 404) return undefined;
    throw error;
  }
}
