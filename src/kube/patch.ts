/**
 * Writes to custom resources the way Cluster API's patch helper does: compare the object as
 * read with the object as wanted, and send only the difference, status and metadata as two
 * separate JSON merge patches, each only when something changed.
 *
 * Every patch carries metadata.resourceVersion as read. The API server treats it as a
 * precondition, so a patch built from a stale read fails with 409 instead of overwriting what
 * someone else wrote; that surfaces as a ConflictError and the caller requeues.
 */
import * as k8s from "@kubernetes/client-node";
import { classifyKubeError } from "../util/classify.js";
import { isNotFound } from "../util/errors.js";

export const FIELD_MANAGER = "eks-upgrade-operator";

export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
}

export const CLUSTER_UPGRADE_RESOURCE: CustomResourceRef = {
  group: "eksupgrade.io",
  version: "v1alpha1",
  plural: "clusterupgrades",
};

export interface ObjectMetadata {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  finalizers?: string[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface CustomObject<S = unknown> {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetadata;
  status?: S;
}

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * RFC 7386 merge patch that turns `original` into `modified`: changed fields are set, removed
 * fields become null, objects are diffed recursively and arrays are replaced whole. Returns
 * undefined when there is nothing to change. Values are compared after JSON round-tripping,
 * so Dates and strings of the same instant do not count as changes.
 */
export function createMergePatch(original: unknown, modified: unknown): JsonObject | undefined {
  const before = toJson(original);
  const after = toJson(modified);
  if (!isPlainObject(after)) throw new TypeError("a merge patch needs an object as its target");
  const patch = diffObjects(isPlainObject(before) ? before : {}, after);
  return Object.keys(patch).length === 0 ? undefined : patch;
}

function toJson(value: unknown): JsonValue | undefined {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

function diffObjects(before: Record<string, unknown>, after: Record<string, unknown>): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(before)) {
    if (!(key in after)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    const previous = before[key];
    if (jsonEqual(previous, value)) continue;
    if (isPlainObject(previous) && isPlainObject(value)) {
      const nested = diffObjects(previous, value);
      if (Object.keys(nested).length > 0) patch[key] = nested;
    } else {
      patch[key] = value as JsonValue;
    }
  }
  return patch;
}

/** The CustomObjectsApi calls used here, so tests can pass a recording fake. */
export type CustomObjectsClient = Pick<
  k8s.CustomObjectsApi,
  | "getNamespacedCustomObject"
  | "getClusterCustomObject"
  | "patchNamespacedCustomObject"
  | "patchClusterCustomObject"
  | "patchNamespacedCustomObjectStatus"
  | "patchClusterCustomObjectStatus"
>;

const MERGE_PATCH_OPTIONS = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

function describeObject(resource: CustomResourceRef, metadata: ObjectMetadata | undefined): string {
  const name = metadata?.namespace ? `${metadata.namespace}/${metadata.name}` : (metadata?.name ?? "");
  return `${resource.plural}.${resource.group} ${name}`;
}

function requireName(metadata: ObjectMetadata | undefined): string {
  if (!metadata?.name) throw new TypeError("object has no metadata.name");
  return metadata.name;
}

/** The metadata fields this module writes; everything else in metadata is the server's. */
export interface MetadataChanges {
  finalizers?: string[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/**
 * Reads, and patches status and metadata of, one kind of custom resource. Errors come out typed:
 * NotFoundError, ConflictError (stale resourceVersion: requeue), ValidationError, ….
 */
export class CustomResourceClient<T extends CustomObject> {
  constructor(
    private readonly api: CustomObjectsClient,
    private readonly resource: CustomResourceRef,
    private readonly fieldManager: string = FIELD_MANAGER,
  ) {}

  static fromKubeConfig<T extends CustomObject>(kubeConfig: k8s.KubeConfig, resource: CustomResourceRef): CustomResourceClient<T> {
    return new CustomResourceClient<T>(kubeConfig.makeApiClient(k8s.CustomObjectsApi), resource);
  }

  /** The object, or undefined when it does not exist. */
  async get(namespace: string | undefined, name: string): Promise<T | undefined> {
    const { group, version, plural } = this.resource;
    try {
      const object: unknown = namespace
        ? await this.api.getNamespacedCustomObject({ group, version, plural, namespace, name })
        : await this.api.getClusterCustomObject({ group, version, plural, name });
      return object as T;
    } catch (err) {
      const typed = classifyKubeError(err, `reading ${describeObject(this.resource, { namespace, name })}`);
      if (isNotFound(typed)) return undefined;
      throw typed;
    }
  }

  /**
   * Makes `object.status` equal to `status` through the status subresource. Sends nothing and
   * returns undefined when they are already equal; otherwise returns the updated object.
   */
  async patchStatus<S>(object: T & CustomObject<S>, status: S): Promise<T | undefined> {
    const difference = createMergePatch({ status: object.status ?? {} }, { status });
    if (difference === undefined) return undefined;
    const body = { ...difference, metadata: { resourceVersion: object.metadata?.resourceVersion } };
    return this.send(object, body, "status", `updating status of ${describeObject(this.resource, object.metadata)}`);
  }

  /**
   * Patches finalizers, annotations and labels to the given values (only those passed). Sends
   * nothing and returns undefined when they already match.
   */
  async patchMetadata(object: T, changes: MetadataChanges): Promise<T | undefined> {
    const current = object.metadata ?? {};
    const before: MetadataChanges = {};
    const after: MetadataChanges = {};
    for (const field of ["finalizers", "annotations", "labels"] as const) {
      if (changes[field] === undefined) continue;
      (before as Record<string, unknown>)[field] = current[field] ?? (field === "finalizers" ? [] : {});
      (after as Record<string, unknown>)[field] = changes[field];
    }
    const difference = createMergePatch(before, after);
    if (difference === undefined) return undefined;
    const body = { metadata: { ...difference, resourceVersion: current.resourceVersion } };
    return this.send(object, body, "main", `updating metadata of ${describeObject(this.resource, object.metadata)}`);
  }

  /** Replaces the finalizer list; returns the object as it is afterwards. */
  async setFinalizers(object: T, finalizers: string[]): Promise<T> {
    return (await this.patchMetadata(object, { finalizers })) ?? object;
  }

  private async send(object: T, body: object, target: "main" | "status", context: string): Promise<T> {
    const { group, version, plural } = this.resource;
    const name = requireName(object.metadata);
    const namespace = object.metadata?.namespace;
    const fieldManager = this.fieldManager;
    try {
      const result: unknown = await this.dispatch(target, namespace, { group, version, plural, name, body, fieldManager });
      return result as T;
    } catch (err) {
      throw classifyKubeError(err, context);
    }
  }

  private dispatch(
    target: "main" | "status",
    namespace: string | undefined,
    request: { group: string; version: string; plural: string; name: string; body: object; fieldManager: string },
  ): Promise<unknown> {
    if (namespace) {
      const namespaced = { ...request, namespace };
      return target === "status"
        ? this.api.patchNamespacedCustomObjectStatus(namespaced, MERGE_PATCH_OPTIONS)
        : this.api.patchNamespacedCustomObject(namespaced, MERGE_PATCH_OPTIONS);
    }
    return target === "status"
      ? this.api.patchClusterCustomObjectStatus(request, MERGE_PATCH_OPTIONS)
      : this.api.patchClusterCustomObject(request, MERGE_PATCH_OPTIONS);
  }
}
