import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { classifyPod, interpretEviction, planNodeDrain } from "../../../src/drain/pod-filters.js";

const strict = { deleteEmptyDirData: false, evictUnmanagedPods: false };
const lenient = { deleteEmptyDirData: true, evictUnmanagedPods: true };

function pod(name: string, options: { owner?: string; ownerKind?: string; phase?: string; mirror?: boolean; emptyDir?: boolean; critical?: boolean; doNotDisrupt?: boolean } = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: "shop",
      annotations: { ...(options.mirror ? { "kubernetes.io/config.mirror": "hash" } : {}), ...(options.doNotDisrupt ? { "karpenter.sh/do-not-disrupt": "true" } : {}) },
      ownerReferences: options.owner ? [{ apiVersion: "apps/v1", kind: options.ownerKind ?? "ReplicaSet", name: options.owner, uid: "u", controller: true }] : [],
    },
    spec: {
      nodeName: "n1",
      containers: [{ name: "c" }],
      volumes: options.emptyDir ? [{ name: "scratch", emptyDir: {} }] : [],
      ...(options.critical ? { priorityClassName: "system-cluster-critical" } : {}),
    },
    status: { phase: options.phase ?? "Running" },
  };
}

describe("drain pod filters (kubectl drain semantics)", () => {
  it("leaves mirror pods and DaemonSet pods, allows finished pods first", () => {
    assert.deepEqual(classifyPod(pod("static", { mirror: true }), strict), { action: "leave", reason: "MirrorPod" });
    assert.deepEqual(classifyPod(pod("agent", { owner: "agent", ownerKind: "DaemonSet" }), strict), { action: "leave", reason: "DaemonSetPod" });
    assert.deepEqual(classifyPod(pod("done", { phase: "Succeeded" }), strict), { action: "evict", rank: 0 });
  });

  it("blocks unmanaged and emptyDir pods unless the policy allows them", () => {
    assert.equal(classifyPod(pod("bare"), strict).action, "block");
    assert.equal(classifyPod(pod("bare"), lenient).action, "evict");
    const scratch = pod("cache", { owner: "web-1", emptyDir: true });
    const blocked = classifyPod(scratch, strict);
    assert.equal(blocked.action === "block" && blocked.reason, "EmptyDir");
    assert.equal(classifyPod(scratch, lenient).action, "evict");
  });

  it("decides from the pod's own ownerReferences: any controller makes it managed, with nothing else listed", () => {
    for (const kind of ["ReplicaSet", "StatefulSet", "Job", "SomeOperatorKind"]) {
      assert.deepEqual(classifyPod(pod("owned", { owner: "gone-1", ownerKind: kind }), strict), { action: "evict", rank: 1 }, kind);
    }
    const notController: V1Pod = { ...pod("referenced"), metadata: { ...pod("referenced").metadata, ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "c" }] } };
    assert.equal(classifyPod(notController, strict).action, "block");
  });

  it("always blocks on karpenter.sh/do-not-disrupt, whatever the policy", () => {
    const blocked = classifyPod(pod("batch", { owner: "web-1", doNotDisrupt: true }), lenient);
    assert.equal(blocked.action === "block" && blocked.reason, "DoNotDisrupt");
  });

  it("evicts finished pods, then ordinary pods, then critical ones, and reports blockers", () => {
    const plan = planNodeDrain(
      [pod("dns", { owner: "web-1", critical: true }), pod("web-b", { owner: "web-1" }), pod("job", { phase: "Failed" }), pod("web-a", { owner: "web-1" }), pod("bare"), pod("agent", { owner: "agent", ownerKind: "DaemonSet" })],
      strict,
    );
    assert.deepEqual(plan.evict.map((entry) => entry.metadata?.name), ["job", "web-a", "web-b", "dns"]);
    assert.deepEqual(plan.blocked.map((entry) => entry.pod), ["shop/bare"]);
  });

  it("reads eviction answers as kubectl does: 429 waits, 404 is done, 500 is two budgets only in the API server's words", () => {
    assert.deepEqual(interpretEviction(201), { kind: "evicted" });
    assert.deepEqual(interpretEviction(429), { kind: "budgetRefused" });
    assert.deepEqual(interpretEviction(404), { kind: "gone" });
    assert.deepEqual(interpretEviction(500, "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."), { kind: "multipleBudgets" });
    assert.deepEqual(interpretEviction(500, "Internal error occurred: etcdserver: request timed out"), { kind: "transient", status: 500 });
    assert.deepEqual(interpretEviction(503, "the server is currently unable to handle the request"), { kind: "transient", status: 503 });
    assert.deepEqual(interpretEviction(403, 'pods "web-a" is forbidden: User "system:serviceaccount:ops:op" cannot create resource "pods/eviction"'), { kind: "denied", status: 403 });
    assert.deepEqual(interpretEviction(400, 'admission webhook "guard.example.com" denied the request: web-a is pinned'), { kind: "denied", status: 400 });
    assert.deepEqual(interpretEviction(422, "ValidatingAdmissionPolicy 'pin' with binding 'pin' denied request: pinned"), { kind: "denied", status: 422 });
    assert.deepEqual(interpretEviction(409, "Operation cannot be fulfilled"), { kind: "error", status: 409 });
  });
});
