import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { EventRecorder, type EventsClient } from "../../../src/kube/events.js";
import { FakeClock } from "../../../src/util/clock.js";
import { ValidationError } from "../../../src/util/errors.js";

/** Stores Events in memory like the API server would, and can be told to fail. */
class FakeEvents implements EventsClient {
  readonly events = new Map<string, k8s.CoreV1Event>();
  creates = 0;
  patches = 0;
  failNext: Error | undefined;

  create(namespace: string, event: k8s.CoreV1Event): Promise<k8s.CoreV1Event> {
    this.creates++;
    const failure = this.takeFailure();
    if (failure) return Promise.reject(failure);
    this.events.set(`${namespace}/${event.metadata.name}`, structuredClone(event));
    return Promise.resolve(event);
  }

  patch(namespace: string, name: string, patch: object): Promise<k8s.CoreV1Event> {
    this.patches++;
    const failure = this.takeFailure();
    if (failure) return Promise.reject(failure);
    const existing = this.events.get(`${namespace}/${name}`);
    if (!existing) return Promise.reject(new k8s.ApiException(404, "not found", JSON.stringify({ reason: "NotFound", code: 404 }), {}));
    Object.assign(existing, patch);
    return Promise.resolve(existing);
  }

  private takeFailure(): Error | undefined {
    const failure = this.failNext;
    this.failNext = undefined;
    return failure;
  }

  list(): k8s.CoreV1Event[] {
    return [...this.events.values()];
  }
}

const upgrade = {
  apiVersion: "eksupgrade.io/v1alpha1",
  kind: "ClusterUpgrade",
  metadata: { name: "prod", namespace: "team-a", uid: "uid-1", resourceVersion: "7" },
};

describe("EventRecorder", () => {
  it("creates a core/v1 Event pointing at the object", async () => {
    const client = new FakeEvents();
    const recorder = new EventRecorder({ client, instance: "pod-1_abcd", clock: new FakeClock(Date.UTC(2025, 0, 1)) });
    await recorder.record(upgrade, "Normal", "ControlPlaneUpgradeStarted", "updating the control plane to 1.30");
    const [event] = client.list();
    assert.ok(event);
    assert.equal(event.metadata.namespace, "team-a");
    assert.match(event.metadata.name ?? "", /^prod\.[0-9a-f]+$/);
    assert.deepEqual(event.involvedObject, {
      apiVersion: "eksupgrade.io/v1alpha1",
      kind: "ClusterUpgrade",
      name: "prod",
      namespace: "team-a",
      uid: "uid-1",
      resourceVersion: "7",
    });
    assert.equal(event.type, "Normal");
    assert.equal(event.reason, "ControlPlaneUpgradeStarted");
    assert.equal(event.count, 1);
    assert.equal(event.source?.component, "eks-upgrade-operator");
    assert.equal(event.reportingInstance, "pod-1_abcd");
  });

  it("bumps the count of the previous Event instead of repeating it", async () => {
    const client = new FakeEvents();
    const clock = new FakeClock(Date.UTC(2025, 0, 1));
    const recorder = new EventRecorder({ client, clock });
    await recorder.record(upgrade, "Warning", "PDBBlocked", "waiting for PDB payments/api");
    await clock.advance(60_000);
    await recorder.record(upgrade, "Warning", "PDBBlocked", "waiting for PDB payments/api");
    await recorder.record(upgrade, "Warning", "PDBBlocked", "waiting for PDB payments/api");
    assert.equal(client.creates, 1);
    assert.equal(client.patches, 2);
    const [event] = client.list();
    assert.equal(event.count, 3);
    assert.equal(String(event.lastTimestamp), "2025-01-01T00:01:00.000Z");
  });

  it("creates a new Event when anything differs from the previous one", async () => {
    const client = new FakeEvents();
    const recorder = new EventRecorder({ client, clock: new FakeClock() });
    await recorder.record(upgrade, "Normal", "HopStarted", "hop 1/2");
    await recorder.record(upgrade, "Normal", "HopStarted", "hop 2/2");
    await recorder.record(upgrade, "Normal", "HopStarted", "hop 1/2");
    await recorder.record({ ...upgrade, metadata: { ...upgrade.metadata, uid: "uid-2", name: "staging" } }, "Normal", "HopStarted", "hop 1/2");
    assert.equal(client.creates, 4);
    assert.equal(client.patches, 0);
    assert.equal(new Set(client.list().map((event) => event.metadata.name)).size, 4, "event names are unique");
  });

  it("creates a fresh Event when the previous one has expired", async () => {
    const client = new FakeEvents();
    const recorder = new EventRecorder({ client, clock: new FakeClock() });
    await recorder.record(upgrade, "Warning", "AwsError", "throttled");
    client.events.clear();
    await recorder.record(upgrade, "Warning", "AwsError", "throttled");
    assert.equal(client.creates, 2);
    assert.equal(client.list()[0].count, 1);
  });

  it("swallows API failures so a reconcile never fails for an event", async () => {
    const client = new FakeEvents();
    client.failNext = new Error("connection reset");
    const recorder = new EventRecorder({ client, clock: new FakeClock() });
    await recorder.record(upgrade, "Normal", "Started", "go");
    assert.equal(client.list().length, 0);
  });

  it("refuses reasons that are not CamelCase and unknown types", async () => {
    const recorder = new EventRecorder({ client: new FakeEvents() });
    await assert.rejects(recorder.record(upgrade, "Normal", "hop started", "x"), ValidationError);
    await assert.rejects(recorder.record(upgrade, "Error" as never, "HopStarted", "x"), ValidationError);
  });

  it("puts events of cluster-scoped objects in the default namespace", async () => {
    const client = new FakeEvents();
    const recorder = new EventRecorder({ client, clock: new FakeClock() });
    await recorder.record({ apiVersion: "v1", kind: "Node", metadata: { name: "ip-10-0-1-5", uid: "n1" } }, "Normal", "Cordoned", "cordoned for upgrade");
    assert.equal(client.list()[0].metadata.namespace, "default");
  });
});
