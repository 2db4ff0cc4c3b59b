// npm run bench:list -- --kubeconfig FILE [--rounds 2]
//
// How long it takes to read every pod of a running cluster, the way the preflight's list reader
// asks for them (src/kube/raw-list.ts: the library's request, signing and fetch layer, JSON.parse
// of each page), four ways: pages of 500 (what the operator asks for) or 2,000, each with the
// response compressed as the fetch layer asks by default or uncompressed (Accept-Encoding:
// identity). Rounds alternate the four so that a change in the machine's load touches them all.
// Meant for a world kept by `BENCH_KEEP_SANDBOX=true npm run bench:scale`.
import { parseArgs } from "node:util";
import * as k8s from "@kubernetes/client-node";

const { values } = parseArgs({ options: { kubeconfig: { type: "string" }, rounds: { type: "string", default: "2" } } });
if (!values.kubeconfig) {
  process.stderr.write("usage: npm run bench:list -- --kubeconfig FILE [--rounds N]\n");
  process.exit(2);
}
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`--rounds must be a whole number of at least 1 (got ${values.rounds})\n`);
  process.exit(2);
}

const kubeConfig = new k8s.KubeConfig();
kubeConfig.loadFromFile(values.kubeconfig);
const cluster = kubeConfig.getCurrentCluster();
if (!cluster) throw new Error(`${values.kubeconfig} has no current cluster`);
const server = new k8s.ServerConfiguration<Record<string, string>>(cluster.server, {});
const http = new k8s.IsomorphicFetchHttpLibrary();

async function readAllPods(limit: number, uncompressed: boolean): Promise<{ pods: number; bytes: number }> {
  let token: string | undefined;
  let pods = 0;
  let bytes = 0;
  do {
    const context = server.makeRequestContext("/api/v1/pods", k8s.HttpMethod.GET);
    context.setQueryParam("limit", String(limit));
    if (token) context.setQueryParam("continue", token);
    context.setHeaderParam("Accept", "application/json");
    if (uncompressed) context.setHeaderParam("Accept-Encoding", "identity");
    await kubeConfig.applySecurityAuthentication(context);
    const response = await http.send(context).toPromise();
    const text = await response.body.text();
    if (response.httpStatusCode !== 200) throw new Error(`listing pods: HTTP ${response.httpStatusCode}: ${text.slice(0, 200)}`);
    bytes += Buffer.byteLength(text);
    const list = JSON.parse(text) as { items?: unknown[]; metadata?: { continue?: string } };
    pods += list.items?.length ?? 0;
    token = list.metadata?.continue || undefined;
  } while (token);
  return { pods, bytes };
}

const ways = [
  { limit: 500, uncompressed: false },
  { limit: 500, uncompressed: true },
  { limit: 2000, uncompressed: false },
  { limit: 2000, uncompressed: true },
];
process.stdout.write("| Round | Page size | Response | Pods | JSON (MB) | Wall (s) | Client CPU (s) |\n| ---: | ---: | --- | ---: | ---: | ---: | ---: |\n");
for (let round = 1; round <= rounds; round++) {
  for (const way of ways) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const read = await readAllPods(way.limit, way.uncompressed);
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const response = way.uncompressed ? "uncompressed" : "as the client asks (gzip)";
    process.stdout.write(`| ${round} | ${way.limit} | ${response} | ${read.pods} | ${(read.bytes / 1e6).toFixed(0)} | ${wall.toFixed(1)} | ${((used.user + used.system) / 1e6).toFixed(1)} |\n`);
  }
}
