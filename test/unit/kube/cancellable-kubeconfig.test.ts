// The Kubernetes side of timeouts and the fence: API clients made from CancellableKubeConfig,
// against a local server that can leave requests without an answer.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Agent as HttpsAgent, createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { CancellableKubeConfig } from "../../../src/kube/cancellable-kubeconfig.js";
import { listAll } from "../../../src/kube/paged-list.js";
import { LIST_PATHS, listCompression, rawPages } from "../../../src/kube/raw-list.js";
import { kubeLeaseClient } from "../../../src/runtime/leader-election.js";
import { CANCEL_REASONS, runWithSignal } from "../../../src/runtime/cancellation.js";
import { CancelledError, isCancelled, TimedOutError } from "../../../src/util/errors.js";

interface FakeApiServer {
  url: string;
  requests: string[];
  /** When false, requests get no answer at all. */
  answering: boolean;
  arrived(count: number): Promise<void>;
  close(): Promise<void>;
}

const LEASE = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "l", namespace: "ns", resourceVersion: "7" }, spec: { holderIdentity: "one" } };

async function fakeApiServer(): Promise<FakeApiServer> {
  let waiters: Array<{ count: number; resolve: () => void }> = [];
  const state: FakeApiServer = {
    url: "",
    requests: [],
    answering: true,
    arrived: (count) => (state.requests.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests.push(`${req.method} ${req.url?.split("?")[0]}`);
    waiters = waiters.filter((waiter) => (state.requests.length >= waiter.count ? (waiter.resolve(), false) : true));
    req.resume();
    if (!state.answering) return;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(LEASE));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

function kubeConfigFor(server: FakeApiServer): CancellableKubeConfig {
  const config = new CancellableKubeConfig();
  config.loadFromOptions({
    // Plain HTTP is allowed only with skipTLSVerify; TLS plays no part in what is tested here.
    clusters: [{ name: "c", server: server.url, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  });
  return config;
}

describe("CancellableKubeConfig", () => {
  let server: FakeApiServer;
  let savedTimeout: string | undefined;
  beforeEach(async () => {
    server = await fakeApiServer();
    savedTimeout = process.env.KUBE_REQUEST_TIMEOUT_SECONDS;
    process.env.KUBE_REQUEST_TIMEOUT_SECONDS = "0.3";
  });
  afterEach(async () => {
    if (savedTimeout === undefined) delete process.env.KUBE_REQUEST_TIMEOUT_SECONDS;
    else process.env.KUBE_REQUEST_TIMEOUT_SECONDS = savedTimeout;
    await server.close();
  });

  it("answers as usual while the server answers", async () => {
    const lease = await kubeLeaseClient(kubeConfigFor(server)).get("ns", "l");
    assert.equal(lease?.spec?.holderIdentity, "one");
    assert.deepEqual(server.requests, ["GET /apis/coordination.k8s.io/v1/namespaces/ns/leases/l"]);
  });

  it("gives every request of an API client the request timeout", async () => {
    server.answering = false;
    const started = Date.now();
    const error = await kubeLeaseClient(kubeConfigFor(server)).get("ns", "l").then(() => undefined, (err: unknown) => err);
    assert.ok(error instanceof TimedOutError, `a TimedOutError: ${String(error)}`);
    assert.equal(error.message, "reading lease ns/l: no answer from the API server within 0.3 s (KUBE_REQUEST_TIMEOUT_SECONDS)");
    assert.equal(error.retryable, true);
    assert.ok(Date.now() - started < 3_000);
  });

  it("aborts a request in flight when the reconcile is cancelled, with the reason", async () => {
    process.env.KUBE_REQUEST_TIMEOUT_SECONDS = "30";
    server.answering = false;
    const controller = new AbortController();
    const client = kubeLeaseClient(kubeConfigFor(server));
    const call = runWithSignal(controller.signal, () => client.get("ns", "l")).then(() => undefined, (err: unknown) => err);
    await server.arrived(1);
    controller.abort(CANCEL_REASONS.leadershipLost());
    const error = await call;
    assert.ok(error instanceof CancelledError, `a CancelledError: ${String(error)}`);
    assert.equal(error.message, "reading lease ns/l: cancelled: leadership lost");
  });

  it("sends nothing once the reconcile is cancelled: the fence covers every API client", async () => {
    const config = kubeConfigFor(server);
    const controller = new AbortController();
    controller.abort(CANCEL_REASONS.leadershipLost());
    const errors = await runWithSignal(controller.signal, () => {
      const lease = kubeLeaseClient(config).replace(structuredClone(LEASE));
      const patch = config.makeApiClient(k8s.CoreV1Api).patchNode({ name: "n", body: [{ op: "add", path: "/spec/unschedulable", value: true }] });
      return Promise.all([lease, patch].map((call: Promise<unknown>) => call.then(() => undefined, (err: unknown) => err)));
    });
    for (const error of errors) assert.ok(isCancelled(error), `cancelled: ${String(error)}`);
    assert.match(String((errors[1] as Error).message), /^PATCH \/api\/v1\/nodes\/n: cancelled: leadership lost/);
    assert.deepEqual(server.requests, [], "no write reached the API server");
  });
});

describe("CancellableKubeConfig over TLS", () => {
  let dir = "";
  let server: HttpsServer;
  let url = "";
  let handshakes = 0;
  let gzipped = 0;
  let caPem = "";

  before(function () {
    this.timeout(20_000);
    // A self-signed certificate for 127.0.0.1, made with openssl as any Debian machine has it.
    dir = mkdtempSync(join(tmpdir(), "kubeconfig-tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    caPem = readFileSync(join(dir, "cert.pem"), "utf8");
  });

  beforeEach(async () => {
    handshakes = 0;
    server = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert: caPem }, (req, res) => {
      req.resume();
      const requested = new URL(req.url ?? "/", "http://localhost");
      if (requested.pathname === LIST_PATHS.pods) {
        // Three pages of 200 pods, gzipped as the API server sends a large response, each page
        // larger than what the sockets and streams on the way buffer.
        const page = Number(requested.searchParams.get("continue") ?? "0");
        const items = Array.from({ length: 200 }, (_, index) => ({
          metadata: { name: `p-${page * 200 + index}`, namespace: "shop", annotations: { noise: randomBytes(4096).toString("hex") }, managedFields: [{ manager: "m", fieldsV1: { "f:spec": {} } }] },
          spec: { nodeName: "n" },
        }));
        const body = JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: page < 2 ? { continue: String(page + 1) } : {}, items });
        if (!/\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(body);
          return;
        }
        gzipped++;
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
        res.end(gzipSync(body));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ apiVersion: "v1", kind: "NamespaceList", metadata: {}, items: [] }));
    });
    server.on("secureConnection", () => handshakes++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const tlsConfig = (caData: string, token = "t"): CancellableKubeConfig => {
    const config = new CancellableKubeConfig(5_000);
    config.loadFromOptions({
      clusters: [{ name: "c", server: url, caData, skipTLSVerify: false }],
      users: [{ name: "u", token }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    return config;
  };

  it("sends one client's requests over one kept-alive TLS connection", async () => {
    const core = tlsConfig(Buffer.from(caPem).toString("base64")).makeApiClient(k8s.CoreV1Api);
    for (let index = 0; index < 5; index++) await core.listNamespace();
    assert.equal(handshakes, 1);
  });

  it("reads gzipped list pages as they stream, over the same kept-alive connection", async () => {
    const config = tlsConfig(Buffer.from(caPem).toString("base64"));
    gzipped = 0;
    for (let round = 0; round < 2; round++) {
      const pods = await listAll(rawPages<k8s.V1Pod>(config, LIST_PATHS.pods), (pod) => pod);
      assert.equal(pods.length, 600);
      assert.equal(pods[599].metadata?.name, "p-599");
      assert.equal(pods[0].metadata?.managedFields, null);
    }
    assert.equal(gzipped, 6, "every page asked for gzipped");
    // listAll asks for a page while it reads the one before: at most two connections.
    assert.ok(handshakes <= 2, `${handshakes} TLS handshakes`);
  });

  it("asks for plain pages when KUBE_LIST_COMPRESSION is none", async () => {
    const config = tlsConfig(Buffer.from(caPem).toString("base64"));
    gzipped = 0;
    const before = process.env.KUBE_LIST_COMPRESSION;
    process.env.KUBE_LIST_COMPRESSION = "none";
    try {
      const pods = await listAll(rawPages<k8s.V1Pod>(config, LIST_PATHS.pods), (pod) => pod);
      assert.equal(pods.length, 600);
      assert.equal(pods[0].metadata?.managedFields, null);
    } finally {
      if (before === undefined) delete process.env.KUBE_LIST_COMPRESSION;
      else process.env.KUBE_LIST_COMPRESSION = before;
    }
    assert.equal(gzipped, 0);
    assert.equal(listCompression({}), "gzip");
    assert.equal(listCompression({ KUBE_LIST_COMPRESSION: " none " }), "none");
    assert.throws(() => listCompression({ KUBE_LIST_COMPRESSION: "br" }), /KUBE_LIST_COMPRESSION must be gzip or none, got "br"/);
  });

  it("leaves no connection half-read when a list fails while pages are in flight", async () => {
    const config = tlsConfig(Buffer.from(caPem).toString("base64"));
    const context = new k8s.RequestContext(`${url}${LIST_PATHS.pods}`, k8s.HttpMethod.GET);
    await config.applySecurityAuthentication(context);
    const agent = context.getAgent() as HttpsAgent;
    await assert.rejects(
      listAll(rawPages<k8s.V1Pod>(config, LIST_PATHS.pods), () => {
        throw new Error("slimming failed");
      }),
      /slimming failed/,
    );
    // The page being read and the next one asked for are read to their end or closed: no socket
    // stays taken by a response nobody reads.
    for (let waited = 0; Object.keys(agent.sockets).length > 0 && waited < 50; waited++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(Object.keys(agent.sockets), []);
  });

  it("shares an agent only between requests with the same TLS settings", async () => {
    const caData = Buffer.from(caPem).toString("base64");
    const agentOf = async (config: CancellableKubeConfig): Promise<unknown> => {
      const context = new k8s.RequestContext(`${url}/api/v1/namespaces`, k8s.HttpMethod.GET);
      await config.applySecurityAuthentication(context);
      return context.getAgent();
    };
    const config = tlsConfig(caData);
    const first = await agentOf(config);
    assert.equal(await agentOf(config), first);
    assert.equal((first as { keepAlive?: boolean }).keepAlive, true);
    // Another kubeconfig object keeps agents of its own; another CA gets another agent.
    assert.notEqual(await agentOf(tlsConfig(caData)), first);
    const other = tlsConfig(caData);
    const before = await agentOf(other);
    other.loadFromOptions({
      clusters: [{ name: "c", server: url, caData: Buffer.from(`${caPem}\n`).toString("base64"), skipTLSVerify: false }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    assert.notEqual(await agentOf(other), before);
  });
});
