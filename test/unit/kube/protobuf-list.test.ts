// Pods read as the API server's protobuf: the decoder keeps what slimPod keeps of the same pod read
// as JSON, a list body is read right however it is cut into chunks, and rawPages asks for protobuf,
// reads what comes back in either encoding, and turns a protobuf refusal into the JSON Status
// readKubeError reads. Bodies are encoded here with protobufjs's Writer, field by field, with the
// field numbers of Kubernetes' generated.proto, and with fields the decoder must step over.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import protobuf from "protobufjs/minimal.js";
import * as k8s from "@kubernetes/client-node";
import { decodePod, protobufStatusAsJson, readProtobufListBody } from "../../../src/kube/protobuf-list.js";
import { listAll } from "../../../src/kube/paged-list.js";
import { listEncoding, podPages } from "../../../src/kube/raw-list.js";
import { slimPod } from "../../../src/kube/slim.js";
import { readKubeError } from "../../../src/util/classify.js";

type Writer = protobuf.Writer;
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function text(writer: Writer, field: number, value: string): void {
  writer.uint32((field << 3) | 2).string(value);
}
function varint(writer: Writer, field: number, value: number): void {
  writer.uint32(field << 3).int64(value);
}
function nested(writer: Writer, field: number, body: (writer: Writer) => void): void {
  writer.uint32((field << 3) | 2).fork();
  body(writer);
  writer.ldelim();
}
function bytesOf(body: (writer: Writer) => void): Uint8Array {
  const writer = protobuf.Writer.create();
  body(writer);
  return writer.finish();
}
function map(writer: Writer, field: number, entries: Record<string, string>): void {
  for (const [name, value] of Object.entries(entries))
    nested(writer, field, (entry) => {
      text(entry, 1, name);
      text(entry, 2, value);
    });
}

interface PodParts {
  name: string;
  nodeName: string;
  phase?: string;
  priorityClassName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deleting?: boolean;
  emptyDir?: boolean;
}

/** A pod as the API server writes it in protobuf, with what slimPod drops around what it keeps. */
function podBytes(parts: PodParts): Uint8Array {
  return bytesOf((pod) => {
    nested(pod, 1, (meta) => {
      text(meta, 1, parts.name);
      text(meta, 2, "");
      text(meta, 3, "shop");
      text(meta, 4, "");
      text(meta, 5, `uid-${parts.name}`);
      text(meta, 6, "12345");
      varint(meta, 7, 0);
      nested(meta, 8, (time) => varint(time, 1, 1_790_000_000));
      if (parts.deleting) {
        nested(meta, 9, (time) => varint(time, 1, 1_796_000_000));
        varint(meta, 10, 30);
      }
      map(meta, 11, parts.labels ?? {});
      map(meta, 12, parts.annotations ?? {});
      nested(meta, 13, (owner) => {
        text(owner, 1, "ReplicaSet");
        text(owner, 3, "web-7d9");
        text(owner, 4, "uid-rs");
        text(owner, 5, "apps/v1");
        varint(owner, 6, 1);
        varint(owner, 7, 1);
      });
      text(meta, 14, "example.com/finalizer");
      nested(meta, 17, (managed) => {
        text(managed, 1, "kube-controller-manager");
        text(managed, 2, "Update");
        nested(managed, 7, (fields) => text(fields, 1, '{"f:metadata":{"f:labels":{}}}'));
      });
    });
    nested(pod, 2, (spec) => {
      if (parts.emptyDir)
        nested(spec, 1, (volume) => {
          text(volume, 1, "scratch");
          nested(volume, 2, (source) => nested(source, 2, (emptyDir) => text(emptyDir, 1, "Memory")));
        });
      nested(spec, 1, (volume) => {
        text(volume, 1, "config");
        nested(volume, 2, (source) => nested(source, 19, (configMap) => text(configMap, 1, "web-config")));
      });
      nested(spec, 2, (container) => {
        text(container, 1, "web");
        text(container, 2, "registry.example.com/web:1.2.3");
      });
      text(spec, 3, "Always");
      varint(spec, 4, 45);
      text(spec, 10, parts.nodeName);
      text(spec, 24, parts.priorityClassName ?? "");
    });
    nested(pod, 3, (status) => {
      text(status, 1, parts.phase ?? "");
      nested(status, 2, (condition) => {
        text(condition, 1, "PodScheduled");
        text(condition, 2, "True");
      });
      nested(status, 2, (condition) => {
        text(condition, 1, "Ready");
        text(condition, 2, "False");
        text(condition, 5, "ContainersNotReady");
      });
      text(status, 5, "10.0.1.9");
      text(status, 9, "Burstable");
    });
  });
}

