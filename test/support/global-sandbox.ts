// Mocha root hooks for the sandbox test run (.mocharc.sandbox.json requires this file): one local
// sandbox for the whole run, stopped afterwards however the run ends.
//
// By default a fresh sandbox starts in a temporary directory on free ports, so a developer's own
// sandbox (.sandbox, fixed ports) is left alone. EKSUP_REUSE_SANDBOX=1 uses the running sandbox of
// $EKSUP_SANDBOX_DIR or .sandbox instead, when all its processes are alive, and leaves it running.
// EKSUP_TEST_SCENARIO seeds a scenario at start; by default tests seed what they need.
//
// After the last test, the root hook compares what the operator's ServiceAccount did (the API
// server's audit log) with what config/rbac grants it, and fails the run on any difference
// (test/support/audit.ts), before the sandbox and its logs are removed.
import type { KubeConfig } from "@kubernetes/client-node";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  defaultStateDir,
  inspectSandbox,
  kubeConfigOf,
  resetSandbox as resetRunningSandbox,
  startSandbox,
  stderrLogger,
  type SandboxEnv,
  type SandboxHandle,
} from "../../sandbox/runtime/index.js";
import { ensureTestBuild } from "./build.js";
import { auditLogFiles, comparePermissionUse, grantedKeys, operatorRequests, permissionFailure, specFilesNotRun } from "./audit.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

interface GlobalSandbox {
  env: SandboxEnv;
  /** Present when this run started the sandbox and so must stop it. */
  handle: SandboxHandle | undefined;
  /** The compiled operator (test/support/build.ts) operators of this run start from. */
  operatorEntry: string;
  /** Bumped by every reset, which deletes what was installed in Kubernetes before it. */
  generation: number;
}

// Test files import this module too; keeping the state on globalThis makes sure they see the
// sandbox the root hook started even if the module were ever loaded twice.
const slot = Symbol.for("eks-upgrade-operator.test.sandbox");
type Holder = { [slot]?: GlobalSandbox };
const holder = globalThis as Holder;

function current(): GlobalSandbox {
  const sandbox = holder[slot];
  if (!sandbox) throw new Error("no sandbox: run these tests with mocha --config .mocharc.sandbox.json");
  return sandbox;
}

export function sandboxEnv(): SandboxEnv {
  return current().env;
}

/** A KubeConfig for the sandbox's admin (system:masters). */
export function sandboxKubeConfig(): KubeConfig {
  return kubeConfigOf(current().env);
}

/** AWS_ENDPOINT_URL (moto), AWS_ENDPOINT_URL_EKS (emulator), region and dummy credentials. */
export function sandboxAwsEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(current().env.variables).filter(([name]) => name.startsWith("AWS_")));
}

/** Settings for an AWS SDK v3 client of any service moto serves. */
export function sandboxAwsClientConfig(): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
  const env = current().env;
  return {
    region: env.awsRegion,
    endpoint: env.awsEndpointUrl,
    credentials: { accessKeyId: env.awsAccessKeyId, secretAccessKey: env.awsSecretAccessKey },
  };
}

/** The compiled main.js of the operator, built (or found fresh) when the sandbox was acquired. */
export function sandboxOperatorEntry(): string {
  return current().operatorEntry;
}

/** How many resets the sandbox went through: what was installed before the last one is gone. */
export function sandboxGeneration(): number {
  return current().generation;
}

/** Empties moto, the EKS emulator and Kubernetes; seeds `scenario` afterwards when given. */
export async function resetSandbox(options: { scenario?: string | null } = {}): Promise<void> {
  const sandbox = current();
  sandbox.generation++;
  await resetRunningSandbox(sandbox.env, { scenario: options.scenario ?? null, log: () => undefined });
}

function reusableSandbox(): SandboxEnv | undefined {
  if (process.env.EKSUP_REUSE_SANDBOX !== "1") return undefined;
  const { state, records, running } = inspectSandbox(process.env.EKSUP_SANDBOX_DIR ?? defaultStateDir);
  if (!state || records.length === 0 || running.length !== records.length) return undefined;
  return state.env;
}

