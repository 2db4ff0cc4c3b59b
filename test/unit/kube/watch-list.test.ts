// The preflight's collections streamed as watch-lists: every initial event read up to the bookmark
// that ends them, the watch closed there, objects in list order and without managedFields; and
// every answer that is not such a stream read in pages instead, while a server failure still fails.
import assert from "node:assert/strict";
import { createServer, type ServerResponse, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { LIST_PATHS } from "../../../src/kube/raw-list.js";
import { slimPod } from "../../../src/kube/slim.js";
import { INITIAL_EVENTS_END, readCollection, type ReadMode } from "../../../src/kube/watch-list.js";
import { KubeWorkloadReader } from "../../../src/kube/workloads.js";

type Behaviour = "stream" | "refuse" | "legacy" | "cut" | "error" | "fail";

const pod = (namespace: string, name: string): object => ({
  metadata: { name, namespace, managedFields: [{ manager: "kubectl", fieldsV1: { "f:spec": { "f:containers": {} } } }] },
  spec: { nodeName: "n", containers: [] },
});

describe("watch-list reads", () => {
  let server: Server;
  let url = "";
  let behaviour: Behaviour = "stream";
  const requests: URLSearchParams[] = [];
  let watchesClosed = 0;

  const event = (res: ServerResponse, type: string, object: object): void => {
    res.write(`${JSON.stringify({ type, object })}\n`);
  };

  before(async () => {
    server = createServer((req, res) => {
      const requested = new URL(req.url ?? "/", "http://localhost");
      requests.push(requested.searchParams);
      if (requested.searchParams.get("watch") !== "true") {
        // Pages: one page of one pod, whatever the path.
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ kind: "List", apiVersion: "v1", metadata: {}, items: [pod("paged", "p-0")] }));
        return;
      }
      req.on("close", () => watchesClosed++);
      if (behaviour === "refuse" || behaviour === "fail") {
        const code = behaviour === "refuse" ? 422 : 500;
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify({ kind: "Status", status: "Failure", code, message: behaviour === "refuse" ? "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled" : "etcd is down" }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      // Out of order, and one event split across two writes.
      event(res, "ADDED", pod("shop", "b"));
      const split = JSON.stringify({ type: "ADDED", object: pod("bank", "a") });
      res.write(split.slice(0, 25));
      setTimeout(() => {
        res.write(`${split.slice(25)}\n`);
        event(res, "ADDED", pod("shop", "a"));
        if (behaviour === "stream") event(res, "BOOKMARK", { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: "42", annotations: { [INITIAL_EVENTS_END]: "true" } } });
        if (behaviour === "legacy") event(res, "BOOKMARK", { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: "42" } });
        if (behaviour === "error") event(res, "ERROR", { kind: "Status", code: 410, message: "too old resource version" });
        // A watch stays open after its bookmark; only "cut" ends it.
        if (behaviour === "cut") res.end();
      }, 20);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function config(): k8s.KubeConfig {
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: "c", server: url, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "c", cluster: "c", user: "u" }],
      currentContext: "c",
    });
    return kubeConfig;
  }

  async function read(as: Behaviour): Promise<{ names: string[]; mode: ReadMode | undefined; reason: string | undefined; pods: k8s.V1Pod[] }> {
    behaviour = as;
    requests.length = 0;
    let mode: ReadMode | undefined;
    let reason: string | undefined;
    const pods = await readCollection<k8s.V1Pod, k8s.V1Pod>(config(), LIST_PATHS.pods, slimPod, (how, why) => {
      mode = how;
      reason = why;
    });
    return { names: pods.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`), mode, reason, pods };
  }

  it("streams every object up to the bookmark that ends the initial events, in list order, and closes the watch there", async () => {
    const closedBefore = watchesClosed;
    const { names, mode, pods } = await read("stream");
    assert.equal(mode, "streamed");
    assert.deepEqual(names, ["bank/a", "shop/a", "shop/b"]);
    assert.ok(pods.every((item) => item.metadata?.managedFields === undefined));
    assert.equal(requests.length, 1, "no page was read");
    const query = Object.fromEntries(requests[0]);
    assert.equal(query.watch, "true");
    assert.equal(query.sendInitialEvents, "true");
    assert.equal(query.resourceVersionMatch, "NotOlderThan");
    assert.equal(query.allowWatchBookmarks, "true");
    assert.equal(query.resourceVersion, undefined, "no resourceVersion: as fresh as a consistent list");
    assert.ok(Number(query.timeoutSeconds) > 0);
    // The server's watch would run for timeoutSeconds; the reader closed it once it had everything.
    await until(() => watchesClosed > closedBefore);
  });

  for (const [as, why] of [
    ["refuse", /answered 422/],
    ["legacy", /sent a BOOKMARK event before the end of its initial events/],
    ["cut", /ended before the end of its initial events/],
    ["error", /an error \(410: too old resource version\)/],
  ] as const) {
    it(`reads in pages when the API server ${{ refuse: "refuses to stream", legacy: "watches without streaming a list", cut: "ends the watch early", error: "sends an error event" }[as]}`, async () => {
      const { names, mode, reason } = await read(as);
      assert.equal(mode, "pages");
      assert.match(reason ?? "", why);
      assert.deepEqual(names, ["paged/p-0"]);
      assert.equal(requests.at(-1)?.get("watch"), null);
      assert.equal(requests.at(-1)?.get("limit"), "500");
    });
  }

  it("fails, rather than reading in pages, when the API server fails", async () => {
    behaviour = "fail";
    await assert.rejects(readCollection(config(), LIST_PATHS.pods, (item) => item), (error: unknown) => (error as { code?: number }).code === 500);
  });

  it("is how the preflight's snapshot reads each of its collections", async () => {
    behaviour = "stream";
    requests.length = 0;
    await new KubeWorkloadReader(config()).snapshot();
    assert.equal(requests.length, 7);
    assert.ok(requests.every((query) => query.get("watch") === "true" && query.get("sendInitialEvents") === "true"));
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 2000) assert.fail("the watch was not closed");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