/** The same pod as the JSON API writes it (empty strings and unset pointers left out). */
function podJson(parts: PodParts): k8s.V1Pod {
  return {
    metadata: {
      name: parts.name,
      namespace: "shop",
      uid: `uid-${parts.name}`,
      resourceVersion: "12345",
      creationTimestamp: "2026-09-21T13:33:20Z" as unknown as Date,
      ...(parts.deleting ? { deletionTimestamp: "2026-11-30T00:53:20Z" as unknown as Date, deletionGracePeriodSeconds: 30 } : {}),
      ...(parts.labels && Object.keys(parts.labels).length ? { labels: parts.labels } : {}),
      ...(parts.annotations && Object.keys(parts.annotations).length ? { annotations: parts.annotations } : {}),
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9", uid: "uid-rs", controller: true, blockOwnerDeletion: true }],
      finalizers: ["example.com/finalizer"],
      managedFields: [{ manager: "kube-controller-manager", operation: "Update", fieldsType: "FieldsV1", fieldsV1: {} }],
    },
    spec: {
      volumes: [...(parts.emptyDir ? [{ name: "scratch", emptyDir: { medium: "Memory" } }] : []), { name: "config", configMap: { name: "web-config" } }],
      containers: [{ name: "web", image: "registry.example.com/web:1.2.3" }],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 45,
      ...(parts.nodeName ? { nodeName: parts.nodeName } : {}),
      ...(parts.priorityClassName ? { priorityClassName: parts.priorityClassName } : {}),
    },
    status: {
      ...(parts.phase ? { phase: parts.phase } : {}),
      conditions: [
        { type: "PodScheduled", status: "True" },
        { type: "Ready", status: "False", reason: "ContainersNotReady" },
      ],
      podIP: "10.0.1.9",
      qosClass: "Burstable",
    },
  };
}

/** A list body: magic, then the envelope (typeMeta, raw = the list, contentType). */
function listBody(items: Uint8Array[], token: string, itemsFirst = false): Buffer {
  const raw = bytesOf((list) => {
    const meta = () =>
      nested(list, 1, (listMeta) => {
        text(listMeta, 2, "98765");
        if (token) text(listMeta, 3, token);
      });
    if (!itemsFirst) meta();
    for (const item of items) list.uint32((2 << 3) | 2).bytes(item);
    if (itemsFirst) meta();
  });
  const envelope = bytesOf((unknown) => {
    nested(unknown, 1, (typeMeta) => {
      text(typeMeta, 1, "v1");
      text(typeMeta, 2, "PodList");
    });
    unknown.uint32((2 << 3) | 2).bytes(raw);
    text(unknown, 3, "");
    text(unknown, 4, "");
  });
  return Buffer.concat([MAGIC, envelope]);
}

function statusBody(code: number, reason: string, message: string): Buffer {
  const raw = bytesOf((status) => {
    nested(status, 1, (meta) => text(meta, 2, ""));
    text(status, 2, "Failure");
    text(status, 3, message);
    text(status, 4, reason);
    varint(status, 6, code);
  });
  return Buffer.concat([MAGIC, bytesOf((unknown) => unknown.uint32((2 << 3) | 2).bytes(raw))]);
}

/** The body as a response streams it: a chunk at a time, each on a later turn. */
async function* chunked(body: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < body.length; at += size) {
    await Promise.resolve();
    yield body.subarray(at, at + size);
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const found: T[] = [];
  for await (const item of items) found.push(item);
  return found;
}

const RUNNING: PodParts = {
  name: "web-1",
  nodeName: "ip-10-0-1-1.ec2.internal",
  phase: "Running",
  priorityClassName: "critical",
  labels: { app: "web", tier: "" },
  annotations: { "karpenter.sh/do-not-disrupt": "true", "kubectl.kubernetes.io/last-applied-configuration": "{}", "example.com/other": "x" },
  emptyDir: true,
};
const PENDING: PodParts = { name: "web-2", nodeName: "" };
const DELETING: PodParts = { name: "web-3", nodeName: "ip-10-0-1-2.ec2.internal", phase: "Running", deleting: true, annotations: { "kubernetes.io/config.mirror": "abc" } };