/**
 * kwok's pod start stages in the test sandbox (SANDBOX_POD_STAGE_MS overrides): a pod is Ready
 * 0.4 s after it is bound, so the many drains of the suite, each paced by budgets that wait for a
 * replacement pod, are not paced by kwok's default one second per stage.
 */
const TEST_POD_STAGE_MS = 200;

let removeExitHandlers: () => void = () => undefined;
/** Requests before this run (a reused sandbox keeps its audit log) are not judged. */
let runStartedAt = Date.now();

function filesOf(suite: Mocha.Suite, files: Set<string>): Set<string> {
  for (const test of suite.tests) if (test.file) files.add(test.file);
  for (const child of suite.suites) {
    if (child.file) files.add(child.file);
    filesOf(child, files);
  }
  return files;
}

function failedTests(suite: Mocha.Suite): number {
  return suite.tests.filter((test) => test.state === "failed").length + suite.suites.reduce((sum, child) => sum + failedTests(child), 0);
}

/** Options that leave tests of the loaded files out, so that an unused grant proves nothing. */
function filteringOptions(): string[] {
  return process.argv.filter((argument) => /^(--grep|-g|--fgrep|-f|--invert|-i)(=|$)/.test(argument));
}

/**
 * Wall time per spec file, from each test's root beforeEach to its root afterEach (so the file's
 * own beforeEach and afterEach hooks count, its before and after hooks do not).
 */
const fileSeconds = new Map<string, number>();
let testStartedAt = 0;

function relativeToRepo(file: string): string {
  return relative(repoRoot, resolve(file));
}

/** One lane's part of a run split across sandboxes (test/sandbox-lanes.ts merges them). */
export interface LaneReport {
  files: string[];
  filters: string[];
  failed: number;
  requests: number;
  used: string[];
  usedNotGranted: string[];
  denied: string[];
  fileSeconds: Record<string, number>;
}

/** The least-privilege check: undefined when it passes, else the error to fail the run with. */
function auditOperatorPermissions(env: SandboxEnv, root: Mocha.Suite | undefined): Error | undefined {
  if (!existsSync(join(env.dir, "pki", "audit-policy.yaml"))) {
    return new Error(`the sandbox in ${env.dir} keeps no audit log (it was started before audit logging existed): stop it (npm run sandbox -- down) so that the next run starts a new one`);
  }
  const notRun = root ? specFilesNotRun(filesOf(root, new Set())) : ["(unknown: no root suite)"];
  const filters = filteringOptions();
  // A lane of a split run judges only what it saw; the lanes' merge judges the unused grants.
  const laneReport = process.env.EKSUP_LANE_REPORT;
  const judgeUnused = notRun.length === 0 && filters.length === 0 && !laneReport;
  const granted = grantedKeys();
  const files = auditLogFiles(join(env.dir, "logs"));
  const audit = comparePermissionUse(operatorRequests(files, runStartedAt), granted, { judgeUnused });
  const failed = root ? failedTests(root) : 0;
  if (laneReport) {
    const report: LaneReport = {
      files: root ? [...filesOf(root, new Set())].map(relativeToRepo).sort() : [],
      filters,
      failed,
      requests: audit.requests,
      used: audit.used,
      usedNotGranted: audit.usedNotGranted,
      denied: audit.denied,
      fileSeconds: Object.fromEntries([...fileSeconds].map(([file, seconds]) => [relativeToRepo(file), Math.round(seconds)])),
    };
    writeFileSync(laneReport, JSON.stringify(report, null, 2));
  }
  const why = judgeUnused
    ? `judged over the whole suite${failed > 0 ? ` (${failed} test(s) failed, which may leave grants unused)` : ""}`
    : `not judged: ${laneReport ? "judged over every lane once all have run" : !root ? "run outside the mocha suite" : filters.length > 0 ? `tests filtered by ${filters.join(" ")}` : `${notRun.length} spec file(s) of .mocharc.sandbox.json not run`}`;
  stderrLogger(`least privilege: ${audit.requests} request(s) by the operator's ServiceAccount, ${audit.used.length} distinct permission(s) used; unused grants ${why}`);
  if (!judgeUnused && !laneReport) {
    const idle = [...granted].filter((key) => !audit.used.includes(key)).sort();
    if (idle.length > 0) stderrLogger(`least privilege: granted but not used by this run: ${idle.join(", ")}`);
  }
  return permissionFailure(audit, granted, files.join(", ") || "no audit log yet");
}

