// Where the sandbox keeps its binaries, its state and which loopback ports it listens on.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const buildDir = join(repoRoot, "sandbox", "build");
export const defaultStateDir = join(repoRoot, ".sandbox");
export const defaultScenarioPath = join(repoRoot, "sandbox", "scenarios", "default.yaml");
export const emulatorEntryPoint = join(repoRoot, "sandbox", "eks-emulator", "main.ts");
export const seedEntryPoint = join(repoRoot, "sandbox", "scenario", "seed.ts");

/** Nodes carrying this annotation are the ones kwok plays the kubelet for. */
export const kwokNodeAnnotation = { key: "kwok.x-k8s.io/node", value: "fake" } as const;

export const awsRegion = "us-east-1";
export const dummyAwsCredentials = { accessKeyId: "testing", secretAccessKey: "testing" } as const;

export interface Versions {
  kubernetes: string;
  etcd: string;
  kwok: string;
  moto: string;
  helm: string;
  prometheus: string;
  karpenter: string;
}

export function readVersions(): Versions {
  const text = readFileSync(join(buildDir, "versions.env"), "utf8");
  const value = (name: string): string => {
    const match = new RegExp(`^${name}=(\\S+)`, "m").exec(text);
    if (!match?.[1]) throw new Error(`versions.env does not set ${name}`);
    return match[1];
  };
  return {
    kubernetes: value("KUBERNETES_VERSION"),
    etcd: value("ETCD_VERSION"),
    kwok: value("KWOK_VERSION"),
    moto: value("MOTO_VERSION"),
    helm: value("HELM_VERSION"),
    prometheus: value("PROMETHEUS_VERSION"),
    karpenter: value("KARPENTER_VERSION"),
  };
}

export function cacheDir(): string {
  return process.env.EKSUP_SANDBOX_CACHE ?? join(homedir(), ".cache", "eks-upgrade-operator");
}

export interface BinaryPaths {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kwok: string;
  kwokStages: string;
  /** The Python of moto's virtualenv, which runs sandbox/moto/server.py (moto's server plus fixes). */
  motoPython: string;
  motoServerScript: string;
}

export function binaryPaths(versions: Versions = readVersions()): BinaryPaths {
  const bin = join(cacheDir(), "bin");
  const kube = join(bin, `kubernetes-${versions.kubernetes}`);
  const kwok = join(bin, `kwok-${versions.kwok}`);
  return {
    etcd: join(bin, `etcd-${versions.etcd}`, "etcd"),
    kubeApiserver: join(kube, "kube-apiserver"),
    kubeControllerManager: join(kube, "kube-controller-manager"),
    kubeScheduler: join(kube, "kube-scheduler"),
    kwok: join(kwok, "kwok"),
    kwokStages: join(kwok, "stages"),
    motoPython: join(cacheDir(), `moto-${versions.moto}`, "bin", "python"),
    motoServerScript: join(repoRoot, "sandbox", "moto", "server.py"),
  };
}

/**
 * Karpenter's kwok provider and the CRDs of the same module version. Not in binaryPaths: only a
 * scenario that declares NodePools builds and starts it (sandbox/runtime/karpenter.ts).
 */
export function karpenterPaths(versions: Versions = readVersions()): { binary: string; crdsDir: string } {
  const dir = join(cacheDir(), "bin", `karpenter-${versions.karpenter}`);
  return { binary: join(dir, "karpenter-kwok"), crdsDir: join(dir, "crds") };
}

/** Tools the tests check the Helm chart and the alerting rules with; built on first use like the rest. */
export type ToolName = "helm" | "promtool";

export function toolPath(tool: ToolName, versions: Versions = readVersions()): string {
  const bin = join(cacheDir(), "bin");
  return tool === "helm" ? join(bin, `helm-${versions.helm}`, "helm") : join(bin, `promtool-${versions.prometheus}`, "promtool");
}

export interface SandboxPorts {
  etcd: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
  moto: number;
  emulator: number;
  /** Karpenter's health probe (/healthz, /readyz) and metrics, used only while it runs. */
  karpenterHealth: number;
  karpenterMetrics: number;
}

/** Fixed defaults away from the usual ports of a real cluster, each overridable by environment. */
export const defaultPorts: SandboxPorts = {
  etcd: 23790,
  etcdPeer: 23800,
  apiServer: 16443,
  controllerManager: 20257,
  scheduler: 20259,
  kwok: 20247,
  moto: 15000,
  emulator: 15100,
  karpenterHealth: 20281,
  karpenterMetrics: 20280,
};

const portVariables: Record<keyof SandboxPorts, string> = {
  etcd: "EKSUP_SANDBOX_ETCD_PORT",
  etcdPeer: "EKSUP_SANDBOX_ETCD_PEER_PORT",
  apiServer: "EKSUP_SANDBOX_APISERVER_PORT",
  controllerManager: "EKSUP_SANDBOX_CONTROLLER_MANAGER_PORT",
  scheduler: "EKSUP_SANDBOX_SCHEDULER_PORT",
  kwok: "EKSUP_SANDBOX_KWOK_PORT",
  moto: "EKSUP_SANDBOX_MOTO_PORT",
  emulator: "EKSUP_SANDBOX_EMULATOR_PORT",
  karpenterHealth: "EKSUP_SANDBOX_KARPENTER_HEALTH_PORT",
  karpenterMetrics: "EKSUP_SANDBOX_KARPENTER_METRICS_PORT",
};

export function portsFromEnvironment(env: NodeJS.ProcessEnv = process.env): SandboxPorts {
  const ports = { ...defaultPorts };
  for (const key of Object.keys(portVariables) as (keyof SandboxPorts)[]) {
    const raw = env[portVariables[key]];
    if (raw === undefined || raw === "") continue;
    const port = Number(raw);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new Error(`${portVariables[key]}=${raw} is not a port number`);
    }
    ports[key] = port;
  }
  return ports;
}

export function portVariableNames(): Readonly<Record<keyof SandboxPorts, string>> {
  return portVariables;
}
