import assert from "node:assert/strict";
import { FakeClock, flushPromises } from "../../../src/util/clock.js";
import { Informer, objectKey, splitObjectKey, WATCH_STALL_GRACE_MS } from "../../../src/runtime/informer.js";
import { FakeServer, item, type Item } from "./fakes.js";

function setup(): { server: FakeServer; clock: FakeClock; informer: Informer<Item>; events: string[]; errors: unknown[] } {
  const server = new FakeServer();
  const clock = new FakeClock(0);
  const errors: unknown[] = [];
  const informer = new Informer<Item>({ description: "items", watchPath: "/api/v1/items", list: server.list }, server.watch, {
    clock,
    onError: (err) => errors.push(err),
    backoff: { initialMs: 1_000, maxMs: 8_000 },
    random: () => 0,
  });
  const events: string[] = [];
  informer.on({
    add: (object) => events.push(`add ${objectKey(object)}@${object.metadata.resourceVersion}`),
    update: (previous, current) => events.push(`update ${objectKey(current)} ${previous.metadata.resourceVersion}->${current.metadata.resourceVersion}`),
    delete: (object) => events.push(`delete ${objectKey(object)}`),
  });
  return { server, clock, informer, events, errors };
}

describe("Informer", () => {
  it("lists, marks itself synced, then watches from the list's resourceVersion", async () => {
    const { server, informer, events } = setup();
    server.lists.push({ items: [item("ns", "a", "1"), item(undefined, "cluster-wide", "2")], metadata: { resourceVersion: "10" } });
    const synced = informer.waitForSync();
    assert.equal(informer.hasSynced(), false);
    informer.start();
    await synced;
    await flushPromises();
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(events, ["add ns/a@1", "add cluster-wide@2"]);
    assert.equal(server.lastWatch().query.resourceVersion, "10");
    assert.equal(server.lastWatch().query.allowWatchBookmarks, true);
    assert.equal(informer.get("ns", "a")?.metadata.resourceVersion, "1");
    assert.equal(informer.get(undefined, "cluster-wide")?.metadata.name, "cluster-wide");
    assert.deepEqual(informer.list("ns").map((object) => object.metadata.name), ["a"]);
    assert.equal(informer.list().length, 2);
    informer.stop();
  });

  it("applies watch events to the cache and passes the previous object on update", async () => {
    const { server, informer, events } = setup();
    server.lists.push({ items: [item("ns", "a", "1")], metadata: { resourceVersion: "10" } });
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    const watch = server.lastWatch();
    watch.emit("ADDED", item("ns", "b", "11"));
    watch.emit("MODIFIED", item("ns", "a", "12", "changed"));
    watch.emit("MODIFIED", item("ns", "a", "12", "changed"));
    watch.emit("DELETED", item("ns", "b", "13"));
    watch.emit("BOOKMARK", { metadata: { resourceVersion: "20" } });
    assert.deepEqual(events, ["add ns/a@1", "add ns/b@11", "update ns/a 1->12", "delete ns/b"]);
    assert.equal(informer.get("ns", "a")?.data, "changed");
    assert.equal(informer.get("ns", "b"), undefined);
    assert.equal(informer.lastResourceVersion(), "20");
    informer.stop();
  });

  it("re-watches from the last resourceVersion after a normal close, without listing", async () => {
    const { server, clock, informer } = setup();
    server.lists.push({ items: [], metadata: { resourceVersion: "10" } });
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    server.lastWatch().emit("ADDED", item("ns", "a", "15"));
    await clock.advance(60_000);
    server.lastWatch().end(null);
    await flushPromises();
    assert.equal(server.watches.length, 2);
    assert.equal(server.lastWatch().query.resourceVersion, "15");
    assert.equal(server.listCalls, 1);
    informer.stop();
  });

  it("lists again on 410 Gone, emitting the differences, including deletes missed while away", async () => {
    const { server, informer, events } = setup();
    server.lists.push({ items: [item("ns", "a", "1"), item("ns", "b", "2")], metadata: { resourceVersion: "10" } });
    server.lists.push({ items: [item("ns", "a", "30"), item("ns", "c", "31")], metadata: { resourceVersion: "40" } });
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    events.length = 0;
    server.lastWatch().emit("ERROR", { kind: "Status", code: 410, reason: "Expired", message: "too old resource version" });
    await flushPromises();
    assert.equal(server.listCalls, 2);
    assert.deepEqual(events.sort(), ["add ns/c@31", "delete ns/b", "update ns/a 1->30"]);
    assert.equal(server.lastWatch().query.resourceVersion, "40");
    assert.equal(server.watches[0].aborted, true, "the expired stream was closed");
    informer.stop();
  });

  it("lists again when the watch is refused with 410 at start", async () => {
    const { server, informer } = setup();
    server.lists.push({ items: [], metadata: { resourceVersion: "10" } });
    server.lists.push({ items: [], metadata: { resourceVersion: "50" } });
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    server.lastWatch().end(Object.assign(new Error("Gone"), { statusCode: 410 }));
    await flushPromises();
    assert.equal(server.listCalls, 2);
    assert.equal(server.lastWatch().query.resourceVersion, "50");
    informer.stop();
  });

  it("keeps retrying with backoff after list and watch failures", async () => {
    const { server, clock, informer, errors } = setup();
    server.lists.push(new Error("connection refused"));
    server.lists.push(new Error("connection refused"));
    server.lists.push({ items: [item("ns", "a", "1")], metadata: { resourceVersion: "10" } });
    informer.start();
    await flushPromises();
    assert.equal(server.listCalls, 1);
    assert.equal(errors.length, 1);
    await clock.advance(1_000);
    assert.equal(server.listCalls, 2, "first retry after about 1 s");
    await clock.advance(1_600);
    assert.equal(server.listCalls, 2, "second retry waits longer");
    await clock.advance(400);
    assert.equal(server.listCalls, 3);
    assert.equal(informer.hasSynced(), true);
    server.lastWatch().end(Object.assign(new Error("Internal Server Error"), { statusCode: 500 }));
    await flushPromises();
    assert.equal(server.watches.length, 1, "no immediate reconnect after a failure");
    await clock.advance(1_000);
    assert.equal(server.watches.length, 2);
    assert.equal(server.lastWatch().query.resourceVersion, "10", "resumes without relisting");
    assert.equal(errors.length, 3);
    informer.stop();
  });

  it("backs off when a watch keeps closing at once", async () => {
    const { server, clock, informer } = setup();
    server.lists.push({ items: [], metadata: { resourceVersion: "10" } });
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    server.lastWatch().end(null);
    await flushPromises();
    assert.equal(server.watches.length, 1);
    await clock.advance(1_000);
    assert.equal(server.watches.length, 2);
    informer.stop();
  });

  it("restarts a watch still open past its server-side timeout, from where it was, without listing", async () => {
    const { server, clock, informer, events, errors } = setup();
    server.lists.push({ items: [item("ns", "a", "1")], metadata: { resourceVersion: "10" } });
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    const stalled = server.lastWatch();
    assert.equal(stalled.query.timeoutSeconds, 300);
    stalled.emit("MODIFIED", item("ns", "a", "11"));
    await clock.advance(300_000 + WATCH_STALL_GRACE_MS - 1);
    assert.equal(stalled.aborted, false, "an open watch is left alone until its timeout and the grace have passed");
    await clock.advance(1);
    assert.equal(stalled.aborted, true);
    assert.match(String(errors[0]), /watch still open 30 s after its 300 s timeout: the connection is stalled/);
    await clock.advance(1_000);
    assert.equal(server.watches.length, 2, "watching again after the backoff");
    assert.equal(server.lastWatch().query.resourceVersion, "11");
    assert.equal(server.listCalls, 1);
    server.lastWatch().emit("MODIFIED", item("ns", "a", "12"));
    assert.deepEqual(events, ["add ns/a@1", "update ns/a 1->11", "update ns/a 11->12"]);
    informer.stop();
  });

  it("calls no handler after stop() and rejects sync waiters", async () => {
    const { server, informer, events } = setup();
    const waiting = informer.waitForSync();
    informer.start();
    informer.stop();
    await assert.rejects(waiting, /stopped before its first list/);
    server.lists.push({ items: [item("ns", "late", "1")], metadata: { resourceVersion: "1" } });
    await flushPromises();
    assert.deepEqual(events, []);
  });

  it("aborts the open watch on stop()", async () => {
    const { server, informer, events } = setup();
    server.lists.push({ items: [], metadata: { resourceVersion: "10" } });
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    const watch = server.lastWatch();
    informer.stop();
    assert.equal(watch.aborted, true);
    watch.emit("ADDED", item("ns", "after-stop", "11"));
    assert.deepEqual(events, []);
  });

  it("keeps going when a handler throws", async () => {
    const { server, informer } = setup();
    informer.on({ add: () => { throw new Error("handler bug"); } });
    server.lists.push({ items: [item("ns", "a", "1")], metadata: { resourceVersion: "10" } });
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    server.lastWatch().emit("ADDED", item("ns", "b", "11"));
    assert.equal(informer.list().length, 2);
    informer.stop();
  });
});

describe("object keys", () => {
  it("are namespace/name, or name alone for cluster-scoped objects", () => {
    assert.equal(objectKey(item("team-a", "prod", "1")), "team-a/prod");
    assert.equal(objectKey(item(undefined, "node-1", "1")), "node-1");
    assert.deepEqual(splitObjectKey("team-a/prod"), { namespace: "team-a", name: "prod" });
    assert.deepEqual(splitObjectKey("node-1"), { namespace: undefined, name: "node-1" });
  });
});
