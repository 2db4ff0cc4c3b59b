// Starts the sandbox's processes in order, waits for each to be healthy, writes the files that
// point clients at them, and stops them again. The processes outlive the caller (so `sandbox up`
// can return); their pids live in <dir>/pids so that `sandbox down` finds them.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import {
  binaryPaths,
  buildDir,
  defaultStateDir,
  emulatorEntryPoint,
  kwokNodeAnnotation,
  portsFromEnvironment,
  readVersions,
  repoRoot,
  type SandboxPorts,
} from "./config.js";
import {
  apiServerArgs,
  apiServerCertificate,
  auditPolicy,
  auditPolicyFile,
  componentKubeconfig,
  componentOrder,
  componentPort,
  controllerManagerArgs,
  etcdArgs,
  healthProbe,
  kwokArgs,
  layoutOf,
  motoArgs,
  schedulerArgs,
  stateEntries,
  tokenWebhookConfig,
  tokenWebhookUrl,
  type ComponentName,
  type HealthContext,
  type Layout,
} from "./components.js";
import { createCredentials, writeKubeconfig, writeTokenWebhookConfig } from "./credentials.js";
import { readSandboxState, sandboxEnvFor, writeEnvFiles, type SandboxEnv, type SandboxState } from "./env.js";
import { portOpen, waitUntil } from "./http.js";
import { buildKwokConfig, parsePodStageMs } from "./kwok-stages.js";
import {
  isRecordAlive,
  killProcessesNow,
  readProcessRecords,
  removeEntries,
  spawnDetached,
  stopProcesses,
  tailFile,
  type ProcessRecord,
  type StartedProcess,
} from "./processes.js";
import { seedIfRequested, waitForManagedNodesReady } from "./seeding.js";

export type Logger = (line: string) => void;

