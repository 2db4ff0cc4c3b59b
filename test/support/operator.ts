// Runs the operator as its own process against the sandbox, as `npm start` would, so tests can
// kill it (SIGKILL) and start it again. It runs under its own ServiceAccount, bound by the shipped
// config/rbac, not as the sandbox administrator: a request the manifests do not allow fails the
// test that needs it, and the suite's audit check (test/support/audit.ts) sees every request.
import { KubeConfig } from "@kubernetes/client-node";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installOperatorIdentity } from "../../sandbox/runtime/operator-identity.js";
import { sandboxEnv, sandboxGeneration, sandboxOperatorEntry } from "./global-sandbox.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
let sequence = 0;

export interface OperatorProcess {
  child: ChildProcess;
  logPath: string;
  /** The kubeconfig it runs with, holding its ServiceAccount token. */
  kubeconfigPath: string;
  /** Its leader-election identity (POD_NAME). */
  identity: string;
  /** SIGTERM, then SIGKILL after 15 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** Dies at once, as after an OOM kill or a node failure. */
  kill(): Promise<void>;
}

/** The namespace UpgradeWorld puts ClusterUpgrades in, and so where the operator may read Secrets. */
export const DEFAULT_UPGRADE_NAMESPACES: readonly string[] = ["e2e"];

/**
 * Applies config/rbac and mints a ServiceAccount token; returns the kubeconfig path. Synchronous
 * (through the sandbox CLI) so that starting an operator stays a plain call for the tests.
 */
function operatorKubeconfig(dir: string, secretNamespaces: readonly string[]): string {
  const args = ["--import", "tsx", join(repoRoot, "sandbox", "cli.ts"), "operator-kubeconfig", ...secretNamespaces.flatMap((namespace) => ["--secret-namespace", namespace])];
  try {
    return execFileSync(process.execPath, args, { cwd: repoRoot, env: { ...process.env, EKSUP_SANDBOX_DIR: dir }, encoding: "utf8", timeout: 60_000 }).trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`preparing the operator's ServiceAccount: ${stderr.trim() || (error as Error).message}`, { cause: error });
  }
}

interface PreparedIdentity {
  namespaces: string;
  generation: number;
  path: string;
  mintedAt: number;
}

let prepared: PreparedIdentity | undefined;
/** Well inside the token's two hours, so that no operator starts with a token about to expire. */
const TOKEN_REUSE_MS = 60 * 60_000;

function namespacesKey(secretNamespaces: readonly string[]): string {
  return [...new Set(secretNamespaces)].sort().join(",");
}

/** The kubeconfig installOperatorIdentityAhead made for these namespaces, while still valid. */
function preparedKubeconfig(secretNamespaces: readonly string[]): string | undefined {
  if (!prepared || prepared.namespaces !== namespacesKey(secretNamespaces)) return undefined;
  if (prepared.generation !== sandboxGeneration() || Date.now() - prepared.mintedAt > TOKEN_REUSE_MS) return undefined;
  return prepared.path;
}

/**
 * Installs config/rbac and mints the operator's token from this process, without blocking it, and
 * keeps the kubeconfig for every operator started until the next reset of the sandbox (which
 * deletes the ServiceAccount and so voids the token). UpgradeWorld.prepare calls it.
 */
export async function installOperatorIdentityAhead(secretNamespaces: readonly string[] = DEFAULT_UPGRADE_NAMESPACES): Promise<string> {
  const cached = preparedKubeconfig(secretNamespaces);
  if (cached) return cached;
  const generation = sandboxGeneration();
  const mintedAt = Date.now();
  const path = await installOperatorIdentity(sandboxEnv(), { secretNamespaces: [...secretNamespaces] });
  prepared = { namespaces: namespacesKey(secretNamespaces), generation, path, mintedAt };
  return path;
}

/**
 * The operator's kubeconfig file, prepared ahead: startOperatorProcess prepares one synchronously
 * otherwise, which stalls everything the test process serves meanwhile (a fault proxy, say).
 */
