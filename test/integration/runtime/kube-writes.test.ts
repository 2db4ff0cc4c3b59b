// The status/metadata patch helpers, the event recorder and the informer against the sandbox's
// real kube-apiserver, on a small CRD of this test's own (so the behaviour shown is the generic
// one, independent of the ClusterUpgrade schema).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import * as k8s from "@kubernetes/client-node";
import { EventRecorder, kubeEventsClient } from "../../../src/kube/events.js";
import { KubeNodeOperations } from "../../../src/kube/nodes.js";
import { CustomResourceClient, type CustomObject } from "../../../src/kube/patch.js";
import { Informer, kubeWatchFunction } from "../../../src/runtime/informer.js";
import { customResourceSource } from "../../../src/runtime/sources.js";
import { ConflictError } from "../../../src/util/errors.js";
import { sandboxKubeConfig } from "../../support/global-sandbox.js";
import { operatorKubeConfig } from "../../support/operator.js";

const GROUP = "runtime-test.eksupgrade.io";
const VERSION = "v1";
const PLURAL = "probes";
const RESOURCE = { group: GROUP, version: VERSION, plural: PLURAL };

interface ProbeStatus {
  phase?: string;
  conditions?: Array<{ type: string; status: string }>;
  note?: string;
}

type Probe = CustomObject<ProbeStatus> & { spec?: { size?: number } };