export const stderrLogger: Logger = (line) => process.stderr.write(`[sandbox ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

export interface StartOptions {
  /** State directory; default $EKSUP_SANDBOX_DIR or <repo>/.sandbox. */
  dir?: string;
  /** Fixed ports (missing ones from the environment or defaults), or "auto" for free ones. */
  ports?: Partial<SandboxPorts> | "auto";
  /** Scenario to seed: a path, undefined for sandbox/scenarios/default.yaml when present, null for none. */
  scenario?: string | null;
  /** Run the build and install scripts first (cheap when cached). Default true. */
  build?: boolean;
  /** When this process is gone, a watchdog stops the sandbox and removes its directory. */
  ownerPid?: number;
  /** Passed to the EKS emulator as SANDBOX_TIME_FACTOR when set. */
  timeFactor?: string;
  /** The delay of each of kwok's pod start stages; default SANDBOX_POD_STAGE_MS, else 1000. */
  podStageMs?: number;
  log?: Logger;
}

export interface SandboxHandle {
  env: SandboxEnv;
  state: SandboxState;
  /** True when `startSandbox` found this sandbox already running and started nothing. */
  alreadyRunning: boolean;
  /** Stops every process of the sandbox and removes its directory (but its logs with keepLogs). */
  stop(options?: { keepLogs?: boolean }): Promise<void>;
  /** For process exit handlers, where nothing can be awaited: SIGKILL to every process group. */
  killNow(): void;
}

const watchdogName = "watchdog";

function handleFor(state: SandboxState, alreadyRunning: boolean, log: Logger): SandboxHandle {
  return {
    env: state.env,
    state,
    alreadyRunning,
    stop: async (options = {}) => {
      await stopSandbox(state.env.dir, log, options);
    },
    killNow: () => killProcessesNow(readProcessRecords(layoutOf(state.env.dir).pidDir)),
  };
}

/** Processes recorded in `dir` that are still running, and the sandbox's state if it finished starting. */
export function inspectSandbox(dir: string): { state: SandboxState | undefined; records: ProcessRecord[]; running: ProcessRecord[] } {
  const records = readProcessRecords(layoutOf(dir).pidDir);
  return { state: readSandboxState(dir), records, running: records.filter(isRecordAlive) };
}

export async function startSandbox(options: StartOptions = {}): Promise<SandboxHandle> {
  const log = options.log ?? stderrLogger;
  const dir = resolve(options.dir ?? process.env.EKSUP_SANDBOX_DIR ?? defaultStateDir);
  const layout = layoutOf(dir);
  const begun = Date.now();

  const existing = inspectSandbox(dir);
  if (existing.state && existing.records.length > 0) {
    const dead = existing.records.filter((record) => !existing.running.includes(record));
    if (dead.length === 0) {
      log(`sandbox already up in ${dir}`);
      return handleFor(existing.state, true, log);
    }
    log(`sandbox in ${dir} is broken (${dead.map((record) => record.name).join(", ")} not running): restarting it`);
  }
  if (existing.records.length > 0) await stopProcesses(existing.records.filter((record) => record.pid !== process.pid));
  removeEntries(dir, stateEntries);
  mkdirSync(layout.logDir, { recursive: true });

  if (options.ownerPid !== undefined) startWatchdog(layout, options.ownerPid);
  if (options.build ?? true) await runBuildScripts(log);

  const binaries = binaryPaths(readVersions());
  for (const [name, path] of Object.entries(binaries) as [string, string][]) {
    if (!existsSync(path)) throw new Error(`${name} is missing at ${path}; run sandbox/build/build-binaries.sh`);
  }
  const ports = await choosePorts(options.ports);
  await ensurePortsFree(ports);

  const credentials = createCredentials(layout.pkiDir);
  mkdirSync(layout.kubeconfigDir, { recursive: true });
  // The emulator's port is fixed already, so the apiserver can be told about it before it runs.
  writeTokenWebhookConfig(tokenWebhookConfig(layout), tokenWebhookUrl(ports));
  writeFileSync(auditPolicyFile(layout), stringify(auditPolicy));
  const podStageMs = options.podStageMs ?? parsePodStageMs(process.env.SANDBOX_POD_STAGE_MS);
  const stageNames = buildKwokConfig(binaries.kwokStages, layout.kwokConfigFile, podStageMs);
  log(`kwok stages: ${stageNames.join(", ")} (pod start stages ${podStageMs} ms each)`);

  const started = new Map<ComponentName, StartedProcess>();
  const health: HealthContext = { ports, layout, adminToken: credentials.identities.admin.token };
  // Node processes run from the repository so that `--import tsx` resolves; the others from the state directory.
  const launch = (name: ComponentName, command: string, args: string[], env: NodeJS.ProcessEnv = childEnvironment()): void => {
    const cwd = command === process.execPath ? repoRoot : dir;
    started.set(name, spawnDetached({ name, command, args, cwd, env, logDir: layout.logDir, pidDir: layout.pidDir, port: componentPort(name, ports) }));
  };
  const ready = (name: ComponentName, timeoutMs: number): Promise<void> => waitReady(name, started, health, timeoutMs, log);

  try {
    launch("moto", binaries.motoPython, [binaries.motoServerScript, ...motoArgs(ports)]);
    launch("etcd", binaries.etcd, etcdArgs(layout, ports));
    await ready("etcd", 30_000);

    launch("kube-apiserver", binaries.kubeApiserver, apiServerArgs(layout, ports, credentials));
    await ready("kube-apiserver", 120_000);
    const caPem = readFileSync(apiServerCertificate(layout), "utf8");
    const server = `https://127.0.0.1:${ports.apiServer}`;
    writeKubeconfig(layout.adminKubeconfig, server, caPem, credentials.identities.admin);
    for (const identity of [credentials.identities.controllerManager, credentials.identities.scheduler, credentials.identities.kwok, credentials.identities.karpenter]) {
      writeKubeconfig(componentKubeconfig(layout, identity.name), server, caPem, identity);
    }

    launch("kube-controller-manager", binaries.kubeControllerManager, controllerManagerArgs(layout, ports, credentials));
    launch("kube-scheduler", binaries.kubeScheduler, schedulerArgs(layout, ports, credentials));
    launch("kwok", binaries.kwok, kwokArgs(layout, ports, credentials, `${kwokNodeAnnotation.key}=${kwokNodeAnnotation.value}`));
    await Promise.all([
      ready("kube-controller-manager", 60_000),
      ready("kube-scheduler", 60_000),
      ready("kwok", 60_000),
      ready("moto", 60_000),
    ]);

    const env = sandboxEnvFor(dir, ports);
    if (existsSync(emulatorEntryPoint)) {
      launch("eks-emulator", process.execPath, ["--import", "tsx", emulatorEntryPoint], emulatorEnvironment(env, ports, options.timeFactor));
      await ready("eks-emulator", 60_000);
    } else {
      log(`EKS emulator not started: ${emulatorEntryPoint} does not exist yet`);
    }

    const state: SandboxState = { startedAt: new Date().toISOString(), ports, scenario: undefined, env };
    writeEnvFiles(state);
    const scenario = await seedIfRequested(options.scenario, env, log, () => anyExited(started));
    if (scenario !== undefined) {
      state.scenario = scenario;
      writeEnvFiles(state);
      await waitForManagedNodesReady(env, 60_000, log);
    }
    log(`sandbox up in ${((Date.now() - begun) / 1000).toFixed(1)}s; source ${join(dir, "env")}`);
    return handleFor(state, false, log);
  } catch (error) {
    log(`start failed; stopping what was started (logs kept in ${layout.logDir})`);
    // The watchdog too: once this process exits it would stop the sandbox, and that removes the logs.
    // And Karpenter, which the seeding starts outside `started` when the scenario asks for it.
    const watchdog = readProcessRecords(layout.pidDir).filter((record) => record.name === watchdogName || record.name === "karpenter");
    await stopProcesses([...watchdog, ...[...started.values()].map((child) => child.record)]);
    throw error;
  }
}

