// The real API server's protobuf, read by the operator's pod decoder (src/kube/protobuf-list.ts),
// gives the same slimmed pods as its JSON: every field slimPod keeps, on pods that have them.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";
import { PatchStrategy, setHeaderOptions, type V1Pod } from "@kubernetes/client-node";
import { listAll } from "../../../src/kube/paged-list.js";
import { podPages } from "../../../src/kube/raw-list.js";
import { slimPod } from "../../../src/kube/slim.js";
import { sandboxKubeConfig } from "../../support/global-sandbox.js";
import { cleanUp, clients, createKwokNodes, createNamespace, eventually, podSpec, uniqueName, type Clients } from "./kube-helpers.js";

const FINALIZER = "sandbox-test.eks-upgrade-operator.dev/hold";
const ENCODING_LABEL = "sandbox-test.eks-upgrade-operator.dev/encoding";

describe("sandbox Kubernetes: pods read as protobuf and as JSON", function () {
  let kube: Clients;
  let suite: string;
  let namespace: string;
  let nodes: string[];

  before(async function () {
    kube = clients();
    suite = uniqueName("encoding");
    namespace = await createNamespace(kube.core, suite);
    nodes = await createKwokNodes(kube.core, suite, 1);
  });

  after(async function () {
    const held = await kube.core.readNamespacedPod({ name: "held", namespace }).catch(() => undefined);
    if (held) await kube.core.patchNamespacedPod({ name: "held", namespace, body: { metadata: { finalizers: null } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    await cleanUp(kube.core, namespace, nodes ?? []);
  });

  /** The namespace's pods through podPages, with KUBE_LIST_ENCODING set to `encoding`, slimmed and by name. */
  async function read(encoding: "protobuf" | "json"): Promise<V1Pod[]> {
    const before = process.env.KUBE_LIST_ENCODING;
    process.env.KUBE_LIST_ENCODING = encoding;
    try {
      // By a label of this test's pods: a field selector on metadata.namespace over all namespaces
      // is not paged right by this API server (its second page starts the namespace over).
      const pods = await listAll(podPages(sandboxKubeConfig(), { labelSelector: `${ENCODING_LABEL}=${suite}` }), (pod) => slimPod(pod), 2);
      return pods.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
    } finally {
      if (before === undefined) delete process.env.KUBE_LIST_ENCODING;
      else process.env.KUBE_LIST_ENCODING = before;
    }
  }

  it("keeps the same fields either way, in pages", async function () {
    const annotations = { "karpenter.sh/do-not-disrupt": "true", "example.com/ignored": "x" };
    await kube.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "scratch", labels: { app: "scratch", empty: "", [ENCODING_LABEL]: suite }, annotations },
        spec: podSpec(suite, { volumes: [{ name: "tmp", emptyDir: {} }, { name: "cfg", configMap: { name: "absent", optional: true } }] }),
      },
    });
    await kube.core.createNamespacedPod({ namespace, body: { metadata: { name: "held", labels: { app: "held", [ENCODING_LABEL]: suite }, finalizers: [FINALIZER] }, spec: podSpec(suite) } });
    // Never scheduled: no node has this label, so its nodeName stays empty.
    await kube.core.createNamespacedPod({ namespace, body: { metadata: { name: "pending", labels: { [ENCODING_LABEL]: suite } }, spec: podSpec(uniqueName("nowhere")) } });
    await eventually("the two schedulable pods Running", async () => {
      const pods = (await kube.core.listNamespacedPod({ namespace })).items;
      return pods.filter((pod) => pod.status?.phase === "Running").length === 2 || undefined;
    });
    await kube.core.deleteNamespacedPod({ name: "held", namespace });

    // kwok may still be writing a status between the two reads: they are read again, a few
    // times, until they agree; the last pair is compared, so a field read one way only shows.
    let json: V1Pod[] = [];
    let protobuf: V1Pod[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      json = await read("json");
      protobuf = await read("protobuf");
      if (isDeepStrictEqual(protobuf, json) && json[0]?.metadata?.deletionTimestamp) break;
      await sleep(500);
    }
    assert.deepEqual(protobuf, json);

    const [held, pending, scratch] = protobuf;
    assert.deepEqual(
      protobuf.map((pod) => pod.metadata?.name),
      ["held", "pending", "scratch"],
    );
    assert.ok(held.metadata?.deletionTimestamp instanceof Date, "the deleted pod held by its finalizer has a deletion time");
    assert.equal(held.metadata?.deletionGracePeriodSeconds, 3);
    assert.equal(pending.spec?.nodeName, undefined);
    assert.equal(pending.status?.phase, "Pending");
    assert.equal(scratch.spec?.nodeName, nodes[0]);
    assert.deepEqual(scratch.spec?.volumes, [{ name: "tmp", emptyDir: {} }]);
    assert.deepEqual(scratch.metadata?.annotations, { "karpenter.sh/do-not-disrupt": "true" });
    assert.deepEqual(scratch.metadata?.labels, { app: "scratch", empty: "", [ENCODING_LABEL]: suite });
    assert.equal(scratch.spec?.terminationGracePeriodSeconds, 3);
    assert.equal(scratch.status?.qosClass, "BestEffort");
    assert.deepEqual(scratch.status?.conditions, [{ type: "Ready", status: "True" }]);
  });
});
