import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { CLUSTER_UPGRADE_RESOURCE, CustomResourceClient, FIELD_MANAGER, createMergePatch, type CustomObjectsClient } from "../../../src/kube/patch.js";
import { ConflictError, NotFoundError } from "../../../src/util/errors.js";

interface Upgrade {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; finalizers?: string[]; annotations?: Record<string, string> };
  status?: { phase?: string; conditions?: Array<{ type: string; status: string }>; hops?: string[] };
}

interface RecordedCall {
  method: string;
  request: Record<string, unknown>;
  hasOptions: boolean;
}

/** Records patch calls and answers with a canned result or error. */
function fakeApi(answer: (method: string, request: Record<string, unknown>) => unknown = () => ({})): { api: CustomObjectsClient; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const handler = (method: string) => (request: Record<string, unknown>, options?: unknown) => {
    calls.push({ method, request, hasOptions: options !== undefined });
    try {
      return Promise.resolve(answer(method, request));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
  const api = {
    getNamespacedCustomObject: handler("getNamespaced"),
    getClusterCustomObject: handler("getCluster"),
    patchNamespacedCustomObject: handler("patchNamespaced"),
    patchClusterCustomObject: handler("patchCluster"),
    patchNamespacedCustomObjectStatus: handler("patchNamespacedStatus"),
    patchClusterCustomObjectStatus: handler("patchClusterStatus"),
  } as unknown as CustomObjectsClient;
  return { api, calls };
}

function apiException(code: number, reason: string): k8s.ApiException<string> {
  return new k8s.ApiException(code, `HTTP-Code: ${code}`, JSON.stringify({ kind: "Status", code, reason, message: reason }), {});
}

const upgrade: Upgrade = {
  apiVersion: "eksupgrade.io/v1alpha1",
  kind: "ClusterUpgrade",
  metadata: { name: "prod", namespace: "team-a", resourceVersion: "41", finalizers: ["eksupgrade.io/cleanup"], annotations: { a: "1" } },
  status: { phase: "Upgrading", conditions: [{ type: "Ready", status: "False" }], hops: ["1.30"] },
};

describe("createMergePatch", () => {
  it("sets changed fields, nulls removed ones, recurses into objects and replaces arrays", () => {
    const patch = createMergePatch(
      { a: 1, b: { c: 2, d: 3 }, list: [1, 2], gone: "x" },
      { a: 1, b: { c: 2, d: 4, e: 5 }, list: [1, 2, 3] },
    );
    assert.deepEqual(patch, { gone: null, b: { d: 4, e: 5 }, list: [1, 2, 3] });
  });

  it("returns undefined when nothing changed, treating Dates like their JSON form", () => {
    assert.equal(createMergePatch({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), undefined);
    assert.equal(createMergePatch({ at: "2025-01-01T00:00:00.000Z" }, { at: new Date("2025-01-01T00:00:00Z") }), undefined);
    assert.equal(createMergePatch({ a: 1 }, { a: 1, b: undefined }), undefined);
  });
});

describe("CustomResourceClient", () => {
  it("patches only the status difference through the status subresource, with the resourceVersion read", async () => {
    const { api, calls } = fakeApi();
    const client = new CustomResourceClient<Upgrade>(api, CLUSTER_UPGRADE_RESOURCE);
    await client.patchStatus(upgrade, { phase: "Succeeded", conditions: [{ type: "Ready", status: "True" }], hops: ["1.30"] });
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.equal(call.method, "patchNamespacedStatus");
    assert.equal(call.hasOptions, true, "the merge-patch content type is set through options");
    assert.deepEqual(call.request, {
      group: "eksupgrade.io",
      version: "v1alpha1",
      plural: "clusterupgrades",
      namespace: "team-a",
      name: "prod",
      fieldManager: FIELD_MANAGER,
      body: { status: { phase: "Succeeded", conditions: [{ type: "Ready", status: "True" }] }, metadata: { resourceVersion: "41" } },
    });
  });

  it("sends nothing when the status is unchanged", async () => {
    const { api, calls } = fakeApi();
    const client = new CustomResourceClient<Upgrade>(api, CLUSTER_UPGRADE_RESOURCE);
    assert.equal(await client.patchStatus(upgrade, structuredClone(upgrade.status)), undefined);
    assert.equal(calls.length, 0);
  });

  it("turns a 409 into a ConflictError naming the object", async () => {
    const { api } = fakeApi(() => {
      throw apiException(409, "Conflict");
    });
    const client = new CustomResourceClient<Upgrade>(api, CLUSTER_UPGRADE_RESOURCE);
    await assert.rejects(client.patchStatus(upgrade, { phase: "Failed" }), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.match(error.message, /^updating status of clusterupgrades\.eksupgrade\.io team-a\/prod: 409 Conflict/);
      return true;
    });
  });

  it("patches finalizers on the main resource only when they differ", async () => {
    const { api, calls } = fakeApi((_method, request) => ({ ...upgrade, metadata: { ...upgrade.metadata, finalizers: [], resourceVersion: "42" }, request }));
    const client = new CustomResourceClient<Upgrade>(api, CLUSTER_UPGRADE_RESOURCE);
    assert.equal(await client.patchMetadata(upgrade, { finalizers: ["eksupgrade.io/cleanup"] }), undefined);
    assert.equal(calls.length, 0);
    const updated = await client.setFinalizers(upgrade, []);
    assert.equal(updated.metadata?.resourceVersion, "42");
    assert.equal(calls.length, 1);
    assert.equal(calls[0].method, "patchNamespaced");
    assert.deepEqual(calls[0].request.body, { metadata: { finalizers: [], resourceVersion: "41" } });
  });

  it("patches annotations key by key, removing with null", async () => {
    const { api, calls } = fakeApi(() => upgrade);
    const client = new CustomResourceClient<Upgrade>(api, CLUSTER_UPGRADE_RESOURCE);
    await client.patchMetadata(upgrade, { annotations: { b: "2" } });
    assert.deepEqual(calls[0].request.body, { metadata: { annotations: { a: null, b: "2" }, resourceVersion: "41" } });
  });

  it("uses the cluster-scoped calls for objects without a namespace", async () => {
    const { api, calls } = fakeApi();
    const client = new CustomResourceClient<Upgrade>(api, CLUSTER_UPGRADE_RESOURCE);
    await client.patchStatus({ metadata: { name: "global", resourceVersion: "1" }, status: {} }, { phase: "Pending" });
    assert.equal(calls[0].method, "patchClusterStatus");
    assert.equal("namespace" in calls[0].request, false);
  });

  it("get returns undefined on 404 and throws other errors typed", async () => {
    const missing = new CustomResourceClient<Upgrade>(fakeApi(() => { throw apiException(404, "NotFound"); }).api, CLUSTER_UPGRADE_RESOURCE);
    assert.equal(await missing.get("team-a", "prod"), undefined);
    const broken = new CustomResourceClient<Upgrade>(fakeApi(() => { throw apiException(403, "Forbidden"); }).api, CLUSTER_UPGRADE_RESOURCE);
    await assert.rejects(broken.get("team-a", "prod"), (error: unknown) => !(error instanceof NotFoundError) && (error as Error).name === "AccessDeniedError");
  });
});
