// What the operator keeps of each object it lists from a cluster: the fields the preflight checks,
// the plan, the green checks and the drain read, and nothing else. A pod as the API server sends
// it is 5-20 KiB (managedFields, container specs, statuses); kept whole, 60,000 of them are
// hundreds of megabytes. Each function builds a new object rather than deleting from the one it is
// given, so that a field nobody listed here cannot slip through unnoticed.
//
// A check that starts reading a new field must add it here; test/unit/kube/slim.test.ts runs the
// checks on slimmed objects and on whole ones and expects the same findings.
import type {
  V1Container,
  V1DaemonSet,
  V1Deployment,
  V1Node,
  V1ObjectMeta,
  V1OwnerReference,
  V1Pod,
  V1PodDisruptionBudget,
  V1PodTemplateSpec,
  V1ReplicaSet,
  V1StatefulSet,
} from "@kubernetes/client-node";
import { DO_NOT_DISRUPT } from "./workload-snapshot.js";
import { isKarpenterController } from "./karpenter-objects.js";

/** Annotations read from pods: the do-not-disrupt opt-out and the mark of a mirror (static) pod. */
const POD_ANNOTATIONS = [DO_NOT_DISRUPT, "kubernetes.io/config.mirror"];
/** The one container variable the preflight reads (aws-node's prefix delegation, on the VPC CNI DaemonSet). */
const CONTAINER_ENV = new Set(["ENABLE_PREFIX_DELEGATION"]);

/**
 * Shares equal parts between the objects of one list. A Deployment's pods carry the same labels,
 * owner, volumes and Ready condition, and their namespace and node names repeat thousands of
 * times; JSON.parse gives each pod its own copy. Kept once, 60,000 slimmed pods hold about half
 * the heap. Shared parts must not be changed in place, and nothing in the operator does: slimmed
 * objects are read, never edited. One Interner per read (a snapshot), dropped with it.
 */
export class Interner {
  private readonly strings = new Map<string, string>();
  private readonly values = new Map<string, unknown>();

  string<T extends string | undefined>(value: T): T {
    if (value === undefined) return value;
    const known = this.strings.get(value);
    if (known !== undefined) return known as T;
    this.strings.set(value, value);
    return value;
  }

  /** The first value seen with the same JSON, for small plain values (labels, owners, conditions). */
  shared<T>(value: T): T {
    if (value === undefined) return value;
    const key = JSON.stringify(value);
    const known = this.values.get(key);
    if (known !== undefined) return known as T;
    this.values.set(key, value);
    return value;
  }
}

/**
 * A copy without the keys whose value is undefined. Built by adding keys, never by deleting them:
 * V8 turns an object that loses a property into a hash table several times its size, and at
 * 60,000 pods that alone was most of the slimmed snapshot's heap.
 */
function defined<T extends object>(object: T): T {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) copy[key] = value;
  return copy as T;
}

function owners(references: V1OwnerReference[] | undefined): V1OwnerReference[] | undefined {
  return references?.map((reference) => defined({ apiVersion: reference.apiVersion, kind: reference.kind, name: reference.name, uid: reference.uid, controller: reference.controller }));
}

/** kubectl apply's copy of the whole object: often the largest annotation, and never read. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** Identity, labels and owners, and the annotations named (all but LAST_APPLIED when none are); no managedFields. */
/**
 * `pod`: the Interner of a pod list; a pod's resourceVersion is dropped (it is never read:
 * evictions name the pod, nothing more) and its repeated parts are shared.
 */
function meta(metadata: V1ObjectMeta | undefined, annotations?: readonly string[], pod?: Interner): V1ObjectMeta | undefined {
  if (!metadata) return undefined;
  let kept: Record<string, string> | undefined;
  if (annotations === undefined) {
    if (metadata.annotations) {
      const { [LAST_APPLIED]: _applied, ...rest } = metadata.annotations;
      kept = rest;
    }
  } else
    for (const key of annotations) {
      const value = metadata.annotations?.[key];
      if (value !== undefined) (kept ??= {})[key] = value;
    }
  const references = owners(metadata.ownerReferences);
  return defined({
    name: metadata.name,
    namespace: pod ? pod.string(metadata.namespace) : metadata.namespace,
    uid: metadata.uid,
    // Dates come as Date objects from the model classes and as strings from a raw page
    // (raw-list.ts); they are Dates here either way. No check reads a pod's creation time.
    creationTimestamp: pod || !metadata.creationTimestamp ? undefined : new Date(metadata.creationTimestamp),
    resourceVersion: pod ? undefined : metadata.resourceVersion,
    labels: pod ? pod.shared(metadata.labels) : metadata.labels,
    annotations: pod ? pod.shared(kept) : kept,
    ownerReferences: pod ? pod.shared(references) : references,
    deletionTimestamp: metadata.deletionTimestamp ? new Date(metadata.deletionTimestamp) : undefined,
    deletionGracePeriodSeconds: metadata.deletionGracePeriodSeconds,
  });
}

/** Containers are not read from pods (the checks read them from the workloads' templates). */
const NO_CONTAINERS: V1Container[] = [];

