// An in-memory cluster API for unit tests of the drain engine and the node roll. Evictions follow
// the Eviction API's answers: 404 for a pod that is gone, 500 for a pod under several budgets, 429
// while a budget allows no disruption, 201 otherwise (the pod then terminates until settle()).
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { EvictionAnswer, NodePatch } from "../../../src/kube/nodes.js";
import type { ClusterAccess } from "../../../src/kube/workloads.js";
import { budgetsFor } from "../../../src/kube/workload-snapshot.js";
import type { WorkloadSnapshot } from "../../../src/kube/workload-snapshot.js";
import { NotFoundError } from "../../../src/util/errors.js";
import { FakeKarpenter } from "./karpenter.js";

export class FakeCluster implements ClusterAccess {
  readonly evictions: { pod: string; status: number }[] = [];
  readonly deletions: string[] = [];
  readonly patches: { node: string; patch: NodePatch }[] = [];
  /** No NodePool CRD unless a test installs one. */
  karpenterObjects = Object.assign(new FakeKarpenter(), { installed: false });

  /**
   * scripted: answers that override the Eviction API's own, by "namespace/name": what RBAC, an
   * admission webhook or a failing API server would say. calls: where every call is recorded, so
   * that several instances over one state (one per pass) can share a log.
   */
  constructor(
    readonly state: WorkloadSnapshot,
    readonly scripted = new Map<string, EvictionAnswer>(),
    readonly calls: { method: string; args: unknown[] }[] = [],
  ) {}

  karpenter(): FakeKarpenter {
    return this.karpenterObjects;
  }

  count(method: string): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  snapshot(): Promise<WorkloadSnapshot> {
    this.calls.push({ method: "snapshot", args: [] });
    return Promise.resolve(structuredClone(this.state));
  }

  listNodes(): Promise<V1Node[]> {
    this.calls.push({ method: "listNodes", args: [] });
    return Promise.resolve(structuredClone(this.state.nodes));
  }

  podsOnNode(nodeName: string): Promise<V1Pod[]> {
    this.calls.push({ method: "podsOnNode", args: [nodeName] });
    return Promise.resolve(structuredClone(this.state.pods.filter((pod) => pod.spec?.nodeName === nodeName)));
  }

  listBudgets(): Promise<WorkloadSnapshot["pdbs"]> {
    this.calls.push({ method: "listBudgets", args: [] });
    return Promise.resolve(structuredClone(this.state.pdbs));
  }

  patchNode(nodeName: string, patch: NodePatch): Promise<void> {
    this.calls.push({ method: "patchNode", args: [nodeName, patch] });
    const node = this.state.nodes.find((candidate) => candidate.metadata?.name === nodeName);
    if (!node) return Promise.reject(new NotFoundError(`node ${nodeName} not found`));
    this.patches.push({ node: nodeName, patch });
    if (patch.unschedulable !== undefined) node.spec = { ...node.spec, unschedulable: patch.unschedulable };
    const annotations = { ...(node.metadata?.annotations ?? {}) };
    for (const [key, value] of Object.entries(patch.annotations ?? {})) {
      if (value === null) delete annotations[key];
      else annotations[key] = value;
    }
    node.metadata = { ...node.metadata, annotations };
    return Promise.resolve();
  }

  evictPod(namespace: string, name: string): Promise<EvictionAnswer> {
    this.calls.push({ method: "evictPod", args: [namespace, name] });
    const answer = this.scripted.get(`${namespace}/${name}`) ?? this.evict(namespace, name);
    this.evictions.push({ pod: `${namespace}/${name}`, status: answer.status });
    return Promise.resolve(answer);
  }

  private evict(namespace: string, name: string): EvictionAnswer {
    const pod = this.state.pods.find((candidate) => candidate.metadata?.namespace === namespace && candidate.metadata?.name === name);
    if (!pod) return { status: 404, message: `pods "${name}" not found` };
    if (pod.metadata?.deletionTimestamp) return { status: 201, message: "already terminating" };
    const budgets = budgetsFor(pod, this.state.pdbs);
    if (budgets.length > 1) return { status: 500, message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." };
    const finished = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
    const budget = budgets[0];
    if (budget && !finished) {
      if ((budget.status?.disruptionsAllowed ?? 0) <= 0) return { status: 429, message: `Cannot evict pod as it would violate the pod's disruption budget.` };
      budget.status = { ...budget.status!, disruptionsAllowed: budget.status!.disruptionsAllowed - 1 };
    }
    pod.metadata = { ...pod.metadata, deletionTimestamp: new Date(0) };
    return { status: 201, message: "evicted" };
  }

  deletePod(namespace: string, name: string): Promise<void> {
    this.calls.push({ method: "deletePod", args: [namespace, name] });
    this.deletions.push(`${namespace}/${name}`);
    this.state.pods = this.state.pods.filter((pod) => !(pod.metadata?.namespace === namespace && pod.metadata?.name === name));
    return Promise.resolve();
  }

  /** Terminating pods finish: they disappear (their controllers would recreate them elsewhere). */
  settle(): void {
    this.state.pods = this.state.pods.filter((pod) => !pod.metadata?.deletionTimestamp);
  }
}
