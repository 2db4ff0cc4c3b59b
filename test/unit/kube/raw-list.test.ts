// Pages read as plain JSON: signed like every other request, a refusal typed and classified from
// the API server's Status, an expired continue token restarting the list, and a terminating pod
// still seen as terminating after slimming.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { listAll } from "../../../src/kube/paged-list.js";
import { leadingContinue, LIST_PATHS, rawPages, readListBody, withoutManagedFields } from "../../../src/kube/raw-list.js";
import { slimPod } from "../../../src/kube/slim.js";
import { KubeWorkloadReader } from "../../../src/kube/workloads.js";
import { CancellableKubeConfig } from "../../../src/kube/cancellable-kubeconfig.js";
import { runWithSignal } from "../../../src/runtime/cancellation.js";
import { classifyKubeError } from "../../../src/util/classify.js";
import { AccessDeniedError, CancelledError } from "../../../src/util/errors.js";

describe("raw list pages", () => {
  let server: Server;
  let url = "";
  const headers: IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  let expireOnce = false;

  before(async () => {
    server = createServer((req, res) => {
      const requested = new URL(req.url ?? "/", "http://localhost");
      headers.push(req.headers);
      paths.push(`${requested.pathname}?${requested.searchParams.toString()}`);
      const token = requested.searchParams.get("continue");
      const json = (status: number, body: object): void => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (requested.pathname === LIST_PATHS.budgets) {
        json(403, { kind: "Status", status: "Failure", reason: "Forbidden", code: 403, message: 'poddisruptionbudgets.policy is forbidden: User "op" cannot list resource' });
        return;
      }
      if (requested.pathname === LIST_PATHS.pods) {
        if (token && expireOnce) {
          expireOnce = false;
          json(410, { kind: "Status", status: "Failure", reason: "Expired", code: 410, message: "The provided continue parameter is too old" });
          return;
        }
        const terminating = { metadata: { name: "p-2", namespace: "shop", deletionTimestamp: "2026-11-29T10:00:00Z", deletionGracePeriodSeconds: 30 }, spec: { nodeName: "n", containers: [] } };
        const page = token ? { items: [terminating], metadata: { resourceVersion: "9" } } : { items: [{ metadata: { name: "p-1", namespace: "shop" }, spec: { nodeName: "n", containers: [] } }], metadata: { continue: "next" } };
        json(200, { apiVersion: "v1", kind: "PodList", ...page });
        return;
      }
      // An empty list as the API server writes it: items null.
      json(200, { apiVersion: "v1", kind: "List", items: null, metadata: {} });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function config(kubeConfig: k8s.KubeConfig = new k8s.KubeConfig()): k8s.KubeConfig {
    kubeConfig.loadFromOptions({
      clusters: [{ name: "c", server: url, skipTLSVerify: true }],
      users: [{ name: "u", token: "secret-token" }],
      contexts: [{ name: "c", cluster: "c", user: "u" }],
      currentContext: "c",
    });
    return kubeConfig;
  }

  it("signs each page with the kubeconfig's credentials and asks for JSON", async () => {
    headers.length = 0;
    await listAll(rawPages<k8s.V1Node>(config(), LIST_PATHS.nodes), (node) => node);
    assert.equal(headers[0].authorization, "Bearer secret-token");
    assert.equal(headers[0].accept, "application/json");
  });

  it("reads items and continue tokens, keeps a pod's deletion mark as a Date, and takes items null as empty", async () => {
    paths.length = 0;
    const pods = await listAll(rawPages<k8s.V1Pod>(config(), LIST_PATHS.pods, { fieldSelector: "spec.nodeName=n" }), slimPod);
    assert.deepEqual(pods.map((pod) => pod.metadata?.name), ["p-1", "p-2"]);
    assert.ok(pods[1].metadata?.deletionTimestamp instanceof Date);
    assert.equal(pods[1].metadata?.deletionTimestamp?.toISOString(), "2026-11-29T10:00:00.000Z");
    assert.equal(pods[0].metadata?.deletionTimestamp, undefined);
    assert.deepEqual(paths, ["/api/v1/pods?fieldSelector=spec.nodeName%3Dn&limit=500", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn&limit=500&continue=next"]);
    assert.deepEqual(await listAll(rawPages(config(), LIST_PATHS.daemonSets), (item) => item), []);
  });

  it("starts the list over when the API server says the continue token expired", async () => {
    expireOnce = true;
    paths.length = 0;
    const pods = await listAll(rawPages<k8s.V1Pod>(config(), LIST_PATHS.pods), slimPod);
    assert.deepEqual(pods.map((pod) => pod.metadata?.name), ["p-1", "p-2"]);
    assert.equal(paths.length, 4, paths.join(", "));
  });

  it("turns a refusal into an error classified from the API server's Status", async () => {
    const error = await rawPages(config(), LIST_PATHS.budgets)({ limit: 500 }).then(
      () => assert.fail("a 403 must throw"),
      (caught: unknown) => caught,
    );
    const classified = classifyKubeError(error, "listing PodDisruptionBudgets");
    assert.ok(classified instanceof AccessDeniedError, String(classified));
    assert.match(classified.message, /cannot list resource/);
    await assert.rejects(new KubeWorkloadReader(config()).snapshot(), /Forbidden|forbidden/);
  });

  it("refuses to send once the reconcile's signal has fired, like the generated clients", async () => {
    headers.length = 0;
    const controller = new AbortController();
    controller.abort(new CancelledError("lost the Lease"));
    await assert.rejects(
      runWithSignal(controller.signal, () => listAll(rawPages(config(new CancellableKubeConfig(5_000)), LIST_PATHS.nodes), (item) => item)),
      CancelledError,
    );
    assert.equal(headers.length, 0);
  });

  it("finds the continue token ahead of the items without parsing them, and leaves other shapes to a full parse", () => {
    const token = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MzI0MDAzfQ==";
    const page = (metadata: object, items: object[] = [{ metadata: { name: "p", annotations: { continue: "not this" } } }]) => JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata, items });
    assert.equal(leadingContinue(page({ resourceVersion: "9", continue: token, remainingItemCount: 3 })), token);
    assert.equal(leadingContinue(page({ resourceVersion: "9" })), "");
    assert.equal(leadingContinue(page({ continue: 'a"b\\c' })), 'a"b\\c');
    // Items first, or no metadata before them: unknown here.
    assert.equal(leadingContinue(JSON.stringify({ items: [], metadata: { continue: token } })), undefined);
    assert.equal(leadingContinue(JSON.stringify({ kind: "PodList", items: [] })), undefined);
    assert.equal(leadingContinue(JSON.stringify({ kind: "Status", code: 500 })), undefined);
  });

  describe("items parsed one at a time, without managedFields", () => {
    // managedFields as the API server writes it: field names as keys of empty objects, some with
    // quotes, braces and brackets of their own inside the key.
    const managedFields = [
      { manager: "kube-controller-manager", operation: "Update", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": { ".": {}, "f:app": {} }, "f:ownerReferences": { '.': {}, 'k:{"uid":"3a]}"}': {} } } } },
      { manager: 'say "hi" \\ [x] C:\\', operation: "Update", subresource: "status", fieldsV1: { "f:status": { "f:conditions": { 'k:{"type":"Ready"}': { ".": {} } } } } },
    ];
    const pod = (name: string, extra: object = {}) => ({
      metadata: { name, namespace: "shop", labels: { app: "web" }, annotations: { note: '},{"metadata":{ and "managedFields":[ inside a string' }, managedFields },
      spec: { nodeName: "n-1", containers: [{ name: "app" }] },
      status: { phase: "Running" },
      ...extra,
    });
    const listText = (items: object[] | null, spacing?: number) => JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "9", continue: "t" }, items }, null, spacing);
    const withoutFields = (item: object): object => {
      const copy = structuredClone(item) as { metadata: { managedFields?: unknown } };
      copy.metadata.managedFields = null;
      return copy;
    };

    it("replaces every managedFields value with null, whatever its strings hold", () => {
      const text = listText([pod("a"), pod("b")]);
      const stripped = withoutManagedFields(text);
      assert.ok(stripped.length < text.length / 2);
      const parsed = JSON.parse(stripped) as { items: object[] };
      assert.deepEqual(parsed.items, [withoutFields(pod("a")), withoutFields(pod("b"))]);
      // Nothing to cut, or an array that never closes: the text as it came.
      const bare = JSON.stringify({ items: [{ metadata: { name: "x" } }] });
      assert.equal(withoutManagedFields(bare), bare);
      const cut = text.slice(0, text.indexOf('"fieldsType"'));
      assert.equal(withoutManagedFields(cut), cut);
      // The quick cut: the exact cut's text when no string of managedFields holds a `]`, and text
      // that cannot parse when one does (the key 'k:{"uid":"3a]}"}' above).
      const plain = listText([{ metadata: { name: "a", managedFields: [{ manager: "kubelet", fieldsV1: { "f:status": { 'k:{"type":"Ready"}': {} } } }] }, spec: { containers: [] } }]);
      assert.equal(withoutManagedFields(plain, false), withoutManagedFields(plain));
      assert.throws(() => JSON.parse(withoutManagedFields(text, false)), SyntaxError);
    });

    /** A body as it arrives: buffers of `size` bytes, cut anywhere, even inside a character. */
    const arriving = (text: string, size: number): Readable => {
      const bytes = Buffer.from(text);
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      return Readable.from(chunks);
    };
    const readAll = async <T>(text: string, size: number): Promise<{ items: T[]; token?: string }> => {
      const page = await readListBody<T>(arriving(text, size));
      const items: T[] = [];
      for await (const item of page.items) items.push(item);
      return { items, token: page.metadata?._continue };
    };
    const sizes = [1, 7, 64, 1000, 1 << 20];

    it("yields the items of a page one by one, as a whole parse would, however the body is cut", async () => {
      const items = [pod("a"), pod("b", { status: { message: "caf\u00e9 \u2713 \ud83d\ude80" } }), pod("c")];
      for (const size of sizes) {
        assert.deepEqual(await readAll(listText(items), size), { items: items.map(withoutFields), token: "t" }, `chunks of ${size}`);
        assert.deepEqual((await readAll(`${listText(items)}\n`, size)).items, items.map(withoutFields));
        assert.deepEqual((await readAll(listText(items.slice(0, 1)), size)).items, [withoutFields(items[0])]);
        assert.deepEqual((await readAll(listText([]), size)).items, []);
        assert.deepEqual((await readAll(listText(null), size)).items, []);
        // Indented, items not last, or no items at all: the whole body is parsed.
        assert.deepEqual(await readAll(listText(items, 2), size), { items, token: "t" });
        assert.deepEqual(await readAll(JSON.stringify({ items, metadata: { continue: "u" } }), size), { items, token: "u" });
        assert.deepEqual(await readAll(JSON.stringify({ kind: "Status" }), size), { items: [], token: undefined });
      }
    });

    it("returns the page once its head has arrived, and parses each item only when it is reached", async () => {
      const text = listText([pod("a"), pod("b")]).replace('"name":"b"', '"name":"b",}');
      const head = text.slice(0, text.indexOf('"items":[') + 9);
      let sent = 0;
      const body = Readable.from((function* () {
        for (const chunk of [head, text.slice(head.length, head.length + 100), text.slice(head.length + 100)]) {
          sent++;
          yield Buffer.from(chunk);
        }
      })());
      const page = await readListBody<{ metadata: { name: string } }>(body);
      assert.equal(page.metadata?._continue, "t");
      assert.ok(sent <= 2, `${sent} chunks read before the items were asked for`);
      // The second item is broken; the first is still read before anything fails.
      const items = (page.items as AsyncIterable<{ metadata: { name: string } }>)[Symbol.asyncIterator]();
      const first = await items.next();
      assert.equal(first.done ? undefined : first.value.metadata.name, "a");
      await assert.rejects(items.next(), SyntaxError);
      // A body cut short is an error, not a shorter list.
      await assert.rejects(readAll(listText([pod("a"), pod("b")]).slice(0, -30), 64), SyntaxError);
    });

    it("closes the body when the reader stops early", async () => {
      const body = arriving(listText([pod("a"), pod("b"), pod("c")]), 64);
      const page = await readListBody<object>(body);
      for await (const item of page.items) {
        assert.ok(item);
        break;
      }
      assert.ok(body.destroyed);
    });

    it("keeps an item whole when it holds objects that start with metadata", async () => {
      // A StatefulSet's volumeClaimTemplates: the separator text stands inside the item.
      const claim = (name: string) => ({ metadata: { name }, spec: { accessModes: ["ReadWriteOnce"] } });
      const statefulSet = (name: string) => ({ metadata: { name, managedFields }, spec: { volumeClaimTemplates: [claim("data"), claim("logs"), claim("tmp")] } });
      const items = [statefulSet("s-1"), statefulSet("s-2"), statefulSet("s-3")];
      const text = JSON.stringify({ kind: "StatefulSetList", apiVersion: "apps/v1", metadata: {}, items });
      assert.ok(text.includes('},{"metadata":{"name":"logs"'));
      for (const size of sizes) assert.deepEqual((await readAll(text, size)).items, items.map(withoutFields), `chunks of ${size}`);
    });
  });
});
