// The CRD's status schema on the sandbox's real kube-apiserver. A structural schema makes the API
// server drop every status field it does not declare, without an error: a status with every
// optional field set (test/support/full-status.ts) must come back exactly as written, while a
// field the types do not know is dropped, and `kubectl explain` can describe the nested fields.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import type { ClusterUpgrade } from "../../../src/api/v1alpha1/types.js";
import { CLUSTER_UPGRADE_RESOURCE, CustomResourceClient } from "../../../src/kube/patch.js";
import { sandboxEnv, sandboxKubeConfig } from "../../support/global-sandbox.js";
import { ensureNamespace, installCrd } from "../../support/crd.js";
import { fullStatus } from "../../support/full-status.js";

const NAMESPACE = "status-roundtrip";
const resource = { ...CLUSTER_UPGRADE_RESOURCE, namespace: NAMESPACE };
const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
const run = promisify(execFile);

describe("status schema: what the operator writes is what the API server keeps (real API server)", function () {
  this.timeout(120_000);
  let api: k8s.CustomObjectsApi;
  let client: CustomResourceClient<ClusterUpgrade>;

  async function create(name: string): Promise<ClusterUpgrade> {
    const body = { apiVersion: "eksupgrade.io/v1alpha1", kind: "ClusterUpgrade", metadata: { name }, spec: { cluster: { name: "prod", region: "eu-west-1" }, targetVersion: "1.31" } };
    return (await api.createNamespacedCustomObject({ ...resource, body })) as ClusterUpgrade;
  }

  async function read(name: string): Promise<ClusterUpgrade> {
    return (await api.getNamespacedCustomObject({ ...resource, name })) as ClusterUpgrade;
  }

  before(async () => {
    const kubeConfig = sandboxKubeConfig();
    await installCrd(kubeConfig);
    await ensureNamespace(kubeConfig, NAMESPACE);
    api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    client = CustomResourceClient.fromKubeConfig<ClusterUpgrade>(kubeConfig, CLUSTER_UPGRADE_RESOURCE);
  });

  after(async () => {
    await sandboxKubeConfig().makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: NAMESPACE }).catch(() => undefined);
  });

  it("keeps every field of a fully populated status written through the status subresource", async () => {
    const created = await create("full");
    const written = await client.patchStatus(created, fullStatus());
    assert.ok(written, "the status write sent nothing");
    assert.deepEqual((await read("full")).status, fullStatus());
  });

  it("drops a field the schema does not declare, at any depth, and keeps the rest", async () => {
    await create("undeclared");
    const status = fullStatus() as unknown as Record<string, unknown> & { hops: Record<string, unknown>[]; cutover: Record<string, unknown> };
    status.somethingNew = "top";
    status.hops[0] = { ...status.hops[0], somethingNew: "in a hop" };
    status.cutover = { ...status.cutover, changes: [{ ...(status.cutover.changes as object[])[0], somethingNew: 1 }] };
    await api.patchNamespacedCustomObjectStatus({ ...resource, name: "undeclared", body: { status } }, mergePatch);
    assert.deepEqual((await read("undeclared")).status, fullStatus());
  });

  it("refuses a status value outside its enum, naming the field", async () => {
    await create("bad-enum");
    const status = { ...fullStatus(), hops: [{ ...fullStatus().hops?.[0], state: "Sideways" }] };
    await assert.rejects(api.patchNamespacedCustomObjectStatus({ ...resource, name: "bad-enum", body: { status } }, mergePatch), (error: unknown) => {
      const body = String((error as { body?: unknown }).body);
      assert.equal((error as { code?: number }).code, 422, body);
      assert.match(body, /status\.hops\[0\]\.state: Unsupported value: \\?"Sideways\\?"/);
      return true;
    });
  });

  it("lets kubectl explain describe the nested status fields", async () => {
    const kubeconfig = sandboxEnv().kubeconfigPath;
    // The API server publishes a new CRD schema to its OpenAPI document a moment after it is established.
    const deadline = Date.now() + 60_000;
    let output = "";
    while (Date.now() < deadline) {
      output = await run("kubectl", ["--kubeconfig", kubeconfig, "explain", "clusterupgrade.status.hops"], { encoding: "utf8" }).then(
        (result) => result.stdout,
        (error: { stderr?: string }) => error.stderr ?? "",
      );
      if (output.includes("controlPlaneSeconds")) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.match(output, /FIELD: +hops <\[\]Object>/, output);
    assert.match(output, /stage\s+<string>\s*\n\s+enum: ControlPlane, Addons, NodeGroups/, output);
    assert.match(output, /controlPlaneSeconds\s+<integer>\s*\n\s+How long EKS took for this hop's control plane/, output);
    assert.match(output, /version\s+<string> -required-/, output);
  });
});
