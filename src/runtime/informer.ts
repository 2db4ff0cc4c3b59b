/**
 * A list+watch informer with a local cache keyed by "namespace/name" (or "name" for
 * cluster-scoped objects).
 *
 * Why not @kubernetes/client-node's ListWatch: it stops for good on any watch or list error
 * other than 410 Gone and leaves the restart to every caller, it reports updates without the
 * previous object, and it has no notion of "synced". This loop keeps going until stop():
 *
 *   list (replace the cache, emitting add/update/delete for the differences)
 *   -> watch from the list's resourceVersion
 *   -> on a normal close: watch again from the last resourceVersion seen
 *   -> on 410 Gone (at start or as an ERROR event): list again
 *   -> on any other failure: back off (1 s doubling to 30 s, jittered) and try again
 *   -> a watch still open WATCH_STALL_GRACE_MS after its server-side timeoutSeconds is stalled
 *      (the connection died without a FIN or RST, or a proxy holds it): abort it and go on as
 *      after a failure
 *
 * Watches get no request timeout (they are meant to stay open for minutes); the server-side
 * timeout plus that grace is their bound instead. Lists go through the API clients and get the
 * Kubernetes request timeout (see src/kube/cancellable-kubeconfig.ts).
 *
 * Handlers run synchronously in event order and are never called after stop().
 */
import * as k8s from "@kubernetes/client-node";
import { realClock, type Clock } from "../util/clock.js";
import { describeError, serializeError } from "../util/errors.js";
import { readKubeError } from "../util/classify.js";
import { createSilentLogger, type Logger } from "../util/logger.js";

export interface ObjectWithMetadata {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface ListResult<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

/** Where an informer lists and watches, and how to turn a watched object into a T. */
export interface ResourceSource<T extends ObjectWithMetadata> {
  /** Short name for logs, e.g. "clusterupgrades.eksupgrade.io". */
  description: string;
  /** API path of the collection, e.g. "/api/v1/nodes" or "/apis/g/v/namespaces/ns/plural". */
  watchPath: string;
  list(): Promise<ListResult<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Converts a raw watch object to the shape list() returns. Default: as is. */
  decode?: (raw: unknown) => T;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** Something that can be aborted, like the AbortController returned by k8s.Watch.watch. */
export interface WatchHandle {
  abort(): void;
}

/** The shape of k8s.Watch.watch: `onDone` is called once, with an error or null on a normal close. */
export type WatchFunction = (
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  onEvent: (type: string, object: unknown) => void,
  onDone: (err: unknown) => void,
) => Promise<WatchHandle>;

export interface InformerHandlers<T> {
  add?(object: T): void;
  update?(previous: T, current: T): void;
  delete?(object: T): void;
}

export interface InformerOptions {
  clock?: Clock;
  logger?: Logger;
  /** Called on each list or watch failure (metrics, tests). */
  onError?: (err: unknown) => void;
  /** Server-side watch timeout range; a random value in it spreads reconnects. */
  watchTimeoutSeconds?: { min: number; max: number };
  /** Retry delays after failures; each delay loses up to 20 % at random. */
  backoff?: { initialMs: number; maxMs: number };
  /** Randomness in [0, 1) for jitter; tests may pin it. */
  random?: () => number;
}

const DEFAULT_WATCH_TIMEOUT_SECONDS = { min: 300, max: 600 };
const DEFAULT_FAILURE_BACKOFF = { initialMs: 1_000, maxMs: 30_000 };
/** How long past its timeoutSeconds a watch may stay open before it counts as stalled. */
export const WATCH_STALL_GRACE_MS = 30_000;
/** A watch that closes normally faster than this counts as a failure, so a broken server cannot make us spin. */
const MIN_HEALTHY_WATCH_MS = 1_000;

/** "namespace/name", or "name" for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(object: ObjectWithMetadata): string {
  const name = object.metadata?.name ?? "";
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** Inverse of objectKey(). */
export function splitObjectKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf("/");
  if (slash < 0) return { namespace: undefined, name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

class GoneError extends Error {
  constructor() {
    super("watch resourceVersion expired (410 Gone)");
  }
}

/** Keeps Errors as they are (their statusCode matters); wraps anything else. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(`watch failed: ${JSON.stringify(err)}`, { cause: err });
}

function isGone(err: unknown): boolean {
  return err instanceof GoneError || readKubeError(err).statusCode === 410;
}

export class Informer<T extends ObjectWithMetadata> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly options: InformerOptions;
  private readonly random: () => number;
  private resourceVersion = "";
  private synced = false;
  private stopped = false;
  private running = false;
  private syncWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private readonly stopController = new AbortController();
  private activeWatch: WatchHandle | undefined;

  constructor(
    private readonly source: ResourceSource<T>,
    private readonly watch: WatchFunction,
    options: InformerOptions = {},
  ) {
    this.clock = options.clock ?? realClock;
    this.logger = (options.logger ?? createSilentLogger()).child({ informer: source.description });
    this.options = options;
    this.random = options.random ?? Math.random;
  }

  /** Registers handlers; objects already cached are not replayed (list() them after sync). */
  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  /** Starts the list+watch loop in the background. */
  start(): void {
    if (this.running) return;
    if (this.stopped) throw new Error(`informer ${this.source.description} was stopped; create a new one`);
    this.running = true;
    void this.run();
  }

  /** Stops watching. Handlers are not called any more once this returns. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopController.abort();
    this.activeWatch?.abort();
    this.activeWatch = undefined;
    const waiters = this.syncWaiters.splice(0);
    for (const waiter of waiters) waiter.reject(new Error(`informer ${this.source.description} stopped before its first list`));
  }

  /** True once the first list has filled the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once synced; rejects if the informer is stopped first. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`informer ${this.source.description} is stopped`));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /**
   * Cached objects, optionally of one namespace. They are the cache's own objects, shared with
   * every reader: treat them as read-only and clone before changing one.
   */
  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((object) => object.metadata?.namespace === namespace);
  }

