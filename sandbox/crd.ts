// Installs this project's CRD into a (sandbox) API server and waits until it is served.
import * as k8s from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const crdPath = join(fileURLToPath(new URL("..", import.meta.url)), "crds", "eksupgrade.io_clusterupgrades.yaml");

/**
 * The CRD as a typed object. It must go through the client's own YAML loader: the client's
 * serializer knows schema fields by their TypeScript names (_enum, xKubernetesValidations, ...)
 * and silently drops `enum` or `x-kubernetes-validations` read as plain JSON.
 */
export function loadCrd(): k8s.V1CustomResourceDefinition {
  return k8s.loadYaml<k8s.V1CustomResourceDefinition>(readFileSync(crdPath, "utf8"));
}

export async function installCrd(kubeConfig: k8s.KubeConfig): Promise<void> {
  const api = kubeConfig.makeApiClient(k8s.ApiextensionsV1Api);
  const crd = loadCrd();
  const name = crd.metadata!.name!;
  try {
    const existing = await api.readCustomResourceDefinition({ name });
    crd.metadata!.resourceVersion = existing.metadata?.resourceVersion;
    await api.replaceCustomResourceDefinition({ name, body: crd });
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
    await api.createCustomResourceDefinition({ body: crd });
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const current = await api.readCustomResourceDefinition({ name });
    if (current.status?.conditions?.some((condition) => condition.type === "Established" && condition.status === "True")) {
      // Discovery can lag the Established condition by a moment; one successful list proves it is served.
      try {
        await kubeConfig.makeApiClient(k8s.CustomObjectsApi).listClusterCustomObject({ group: "eksupgrade.io", version: "v1alpha1", plural: "clusterupgrades" });
        return;
      } catch {
        // not served yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`CRD ${name} did not become established within 30 s`);
}

export async function ensureNamespace(kubeConfig: k8s.KubeConfig, name: string): Promise<void> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
}