function anyExited(started: Map<ComponentName, StartedProcess>): string | undefined {
  for (const [name, child] of started) {
    if (child.exit) {
      const how = child.exit.signal ? `signal ${child.exit.signal}` : `code ${child.exit.code}`;
      return `${name} exited (${how}); last lines of ${child.record.logFile}:\n${tailFile(child.record.logFile)}`;
    }
  }
  return undefined;
}

async function waitReady(
  name: ComponentName,
  started: Map<ComponentName, StartedProcess>,
  health: HealthContext,
  timeoutMs: number,
  log: Logger,
): Promise<void> {
  const begun = Date.now();
  const port = componentPort(name, health.ports);
  try {
    await waitUntil(`${name} on 127.0.0.1:${port}`, healthProbe(name, health), { timeoutMs, abortIf: () => anyExited(started) });
  } catch (error) {
    const record = started.get(name)?.record;
    const alreadyHasLog = error instanceof Error && error.message.includes("last lines of");
    if (record && !alreadyHasLog) {
      throw new Error(`${(error as Error).message}\nlast lines of ${record.logFile}:\n${tailFile(record.logFile)}`, { cause: error });
    }
    throw error;
  }
  log(`${name} ready on 127.0.0.1:${port} (${((Date.now() - begun) / 1000).toFixed(1)}s)`);
}

