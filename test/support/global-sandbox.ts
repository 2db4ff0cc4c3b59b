// Mocha root hooks for the sandbox test run (.mocharc.sandbox.json requires this file): one local
// sandbox for the whole run, stopped afterwards however the run ends.
//
// By default a fresh sandbox starts in a temporary directory on free ports, so a developer's own
// sandbox (.sandbox, fixed ports) is left alone. EKSUP_REUSE_SANDBOX=1 uses the running sandbox of
// $EKSUP_SANDBOX_DIR or .sandbox instead, when all its processes are alive, and leaves it running.
// EKSUP_TEST_SCENARIO seeds a scenario at start; by default tests seed what they need.
import type { KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

interface GlobalSandbox {
  env: SandboxEnv;
  /** Present when this run started the sandbox and so must stop it. */
  handle: SandboxHandle | undefined;
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

/** Empties moto, the EKS emulator and Kubernetes; seeds `scenario` afterwards when given. */
export async function resetSandbox(options: { scenario?: string | null } = {}): Promise<void> {
  await resetRunningSandbox(current().env, { scenario: options.scenario ?? null, log: () => undefined });
}

function reusableSandbox(): SandboxEnv | undefined {
  if (process.env.EKSUP_REUSE_SANDBOX !== "1") return undefined;
  const { state, records, running } = inspectSandbox(process.env.EKSUP_SANDBOX_DIR ?? defaultStateDir);
  if (!state || records.length === 0 || running.length !== records.length) return undefined;
  return state.env;
}

let removeExitHandlers: () => void = () => undefined;

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

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    // A cold cache builds Kubernetes from source first (20-30 minutes on 2 cores).
    this.timeout(45 * 60_000);
    const reused = reusableSandbox();
    let sandbox: GlobalSandbox;
    if (reused) {
      stderrLogger(`reusing the running sandbox in ${reused.dir}`);
      sandbox = { env: reused, handle: undefined };
    } else {
      const dir = mkdtempSync(join(tmpdir(), "eksup-sandbox-test-"));
      const handle = await startSandbox({
        dir,
        ports: "auto",
        scenario: process.env.EKSUP_TEST_SCENARIO ?? null,
        ownerPid: process.pid,
      });
      installExitHandlers(handle);
      sandbox = { env: handle.env, handle };
    }
    holder[slot] = sandbox;
    // Code under test that builds its own clients from the environment finds the sandbox too.
    Object.assign(process.env, sandbox.env.variables);
  },

  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    const sandbox = holder[slot];
    if (!sandbox?.handle) return;
    await sandbox.handle.stop();
    removeExitHandlers();
    delete holder[slot];
  },
};
