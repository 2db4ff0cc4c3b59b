// Small helpers for the tests that show the sandbox's Kubernetes behaves like a real cluster.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Deployment,
  type V1Node,
  type V1Pod,
  type V1PodSpec,
} from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { isNodeReady, kwokNodeAnnotation } from "../../../sandbox/runtime/index.js";
import { sandboxKubeConfig } from "../../support/global-sandbox.js";

export interface Clients {
  core: CoreV1Api;
  apps: AppsV1Api;
  policy: PolicyV1Api;
}

export function clients(): Clients {
  const kubeConfig = sandboxKubeConfig();
  return {
    core: kubeConfig.makeApiClient(CoreV1Api),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    policy: kubeConfig.makeApiClient(PolicyV1Api),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/** Polls until `probe` returns something other than undefined/false; fails with `description`. */
export async function eventually<T>(
  description: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${description}${cause}`);
    }
    await sleep(intervalMs);
  }
}

export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export function errorBody(error: unknown): string {
  if (!(error instanceof ApiException)) return String(error);
  const body: unknown = error.body;
  return typeof body === "string" ? body : JSON.stringify(body);
}

/** The taint kwok's documentation puts on fake nodes, and the toleration its pods carry. */
export const kwokTaint = { key: kwokNodeAnnotation.key, value: kwokNodeAnnotation.value, effect: "NoSchedule" };
export const kwokToleration = { key: kwokNodeAnnotation.key, operator: "Exists", effect: "NoSchedule" };

/** Label that keeps one test's pods on that test's nodes. */
export const suiteLabel = "sandbox-test.eks-upgrade-operator.dev/suite";

export async function createNamespace(core: CoreV1Api, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name } } });
  // The ServiceAccount admission plugin refuses pods until the controller manager made `default`.
  await eventually(`ServiceAccount ${name}/default`, () => core.readNamespacedServiceAccount({ name: "default", namespace: name }));
  return name;
}

/** kwok never creates Nodes: a Node object with its annotation is what gets a fake kubelet. */
export async function createKwokNodes(core: CoreV1Api, suite: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, index) => `${suite}-node-${index}`);
  for (const name of names) {
    const node: V1Node = {
      metadata: {
        name,
        annotations: { [kwokNodeAnnotation.key]: kwokNodeAnnotation.value, "node.alpha.kubernetes.io/ttl": "0" },
        labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", type: "kwok", [suiteLabel]: suite },
      },
      spec: { taints: [kwokTaint] },
      status: { allocatable: { cpu: "8", memory: "32Gi", pods: "110" }, capacity: { cpu: "8", memory: "32Gi", pods: "110" } },
    };
    await core.createNode({ body: node });
  }
  for (const name of names) {
    await eventually(`node ${name} Ready and schedulable`, async () => {
      const node = await core.readNode({ name });
      const notReadyTaint = node.spec?.taints?.some((taint) => taint.key.startsWith("node.kubernetes.io/"));
      return isNodeReady(node) && !notReadyTaint;
    });
  }
  return names;
}

/**
 * Removes a test's namespace, then its Nodes. In this order kwok is still there to finish the
 * pods' deletion; Nodes deleted first would leave the pods Terminating until the pod garbage
 * collector's quarantine for orphans ends.
 */
export async function cleanUp(core: CoreV1Api, namespace: string | undefined, nodes: string[]): Promise<void> {
  if (namespace) {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await eventually(`namespace ${namespace} gone`, () =>
      core.readNamespace({ name: namespace }).then(
        () => undefined,
        (error: unknown) => statusCode(error) === 404,
      ),
    );
  }
  for (const name of nodes) await core.deleteNode({ name }).catch(() => undefined);
}

export async function cordon(core: CoreV1Api, name: string): Promise<void> {
  await core.patchNode({ name, body: { spec: { unschedulable: true } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
}

export function podSpec(suite: string, overrides: Partial<V1PodSpec> = {}): V1PodSpec {
  return {
    containers: [{ name: "app", image: "registry.invalid/sandbox-test:1" }],
    nodeSelector: { [suiteLabel]: suite },
    tolerations: [kwokToleration],
    terminationGracePeriodSeconds: 3,
    ...overrides,
  };
}

export function deployment(name: string, suite: string, replicas: number): V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(suite) } },
  };
}

export function isRunningAndReady(pod: V1Pod): boolean {
  return (
    pod.metadata?.deletionTimestamp === undefined &&
    pod.status?.phase === "Running" &&
    (pod.status.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false)
  );
}

/** Waits until exactly `count` pods match and all of them are Running and Ready. */
export async function runningReadyPods(core: CoreV1Api, namespace: string, selector: string, count: number): Promise<V1Pod[]> {
  return eventually(`${count} Running and Ready pods ${selector} in ${namespace}`, async () => {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
    return pods.length === count && pods.every(isRunningAndReady) ? pods : undefined;
  });
}
