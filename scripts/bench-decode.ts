// npm run bench:decode [-- --pods 60000 --rounds 3 --encoding gzip|identity]
//
// How long, and how much memory, the operator spends reading a cluster's pods page by page, and
// how much the slimmed pods keep once read, in the three ways it has had: the generated client
// (listPodForAllNamespaces, which builds model class instances of every pod), the raw pages of
// src/kube/raw-list.ts (JSON.parse), and raw pages whose pods share their repeated parts (one
// Interner per read, as KubeWorkloadReader.snapshot does now). All read the same pages, served from memory by a local HTTP server in this process, and keep what slimPod
// keeps, so the difference is the client side alone: no API server, no sandbox. Each reading runs
// in a fresh child process (node --expose-gc), so that one row's memory does not carry into the next.
// Pages are gzipped, as kube-apiserver sends any response over 128 KiB to a client that accepts
// gzip (client-node's HTTP client does); --encoding identity sends them as they are.
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { listAll, PAGE_SIZE } from "../src/kube/paged-list.js";
import { LIST_PATHS, rawPages } from "../src/kube/raw-list.js";
import { Interner, slimPod } from "../src/kube/slim.js";

const { values } = parseArgs({ options: { pods: { type: "string", default: "60000" }, rounds: { type: "string", default: "3" }, encoding: { type: "string", default: "gzip" }, child: { type: "string" }, server: { type: "string" } } });
const runChild = promisify(execFile);
const podCount = Number(values.pods);
const rounds = Number(values.rounds);

const at = "2026-11-29T10:00:00Z";
const leaves = (...names: string[]): Record<string, object> => Object.fromEntries([".", ...names].map((name) => [name === "." ? name : `f:${name}`, {}]));
const condition = leaves("lastProbeTime", "lastTransitionTime", "status", "type");
/**
 * The managed fields of such a pod as the API server keeps them: kube-controller-manager's for
 * what it created from the ReplicaSet's template, the kubelet's for the status. Every field set is
 * a key, and most of a pod's JSON.
 */
const managedFields = [
  {
    manager: "kube-controller-manager",
    operation: "Update",
    apiVersion: "v1",
    time: at,
    fieldsType: "FieldsV1",
    fieldsV1: {
      "f:metadata": { "f:generateName": {}, "f:labels": leaves("app", "pod-template-hash"), "f:ownerReferences": { ".": {}, 'k:{"uid":"rs-uid"}': {} } },
      "f:spec": {
        "f:containers": {
          'k:{"name":"web"}': {
            ...leaves("image", "imagePullPolicy", "name", "terminationMessagePath", "terminationMessagePolicy"),
            "f:ports": { ".": {}, 'k:{"containerPort":8080,"protocol":"TCP"}': leaves("containerPort", "protocol") },
            "f:readinessProbe": { ...leaves("failureThreshold", "periodSeconds", "successThreshold", "timeoutSeconds"), "f:httpGet": leaves("path", "port", "scheme") },
            "f:resources": { ".": {}, "f:limits": leaves("memory"), "f:requests": leaves("cpu", "memory") },
            "f:volumeMounts": { ".": {}, 'k:{"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}': leaves("mountPath", "name", "readOnly") },
          },
        },
        ...leaves("dnsPolicy", "enableServiceLinks", "restartPolicy", "schedulerName", "securityContext", "serviceAccountName", "terminationGracePeriodSeconds"),
      },
    },
  },
  {
    manager: "kubelet",
    operation: "Update",
    apiVersion: "v1",
    time: at,
    subresource: "status",
    fieldsType: "FieldsV1",
    fieldsV1: {
      "f:status": {
        "f:conditions": Object.fromEntries(["ContainersReady", "Initialized", "PodReadyToStartContainers", "PodScheduled", "Ready"].map((type) => [`k:{"type":"${type}"}`, condition])),
        ...leaves("containerStatuses", "hostIP", "phase", "podIP", "startTime"),
        "f:hostIPs": { ".": {}, 'k:{"ip":"10.0.1.10"}': leaves("ip") },
        "f:podIPs": { ".": {}, 'k:{"ip":"10.1.0.1"}': leaves("ip") },
      },
    },
  },
];

/** A pod as kube-apiserver sends it for a Deployment's replica: about 5 KiB of JSON. */
function pod(index: number): object {
  return {
    metadata: {
      name: `web-${index}`,
      namespace: `team-${index % 50}`,
      uid: `00000000-0000-0000-0000-${String(index).padStart(12, "0")}`,
      resourceVersion: String(1000 + index),
      creationTimestamp: at,
      labels: { app: "web", "pod-template-hash": "5d8f7c9b6" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d8f7c9b6", uid: "rs-uid", controller: true, blockOwnerDeletion: true }],
      managedFields,
    },
    spec: {
      nodeName: `node-${index % 2000}`,
      serviceAccountName: "default",
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: "web",
          image: "public.ecr.aws/nginx/nginx:1.27",
          ports: [{ containerPort: 8080, protocol: "TCP" }],
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
          readinessProbe: { httpGet: { path: "/healthz", port: 8080, scheme: "HTTP" }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
          volumeMounts: [{ name: "kube-api-access", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true }],
        },
      ],
      volumes: [{ name: "kube-api-access", projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: "token" } }, { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } }] } }],
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
    },
    status: {
      phase: "Running",
      qosClass: "Burstable",
      hostIP: "10.0.1.10",
      podIP: `10.1.${Math.floor(index / 250) % 250}.${index % 250}`,
      startTime: at,
      conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: at })),
      containerStatuses: [{ name: "web", ready: true, started: true, restartCount: 0, image: "public.ecr.aws/nginx/nginx:1.27", imageID: "sha256:abc", containerID: "containerd://abc", state: { running: { startedAt: at } } }],
    },
  };
}

