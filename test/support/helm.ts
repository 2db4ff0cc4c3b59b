// helm against the sandbox: the cached build (sandbox/build/build-binaries.sh, built on first use)
// run with the sandbox administrator's kubeconfig.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ensureTool } from "../../sandbox/runtime/tools.js";
import { sandboxEnv } from "./global-sandbox.js";

export const CHART_DIR = fileURLToPath(new URL("../../charts/eks-upgrade-operator", import.meta.url));
/** helm assumes Kubernetes 1.20 when it renders offline; the chart needs 1.30, the sandbox runs this. */
export const SANDBOX_KUBE_VERSION = "1.34.4";

/** Runs helm, or kubectl with `command: "kubectl"`; throws with the tool's own stderr on failure. */
export function run(command: string, args: string[], input?: string): string {
  try {
    return execFileSync(command, args, {
      encoding: "utf8",
      env: { ...process.env, KUBECONFIG: sandboxEnv().kubeconfigPath, HELM_CACHE_HOME: `${sandboxEnv().dir}/helm/cache`, HELM_CONFIG_HOME: `${sandboxEnv().dir}/helm/config`, HELM_DATA_HOME: `${sandboxEnv().dir}/helm/data` },
      timeout: 120_000,
      ...(input !== undefined ? { input } : {}),
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${command} ${args.join(" ")} failed: ${(stderr || stdout || (error as Error).message).trim()}`, { cause: error });
  }
}

let helmPath: string | undefined;

/** The cached helm, built first if this machine has none (minutes, once). */
export function helmBinary(): string {
  helmPath ??= ensureTool("helm");
  return helmPath;
}

export function helm(args: string[]): string {
  return run(helmBinary(), args);
}

/** `--set`-style values as `--set-json` flags, so that numbers and strings keep their types. */
export function valueFlags(values: Record<string, unknown>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ["--set-json", `${key}=${JSON.stringify(value)}`]);
}