describe("protobuf pods", () => {
  it("keeps of a protobuf pod what slimPod keeps of the same pod read as JSON", () => {
    for (const parts of [RUNNING, PENDING, DELETING]) assert.deepEqual(slimPod(decodePod(podBytes(parts))), slimPod(podJson(parts)), parts.name);
  });

  it("leaves out the empty strings the JSON API leaves out, but keeps an empty label value", () => {
    const pending = slimPod(decodePod(podBytes(PENDING)));
    assert.equal(pending.spec?.nodeName, undefined);
    assert.equal(pending.status?.phase, undefined);
    assert.equal(pending.spec?.priorityClassName, undefined);
    assert.equal(slimPod(decodePod(podBytes(RUNNING))).metadata?.labels?.tier, "");
  });

  it("reads a list body the same however it arrives in chunks", async () => {
    const items = [RUNNING, PENDING, DELETING].map(podBytes);
    const body = listBody(items, "token-2");
    const expected = [RUNNING, PENDING, DELETING].map((parts) => slimPod(podJson(parts)));
    for (const size of [1, 3, 7, 64, 1000, body.length]) {
      const page = await readProtobufListBody(chunked(body, size), decodePod);
      assert.equal(page.continue, "token-2", `chunks of ${size}`);
      assert.deepEqual((await collect(page.items)).map((pod) => slimPod(pod)), expected, `chunks of ${size}`);
    }
  });

  it("knows the continue token before reading the items, and reads an empty last page", async () => {
    const body = listBody([RUNNING, PENDING].map(podBytes), "next");
    let delivered = 0;
    async function* counting(): AsyncGenerator<Buffer> {
      for await (const chunk of chunked(body, 16)) {
        delivered += chunk.length;
        yield chunk;
      }
    }
    const page = await readProtobufListBody(counting(), decodePod);
    assert.equal(page.continue, "next");
    assert.ok(delivered < body.length / 2, `the page came back after ${delivered} of ${body.length} bytes`);
    assert.equal((await collect(page.items)).length, 2);
    const last = await readProtobufListBody(chunked(listBody([], ""), 5), decodePod);
    assert.equal(last.continue, "");
    assert.deepEqual(await collect(last.items), []);
  });

  it("reads a list whose items come before its metadata", async () => {
    const page = await readProtobufListBody(chunked(listBody([RUNNING, PENDING].map(podBytes), "later", true), 10), decodePod);
    assert.equal(page.continue, "later");
    assert.deepEqual((await collect(page.items)).map((pod) => pod.metadata?.name), ["web-1", "web-2"]);
  });

  it("refuses a body without the magic bytes, and one cut short, closing what it came from", async () => {
    let abandoned = 0;
    await assert.rejects(
      readProtobufListBody(chunked(Buffer.from('{"kind":"PodList"}'), 4), decodePod, () => abandoned++),
      /does not start with the Kubernetes magic bytes/,
    );
    const body = listBody([RUNNING, PENDING].map(podBytes), "");
    const page = await readProtobufListBody(chunked(body.subarray(0, body.length - 40), 50), decodePod, () => abandoned++);
    await assert.rejects(collect(page.items), /ends inside a field|runs past the end/);
    assert.equal(abandoned, 1);
  });

  it("closes the body when the reader stops before the end", async () => {
    let abandoned = 0;
    const page = await readProtobufListBody(chunked(listBody([RUNNING, PENDING, DELETING].map(podBytes), ""), 30), decodePod, () => abandoned++);
    for await (const pod of page.items) {
      assert.equal(pod.metadata?.name, "web-1");
      break;
    }
    assert.equal(abandoned, 1);
  });

  it("turns a protobuf Status into the JSON readKubeError reads", () => {
    const json = protobufStatusAsJson(statusBody(410, "Expired", "The provided continue parameter is too old"));
    assert.deepEqual(JSON.parse(json!), { kind: "Status", apiVersion: "v1", status: "Failure", message: "The provided continue parameter is too old", reason: "Expired", code: 410 });
    assert.equal(protobufStatusAsJson(Buffer.from("not protobuf")), undefined);
  });

  it("KUBE_LIST_ENCODING: protobuf by default, json on request, anything else refused", () => {
    assert.equal(listEncoding({}), "protobuf");
    assert.equal(listEncoding({ KUBE_LIST_ENCODING: " json " }), "json");
    assert.throws(() => listEncoding({ KUBE_LIST_ENCODING: "yaml" }), /KUBE_LIST_ENCODING must be protobuf or json, got "yaml"/);
  });
});