export function prepareOperatorKubeconfig(secretNamespaces: readonly string[] = DEFAULT_UPGRADE_NAMESPACES): string {
  return preparedKubeconfig(secretNamespaces) ?? operatorKubeconfig(sandboxEnv().dir, secretNamespaces);
}

/** A KubeConfig with the operator's ServiceAccount token, for tests that call operator code in-process. */
export function operatorKubeConfig(secretNamespaces: readonly string[] = DEFAULT_UPGRADE_NAMESPACES): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(operatorKubeconfig(sandboxEnv().dir, secretNamespaces));
  return kubeConfig;
}

export interface OperatorProcessOptions {
  /** Namespaces holding ClusterUpgrades whose Secrets the operator reads; default DEFAULT_UPGRADE_NAMESPACES. */
  secretNamespaces?: readonly string[];
  /**
   * Where this operator reaches the API server instead of the sandbox's URL, e.g. a fault proxy
   * on another port of 127.0.0.1 (the API server's certificate is for the IP, so TLS still
   * verifies). The operator's kubeconfig is copied with the server rewritten.
   */
  apiServerUrl?: string;
  /** A kubeconfig from prepareOperatorKubeconfig, used instead of preparing one now. */
  kubeconfigPath?: string;
  /**
   * The main.js to run with plain node; by default the one the sandbox run compiled
   * (test/support/build.ts), which starts in a fraction of the time tsx takes.
   */
  entry?: string;
}

function withServer(kubeconfigPath: string, from: string, to: string, sequenceNumber: number): string {
  const text = readFileSync(kubeconfigPath, "utf8");
  if (!text.includes(from)) throw new Error(`the operator's kubeconfig ${kubeconfigPath} does not name the API server ${from}`);
  const copy = `${kubeconfigPath}.via-${sequenceNumber}`;
  writeFileSync(copy, text.split(from).join(to), { mode: 0o600 });
  return copy;
}

export function startOperatorProcess(extraEnv: Record<string, string> = {}, options: OperatorProcessOptions = {}): OperatorProcess {
  const env = sandboxEnv();
  const secretNamespaces = options.secretNamespaces ?? DEFAULT_UPGRADE_NAMESPACES;
  const sandboxKubeconfig = options.kubeconfigPath ?? preparedKubeconfig(secretNamespaces) ?? operatorKubeconfig(env.dir, secretNamespaces);
  mkdirSync(join(env.dir, "logs"), { recursive: true });
  const logPath = join(env.dir, "logs", `operator-${process.pid}-${++sequence}.log`);
  const kubeconfig = options.apiServerUrl === undefined ? sandboxKubeconfig : withServer(sandboxKubeconfig, env.apiServerUrl, options.apiServerUrl, sequence);
  const log = createWriteStream(logPath);
  const identity = `test-operator-${sequence}`;
  const command = ["--enable-source-maps", options.entry ?? sandboxOperatorEntry()];
  const child = spawn(process.execPath, command, {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...env.variables,
      KUBECONFIG: kubeconfig,
      POD_NAME: identity,
      POD_NAMESPACE: "eks-upgrade-system",
      HTTP_PORT: "0",
      CONTROL_PLANE_POLL_SECONDS: "1",
      UPDATE_POLL_SECONDS: "1",
      IDLE_RECHECK_SECONDS: "2",
      FAILED_UPDATE_BACKOFF_SECONDS: "2",
      CLAIM_SETTLE_SECONDS: "1",
      LEASE_DURATION_SECONDS: "4",
      LEASE_RENEW_DEADLINE_SECONDS: "3",
      LEASE_RETRY_PERIOD_SECONDS: "1",
      LOG_LEVEL: "debug",
      // The tests' webhook receivers and probe targets are plain-HTTP servers on loopback, which
      // the outbound guard refuses by default.
      OUTBOUND_ALLOW_HTTP: "true",
      OUTBOUND_ALLOWLIST: "127.0.0.1",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    logPath,
    kubeconfigPath: kubeconfig,
    identity,
    async stop() {
      if (gone()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (gone()) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}