  /** Cached object by namespace and name (namespace undefined for cluster-scoped objects). */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.cache.get(key);
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  /** resourceVersion the next watch resumes from ("" means the next step is a list). */
  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (this.resourceVersion === "") {
          await this.relist();
          // A list that worked proves the server is back; the next failure starts from 1 s.
          failures = 0;
        }
        if (this.stopped) break;
        const healthy = await this.watchOnce();
        failures = healthy ? 0 : failures + 1;
      } catch (err) {
        if (this.stopped) break;
        if (isGone(err)) {
          this.logger.info("watch expired, listing again");
          this.resourceVersion = "";
          continue;
        }
        failures++;
        this.reportFailure(err, failures);
      }
      if (failures > 0 && !this.stopped) await this.clock.sleep(this.failureDelay(failures), this.stopController.signal);
    }
    this.running = false;
  }

  private reportFailure(err: unknown, failures: number): void {
    this.options.onError?.(err);
    this.logger.warn("list/watch failed, retrying", { failures, reason: describeError(err), error: serializeError(err) });
  }

  private failureDelay(failures: number): number {
    const { initialMs, maxMs } = this.options.backoff ?? DEFAULT_FAILURE_BACKOFF;
    const nominal = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(nominal * (1 - 0.2 * this.random()));
  }

  private async relist(): Promise<void> {
    const result = await this.source.list();
    if (this.stopped) return;
    this.replace(result.items);
    this.resourceVersion = result.metadata?.resourceVersion ?? "";
    if (!this.synced) this.markSynced();
  }

  private markSynced(): void {
    this.synced = true;
    for (const waiter of this.syncWaiters.splice(0)) waiter.resolve();
  }

  /** Makes the cache equal to `items`, emitting the differences as events. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(objectKey(item));
      this.upsert(item);
    }
    for (const [key, cached] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit((handler) => handler.delete?.(cached));
    }
  }

  private upsert(object: T): void {
    const key = objectKey(object);
    const previous = this.cache.get(key);
    this.cache.set(key, object);
    if (previous === undefined) {
      this.emit((handler) => handler.add?.(object));
    } else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) {
      this.emit((handler) => handler.update?.(previous, object));
    }
  }

  private remove(object: T): void {
    const key = objectKey(object);
    const cached = this.cache.get(key);
    if (!this.cache.delete(key)) return;
    this.emit((handler) => handler.delete?.(cached ?? object));
  }

  private emit(call: (handler: InformerHandlers<T>) => void): void {
    if (this.stopped) return;
    for (const handler of this.handlers) {
      try {
        call(handler);
      } catch (err) {
        // A throwing handler must not break the watch loop or starve other handlers.
        this.logger.error("informer handler threw", { error: serializeError(err) });
      }
    }
  }

  /** Runs one watch until it ends; resolves true if it was healthy, rejects on failure. */
  private watchOnce(): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const startedAt = this.clock.now();
      const query = this.watchQuery();
      let finished = false;
      const stallTimer = this.clock.setTimer(() => {
        const handle = this.activeWatch;
        finish(new Error(`watch still open ${WATCH_STALL_GRACE_MS / 1000} s after its ${String(query.timeoutSeconds)} s timeout: the connection is stalled; restarting it`));
        handle?.abort();
      }, Number(query.timeoutSeconds) * 1000 + WATCH_STALL_GRACE_MS);
      const finish = (err: unknown): void => {
        if (finished) return;
        finished = true;
        stallTimer.cancel();
        this.activeWatch = undefined;
        if (err !== undefined && err !== null && !this.stopped) reject(asError(err));
        else resolve(this.clock.now() - startedAt >= MIN_HEALTHY_WATCH_MS);
      };
      const onEvent = (type: string, raw: unknown): void => {
        if (finished || this.stopped) return;
        const error = this.handleEvent(type as WatchEventType, raw);
        if (error === undefined) return;
        // The server normally closes the stream after an ERROR event; closing it here makes
        // sure a half-open stream cannot leave the cache silently stale.
        const handle = this.activeWatch;
        finish(error);
        handle?.abort();
      };
      this.watch(this.source.watchPath, query, onEvent, finish).then(
        (handle) => {
          if (finished || this.stopped) handle.abort();
          else this.activeWatch = handle;
        },
        (err: unknown) => finish(err),
      );
    });
  }

  private watchQuery(): Record<string, string | number | boolean | undefined> {
    const { min, max } = this.options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS;
    return {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.round(min + this.random() * (max - min)),
      labelSelector: this.source.labelSelector,
      fieldSelector: this.source.fieldSelector,
    };
  }

  /** Applies one watch event; returns an error to end the stream with, if the event was one. */
  private handleEvent(type: WatchEventType, raw: unknown): unknown {
    if (type === "ERROR") {
      return isGone(raw) ? new GoneError() : new Error(`watch error event: ${readKubeError(raw).message}`);
    }
    const object = this.source.decode ? this.source.decode(raw) : (raw as T);
    const version = object.metadata?.resourceVersion;
    if (type === "ADDED" || type === "MODIFIED") this.upsert(object);
    else if (type === "DELETED") this.remove(object);
    if (version) this.resourceVersion = version;
    return undefined;
  }
}

/** A WatchFunction backed by @kubernetes/client-node's Watch. */
export function kubeWatchFunction(kubeConfig: k8s.KubeConfig): WatchFunction {
  const watcher = new k8s.Watch(kubeConfig);
  return (path, query, onEvent, onDone) => watcher.watch(path, query, onEvent, onDone);
}
