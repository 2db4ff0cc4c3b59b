// Command lines and health checks of the sandbox's processes. Everything listens on 127.0.0.1.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SandboxPorts } from "./config.js";
import type { Credentials } from "./credentials.js";
import { httpCall } from "./http.js";

export type ComponentName =
  | "etcd"
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kwok"
  | "moto"
  | "eks-emulator"
  | "karpenter";

/** Start order; `down` stops in the reverse order. */
export const componentOrder: readonly ComponentName[] = [
  "moto",
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "eks-emulator",
  // Started after the others, and only by a scenario that declares NodePools (runtime/karpenter.ts).
  "karpenter",
];

export interface Layout {
  dir: string;
  etcdDataDir: string;
  pkiDir: string;
  apiServerCertDir: string;
  kubeconfigDir: string;
  kwokConfigFile: string;
  logDir: string;
  pidDir: string;
  adminKubeconfig: string;
}

export function layoutOf(dir: string): Layout {
  return {
    dir,
    etcdDataDir: join(dir, "etcd"),
    pkiDir: join(dir, "pki"),
    apiServerCertDir: join(dir, "pki", "apiserver"),
    kubeconfigDir: join(dir, "kubeconfigs"),
    kwokConfigFile: join(dir, "kwok.yaml"),
    logDir: join(dir, "logs"),
    pidDir: join(dir, "pids"),
    adminKubeconfig: join(dir, "kubeconfig"),
  };
}

/** Everything a sandbox writes in its directory; `down` removes exactly these. */
export const stateEntries: readonly string[] = ["etcd", "pki", "kubeconfigs", "kwok.yaml", "logs", "pids", "kubeconfig", "env", "state.json"];

export function componentKubeconfig(layout: Layout, name: string): string {
  return join(layout.kubeconfigDir, `${name}.yaml`);
}

/** kube-apiserver writes a self-signed certificate (with its CA) here when given no serving cert. */
export function apiServerCertificate(layout: Layout): string {
  return join(layout.apiServerCertDir, "apiserver.crt");
}

/**
 * The kubeconfig telling kube-apiserver where its token webhook is: the EKS emulator's
 * POST /sandbox/authenticate, which accepts EKS bearer tokens (k8s-aws-v1.) as EKS does.
 */
export function tokenWebhookConfig(layout: Layout): string {
  return join(layout.kubeconfigDir, "token-webhook.yaml");
}

/** The audit policy kube-apiserver is started with (written before the start). */
export function auditPolicyFile(layout: Layout): string {
  return join(layout.pkiDir, "audit-policy.yaml");
}

/**
 * kube-apiserver's audit log: one JSON line per request of a ServiceAccount. Rotated files sit
 * beside it as audit-<time>.log; readers take all of them.
 */
export function auditLogFile(layout: Layout): string {
  return join(layout.logDir, "audit.log");
}

/**
 * Metadata (who, verb, resource, response code; no bodies, so no Secret contents) for requests
 * made with ServiceAccount tokens, which in the sandbox means the operator under test; nothing for
 * the control plane's own components, kwok and the admin, whose heartbeats would bury it. One
 * event per request: RequestReceived is left out.
 */
export const auditPolicy = {
  apiVersion: "audit.k8s.io/v1",
  kind: "Policy",
  omitStages: ["RequestReceived"],
  rules: [
    { level: "Metadata", userGroups: ["system:serviceaccounts"] },
    { level: "None" },
  ],
};

export function tokenWebhookUrl(ports: SandboxPorts): string {
  return `http://127.0.0.1:${ports.emulator}/sandbox/authenticate`;
}

