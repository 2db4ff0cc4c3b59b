// kwok plays the kubelet's part in deletion: a pod bound to a node stays Terminating until its
// grace period has run out, then disappears, as it would with a workload that ignores SIGTERM.
import assert from "node:assert/strict";
import { cleanUp, clients, createKwokNodes, createNamespace, eventually, isRunningAndReady, podSpec, uniqueName, type Clients } from "./kube-helpers.js";

describe("sandbox Kubernetes: pod termination", function () {
  let kube: Clients;
  let suite: string;
  let namespace: string;
  let nodes: string[];

  before(async function () {
    kube = clients();
    suite = uniqueName("term");
    namespace = await createNamespace(kube.core, suite);
    nodes = await createKwokNodes(kube.core, suite, 1);
  });

  after(async function () {
    await cleanUp(kube.core, namespace, nodes ?? []);
  });

  it("keeps a deleted pod Terminating for its grace period, then removes it", async function () {
    const name = uniqueName("sleeper");
    await kube.core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: podSpec(suite, { terminationGracePeriodSeconds: 30 }) } });
    await eventually(`pod ${name} Running and Ready`, async () => isRunningAndReady(await kube.core.readNamespacedPod({ name, namespace })));

    await kube.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 2 });
    const terminating = await kube.core.readNamespacedPod({ name, namespace });
    const deletionTimestamp = terminating.metadata?.deletionTimestamp;
    assert.ok(deletionTimestamp, "a pod on a node is deleted gracefully, not at once");
    assert.equal(terminating.metadata?.deletionGracePeriodSeconds, 2);
    const graceEndsAt = new Date(deletionTimestamp).getTime();

    // Poll often enough to see the pod both before and after the end of its grace period.
    let seenBeforeGraceEnd = false;
    const goneAt = await eventually(
      `pod ${name} deleted`,
      async () => {
        const exists = await kube.core.readNamespacedPod({ name, namespace }).then(
          () => true,
          () => false,
        );
        const now = Date.now();
        if (exists && now < graceEndsAt - 300) seenBeforeGraceEnd = true;
        return exists ? undefined : now;
      },
      15_000,
      100,
    );
    assert.ok(seenBeforeGraceEnd, "the pod must still exist while its grace period runs");
    // deletionTimestamp has one-second resolution, hence the allowance below the exact end.
    assert.ok(goneAt >= graceEndsAt - 250, `deleted ${graceEndsAt - goneAt} ms before its grace period ended`);
    assert.ok(goneAt <= graceEndsAt + 5_000, `deleted ${goneAt - graceEndsAt} ms after its grace period ended`);
  });
});