const probeCrd: k8s.V1CustomResourceDefinition = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: "Namespaced",
    names: { plural: PLURAL, singular: "probe", kind: "Probe", listKind: "ProbeList" },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: { type: "object", properties: { size: { type: "integer" } } },
              status: {
                type: "object",
                properties: {
                  phase: { type: "string" },
                  note: { type: "string" },
                  conditions: {
                    type: "array",
                    items: { type: "object", properties: { type: { type: "string" }, status: { type: "string" } } },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

async function installProbeCrd(kubeConfig: k8s.KubeConfig): Promise<void> {
  const api = kubeConfig.makeApiClient(k8s.ApiextensionsV1Api);
  try {
    await api.createCustomResourceDefinition({ body: probeCrd });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
  const objects = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      await objects.listClusterCustomObject(RESOURCE);
      return;
    } catch {
      await sleep(250);
    }
  }
  throw new Error("the probe CRD was not served within 30 s");
}

describe("kube write helpers against the real API server", function () {
  this.timeout(60_000);
  const namespace = `kw-${randomBytes(3).toString("hex")}`;
  let kubeConfig: k8s.KubeConfig;
  let objects: k8s.CustomObjectsApi;
  let client: CustomResourceClient<Probe>;

  async function createProbe(name: string): Promise<Probe> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: "Probe", metadata: { name, namespace }, spec: { size: 1 } };
    return (await objects.createNamespacedCustomObject({ ...RESOURCE, namespace, body })) as Probe;
  }

  async function read(name: string): Promise<Probe> {
    const probe = await client.get(namespace, name);
    assert.ok(probe, `probe ${name} exists`);
    return probe;
  }

  before(async () => {
    kubeConfig = sandboxKubeConfig();
    await installProbeCrd(kubeConfig);
    await kubeConfig.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    objects = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    client = CustomResourceClient.fromKubeConfig<Probe>(kubeConfig, RESOURCE);
  });

  after(async () => {
    await kubeConfig.makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: namespace }).catch(() => undefined);
    // Leave the API server as found: deleting the CRD also removes any probe left behind.
    await kubeConfig
      .makeApiClient(k8s.ApiextensionsV1Api)
      .deleteCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` })
      .catch(() => undefined);
  });

  it("writes status through the status subresource and skips no-op writes", async () => {
    const created = await createProbe("status");
    const updated = await client.patchStatus(created, { phase: "Upgrading", conditions: [{ type: "Ready", status: "False" }] });
    assert.ok(updated);
    const stored = await read("status");
    assert.deepEqual(stored.status, { phase: "Upgrading", conditions: [{ type: "Ready", status: "False" }] });
    assert.equal(await client.patchStatus(stored, structuredClone(stored.status)), undefined);
    assert.equal((await read("status")).metadata?.resourceVersion, stored.metadata?.resourceVersion, "nothing was written");

    await client.patchStatus(stored, { phase: "Succeeded" });
    assert.deepEqual((await read("status")).status, { phase: "Succeeded" }, "fields left out are removed");
  });

  it("refuses a status write built from a stale read with a ConflictError", async () => {
    const created = await createProbe("conflict");
    await client.patchStatus(created, { note: "first writer" });
    await assert.rejects(client.patchStatus(created, { note: "stale writer" }), (error: unknown) => {
      assert.ok(error instanceof ConflictError, `got ${String(error)}`);
      assert.match(error.message, /probes\.runtime-test\.eksupgrade\.io .*\/conflict/);
      return true;
    });
    assert.equal((await read("conflict")).status?.note, "first writer");
  });

  it("patches finalizers and annotations separately from status, only when they differ", async () => {
    const created = await createProbe("metadata");
    const withFinalizer = await client.setFinalizers(created, ["runtime-test.eksupgrade.io/cleanup"]);
    assert.deepEqual(withFinalizer.metadata?.finalizers, ["runtime-test.eksupgrade.io/cleanup"]);
    assert.equal(await client.patchMetadata(withFinalizer, { finalizers: ["runtime-test.eksupgrade.io/cleanup"] }), undefined);
    const annotated = await client.patchMetadata(withFinalizer, { annotations: { "example.com/a": "1" } });
    assert.equal(annotated?.metadata?.annotations?.["example.com/a"], "1");
    const cleared = await client.setFinalizers(annotated, []);
    assert.equal(cleared.metadata?.finalizers, undefined);
    await assert.rejects(client.setFinalizers(withFinalizer, ["stale"]), ConflictError);
  });

  it("records an Event once and bumps its count on repeats, with the operator's own rights", async () => {
    const probe = await createProbe("events");
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    // The operator's ServiceAccount (config/rbac), so that the suite's audit check sees the
    // count bump, which no end-to-end scenario repeats an event to cause.
    const recorder = new EventRecorder({ client: kubeEventsClient(operatorKubeConfig([])), instance: "test" });
    await recorder.record(probe, "Warning", "PDBBlocked", "waiting for PDB payments/api");
    await recorder.record(probe, "Warning", "PDBBlocked", "waiting for PDB payments/api");
    await recorder.record(probe, "Normal", "Resumed", "PDB allows disruptions again");
    const events = (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${probe.metadata?.uid}` })).items;
    const blocked = events.filter((event) => event.reason === "PDBBlocked");
    assert.equal(blocked.length, 1);
    assert.equal(blocked[0].count, 2);
    assert.equal(blocked[0].involvedObject.kind, "Probe");
    assert.equal(events.filter((event) => event.reason === "Resumed").length, 1);
  });

  it("deletes a pod with the operator's own rights, and a pod already gone is no error", async () => {
    // The drain deletes pods only past its timeout with onTimeout DeletePods and allowForceDelete,
    // which no end-to-end scenario sets; this exercises the grant for the suite's audit check.
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({ namespace, body: { metadata: { name: "doomed" }, spec: { containers: [{ name: "main", image: "registry.invalid/none" }] } } });
    const nodes = new KubeNodeOperations(operatorKubeConfig([]));
    await nodes.deletePod(namespace, "doomed", 0);
    await assert.rejects(core.readNamespacedPod({ namespace, name: "doomed" }), (error: unknown) => (error as { code?: number }).code === 404);
    await nodes.deletePod(namespace, "doomed", 0);
  });

  it("keeps an informer cache of the custom resource in step with the API server", async () => {
    const seen: string[] = [];
    const informer = new Informer<Probe>(customResourceSource<Probe>(kubeConfig, RESOURCE, { namespace }), kubeWatchFunction(kubeConfig));
    informer.on({
      add: (probe) => seen.push(`add ${probe.metadata?.name}`),
      update: (_previous, probe) => seen.push(`update ${probe.metadata?.name} ${probe.status?.note ?? ""}`),
      delete: (probe) => seen.push(`delete ${probe.metadata?.name}`),
    });
    informer.start();
    try {
      await informer.waitForSync();
      assert.ok(informer.get(namespace, "status"), "objects that existed before are listed");
      const created = await createProbe("watched");
      await client.patchStatus(created, { note: "hello" });
      await objects.deleteNamespacedCustomObject({ ...RESOURCE, namespace, name: "watched" });
      const deadline = Date.now() + 10_000;
      while (!seen.includes("delete watched") && Date.now() < deadline) await sleep(100);
      const about = seen.filter((line) => line.includes("watched"));
      assert.deepEqual(about, ["add watched", "update watched hello", "delete watched"]);
      assert.equal(informer.get(namespace, "watched"), undefined);
    } finally {
      informer.stop();
    }
  });
});
