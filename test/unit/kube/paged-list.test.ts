// Lists read page by page: every page is asked for with a limit and the previous page's continue
// token, items are slimmed as they arrive, an expired token starts the list over, and the drain
// asks the API server for one node's pods only.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { listAll, PAGE_SIZE, type PageRequest } from "../../../src/kube/paged-list.js";
import { KubeWorkloadReader } from "../../../src/kube/workloads.js";

function gone(): Error {
  return Object.assign(new Error("HTTP-Code: 410"), { code: 410, body: JSON.stringify({ kind: "Status", reason: "Expired", message: "The provided continue parameter is too old" }) });
}

describe("listAll", () => {
  it("follows continue tokens to the last page, asking for the page size each time", async () => {
    const requests: PageRequest[] = [];
    const pages: Record<string, { items: number[]; metadata: { _continue?: string } }> = {
      first: { items: [1, 2], metadata: { _continue: "a" } },
      a: { items: [3, 4], metadata: { _continue: "b" } },
      b: { items: [5], metadata: { _continue: "" } },
    };
    const items = await listAll((request) => (requests.push(request), Promise.resolve(pages[request._continue ?? "first"])), (item) => item * 10, 2);
    assert.deepEqual(items, [10, 20, 30, 40, 50]);
    assert.deepEqual(requests, [{ limit: 2 }, { limit: 2, _continue: "a" }, { limit: 2, _continue: "b" }]);
  });

  it("asks for the next page before it reads the items of the current one", async () => {
    const events: string[] = [];
    const page = (name: string, next: string | undefined) => ({
      get items() {
        events.push(`read ${name}`);
        return [name];
      },
      metadata: next ? { _continue: next } : {},
    });
    const items = await listAll((request) => {
      events.push(`ask ${request._continue ?? "first"}`);
      return Promise.resolve(request._continue === undefined ? page("first", "a") : request._continue === "a" ? page("a", "b") : page("b", undefined));
    }, (item) => item);
    assert.deepEqual(items, ["first", "a", "b"]);
    assert.deepEqual(events, ["ask first", "ask a", "read first", "ask b", "read a", "read b"]);
  });

  it("starts over from the first page when a continue token has expired", async () => {
    const requests: PageRequest[] = [];
    let expired = true;
    const items = await listAll((request) => {
      requests.push(request);
      if (request._continue === undefined) return Promise.resolve({ items: ["a"], metadata: { _continue: "t" } });
      if (expired) {
        expired = false;
        return Promise.reject(gone());
      }
      return Promise.resolve({ items: ["b"], metadata: {} });
    }, (item) => item);
    assert.deepEqual(items, ["a", "b"]);
    assert.deepEqual(requests, [{ limit: PAGE_SIZE }, { limit: PAGE_SIZE, _continue: "t" }, { limit: PAGE_SIZE }, { limit: PAGE_SIZE, _continue: "t" }]);
  });

  it("gives up after two restarts, and never retries a first page or another error", async () => {
    let calls = 0;
    await assert.rejects(
      listAll((request) => {
        calls++;
        if (request._continue === undefined) return Promise.resolve({ items: [1], metadata: { _continue: "t" } });
        return Promise.reject(gone());
      }, (item) => item),
      /410/,
    );
    assert.equal(calls, 6);
    calls = 0;
    await assert.rejects(listAll(() => (calls++, Promise.reject(gone())), (item) => item), /410/);
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(
      listAll((request) => {
        calls++;
        if (request._continue === undefined) return Promise.resolve({ items: [1], metadata: { _continue: "t" } });
        return Promise.reject(Object.assign(new Error("HTTP-Code: 500"), { code: 500 }));
      }, (item) => item),
      /500/,
    );
    assert.equal(calls, 2);
  });
});

describe("KubeWorkloadReader against an API server", () => {
  let server: Server;
  let url = "";
  const seen: URL[] = [];

  function pod(name: string, nodeName: string): object {
    return { metadata: { name, namespace: "shop", managedFields: [{ manager: "kubelet" }] }, spec: { nodeName, containers: [{ name: "c", image: "i" }] }, status: { phase: "Running" } };
  }

  before(async () => {
    server = createServer((req, res) => {
      const requested = new URL(req.url ?? "/", "http://localhost");
      seen.push(requested);
      res.writeHead(200, { "content-type": "application/json" });
      const token = requested.searchParams.get("continue");
      if (requested.pathname === "/api/v1/pods") {
        const node = requested.searchParams.get("fieldSelector")?.replace("spec.nodeName=", "") ?? "any";
        const body = token ? { items: [pod(`${node}-2`, node)], metadata: {} } : { items: [pod(`${node}-1`, node)], metadata: { continue: "next" } };
        res.end(JSON.stringify({ apiVersion: "v1", kind: "PodList", ...body }));
        return;
      }
      res.end(JSON.stringify({ apiVersion: "v1", kind: "List", items: [], metadata: {} }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function reader(): KubeWorkloadReader {
    const config = new k8s.KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "c", server: url, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "c", cluster: "c", user: "u" }],
      currentContext: "c",
    });
    return new KubeWorkloadReader(config);
  }

  it("pages every list of the snapshot and keeps slimmed pods", async () => {
    seen.length = 0;
    const snapshot = await reader().snapshot();
    assert.deepEqual(snapshot.pods.map((candidate) => candidate.metadata?.name), ["any-1", "any-2"]);
    assert.equal(snapshot.pods[0].metadata?.managedFields, undefined);
    assert.deepEqual(snapshot.pods[0].spec?.containers, []);
    for (const path of ["/api/v1/nodes", "/api/v1/pods", "/apis/policy/v1/poddisruptionbudgets", "/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets", "/apis/apps/v1/replicasets", "/apis/apps/v1/daemonsets"]) {
      const first = seen.find((request) => request.pathname === path);
      assert.equal(first?.searchParams.get("limit"), String(PAGE_SIZE), `${path} is asked with a limit`);
    }
    assert.deepEqual(
      seen.filter((request) => request.pathname === "/api/v1/pods").map((request) => request.searchParams.get("continue")),
      [null, "next"],
    );
  });

  it("reads a node's pods with a field selector on spec.nodeName, page by page", async () => {
    seen.length = 0;
    const pods = await reader().podsOnNode("ip-10-0-0-1");
    assert.deepEqual(pods.map((candidate) => candidate.metadata?.name), ["ip-10-0-0-1-1", "ip-10-0-0-1-2"]);
    assert.deepEqual(seen.map((request) => request.searchParams.get("fieldSelector")), ["spec.nodeName=ip-10-0-0-1", "spec.nodeName=ip-10-0-0-1"]);
  });
});