describe("podPages", () => {
  interface Seen {
    accept: string | undefined;
    query: string;
  }
  let server: Server;
  let seen: Seen[];
  let answer: (headers: IncomingHttpHeaders, query: URLSearchParams) => { status: number; type: string; body: Buffer };

  beforeEach(async () => {
    seen = [];
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      seen.push({ accept: req.headers.accept, query: url.search });
      const reply = answer(req.headers, url.searchParams);
      res.writeHead(reply.status, { "content-type": reply.type });
      res.end(reply.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    delete process.env.KUBE_LIST_ENCODING;
  });

  function kubeConfig(): k8s.KubeConfig {
    const config = new k8s.KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "c", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    return config;
  }

  const PAGES: Record<string, { pods: PodParts[]; next: string }> = { "": { pods: [RUNNING, PENDING], next: "p2" }, p2: { pods: [DELETING], next: "" } };

  it("asks for protobuf, pages through it, and keeps what a JSON read keeps", async () => {
    answer = (_headers, query) => {
      const page = PAGES[query.get("continue") ?? ""];
      return { status: 200, type: "application/vnd.kubernetes.protobuf", body: listBody(page.pods.map(podBytes), page.next) };
    };
    const pods = await listAll(podPages(kubeConfig(), { fieldSelector: "spec.nodeName=n" }), (pod) => slimPod(pod));
    assert.deepEqual(pods, [RUNNING, PENDING, DELETING].map((parts) => slimPod(podJson(parts))));
    assert.equal(seen[0].accept, "application/vnd.kubernetes.protobuf, application/json");
    assert.match(seen[0].query, /fieldSelector=spec.nodeName%3Dn/);
    assert.match(seen[1].query, /continue=p2/);
  });

  it("reads JSON when the server answers with it, and asks only for JSON when KUBE_LIST_ENCODING is json", async () => {
    answer = (_headers, query) => {
      const page = PAGES[query.get("continue") ?? ""];
      return { status: 200, type: "application/json", body: Buffer.from(JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: page.next ? { continue: page.next } : {}, items: page.pods.map(podJson) })) };
    };
    const expected = [RUNNING, PENDING, DELETING].map((parts) => slimPod(podJson(parts)));
    assert.deepEqual(await listAll(podPages(kubeConfig()), (pod) => slimPod(pod)), expected);
    process.env.KUBE_LIST_ENCODING = "json";
    assert.deepEqual(await listAll(podPages(kubeConfig()), (pod) => slimPod(pod)), expected);
    assert.equal(seen.at(-1)?.accept, "application/json");
  });

  it("reads a refusal in protobuf as the API server's Status, and starts over on an expired token", async () => {
    let expired = 1;
    let forbidden = false;
    answer = (_headers, query) => {
      const token = query.get("continue") ?? "";
      if (token === "p2" && expired-- > 0) return { status: 410, type: "application/vnd.kubernetes.protobuf", body: statusBody(410, "Expired", "continue token too old") };
      if (forbidden) return { status: 403, type: "application/vnd.kubernetes.protobuf", body: statusBody(403, "Forbidden", 'pods is forbidden: cannot list resource "pods"') };
      const page = PAGES[token];
      return { status: 200, type: "application/vnd.kubernetes.protobuf", body: listBody(page.pods.map(podBytes), page.next) };
    };
    assert.equal((await listAll(podPages(kubeConfig()), (pod) => slimPod(pod))).length, 3);
    assert.equal(seen.length, 4, "one page refused as expired, then the list again from its start");
    forbidden = true;
    const refused = await listAll(podPages(kubeConfig()), (pod) => slimPod(pod)).then(
      () => undefined,
      (error: unknown) => error,
    );
    const read = readKubeError(refused);
    assert.equal(read.statusCode, 403);
    assert.match(read.message ?? "", /pods is forbidden/);
  });
});