function pages(): string[] {
  const out: string[] = [];
  for (let start = 0; start < podCount; start += PAGE_SIZE) {
    const items = Array.from({ length: Math.min(PAGE_SIZE, podCount - start) }, (_, offset) => pod(start + offset));
    const next = start + PAGE_SIZE < podCount ? String(start + PAGE_SIZE) : undefined;
    out.push(JSON.stringify({ apiVersion: "v1", kind: "PodList", metadata: next ? { continue: next } : {}, items }));
  }
  return out;
}

interface Row {
  way: string;
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  peakHeapMiB: number;
  /** Heap still used by the slimmed pods after a full collection. */
  retainedMiB: number;
  pods: number;
}

async function measure(way: string, read: () => Promise<unknown[]>): Promise<Row> {
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 20);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const items = await read();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed);
  global.gc?.();
  const retained = process.memoryUsage().heapUsed - heapBefore;
  return { way, seconds, cpuSeconds: (used.user + used.system) / 1e6, peakRssMiB: peakRss / 2 ** 20, peakHeapMiB: peakHeap / 2 ** 20, retainedMiB: retained / 2 ** 20, pods: items.length };
}

/** In a child: read every page from --server one way, print the row as JSON. */
async function child(way: string, server: string): Promise<void> {
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "bench", server, skipTLSVerify: true }],
    users: [{ name: "bench", token: "bench" }],
    contexts: [{ name: "bench", cluster: "bench", user: "bench" }],
    currentContext: "bench",
  });
  const core = config.makeApiClient(k8s.CoreV1Api);
  const reads: Record<string, () => Promise<k8s.V1Pod[]>> = {
    client: () => listAll((page) => core.listPodForAllNamespaces(page), (pod) => slimPod(pod)),
    raw: () => listAll(rawPages<k8s.V1Pod>(config, LIST_PATHS.pods), (pod) => slimPod(pod)),
    shared: () => {
      const intern = new Interner();
      return listAll(rawPages<k8s.V1Pod>(config, LIST_PATHS.pods), (pod) => slimPod(pod, intern));
    },
  };
  // measure() still holds the pods when it collects garbage, so "kept" is what they take.
  console.log(JSON.stringify(await measure(way, reads[way])));
}

async function main(): Promise<void> {
  if (values.encoding !== "gzip" && values.encoding !== "identity") throw new Error(`--encoding is gzip or identity, not ${values.encoding}`);
  const served = pages();
  const bytes = served.reduce((sum, page) => sum + page.length, 0);
  const gzipped = values.encoding === "gzip" ? served.map((page) => gzipSync(page)) : undefined;
  const server = createServer((req, res) => {
    const token = new URL(req.url ?? "/", "http://localhost").searchParams.get("continue");
    const index = token ? Number(token) / PAGE_SIZE : 0;
    const gzip = gzipped !== undefined && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "");
    res.writeHead(200, { "content-type": "application/json", ...(gzip ? { "content-encoding": "gzip" } : {}) });
    res.end(gzip ? gzipped[index] : served[index]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sent = gzipped ? `, sent gzipped as ${(gzipped.reduce((sum, page) => sum + page.length, 0) / 2 ** 20).toFixed(1)} MiB` : "";
  console.log(`${podCount} pods in ${served.length} pages of ${PAGE_SIZE}, ${(bytes / 2 ** 20).toFixed(1)} MiB of JSON${sent}; Node ${process.version}; NODE_OPTIONS=${process.env.NODE_OPTIONS ?? ""}`);
  const rows: Row[] = [];
  const run = async (way: string): Promise<Row> => {
    // Asynchronous, so that this process keeps serving the pages meanwhile.
    const { stdout } = await runChild(process.execPath, ["--expose-gc", "--import", "tsx", import.meta.filename, "--child", way, "--server", url, "--pods", String(podCount)], { maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as Row;
  };
  for (let round = 1; round <= rounds; round++) {
    for (const [way, label] of [["client", "generated client (model classes)"], ["raw", "raw pages (JSON.parse)"], ["shared", "raw pages, repeated parts shared"]]) {
      const row = await run(way);
      rows.push({ ...row, way: `${label}, round ${round}` });
    }
  }
  server.closeAllConnections();
  server.close();
  console.log("\n| Way | Pods | Wall (s) | CPU (s) | Peak RSS (MiB) | Peak heap used (MiB) | Heap kept by the pods (MiB) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) console.log(`| ${row.way} | ${row.pods} | ${row.seconds.toFixed(2)} | ${row.cpuSeconds.toFixed(2)} | ${row.peakRssMiB.toFixed(0)} | ${row.peakHeapMiB.toFixed(0)} | ${row.retainedMiB.toFixed(1)} |`);
}

if (values.child) await child(values.child, values.server!);
else await main();