/** Stops the sandbox on Ctrl-C, on SIGTERM and, as a last resort, on any exit of this process. */
function installExitHandlers(handle: SandboxHandle): void {
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    stopping ??= handle.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  const onExit = (): void => handle.killNow();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", onExit);
  removeExitHandlers = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("exit", onExit);
  };
}

/**
 * Starts a fresh sandbox (or adopts the running one, see EKSUP_REUSE_SANDBOX) and makes it the one
 * sandboxEnv() and the helpers answer with. The mocha root hook calls it; so does the chaos runner,
 * which runs outside mocha.
 */
export async function acquireSandbox(): Promise<SandboxEnv> {
  runStartedAt = Date.now();
  const reused = reusableSandbox();
  // The compiler and the sandbox's start-up mostly wait on different things: run them side by side.
  const build = ensureTestBuild(stderrLogger);
  let sandbox: GlobalSandbox;
  if (reused) {
    stderrLogger(`reusing the running sandbox in ${reused.dir}`);
    sandbox = { env: reused, handle: undefined, operatorEntry: await build, generation: 0 };
  } else {
    const dir = mkdtempSync(join(tmpdir(), "eksup-sandbox-test-"));
    const [handle, operatorEntry] = await Promise.all([
      startSandbox({
        dir,
        ports: "auto",
        scenario: process.env.EKSUP_TEST_SCENARIO ?? null,
        ownerPid: process.pid,
        podStageMs: process.env.SANDBOX_POD_STAGE_MS ? undefined : TEST_POD_STAGE_MS,
      }),
      build,
    ]);
    installExitHandlers(handle);
    sandbox = { env: handle.env, handle, operatorEntry, generation: 0 };
  }
  holder[slot] = sandbox;
  // Code under test that builds its own clients from the environment finds the sandbox too.
  Object.assign(process.env, sandbox.env.variables);
  return sandbox.env;
}

/** Stops the sandbox acquireSandbox() started (a reused one keeps running). */
export async function releaseSandbox(): Promise<void> {
  const sandbox = holder[slot];
  if (!sandbox?.handle) return;
  await sandbox.handle.stop();
  removeExitHandlers();
  delete holder[slot];
}

/**
 * Requests by the operator's ServiceAccount that config/rbac does not grant, or that were refused,
 * since the sandbox was acquired: an error saying which, or undefined. Unused grants are not judged.
 */
export function operatorPermissionFailure(): Error | undefined {
  return auditOperatorPermissions(current().env, undefined);
}

export const mochaHooks = {
  beforeEach(): void {
    testStartedAt = Date.now();
  },

  afterEach(this: Mocha.Context): void {
    const file = this.currentTest?.file;
    if (file) fileSeconds.set(file, (fileSeconds.get(file) ?? 0) + (Date.now() - testStartedAt) / 1000);
  },

  async beforeAll(this: Mocha.Context): Promise<void> {
    // A cold cache builds Kubernetes from source first (20-30 minutes on 2 cores).
    this.timeout(45 * 60_000);
    await acquireSandbox();
  },

  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    const sandbox = holder[slot];
    if (!sandbox) return;
    const byFile = [...fileSeconds].sort((left, right) => right[1] - left[1]);
    if (byFile.length > 0) stderrLogger(`time per spec file (tests and their hooks):\n${byFile.map(([file, seconds]) => `  ${seconds.toFixed(0).padStart(5)} s  ${relativeToRepo(file)}`).join("\n")}`);
    let failure: Error | undefined;
    try {
      failure = auditOperatorPermissions(sandbox.env, this.test?.parent);
    } catch (error) {
      failure = error as Error;
    } finally {
      await releaseSandbox();
    }
    if (failure) throw failure;
  },
};
