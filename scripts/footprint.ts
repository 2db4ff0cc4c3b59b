// npm run footprint: what the operator's process holds before it does any work, and which
// dependencies it comes from. Each row is a fresh `node --expose-gc` that imports the modules of
// the rows above it and its own, collects garbage and reports its RSS and V8 heap; the difference
// to the row before is what that module adds. The last row imports the built operator
// (dist/src/main.js) without starting it; a last line imports it alone, as the operator starts, and
// a table loads it with an in-place upgrade's AWS clients under the manifests' process settings
// and without them, and a last one sets it against the bundle the image runs (dist/operator).
// Run `npm run build` first.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { envWithoutProcessTuning } from "./bench-support.js";
import { OPERATOR_BUNDLE_MAIN } from "./bundle.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const main = join(repoRoot, "dist", "src", "main.js");

const MODULES = [
  "winston",
  "prom-client",
  "yaml",
  "@kubernetes/client-node",
  "@aws-sdk/credential-provider-node",
  "@aws-sdk/client-eks",
  "@aws-sdk/client-ec2",
  "@aws-sdk/client-auto-scaling",
  "@aws-sdk/client-route-53",
  "@aws-sdk/client-cloudwatch",
  pathToFileURL(main).href,
];

interface Footprint {
  rss: number;
  heapUsed: number;
  external: number;
}

function measure(modules: string[], nodeFlags: string[] = [], env: Record<string, string> = {}): Footprint {
  const script = `
    for (const name of ${JSON.stringify(modules)}) await import(name);
    for (let i = 0; i < 3; i++) globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 200));
    globalThis.gc();
    const usage = process.memoryUsage();
    process.stdout.write(JSON.stringify({ rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external }));
    process.exit(0);`;
  const run = spawnSync(process.execPath, ["--expose-gc", ...nodeFlags, "--input-type=module", "-e", script], { cwd: repoRoot, encoding: "utf8", env: { ...envWithoutProcessTuning(), ...env } });
  if (run.status !== 0) throw new Error(`importing ${modules.at(-1)} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Footprint;
}

if (!existsSync(main)) {
  process.stderr.write(`${main} does not exist: run npm run build first\n`);
  process.exit(2);
}
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const rows: string[] = ["| Imported (cumulative) | RSS (MiB) | + RSS | V8 heap used (MiB) | + heap |", "| --- | ---: | ---: | ---: | ---: |"];
let previous = measure([]);
rows.push(`| node itself | ${mib(previous.rss)} | | ${mib(previous.heapUsed)} | |`);
for (let index = 0; index < MODULES.length; index++) {
  const current = measure(MODULES.slice(0, index + 1));
  const name = MODULES[index].startsWith("file:") ? "dist/src/main.js (the rest of the operator)" : MODULES[index];
  rows.push(`| ${name} | ${mib(current.rss)} | ${mib(current.rss - previous.rss)} | ${mib(current.heapUsed)} | ${mib(current.heapUsed - previous.heapUsed)} |`);
  previous = current;
}
const alone = measure([pathToFileURL(main).href]);
rows.push("", `dist/src/main.js imported alone (what the operator loads before its first ClusterUpgrade): RSS ${mib(alone.rss)} MiB, V8 heap used ${mib(alone.heapUsed)} MiB.`);

// The process as config/manager runs it, with the clients an in-place upgrade loads, and what
// each of its two settings is worth.
const inPlace = [pathToFileURL(main).href, "@aws-sdk/client-eks", "@aws-sdk/client-ec2", "@aws-sdk/client-auto-scaling"];
const settings: [string, string[], Record<string, string>][] = [
  ["Node's defaults", [], {}],
  ["--max-semi-space-size=2", ["--max-semi-space-size=2"], {}],
  ["--max-semi-space-size=2 and MALLOC_TRIM_THRESHOLD_=131072", ["--max-semi-space-size=2"], { MALLOC_TRIM_THRESHOLD_: "131072" }],
  ["--max-semi-space-size=2, MALLOC_TRIM_THRESHOLD_=131072 and MALLOC_ARENA_MAX=2 (config/manager)", ["--max-semi-space-size=2"], { MALLOC_TRIM_THRESHOLD_: "131072", MALLOC_ARENA_MAX: "2" }],
];
rows.push("", "dist/src/main.js with the EKS, EC2 and Auto Scaling clients (an in-place upgrade's):", "", "| Settings | RSS (MiB) | V8 heap used (MiB) |", "| --- | ---: | ---: |");
for (const [name, flags, env] of settings) {
  const footprint = measure(inPlace, flags, env);
  rows.push(`| ${name} | ${mib(footprint.rss)} | ${mib(footprint.heapUsed)} |`);
}

// The bundle the image runs (scripts/bundle.ts) against the compiled modules, both under
// config/manager's settings: alone, and with the chunks of an in-place upgrade's AWS adapters.
const bundleMain = join(repoRoot, OPERATOR_BUNDLE_MAIN);
const bundleDir = dirname(bundleMain);
if (existsSync(bundleMain)) {
  const chunk = (adapter: string): string => {
    const file = readdirSync(bundleDir).find((name) => new RegExp(`^${adapter}-[A-Z0-9]+\\.js$`).test(name));
    if (!file) throw new Error(`dist/operator has no chunk of the ${adapter} adapter`);
    return pathToFileURL(join(bundleDir, file)).href;
  };
  const bundled = pathToFileURL(bundleMain).href;
  const [flags, env] = [["--max-semi-space-size=2"], { MALLOC_TRIM_THRESHOLD_: "131072", MALLOC_ARENA_MAX: "2" }];
  const cases: [string, string[]][] = [
    ["dist/src/main.js (modules as compiled)", [pathToFileURL(main).href]],
    ["dist/operator/main.js (the bundle)", [bundled]],
    ["dist/src/main.js with the EKS, EC2 and Auto Scaling clients", inPlace],
    ["dist/operator/main.js with the EKS, EC2 and Auto Scaling chunks", [bundled, chunk("eks"), chunk("ec2"), chunk("autoscaling")]],
  ];
  rows.push("", "Compiled modules against the bundle the image runs, with config/manager's settings:", "", "| Loaded | RSS (MiB) | V8 heap used (MiB) |", "| --- | ---: | ---: |");
  for (const [name, modules] of cases) {
    const footprint = measure(modules, flags, env);
    rows.push(`| ${name} | ${mib(footprint.rss)} | ${mib(footprint.heapUsed)} |`);
  }
} else {
  rows.push("", "dist/operator/main.js does not exist: npm run build makes the bundle.");
}
process.stdout.write(`${rows.join("\n")}\n`);
