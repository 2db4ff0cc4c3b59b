/**
 * The slice of the Kubernetes API the emulator uses: Nodes (mirror, cordon) and Pods (eviction),
 * always through the real kube-apiserver, so PDBs and the disruption controller decide evictions.
 */
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
  type V1Pod,
} from "@kubernetes/client-node";

export interface EvictionOutcome {
  /** evicted: accepted (pod now terminating); gone: pod no longer exists; refused: 429; error: anything else. */
  kind: "evicted" | "gone" | "refused" | "error";
  status: number;
  message: string;
}

export class KubeAccess {
  readonly core: CoreV1Api;
  readonly config: KubeConfig;

  constructor(kubeconfigPath: string) {
    this.config = new KubeConfig();
    this.config.loadFromFile(kubeconfigPath);
    this.core = this.config.makeApiClient(CoreV1Api);
  }

  /** The apiserver URL and CA bundle (base64), for DescribeCluster's endpoint and certificateAuthority. */
  serverInfo(): { server: string; caData?: string } {
    const cluster = this.config.getCurrentCluster();
    return { server: cluster?.server ?? "", caData: cluster?.caData };
  }

  async listNodes(labelSelector?: string): Promise<V1Node[]> {
    const out: V1Node[] = [];
    let token: string | undefined;
    do {
      const page = await this.core.listNode({ labelSelector, _continue: token, limit: 500 });
      out.push(...page.items);
      token = page.metadata?._continue || undefined;
    } while (token);
    return out;
  }

  async createNode(node: V1Node): Promise<void> {
    try {
      await this.core.createNode({ body: node });
    } catch (error) {
      if (statusOf(error) === 409) return;
      throw error;
    }
  }

  async deleteNode(name: string): Promise<void> {
    try {
      await this.core.deleteNode({ name });
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw error;
    }
  }

  async setUnschedulable(name: string, unschedulable: boolean): Promise<void> {
    await this.core.patchNode(
      { name, body: { spec: { unschedulable } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  async podsOnNode(nodeName: string): Promise<V1Pod[]> {
    const page = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
    return page.items;
  }

  /** undefined when the pod no longer exists (or a new pod took its name). */
  async readPod(namespace: string, name: string, uid: string | undefined): Promise<V1Pod | undefined> {
    try {
      const pod = await this.core.readNamespacedPod({ namespace, name });
      if (uid !== undefined && pod.metadata?.uid !== uid) return undefined;
      return pod;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async evictPod(namespace: string, name: string): Promise<EvictionOutcome> {
    try {
      await this.core.createNamespacedPodEviction({
        namespace,
        name,
        body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
      });
      return { kind: "evicted", status: 201, message: "evicted" };
    } catch (error) {
      const status = statusOf(error);
      const message = messageOf(error);
      if (status === 404) return { kind: "gone", status, message };
      if (status === 429) return { kind: "refused", status, message };
      return { kind: "error", status: status ?? 0, message };
    }
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds });
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw error;
    }
  }
}

export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The apiserver's Status message when there is one, else the error's own text. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = error.body;
    if (typeof body === "string") {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === "string") return parsed.message;
      } catch {
        return body;
      }
    }
    if (body && typeof body === "object" && "message" in body && typeof body.message === "string") return body.message;
  }
  return error instanceof Error ? error.message : String(error);
}