export function etcdArgs(layout: Layout, ports: SandboxPorts): string[] {
  const client = `http://127.0.0.1:${ports.etcd}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    "--name=sandbox",
    `--data-dir=${layout.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=sandbox=${peer}`,
    "--initial-cluster-state=new",
    // The data is thrown away with the sandbox; skipping fsync keeps a 2-core machine responsive.
    "--unsafe-no-fsync=true",
    "--auto-compaction-mode=periodic",
    "--auto-compaction-retention=10m",
    "--log-level=warn",
  ];
}

export function apiServerArgs(layout: Layout, ports: SandboxPorts, credentials: Credentials): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${ports.apiServer}`,
    `--cert-dir=${layout.apiServerCertDir}`,
    `--token-auth-file=${credentials.tokenFile}`,
    // Bearer tokens the static file does not know go to the EKS emulator (written before the start).
    `--authentication-token-webhook-config-file=${tokenWebhookConfig(layout)}`,
    "--authentication-token-webhook-version=v1",
    // Short, so that an expired token or a cluster forgotten by a reset is refused soon after.
    "--authentication-token-webhook-cache-ttl=30s",
    "--authorization-mode=Node,RBAC",
    // What the operator's ServiceAccount did, for the least-privilege check of the test suite.
    `--audit-policy-file=${auditPolicyFile(layout)}`,
    `--audit-log-path=${auditLogFile(layout)}`,
    "--audit-log-format=json",
    // Blocking (the default): an entry is on disk before the response is sent, so a reader
    // after the request sees it.
    "--audit-log-mode=blocking",
    "--audit-log-maxsize=100",
    "--audit-log-maxbackup=20",
    `--service-account-key-file=${credentials.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${credentials.serviceAccountKeyFile}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    "--api-audiences=https://kubernetes.default.svc.cluster.local",
    "--service-cluster-ip-range=10.96.0.0/16",
    // No kubelets or real endpoints: the `kubernetes` Service keeps no endpoints rather than
    // pointing at an address nothing in a pod could reach.
    "--endpoint-reconciler-type=none",
    "--allow-privileged=true",
    "--profiling=false",
    "--v=1",
  ];
}

export function controllerManagerArgs(layout: Layout, ports: SandboxPorts, credentials: Credentials): string[] {
  return [
    `--kubeconfig=${componentKubeconfig(layout, credentials.identities.controllerManager.name)}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${ports.controllerManager}`,
    `--cert-dir=${join(layout.pkiDir, "kube-controller-manager")}`,
    "--leader-elect=false",
    // All default controllers: disruption, deployment, replicaset, statefulset, daemonset,
    // garbage collector, podgc, namespace, nodelifecycle, serviceaccount and the rest.
    "--controllers=*",
    `--service-account-private-key-file=${credentials.serviceAccountKeyFile}`,
    `--root-ca-file=${apiServerCertificate(layout)}`,
    "--use-service-account-credentials=false",
    "--kube-api-qps=100",
    "--kube-api-burst=200",
    "--v=1",
  ];
}

export function schedulerArgs(layout: Layout, ports: SandboxPorts, credentials: Credentials): string[] {
  return [
    `--kubeconfig=${componentKubeconfig(layout, credentials.identities.scheduler.name)}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${ports.scheduler}`,
    `--cert-dir=${join(layout.pkiDir, "kube-scheduler")}`,
    "--leader-elect=false",
    "--kube-api-qps=100",
    "--kube-api-burst=200",
    "--v=1",
  ];
}

export function kwokArgs(layout: Layout, ports: SandboxPorts, credentials: Credentials, nodeAnnotation: string): string[] {
  return [
    `--kubeconfig=${componentKubeconfig(layout, credentials.identities.kwok.name)}`,
    `--config=${layout.kwokConfigFile}`,
    `--manage-nodes-with-annotation-selector=${nodeAnnotation}`,
    `--server-address=127.0.0.1:${ports.kwok}`,
    // Room for the pod IPs of a few thousand pods; kwok's default /24 runs out in larger scenarios.
    "--cidr=10.244.0.0/16",
    "--node-lease-duration-seconds=40",
  ];
}

/**
 * Karpenter reads its settings from the environment. Leader election is off (one replica); its
 * health and metrics ports are the sandbox's (Karpenter binds them on every interface: it has no
 * host setting); the batch window is short so that pending pods get a node within seconds.
 */
export function karpenterEnvironment(layout: Layout, ports: SandboxPorts, identityName: string): Record<string, string> {
  return {
    KUBECONFIG: componentKubeconfig(layout, identityName),
    DISABLE_LEADER_ELECTION: "true",
    HEALTH_PROBE_PORT: String(ports.karpenterHealth),
    METRICS_PORT: String(ports.karpenterMetrics),
    BATCH_IDLE_DURATION: "1s",
    BATCH_MAX_DURATION: "3s",
    LOG_LEVEL: "info",
    // Karpenter sizes its Go runtime from these; the sandbox shares two cores with everything else.
    CPU_REQUESTS: "500",
    MEMORY_LIMIT: String(1024 * 1024 * 1024),
  };
}

export function motoArgs(ports: SandboxPorts): string[] {
  return ["-H", "127.0.0.1", "-p", String(ports.moto)];
}

export interface HealthContext {
  ports: SandboxPorts;
  layout: Layout;
  adminToken: string | undefined;
}

async function ok(url: string, options: Parameters<typeof httpCall>[1] = {}): Promise<boolean> {
  const response = await httpCall(url, { timeoutMs: 3_000, ...options });
  return response.status === 200;
}

function apiServerCa(layout: Layout): string | undefined {
  try {
    return readFileSync(apiServerCertificate(layout), "utf8");
  } catch {
    return undefined;
  }
}

/** One probe per component, used both while starting and by `sandbox status`. */
export function healthProbe(name: ComponentName, context: HealthContext): () => Promise<boolean> {
  const { ports, layout } = context;
  switch (name) {
    case "etcd":
      return async () => {
        const response = await httpCall(`http://127.0.0.1:${ports.etcd}/health`, { timeoutMs: 3_000 });
        return response.status === 200 && (JSON.parse(response.body) as { health?: string }).health === "true";
      };
    case "kube-apiserver":
      return () =>
        ok(`https://127.0.0.1:${ports.apiServer}/readyz`, {
          ca: apiServerCa(layout),
          headers: context.adminToken ? { authorization: `Bearer ${context.adminToken}` } : {},
        });
    // The controller manager and scheduler serve self-signed certificates of their own; these
    // probes on the loopback interface only read /healthz, so the certificate is not verified.
    case "kube-controller-manager":
      return () => ok(`https://127.0.0.1:${ports.controllerManager}/healthz`);
    case "kube-scheduler":
      return () => ok(`https://127.0.0.1:${ports.scheduler}/healthz`);
    case "kwok":
      return () => ok(`http://127.0.0.1:${ports.kwok}/healthz`);
    case "moto":
      // The dashboard page is static; /moto-api/data.json would serialise every stored resource.
      return () => ok(`http://127.0.0.1:${ports.moto}/moto-api/`);
    case "eks-emulator":
      return () => ok(`http://127.0.0.1:${ports.emulator}/sandbox/health`);
    case "karpenter":
      // readyz includes the check that the NodePool and NodeClaim CRDs are served.
      return () => ok(`http://127.0.0.1:${ports.karpenterHealth}/readyz`);
  }
}

export function componentPort(name: ComponentName, ports: SandboxPorts): number {
  const byName: Record<ComponentName, number> = {
    etcd: ports.etcd,
    "kube-apiserver": ports.apiServer,
    "kube-controller-manager": ports.controllerManager,
    "kube-scheduler": ports.scheduler,
    kwok: ports.kwok,
    moto: ports.moto,
    "eks-emulator": ports.emulator,
    karpenter: ports.karpenterHealth,
  };
  return byName[name];
}
