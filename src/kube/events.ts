/**
 * Kubernetes Events (core/v1, what `kubectl describe` and `kubectl events` show) about the
 * objects the operator manages.
 *
 * Controllers emit events on transitions, but a reconcile that fails the same way every pass
 * would still repeat itself. So an event identical to the previous one recorded for the same
 * object (same type, reason and message) does not create a new Event: the existing one gets
 * count + 1 and a new lastTimestamp, as client-go's event correlator does.
 *
 * Recording is best effort: an API failure is logged and swallowed, because losing an event
 * must never fail a reconcile. A malformed reason or type is a bug and is thrown.
 */
import * as k8s from "@kubernetes/client-node";
import { realClock, type Clock } from "../util/clock.js";
import { classifyKubeError } from "../util/classify.js";
import { describeError, isNotFound, ValidationError } from "../util/errors.js";
import { createSilentLogger, type Logger } from "../util/logger.js";
import { isCamelCaseReason } from "./conditions.js";
import { FIELD_MANAGER } from "./patch.js";

export type EventType = "Normal" | "Warning";

export interface EventSubject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** The Event calls the recorder makes, so tests can pass a fake. Errors may be raw or typed. */
export interface EventsClient {
  create(namespace: string, event: k8s.CoreV1Event): Promise<k8s.CoreV1Event>;
  /** JSON merge patch of an existing Event. */
  patch(namespace: string, name: string, patch: object): Promise<k8s.CoreV1Event>;
}

export function kubeEventsClient(kubeConfig: k8s.KubeConfig): EventsClient {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
  return {
    create: (namespace, body) => api.createNamespacedEvent({ namespace, body }),
    patch: (namespace, name, body) => api.patchNamespacedEvent({ namespace, name, body, fieldManager: FIELD_MANAGER }, mergePatch),
  };
}

export interface EventRecorderOptions {
  client: EventsClient;
  /** source.component and reportingComponent. Default "eks-upgrade-operator". */
  component?: string;
  /** reportingInstance, e.g. the leader identity. */
  instance?: string;
  clock?: Clock;
  logger?: Logger;
  /** Objects whose last event is remembered for deduplication. Default 4096. */
  maxTrackedObjects?: number;
}

interface LastEvent {
  fingerprint: string;
  namespace: string;
  name: string;
  count: number;
}

/** Events carry at most this much message; longer ones are cut. */
export const MAX_EVENT_MESSAGE_LENGTH = 1024;

export class EventRecorder {
  private readonly client: EventsClient;
  private readonly component: string;
  private readonly instance: string | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxTracked: number;
  /** Last event per object, oldest first (a Map keeps insertion order, which gives LRU). */
  private readonly lastEvents = new Map<string, LastEvent>();
  private sequence = 0;

  constructor(options: EventRecorderOptions) {
    this.client = options.client;
    this.component = options.component ?? FIELD_MANAGER;
    this.instance = options.instance;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? createSilentLogger();
    this.maxTracked = options.maxTrackedObjects ?? 4096;
  }

  /** Records an event about `subject`; repeats of the previous event only bump its count. */
  async record(subject: EventSubject, type: EventType, reason: string, message: string): Promise<void> {
    validateEvent(type, reason);
    const objectId = subjectId(subject);
    const fingerprint = `${type}\u0000${reason}\u0000${message}`;
    const last = this.lastEvents.get(objectId);
    try {
      if (last !== undefined && last.fingerprint === fingerprint && (await this.bumpCount(objectId, last))) return;
      await this.createEvent(objectId, subject, type, reason, message, fingerprint);
    } catch (err) {
      this.logger.warn("could not record event", { reason, object: objectId, error: describeError(err) });
    }
  }

  /** Returns false when the earlier Event is gone (expired), so a new one is created. */
  private async bumpCount(objectId: string, last: LastEvent): Promise<boolean> {
    const count = last.count + 1;
    try {
      await this.client.patch(last.namespace, last.name, { count, lastTimestamp: this.clock.date().toISOString() });
    } catch (err) {
      if (isNotFound(classifyKubeError(err))) return false;
      throw err;
    }
    this.remember(objectId, { ...last, count });
    return true;
  }

  private async createEvent(
    objectId: string,
    subject: EventSubject,
    type: EventType,
    reason: string,
    message: string,
    fingerprint: string,
  ): Promise<void> {
    const event = this.buildEvent(subject, type, reason, message);
    const namespace = event.metadata.namespace ?? "default";
    const created = await this.client.create(namespace, event);
    this.remember(objectId, { fingerprint, namespace, name: created.metadata?.name ?? event.metadata.name ?? "", count: 1 });
  }

  private buildEvent(subject: EventSubject, type: EventType, reason: string, message: string): k8s.CoreV1Event {
    const metadata = subject.metadata ?? {};
    const now = this.clock.date();
    // Cluster-scoped objects get their events in "default", as client-go does.
    const namespace = metadata.namespace || "default";
    return {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: this.eventName(metadata.name ?? "unknown", now), namespace },
      involvedObject: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        name: metadata.name,
        namespace: metadata.namespace,
        uid: metadata.uid,
        resourceVersion: metadata.resourceVersion,
      },
      type,
      reason,
      message: truncate(message),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
  }

  /** "<object>.<hex time><hex sequence>": unique even for two events in the same millisecond. */
  private eventName(objectName: string, now: Date): string {
    this.sequence = (this.sequence + 1) % 0x10000;
    return `${objectName}.${now.getTime().toString(16)}${this.sequence.toString(16).padStart(4, "0")}`;
  }

  private remember(objectId: string, last: LastEvent): void {
    this.lastEvents.delete(objectId);
    this.lastEvents.set(objectId, last);
    if (this.lastEvents.size > this.maxTracked) {
      const oldest = this.lastEvents.keys().next().value;
      if (oldest !== undefined) this.lastEvents.delete(oldest);
    }
  }
}

function validateEvent(type: EventType, reason: string): void {
  if (type !== "Normal" && type !== "Warning") throw new ValidationError(`invalid event type "${String(type)}"`);
  if (!isCamelCaseReason(reason)) throw new ValidationError(`event reason "${reason}" is not CamelCase`);
}

function subjectId(subject: EventSubject): string {
  const metadata = subject.metadata ?? {};
  return metadata.uid ?? `${subject.kind ?? ""}/${metadata.namespace ?? ""}/${metadata.name ?? ""}`;
}

function truncate(message: string): string {
  return message.length <= MAX_EVENT_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_EVENT_MESSAGE_LENGTH - 3)}...`;
}