/** The caller's environment without anything that would point a component at another cluster or cloud. */
function childEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === "KUBECONFIG" || name.startsWith("AWS_") || name.startsWith("EKS_EMULATOR_")) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** The variables agreed with the EKS emulator (sandbox/eks-emulator/main.ts). */
function emulatorEnvironment(env: SandboxEnv, ports: SandboxPorts, timeFactor: string | undefined): NodeJS.ProcessEnv {
  const factor = timeFactor ?? process.env.SANDBOX_TIME_FACTOR;
  return childEnvironment({
    EKS_EMULATOR_PORT: String(ports.emulator),
    KUBECONFIG: env.kubeconfigPath,
    AWS_ENDPOINT_URL: env.awsEndpointUrl,
    AWS_REGION: env.awsRegion,
    AWS_ACCESS_KEY_ID: env.awsAccessKeyId,
    AWS_SECRET_ACCESS_KEY: env.awsSecretAccessKey,
    EKSUP_SANDBOX_DIR: env.dir,
    ...(factor !== undefined ? { SANDBOX_TIME_FACTOR: factor } : {}),
  });
}

/**
 * Where "auto" ports come from: 20000-31999, below Linux's ephemeral range (32768-60999), because
 * a port the kernel hands to listen(0) is also one it hands to outgoing connections, and in a busy
 * sandbox one of those took a port between its choice and the component's listen (EADDRINUSE).
 * The range is cut into blocks of 1000; each lane of the test suite takes its own
 * (EKSUP_SANDBOX_PORT_BLOCK, set by test/sandbox-lanes.ts), so lanes cannot choose the same port at
 * the same moment. Without it a block is drawn from the upper ones. Within a process, a port is
 * never handed out twice.
 */
const PORT_RANGE_START = 20_000;
const PORT_BLOCK_SIZE = 1_000;
const PORT_BLOCKS = 12;
const LANE_BLOCKS = 8;
const handedOut = new Set<number>();

export function portBlock(raw: string | undefined, random: () => number = Math.random): number {
  if (raw === undefined || raw.trim() === "") return LANE_BLOCKS + Math.floor(random() * (PORT_BLOCKS - LANE_BLOCKS));
  const block = Number(raw);
  if (!Number.isInteger(block) || block < 0 || block >= PORT_BLOCKS) throw new Error(`EKSUP_SANDBOX_PORT_BLOCK must be a whole number from 0 to ${PORT_BLOCKS - 1}, got "${raw}"`);
  return block;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once("error", () => resolvePromise(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolvePromise(true)));
  });
}

async function choosePorts(requested: StartOptions["ports"]): Promise<SandboxPorts> {
  if (requested !== "auto") return { ...portsFromEnvironment(), ...requested };
  const keys = Object.keys(portsFromEnvironment()) as (keyof SandboxPorts)[];
  const base = PORT_RANGE_START + portBlock(process.env.EKSUP_SANDBOX_PORT_BLOCK) * PORT_BLOCK_SIZE;
  const chosen: number[] = [];
  for (let tries = 0; chosen.length < keys.length; tries++) {
    if (tries > PORT_BLOCK_SIZE) throw new Error(`no ${keys.length} free ports left in 127.0.0.1:${base}-${base + PORT_BLOCK_SIZE - 1}`);
    const port = base + Math.floor(Math.random() * PORT_BLOCK_SIZE);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await bindable(port)) chosen.push(port);
  }
  return Object.fromEntries(keys.map((key, index) => [key, chosen[index]])) as unknown as SandboxPorts;
}

async function ensurePortsFree(ports: SandboxPorts): Promise<void> {
  const busy: string[] = [];
  for (const [name, port] of Object.entries(ports) as [string, number][]) {
    if (await portOpen(port)) busy.push(`${name} (${port})`);
  }
  if (busy.length > 0) {
    throw new Error(`ports already in use on 127.0.0.1: ${busy.join(", ")}; stop what holds them or set the EKSUP_SANDBOX_*_PORT variables (docs/sandbox.md)`);
  }
}

function runScript(script: string, log: Logger, args: string[] = []): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    const child = spawn("bash", [join(buildDir, script), ...args], { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolvePromise() : reject(new Error(`${script} failed with exit code ${code}`))));
  }).then(() => log(`${script}: ok`));
}

