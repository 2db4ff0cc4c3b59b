// npm run bench:list -- --kubeconfig FILE [--rounds 2] [--page-sizes 500,2000] [--apiserver-pid PID]
//
// How long it takes to read every pod of a running cluster through the operator's own list reader
// (podPages in src/kube/raw-list.ts, paged by listAll), each way of asking for them:
//   - encoding: the API server's protobuf (the operator's default) or JSON (KUBE_LIST_ENCODING);
//   - compression: gzip, as the client asks by default, or plain (KUBE_LIST_COMPRESSION);
//   - page size: 500 (what the operator asks for) and any others given.
// Every item is read (decoded or parsed) and dropped: nothing is slimmed, checked or kept. Rounds
// alternate the ways so that a change in the machine's load touches them all. With the API
// server's process id, each way also reports the CPU the API server used meanwhile, read from
// /proc (which includes what it did for anyone else at the time).
// Meant for a world kept by `BENCH_KEEP_SANDBOX=true npm run bench:scale`.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { listAll } from "../src/kube/paged-list.js";
import { podPages } from "../src/kube/raw-list.js";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    rounds: { type: "string", default: "2" },
    "page-sizes": { type: "string", default: "500" },
    "apiserver-pid": { type: "string" },
  },
});
if (!values.kubeconfig) {
  process.stderr.write("usage: npm run bench:list -- --kubeconfig FILE [--rounds N] [--page-sizes 500,2000] [--apiserver-pid PID]\n");
  process.exit(2);
}
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`--rounds must be a whole number of at least 1 (got ${values.rounds})\n`);
  process.exit(2);
}
const pageSizes = values["page-sizes"].split(",").map(Number);
if (pageSizes.some((size) => !Number.isInteger(size) || size < 1)) {
  process.stderr.write(`--page-sizes must be whole numbers separated by commas (got ${values["page-sizes"]})\n`);
  process.exit(2);
}
const apiServerPid = values["apiserver-pid"];

/** The API server's CPU seconds so far (user and system, from /proc/<pid>/stat), when its pid was given. */
function apiServerCpu(): number | undefined {
  if (!apiServerPid) return undefined;
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${apiServerPid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const kubeConfig = new k8s.KubeConfig();
kubeConfig.loadFromFile(values.kubeconfig);

/** Every pod, read the operator's way with the given settings; returns how many. */
async function readAllPods(encoding: string, compression: string, pageSize: number): Promise<number> {
  const before = { encoding: process.env.KUBE_LIST_ENCODING, compression: process.env.KUBE_LIST_COMPRESSION };
  process.env.KUBE_LIST_ENCODING = encoding;
  process.env.KUBE_LIST_COMPRESSION = compression;
  try {
    // podPages reads both settings when it is made.
    const pages = podPages(kubeConfig);
    return (await listAll(pages, () => 1, pageSize)).length;
  } finally {
    for (const [name, value] of [
      ["KUBE_LIST_ENCODING", before.encoding],
      ["KUBE_LIST_COMPRESSION", before.compression],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const ways = pageSizes.flatMap((pageSize) => ["protobuf", "json"].flatMap((encoding) => ["gzip", "none"].map((compression) => ({ pageSize, encoding, compression }))));
process.stdout.write(
  "| Round | Page size | Encoding | Compression | Pods | Wall (s) | Client CPU (s) | API server CPU (s) |\n| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |\n",
);
for (let round = 1; round <= rounds; round++) {
  for (const way of ways) {
    const cpu = process.cpuUsage();
    const apiServer = apiServerCpu();
    const started = performance.now();
    const pods = await readAllPods(way.encoding, way.compression, way.pageSize);
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const apiServerUsed = apiServer === undefined ? "" : (apiServerCpu()! - apiServer).toFixed(1);
    process.stdout.write(
      `| ${round} | ${way.pageSize} | ${way.encoding} | ${way.compression === "none" ? "plain" : "gzip"} | ${pods} | ${wall.toFixed(1)} | ${((used.user + used.system) / 1e6).toFixed(1)} | ${apiServerUsed} |\n`,
    );
  }
}
