/**
 * The Karpenter objects of a scenario: one KWOKNodeClass and the scenario's NodePools. A NodePool's
 * template carries the sandbox's cluster label (every scenario pod selects it) and the node version
 * annotation from which kwok reports the kubelet version of the nodes Karpenter creates.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { LABEL_CLUSTER } from "../eks-emulator/node-spec.js";
import { NODE_VERSION_ANNOTATION } from "../runtime/kwok-stages.js";
import type { ClusterSpec, NodePoolSpec } from "./spec.js";
import { SCENARIO_LABEL } from "./workloads.js";

export const KWOK_NODE_CLASS = "default";

export function karpenterObjects(scenarioName: string, cluster: ClusterSpec): KubernetesObject[] {
  if (!cluster.karpenter) return [];
  const nodeClass = {
    apiVersion: "karpenter.kwok.sh/v1alpha1",
    kind: "KWOKNodeClass",
    metadata: { name: KWOK_NODE_CLASS, labels: { [SCENARIO_LABEL]: scenarioName } },
  } as KubernetesObject;
  return [nodeClass, ...cluster.karpenter.nodePools.map((pool) => nodePoolObject(scenarioName, cluster, pool))];
}

function nodePoolObject(scenarioName: string, cluster: ClusterSpec, pool: NodePoolSpec): KubernetesObject {
  const requirements = [
    { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
    { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
    { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
    ...(pool.instanceFamilies.length ? [{ key: "karpenter.kwok.sh/instance-family", operator: "In", values: pool.instanceFamilies }] : []),
  ];
  return {
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name: pool.name, labels: { [SCENARIO_LABEL]: scenarioName } },
    spec: {
      template: {
        metadata: {
          labels: { ...pool.labels, [LABEL_CLUSTER]: cluster.name },
          annotations: { [NODE_VERSION_ANNOTATION]: cluster.version },
        },
        spec: {
          requirements,
          nodeClassRef: { group: "karpenter.kwok.sh", kind: "KWOKNodeClass", name: KWOK_NODE_CLASS },
          // Nodes live until drift replaces them: no expiry and no consolidation to blur the test.
          expireAfter: "Never",
        },
      },
      disruption: {
        consolidationPolicy: "WhenEmpty",
        consolidateAfter: "Never",
        ...(pool.budgets.length ? { budgets: pool.budgets } : {}),
      },
    },
  } as KubernetesObject;
}
