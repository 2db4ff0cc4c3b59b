/**
 * ResourceSources for the informers the operator runs: any custom resource by
 * group/version/plural, and the core kinds the drain needs (Nodes, Pods, PodDisruptionBudgets).
 *
 * Lists of core kinds come back from the typed client deserialized (timestamps as Date);
 * watch events arrive as plain JSON. The decoders run watch objects through the same
 * deserializer so handlers see one shape whichever path an object came by.
 */
import * as k8s from "@kubernetes/client-node";
// The serializer the typed client uses internally; the package has no export for it.
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import type { ListResult, ObjectWithMetadata, ResourceSource } from "./informer.js";

export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
}

export interface SelectorOptions {
  /** Limit to one namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

function collectionPath(prefix: string, plural: string, namespace: string | undefined): string {
  return namespace ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${prefix}/${plural}`;
}

function asListResult<T>(raw: unknown): ListResult<T> {
  const list = raw as { items?: T[]; metadata?: { resourceVersion?: string } };
  return { items: list.items ?? [], metadata: { resourceVersion: list.metadata?.resourceVersion } };
}

/** A custom resource, listed through CustomObjectsApi and kept as plain JSON. */
export function customResourceSource<T extends ObjectWithMetadata>(
  kubeConfig: k8s.KubeConfig,
  resource: CustomResourceRef,
  selectors: SelectorOptions = {},
): ResourceSource<T> {
  const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const { group, version, plural } = resource;
  const { namespace, labelSelector, fieldSelector } = selectors;
  const list = async (): Promise<ListResult<T>> => {
    const raw: unknown = namespace
      ? await api.listNamespacedCustomObject({ group, version, plural, namespace, labelSelector, fieldSelector })
      : await api.listClusterCustomObject({ group, version, plural, labelSelector, fieldSelector });
    return asListResult<T>(raw);
  };
  return {
    description: `${plural}.${group}`,
    watchPath: collectionPath(`/apis/${group}/${version}`, plural, namespace),
    list,
    labelSelector,
    fieldSelector,
  };
}

function decoderFor<T>(typeName: string): (raw: unknown) => T {
  return (raw) => ObjectSerializer.deserialize(raw, typeName, "") as T;
}

/** ConfigMaps: small, always present, handy as a primary resource in runtime tests. */
export function configMapSource(kubeConfig: k8s.KubeConfig, selectors: SelectorOptions = {}): ResourceSource<k8s.V1ConfigMap> {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const { namespace, labelSelector, fieldSelector } = selectors;
  const list = async (): Promise<ListResult<k8s.V1ConfigMap>> =>
    asListResult<k8s.V1ConfigMap>(
      namespace
        ? await api.listNamespacedConfigMap({ namespace, labelSelector, fieldSelector })
        : await api.listConfigMapForAllNamespaces({ labelSelector, fieldSelector }),
    );
  return {
    description: "configmaps",
    watchPath: collectionPath("/api/v1", "configmaps", namespace),
    list,
    labelSelector,
    fieldSelector,
    decode: decoderFor<k8s.V1ConfigMap>("V1ConfigMap"),
  };
}

/**
 * PodDisruptionBudgets: their status says when a refused eviction may be tried again. `keep`, when
 * given, is applied to every budget, listed or watched, before the informer caches it (the
 * operator keeps only what slim.ts keeps).
 */
export function podDisruptionBudgetSource(
  kubeConfig: k8s.KubeConfig,
  selectors: SelectorOptions = {},
  keep: (budget: k8s.V1PodDisruptionBudget) => k8s.V1PodDisruptionBudget = (budget) => budget,
): ResourceSource<k8s.V1PodDisruptionBudget> {
  const api = kubeConfig.makeApiClient(k8s.PolicyV1Api);
  const { namespace, labelSelector, fieldSelector } = selectors;
  const list = async (): Promise<ListResult<k8s.V1PodDisruptionBudget>> => {
    const listed = asListResult<k8s.V1PodDisruptionBudget>(
      namespace
        ? await api.listNamespacedPodDisruptionBudget({ namespace, labelSelector, fieldSelector })
        : await api.listPodDisruptionBudgetForAllNamespaces({ labelSelector, fieldSelector }),
    );
    return { ...listed, items: listed.items.map(keep) };
  };
  const decode = decoderFor<k8s.V1PodDisruptionBudget>("V1PodDisruptionBudget");
  return {
    description: "poddisruptionbudgets",
    watchPath: collectionPath("/apis/policy/v1", "poddisruptionbudgets", namespace),
    list,
    labelSelector,
    fieldSelector,
    decode: (raw) => keep(decode(raw)),
  };
}
