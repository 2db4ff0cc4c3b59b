// Reads the workload snapshot the preflight checks and the plan need from a cluster's API server.
import * as k8s from "@kubernetes/client-node";
import { loadUntrustedKubeconfig } from "./untrusted-kubeconfig.js";
import type { WorkloadSnapshot } from "./workload-snapshot.js";
import { classifyKubeError } from "../util/classify.js";
import { KubeNodeOperations, type NodeOperations } from "./nodes.js";
import { KubeKarpenterApi, type KarpenterAccess, type KarpenterApi } from "../karpenter/reader.js";
import { listAll } from "./paged-list.js";
import { listNodePools } from "./karpenter-objects.js";
import { LIST_PATHS, podPages, rawPages } from "./raw-list.js";
import { Interner, slimBudget, slimDaemonSet, slimDeployment, slimNode, slimPod, slimReplicaSet, slimStatefulSet } from "./slim.js";

export interface SnapshotOptions {
  /** Read Karpenter's NodePools too (the preflight does; verification and the green cluster do not need them). */
  nodePools?: boolean;
}

export interface WorkloadReader {
  snapshot(options?: SnapshotOptions): Promise<WorkloadSnapshot>;
}

/** Everything the controller does with the upgraded cluster's API server. */
export type ClusterAccess = WorkloadReader & NodeOperations & KarpenterAccess;

/** snapshot() lists everything once per call; callers run it before changes, not on every poll. */
export class KubeWorkloadReader extends KubeNodeOperations implements ClusterAccess {
  private readonly customObjectsApi: k8s.CustomObjectsApi;
  private readonly karpenterApi: KarpenterApi;

  constructor(kubeConfig: k8s.KubeConfig) {
    super(kubeConfig);
    this.customObjectsApi = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.karpenterApi = new KubeKarpenterApi(kubeConfig);
  }

  karpenter(): KarpenterApi {
    return this.karpenterApi;
  }

  async snapshot(options: SnapshotOptions = {}): Promise<WorkloadSnapshot> {
    try {
      // Page by page, parsed as plain JSON (raw-list.ts) and slimmed as they come (slim.ts): at
      // 60,000 pods one unpaginated list would be hundreds of megabytes of JSON held at once.
      const pages = <T>(path: string) => rawPages<T>(this.kubeConfig, path);
      const podParts = new Interner();
      const [nodes, pods, pdbs, deployments, statefulSets, replicaSets, daemonSets, nodePools] = await Promise.all([
        listAll(pages<k8s.V1Node>(LIST_PATHS.nodes), slimNode),
        listAll(podPages(this.kubeConfig), (pod) => slimPod(pod, podParts)),
        listAll(pages<k8s.V1PodDisruptionBudget>(LIST_PATHS.budgets), slimBudget),
        listAll(pages<k8s.V1Deployment>(LIST_PATHS.deployments), slimDeployment),
        listAll(pages<k8s.V1StatefulSet>(LIST_PATHS.statefulSets), slimStatefulSet),
        listAll(pages<k8s.V1ReplicaSet>(LIST_PATHS.replicaSets), slimReplicaSet),
        listAll(pages<k8s.V1DaemonSet>(LIST_PATHS.daemonSets), slimDaemonSet),
        options.nodePools ? listNodePools(this.customObjectsApi) : Promise.resolve(undefined),
      ]);
      return { nodes, pods, pdbs, deployments, statefulSets, replicaSets, daemonSets, ...(nodePools ? { nodePools } : {}) };
    } catch (error) {
      throw classifyKubeError(error, "reading nodes, pods, budgets and Karpenter NodePools of the cluster");
    }
  }
}

/** Budgets kept current by a watch: the informer the operator runs on its own cluster's budgets. */
export interface BudgetCache {
  hasSynced(): boolean;
  /** The cached budgets themselves: read them, never change them. */
  list(): k8s.V1PodDisruptionBudget[];
}

/**
 * The operator's own cluster, whose budgets it already watches (they wake a drain the moment one
 * allows another disruption). The drain reads every budget on each of its passes; at 2,000
 * budgets that was four page requests a pass, a thousand in a 20-node roll, for what the watch
 * already holds. Until the watch has synced, budgets are listed as before. A cached figure can lag
 * the API server by the watch's delay: the Eviction API still decides, so a stale one costs a 429,
 * never a disruption. The preflight's snapshot still lists budgets itself, like everything else it
 * reads, at one moment.
 */
export class WatchedBudgetsReader extends KubeWorkloadReader {
  constructor(
    kubeConfig: k8s.KubeConfig,
    private readonly budgets: BudgetCache,
  ) {
    super(kubeConfig);
  }

  override async listBudgets(): Promise<k8s.V1PodDisruptionBudget[]> {
    return this.budgets.hasSynced() ? this.budgets.list() : super.listBudgets();
  }
}

/**
 * The reader for a ClusterUpgrade's cluster: the operator's own API server (with budgets from
 * `ownBudgets` when given), or the cluster whose kubeconfig a Secret holds
 * (spec.cluster.kubeconfigSecretRef) when the operator runs elsewhere.
 */
export async function workloadReaderFor(
  operatorKubeConfig: k8s.KubeConfig,
  namespace: string,
  secretRef: { name: string; key?: string } | undefined,
  field = "spec.cluster.kubeconfigSecretRef",
  ownBudgets?: BudgetCache,
): Promise<ClusterAccess> {
  if (!secretRef) return ownBudgets ? new WatchedBudgetsReader(operatorKubeConfig, ownBudgets) : new KubeWorkloadReader(operatorKubeConfig);
  const key = secretRef.key ?? "kubeconfig";
  let secret: k8s.V1Secret;
  try {
    secret = await operatorKubeConfig.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ namespace, name: secretRef.name });
  } catch (error) {
    throw classifyKubeError(error, `reading Secret ${namespace}/${secretRef.name} named by ${field}`);
  }
  const encoded = secret.data?.[key];
  if (!encoded) throw new Error(`Secret ${namespace}/${secretRef.name} has no key "${key}" (${field}.key)`);
  const target = loadUntrustedKubeconfig(Buffer.from(encoded, "base64").toString("utf8"), `Secret ${namespace}/${secretRef.name} key ${key} (${field})`);
  return new KubeWorkloadReader(target);
}
