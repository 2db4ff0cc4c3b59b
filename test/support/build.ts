// The compiled tree the sandbox tests run the operator and the kubectl plugin from: one `tsc`
// over tsconfig.json (src, test, sandbox, scripts) into .build/test, incremental. Started from
// JavaScript, an operator is up in about a second; through tsx it first transpiles every module,
// which a suite that starts operators some sixty times pays again and again. The operator itself
// runs as the image runs it: the compiled src/main.js bundled by scripts/bundle.ts, into
// .build/test/operator (with source maps through to the TypeScript).
//
// `npm test` runs this file as its type-check stage, so the one type check of the run is also the
// build; the sandbox tests then find the build fresh and use it. A single sandbox test file run by
// hand builds first when src/ changed since (the type errors are then only printed: tsx, which ran
// the code before, does not check types either).
//
//   node --import tsx test/support/build.ts     type check and build; exit status of tsc
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleOperator } from "../../scripts/bundle.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const testBuildDir = join(repoRoot, ".build", "test");
const stampFile = join(repoRoot, ".build", "test.stamp");
const buildInfoFile = join(repoRoot, ".build", "test.tsbuildinfo");
/** What the spawned programs are compiled from: a change here makes the build stale. */
const watched = ["src", "tsconfig.json", "package.json", "scripts/bundle.ts"];
/** The operator the sandbox tests start: the bundle of the compiled src/main.js. */
const operatorBundle = join(testBuildDir, "operator", "main.js");

/** The compiled counterpart of a TypeScript source, e.g. src/main.ts -> .build/test/src/main.js. */
export function compiledPath(source: string): string {
  return join(testBuildDir, relative(repoRoot, join(repoRoot, source)).replace(/\.ts$/, ".js"));
}

function newestModification(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestModification(join(path, entry)));
  return newest;
}

/** True when the build exists and nothing under src/ (or the compiler settings) changed after it. */
export function buildIsFresh(): boolean {
  if (!existsSync(stampFile) || !existsSync(compiledPath("src/main.ts")) || !existsSync(operatorBundle)) return false;
  const builtAt = statSync(stampFile).mtimeMs;
  return watched.every((entry) => newestModification(join(repoRoot, entry)) <= builtAt);
}

export interface BuildResult {
  /** tsc's exit status: 0, or the code of its type errors (the files are emitted all the same). */
  status: number;
  /** tsc's diagnostics. */
  output: string;
  ms: number;
}

/**
 * Type checks and compiles into .build/test, then bundles the operator; the stamp is written only
 * when both are done.
 */
export function buildForTests(): Promise<BuildResult> {
  const started = Date.now();
  const startedAt = new Date(started);
  const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  const args = [tsc, "-p", join(repoRoot, "tsconfig.json"), "--outDir", testBuildDir, "--incremental", "--tsBuildInfoFile", buildInfoFile, "--pretty", "false"];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      // tsc exits 1 on a bad command line or config (nothing emitted), 2 on type errors (emitted).
      if (status !== 0 && status !== 2) {
        reject(new Error(`compiling for the tests failed (tsc exit ${status}): ${stdout}${stderr}`));
        return;
      }
      bundleOperator(compiledPath("src/main.ts"), dirname(operatorBundle)).then(() => {
        // The stamp carries the time the build started: a file saved while tsc ran stays newer.
        mkdirSync(dirname(stampFile), { recursive: true });
        writeFileSync(stampFile, `${startedAt.toISOString()}\n`);
        utimesSync(stampFile, startedAt, startedAt);
        resolve({ status, output: `${stdout}${stderr}`, ms: Date.now() - started });
      }, reject);
    });
  });
}

/** Builds unless fresh; returns the operator bundle's entry point. Type errors are only logged. */
export async function ensureTestBuild(log: (line: string) => void): Promise<string> {
  if (!buildIsFresh()) {
    const result = await buildForTests();
    log(`compiled src, test, sandbox and scripts into ${relative(repoRoot, testBuildDir)} and bundled the operator in ${(result.ms / 1000).toFixed(1)} s`);
    if (result.status !== 0) log(`the build has type errors (npm run typecheck shows them); the tests run it anyway:\n${result.output.trim()}`);
  }
  return operatorBundle;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildForTests().then(
    (result) => {
      if (result.output.trim()) process.stdout.write(`${result.output.trim()}\n`);
      process.stdout.write(`type checked, compiled into ${relative(repoRoot, testBuildDir)} and bundled the operator in ${(result.ms / 1000).toFixed(1)} s\n`);
      process.exit(result.status);
    },
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