/** `intern`: shared by the pods of one list, so that their repeated parts are kept once. */
export function slimPod(pod: V1Pod, intern: Interner = new Interner()): V1Pod {
  const spec = pod.spec;
  const emptyDirs = (spec?.volumes ?? []).filter((volume) => volume.emptyDir).map((volume) => ({ name: volume.name, emptyDir: {} }));
  const ready = pod.status?.conditions?.filter((condition) => condition.type === "Ready").map((condition) => ({ type: condition.type, status: condition.status }));
  return defined({
    metadata: meta(pod.metadata, POD_ANNOTATIONS, intern),
    spec: spec
      ? defined({
          containers: NO_CONTAINERS,
          nodeName: intern.string(spec.nodeName),
          priorityClassName: intern.string(spec.priorityClassName),
          terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
          volumes: emptyDirs.length ? intern.shared(emptyDirs) : undefined,
        })
      : undefined,
    status: pod.status ? defined({ phase: intern.string(pod.status.phase), qosClass: intern.string(pod.status.qosClass), conditions: ready?.length ? intern.shared(ready) : undefined }) : undefined,
  });
}

/** Everything but managedFields and the image list (which runs to kilobytes on a real node). */
export function slimNode(node: V1Node): V1Node {
  const status = node.status;
  return defined({
    metadata: meta(node.metadata),
    spec: node.spec ? defined({ providerID: node.spec.providerID, unschedulable: node.spec.unschedulable, taints: node.spec.taints }) : undefined,
    status: status
      ? defined({
          conditions: status.conditions?.map((condition) => defined({ type: condition.type, status: condition.status, reason: condition.reason })),
          nodeInfo: status.nodeInfo,
          allocatable: status.allocatable,
        })
      : undefined,
  });
}

function container(spec: V1Container, keepImage = false): V1Container {
  const env = spec.env?.filter((variable) => CONTAINER_ENV.has(variable.name)).map((variable) => defined({ name: variable.name, value: variable.value }));
  // Only whether a probe exists is read: an empty object keeps that answer without the probe.
  return defined({ name: spec.name, image: keepImage ? spec.image : undefined, readinessProbe: spec.readinessProbe ? {} : undefined, env: env?.length ? env : undefined });
}

function template(spec: V1PodTemplateSpec | undefined, keepImages = false): V1PodTemplateSpec | undefined {
  if (!spec) return undefined;
  return defined({ spec: spec.spec ? { containers: spec.spec.containers.map((entry) => container(entry, keepImages)) } : undefined });
}

export function slimDeployment(deployment: V1Deployment): V1Deployment {
  const { spec, status } = deployment;
  return defined({
    metadata: meta(deployment.metadata, []),
    // Images are kept only for Karpenter's controller, whose tag tells its version.
    spec: spec ? defined({ replicas: spec.replicas, selector: spec.selector, template: template(spec.template, isKarpenterController(deployment))! }) : undefined,
    status: status ? defined({ availableReplicas: status.availableReplicas, readyReplicas: status.readyReplicas }) : undefined,
  });
}

export function slimStatefulSet(statefulSet: V1StatefulSet): V1StatefulSet {
  const { spec, status } = statefulSet;
  return defined({
    metadata: meta(statefulSet.metadata, []),
    spec: spec ? defined({ replicas: spec.replicas, selector: spec.selector, serviceName: spec.serviceName, template: template(spec.template)! }) : undefined,
    status: status ? defined({ replicas: status.replicas, availableReplicas: status.availableReplicas, readyReplicas: status.readyReplicas }) : undefined,
  });
}

export function slimDaemonSet(daemonSet: V1DaemonSet): V1DaemonSet {
  const { spec, status } = daemonSet;
  return defined({
    metadata: meta(daemonSet.metadata, []),
    spec: spec ? defined({ selector: spec.selector, template: template(spec.template)! }) : undefined,
    status: status
      ? defined({
          currentNumberScheduled: status.currentNumberScheduled,
          desiredNumberScheduled: status.desiredNumberScheduled,
          numberMisscheduled: status.numberMisscheduled,
          numberReady: status.numberReady,
          numberAvailable: status.numberAvailable,
        })
      : undefined,
  });
}

/** A ReplicaSet is read only to find the Deployment that owns it. */
export function slimReplicaSet(replicaSet: V1ReplicaSet): V1ReplicaSet {
  return defined({ metadata: meta(replicaSet.metadata, []) });
}

export function slimBudget(pdb: V1PodDisruptionBudget): V1PodDisruptionBudget {
  const { spec, status } = pdb;
  return defined({
    metadata: meta(pdb.metadata, []),
    spec: spec ? defined({ selector: spec.selector, minAvailable: spec.minAvailable, maxUnavailable: spec.maxUnavailable, unhealthyPodEvictionPolicy: spec.unhealthyPodEvictionPolicy }) : undefined,
    status: status
      ? defined({
          currentHealthy: status.currentHealthy,
          desiredHealthy: status.desiredHealthy,
          disruptionsAllowed: status.disruptionsAllowed,
          expectedPods: status.expectedPods,
          observedGeneration: status.observedGeneration,
        })
      : undefined,
  });
}