/** Both scripts return within a second when everything is cached. */
export async function runBuildScripts(log: Logger): Promise<void> {
  // helm and promtool are built by the tests that use them (ensureTool), not for every sandbox.
  await runScript("build-binaries.sh", log, ["etcd", "kwok", "kubernetes"]);
  await runScript("install-moto.sh", log);
}

function startWatchdog(layout: Layout, ownerPid: number): void {
  const script = fileURLToPath(new URL("./watchdog.ts", import.meta.url));
  spawnDetached({
    name: watchdogName,
    command: process.execPath,
    args: ["--import", "tsx", script, String(ownerPid), layout.dir],
    cwd: repoRoot,
    env: childEnvironment(),
    logDir: layout.logDir,
    pidDir: layout.pidDir,
  });
}

function stopOrder(records: ProcessRecord[]): ProcessRecord[] {
  const rank = (record: ProcessRecord): number =>
    record.name === watchdogName ? -1 : componentOrder.length - componentOrder.indexOf(record.name as ComponentName);
  return [...records].sort((left, right) => rank(left) - rank(right));
}

/** Stops every process recorded in `dir` and removes the directory. Returns what had to be killed. */
export async function stopSandbox(dir: string = process.env.EKSUP_SANDBOX_DIR ?? defaultStateDir, log: Logger = stderrLogger, options: { keepLogs?: boolean } = {}): Promise<string[]> {
  const layout = layoutOf(resolve(dir));
  const records = stopOrder(readProcessRecords(layout.pidDir).filter((record) => record.pid !== process.pid));
  const running = records.filter(isRecordAlive).map((record) => record.name);
  // Clients before the servers they use, so that none spends its shutdown retrying against a
  // server that is already gone: the emulator, then the control plane's own clients and moto,
  // then the API server, then etcd.
  const waves: ReadonlySet<string>[] = [
    new Set([watchdogName, "eks-emulator"]),
    new Set(["karpenter", "kwok", "kube-scheduler", "kube-controller-manager", "moto"]),
    new Set(["kube-apiserver"]),
  ];
  const killed: string[] = [];
  let remaining = records;
  for (const wave of waves) {
    killed.push(...(await stopProcesses(remaining.filter((record) => wave.has(record.name)))));
    remaining = remaining.filter((record) => !wave.has(record.name));
  }
  killed.push(...(await stopProcesses(remaining)));
  if (running.length > 0) log(`stopped ${running.join(", ")}${killed.length > 0 ? ` (killed after the grace period: ${killed.join(", ")})` : ""}`);
  removeEntries(layout.dir, options.keepLogs ? stateEntries.filter((entry) => entry !== "logs") : stateEntries);
  if (options.keepLogs) log(`logs kept in ${layout.logDir}`);
  return killed;
}

export interface ComponentStatus {
  name: string;
  pid: number;
  port: number | undefined;
  running: boolean;
  healthy: boolean;
}

export async function sandboxStatus(dir: string = process.env.EKSUP_SANDBOX_DIR ?? defaultStateDir): Promise<{ state: SandboxState | undefined; components: ComponentStatus[] }> {
  const layout = layoutOf(resolve(dir));
  const { state, records } = inspectSandbox(layout.dir);
  const ports = state?.ports;
  const adminToken = readAdminToken(layout);
  const components = await Promise.all(
    stopOrder(records)
      .reverse()
      .map(async (record): Promise<ComponentStatus> => {
        const running = isRecordAlive(record);
        let healthy = false;
        if (running && ports && record.name !== watchdogName) {
          healthy = await healthProbe(record.name as ComponentName, { ports, layout, adminToken })().catch(() => false);
        }
        return { name: record.name, pid: record.pid, port: record.port, running, healthy: record.name === watchdogName ? running : healthy };
      }),
  );
  return { state, components };
}

function readAdminToken(layout: Layout): string | undefined {
  try {
    return /token: (\S+)/.exec(readFileSync(layout.adminKubeconfig, "utf8"))?.[1];
  } catch {
    return undefined;
  }
}
