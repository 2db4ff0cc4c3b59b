// The plugin's view of the API server: the user's kubeconfig, as kubectl reads it, and the few
// calls on ClusterUpgrades the commands make. The plugin runs as the user, so it needs only the
// ClusterUpgrade verbs of config/rbac's editor role (get, create, patch, delete); status and why
// work with the viewer role.
import * as k8s from "@kubernetes/client-node";
import type { ClusterUpgrade, ClusterUpgradeSpec } from "../../api/v1alpha1/types.js";
import { API_VERSION, KIND } from "../../api/v1alpha1/types.js";
import { CLUSTER_UPGRADE_RESOURCE } from "../../kube/patch.js";
import { readKubeError } from "../../util/classify.js";

export interface ConnectionOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** What the commands need from the API server; a fake stands in for it in unit tests. */
export interface ClusterUpgrades {
  readonly namespace: string;
  get(name: string): Promise<ClusterUpgrade>;
  create(metadata: { name?: string; generateName?: string; labels?: Record<string, string>; annotations?: Record<string, string> }, spec: ClusterUpgradeSpec): Promise<ClusterUpgrade>;
  mergePatch(name: string, patch: Record<string, unknown>): Promise<ClusterUpgrade>;
  delete(name: string): Promise<void>;
}

/** An API server refusal, printed the way kubectl prints one: Error from server (NotFound): ... */
export class ServerError extends Error {
  override readonly name = "ServerError";
  constructor(
    readonly statusCode: number | undefined,
    readonly reason: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function serverError(error: unknown, what: string): ServerError {
  const kube = readKubeError(error);
  if (kube.statusCode === undefined) return new ServerError(undefined, undefined, `${what}: ${kube.message}`, { cause: error });
  return new ServerError(kube.statusCode, kube.reason, kube.message, { cause: error });
}

export function loadKubeConfig(options: ConnectionOptions): k8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  // loadFromDefault reads $KUBECONFIG (every file of the list, merged, as kubectl does), then ~/.kube/config.
  try {
    if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new Error(`reading the kubeconfig ${options.kubeconfig ?? process.env.KUBECONFIG ?? "~/.kube/config"}: ${(error as Error).message}`, { cause: error });
  }
  if (options.context) {
    if (!kubeConfig.getContextObject(options.context)) throw new Error(`context "${options.context}" is not in the kubeconfig (kubectl config get-contexts lists them)`);
    kubeConfig.setCurrentContext(options.context);
  }
  if (!kubeConfig.getCurrentCluster()) throw new Error("no cluster in the kubeconfig: pass --kubeconfig or --context, or set KUBECONFIG");
  return kubeConfig;
}

/** -n first, then the current context's namespace, then "default", as kubectl decides. */
export function resolveNamespace(kubeConfig: k8s.KubeConfig, explicit: string | undefined): string {
  if (explicit) return explicit;
  return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace || "default";
}

export function connect(options: ConnectionOptions): ClusterUpgrades {
  const kubeConfig = loadKubeConfig(options);
  const namespace = resolveNamespace(kubeConfig, options.namespace);
  const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const ref = { ...CLUSTER_UPGRADE_RESOURCE, namespace };
  const call = async <T>(what: string, request: () => Promise<unknown>): Promise<T> => {
    try {
      return (await request()) as T;
    } catch (error) {
      throw serverError(error, what);
    }
  };
  return {
    namespace,
    get: (name) => call(`reading clusterupgrade ${name}`, () => api.getNamespacedCustomObject({ ...ref, name })),
    create: (metadata, spec) => call(`creating a clusterupgrade`, () => api.createNamespacedCustomObject({ ...ref, body: { apiVersion: API_VERSION, kind: KIND, metadata, spec } })),
    mergePatch: (name, patch) => call(`patching clusterupgrade ${name}`, () => api.patchNamespacedCustomObject({ ...ref, name, body: patch }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch))),
    delete: async (name) => {
      await call(`deleting clusterupgrade ${name}`, () => api.deleteNamespacedCustomObject({ ...ref, name }));
    },
  };
}
