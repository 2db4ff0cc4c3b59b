// Reads the workload snapshot the preflight checks and the plan need from a cluster's API server.
import * as k8s from "@kubernetes/client-node";
import { loadUntrustedKubeconfig } from "./untrusted-kubeconfig.js";
import type { WorkloadSnapshot } from "./workload-snapshot.js";
import { classifyKubeError } from "../util/classify.js";
import { KubeNodeOperations, type NodeOperations } from "./nodes.js";
import { KubeKarpenterApi, type KarpenterAccess, type KarpenterApi } from "../karpenter/reader.js";
import { listAll } from "./paged-list.js";
import { slimBudget, slimDaemonSet, slimDeployment, slimNode, slimPod, slimReplicaSet, slimStatefulSet } from "./slim.js";

export interface WorkloadReader {
  snapshot(): Promise<WorkloadSnapshot>;
}

/** Everything the controller does with the upgraded cluster's API server. */
export type ClusterAccess = WorkloadReader & NodeOperations & KarpenterAccess;

/** snapshot() lists everything once per call; callers run it before changes, not on every poll. */
export class KubeWorkloadReader extends KubeNodeOperations implements ClusterAccess {
  private readonly coreApi: k8s.CoreV1Api;
  private readonly appsApi: k8s.AppsV1Api;
  private readonly policyApi: k8s.PolicyV1Api;
  private readonly karpenterApi: KarpenterApi;

  constructor(kubeConfig: k8s.KubeConfig) {
    super(kubeConfig);
    this.karpenterApi = new KubeKarpenterApi(kubeConfig);
    this.coreApi = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.appsApi = kubeConfig.makeApiClient(k8s.AppsV1Api);
    this.policyApi = kubeConfig.makeApiClient(k8s.PolicyV1Api);
  }

  karpenter(): KarpenterApi {
    return this.karpenterApi;
  }

  async snapshot(): Promise<WorkloadSnapshot> {
    try {
      // Page by page and slimmed as they come (see slim.ts): at 60,000 pods one unpaginated list
      // would be hundreds of megabytes of JSON held at once.
      const [nodes, pods, pdbs, deployments, statefulSets, replicaSets, daemonSets] = await Promise.all([
        listAll((page) => this.coreApi.listNode(page), slimNode),
        listAll((page) => this.coreApi.listPodForAllNamespaces(page), slimPod),
        listAll((page) => this.policyApi.listPodDisruptionBudgetForAllNamespaces(page), slimBudget),
        listAll((page) => this.appsApi.listDeploymentForAllNamespaces(page), slimDeployment),
        listAll((page) => this.appsApi.listStatefulSetForAllNamespaces(page), slimStatefulSet),
        listAll((page) => this.appsApi.listReplicaSetForAllNamespaces(page), slimReplicaSet),
        listAll((page) => this.appsApi.listDaemonSetForAllNamespaces(page), slimDaemonSet),
      ]);
      return { nodes, pods, pdbs, deployments, statefulSets, replicaSets, daemonSets };
    } catch (error) {
      throw classifyKubeError(error, "reading nodes, pods and budgets of the cluster");
    }
  }
}

/**
 * The reader for a ClusterUpgrade's cluster: the operator's own API server, or the cluster whose
 * kubeconfig a Secret holds (spec.cluster.kubeconfigSecretRef) when the operator runs elsewhere.
 */
export async function workloadReaderFor(
  operatorKubeConfig: k8s.KubeConfig,
  namespace: string,
  secretRef: { name: string; key?: string } | undefined,
  field = "spec.cluster.kubeconfigSecretRef",
): Promise<ClusterAccess> {
  if (!secretRef) return new KubeWorkloadReader(operatorKubeConfig);
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
