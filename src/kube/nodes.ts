// What the node roll and the drain engine do to a cluster's API server: cordon and annotate nodes,
// list the pods on a node, evict pods through the Eviction API (which enforces
// PodDisruptionBudgets), and delete pods only when the spec's timeout policy allows it.
import * as k8s from "@kubernetes/client-node";
import { classifyKubeError, readKubeError } from "../util/classify.js";
import { listAll } from "./paged-list.js";
import { LIST_PATHS, podPages, rawPages } from "./raw-list.js";
import { Interner, slimBudget, slimNode, slimPod } from "./slim.js";

export interface NodePatch {
  unschedulable?: boolean;
  /** A null value removes the annotation. */
  annotations?: Record<string, string | null>;
}

export interface EvictionAnswer {
  /**
   * HTTP status of the eviction: 201 accepted, 429 refused by a budget, 404 gone, 500 several
   * budgets (or a server fault: the message tells), 403 or a webhook's code when denied.
   */
  status: number;
  message: string;
}

export interface NodeOperations {
  listNodes(): Promise<k8s.V1Node[]>;
  /** Every pod bound to the node, in all namespaces. */
  podsOnNode(nodeName: string): Promise<k8s.V1Pod[]>;
  listBudgets(): Promise<k8s.V1PodDisruptionBudget[]>;
  /** Throws NotFoundError when the node is gone. */
  patchNode(nodeName: string, patch: NodePatch): Promise<void>;
  /** Never throws for an answer of the Eviction API: its status says what happened. */
  evictPod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<EvictionAnswer>;
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void>;
}

const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

export class KubeNodeOperations implements NodeOperations {
  private readonly core: k8s.CoreV1Api;
  private readonly policy: k8s.PolicyV1Api;

  constructor(protected readonly kubeConfig: k8s.KubeConfig) {
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.policy = kubeConfig.makeApiClient(k8s.PolicyV1Api);
  }

  async listNodes(): Promise<k8s.V1Node[]> {
    try {
      return await listAll(rawPages<k8s.V1Node>(this.kubeConfig, LIST_PATHS.nodes), slimNode);
    } catch (error) {
      throw classifyKubeError(error, "listing nodes");
    }
  }

  async podsOnNode(nodeName: string): Promise<k8s.V1Pod[]> {
    try {
      // The API server filters by node: a drain pass reads the pods of its node, not of the cluster.
      const podParts = new Interner();
      return await listAll(podPages(this.kubeConfig, { fieldSelector: `spec.nodeName=${nodeName}` }), (pod) => slimPod(pod, podParts));
    } catch (error) {
      throw classifyKubeError(error, `listing the pods on node ${nodeName}`);
    }
  }

  async listBudgets(): Promise<k8s.V1PodDisruptionBudget[]> {
    try {
      return await listAll(rawPages<k8s.V1PodDisruptionBudget>(this.kubeConfig, LIST_PATHS.budgets), slimBudget);
    } catch (error) {
      throw classifyKubeError(error, "listing PodDisruptionBudgets");
    }
  }

  async patchNode(nodeName: string, patch: NodePatch): Promise<void> {
    const body: Record<string, unknown> = {};
    if (patch.unschedulable !== undefined) body.spec = { unschedulable: patch.unschedulable };
    if (patch.annotations) body.metadata = { annotations: patch.annotations };
    try {
      await this.core.patchNode({ name: nodeName, body }, MERGE_PATCH);
    } catch (error) {
      throw classifyKubeError(error, `patching node ${nodeName} (${describePatch(patch)})`);
    }
  }

  async evictPod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<EvictionAnswer> {
    const body: k8s.V1Eviction = {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name, namespace },
      ...(gracePeriodSeconds !== undefined ? { deleteOptions: { gracePeriodSeconds } } : {}),
    };
    try {
      await this.core.createNamespacedPodEviction({ name, namespace, body });
      return { status: 201, message: "eviction accepted" };
    } catch (error) {
      const answer = readKubeError(error);
      // No HTTP status means the request never got an answer (network): that is an error to retry.
      if (answer.statusCode === undefined) throw classifyKubeError(error, `evicting pod ${namespace}/${name}`);
      return { status: answer.statusCode, message: answer.message };
    }
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ name, namespace, ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) });
    } catch (error) {
      const classified = classifyKubeError(error, `deleting pod ${namespace}/${name}`);
      if (readKubeError(error).statusCode === 404) return;
      throw classified;
    }
  }
}

function describePatch(patch: NodePatch): string {
  const parts: string[] = [];
  if (patch.unschedulable !== undefined) parts.push(patch.unschedulable ? "cordon" : "uncordon");
  for (const [key, value] of Object.entries(patch.annotations ?? {})) parts.push(value === null ? `remove ${key}` : `${key}=${value}`);
  return parts.join(", ");
}
