// A whole collection read as one streamed "watch-list" instead of pages: a watch that asks the
// API server for every object as it stands (sendInitialEvents), ended by a bookmark that says the
// initial events are over. The API server serves it from its watch cache in one pass.
//
// Why not pages: the watch cache answers each page of a list by collecting every object from the
// continue key to the end of the collection and then keeping the first `limit`
// (k8s.io/apiserver's btreeStore.ListPrefix, 1.34). A 60,000-pod list in pages of 500 made it
// visit about 3.6 million objects, half the collection per page; on the sandbox that was 4.5 to
// 7.5 s of the API server's CPU for one read of the pods, against about a second for the same
// objects streamed (docs/benchmarks.md). Streamed, the cost is linear in the objects, whatever
// the page size clients pick.
//
// What it costs: a watch is not gzipped, so the bytes on the wire are those of plain pages. The
// snapshot is the one place that reads whole collections at once; the drain's pod lists (filtered
// by node) and the roll's node lists stay paged.
//
// API servers that do not stream (the WatchList feature off, a version before 1.27, a Role that
// grants list but not watch) refuse the request or answer with something else than the initial
// events and their bookmark; the collection is then read in pages, as before.
import type * as k8s from "@kubernetes/client-node";
import { StringDecoder } from "node:string_decoder";
import { listAll } from "./paged-list.js";
import { parsed, rawPages, signedGetter } from "./raw-list.js";

/** The annotation the API server puts on the bookmark that follows the last initial event. */
export const INITIAL_EVENTS_END = "k8s.io/initial-events-end";
/**
 * How long the API server may keep the watch open: reading the initial events of a large
 * collection takes seconds; past this the server ends the watch and the read falls back to pages.
 */
const WATCH_TIMEOUT_SECONDS = 600;
/** Statuses with which an API server says it will not stream this collection: read it in pages. */
const NOT_STREAMED = new Set([400, 403, 404, 405, 406, 415, 422]);

interface WatchEvent<T> {
  type?: string;
  object?: T & { metadata?: { annotations?: Record<string, string> } };
}

/** How a collection was read, for the caller's logs and the tests. */
export type ReadMode = "streamed" | "pages";

/**
 * Every object of the collection at `path`, through `keep`, in the order a list returns them
 * (namespace, then name). Streamed when the API server allows it, else in pages (listAll);
 * `onRead` is told which, and why the stream was not used.
 */
export async function readCollection<T extends k8s.KubernetesObject, U>(
  kubeConfig: k8s.KubeConfig,
  path: string,
  keep: (item: T) => U,
  onRead: (mode: ReadMode, reason?: string) => void = () => undefined,
): Promise<U[]> {
  const streamed = await streamCollection(kubeConfig, path, keep);
  if (streamed.items) {
    onRead("streamed");
    return streamed.items;
  }
  onRead("pages", streamed.reason);
  return listAll(rawPages<T>(kubeConfig, path), keep);
}

/**
 * The objects of a watch-list, or why there are none: the API server refused to stream
 * (NOT_STREAMED), or its answer was not the initial events followed by their bookmark. Any other
 * failure (a 5xx, the connection lost, the reconcile cancelled) is thrown.
 */
export async function streamCollection<T extends k8s.KubernetesObject, U>(
  kubeConfig: k8s.KubeConfig,
  path: string,
  keep: (item: T) => U,
): Promise<{ items: U[]; reason?: undefined } | { items?: undefined; reason: string }> {
  let opened;
  try {
    opened = await signedGetter(kubeConfig)(
      path,
      {
        watch: "true",
        sendInitialEvents: "true",
        // With no resourceVersion: objects at least as new as a consistent read would return.
        resourceVersionMatch: "NotOlderThan",
        allowWatchBookmarks: "true",
        timeoutSeconds: String(WATCH_TIMEOUT_SECONDS),
      },
      false,
    );
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "number" && NOT_STREAMED.has(code)) return { reason: `the API server answered ${code} to a watch-list of ${path}` };
    throw error;
  }
  const { body, abort } = opened;
  const kept: { key: string; value: U }[] = [];
  const decoder = new StringDecoder("utf8");
  let text = "";
  let done = false;
  try {
    for await (const chunk of body) {
      text += typeof chunk === "string" ? chunk : decoder.write(chunk);
      let start = 0;
      for (let end = text.indexOf("\n", start); end >= 0; end = text.indexOf("\n", start)) {
        const line = text.slice(start, end);
        start = end + 1;
        if (line.trim() === "") continue;
        const event = parsed<WatchEvent<T>>(line)?.value;
        const object = event?.object;
        if (event?.type === "ADDED" && object) {
          kept.push({ key: keyOf(object), value: keep(object) });
          continue;
        }
        if (event?.type === "BOOKMARK" && object?.metadata?.annotations?.[INITIAL_EVENTS_END] === "true") {
          done = true;
          break;
        }
        return { reason: `the API server's watch of ${path} sent ${describe(event)} before the end of its initial events` };
      }
      if (done) break;
      text = text.slice(start);
    }
  } finally {
    // The watch stays open after its bookmark; what follows is not read.
    abort();
  }
  if (!done) return { reason: `the API server's watch of ${path} ended before the end of its initial events` };
  return { items: inListOrder(kept) };
}

/** Where a list puts the object: namespace, then name (the key it has in etcd). */
function keyOf(object: k8s.KubernetesObject): string {
  const namespace = object.metadata?.namespace;
  const name = object.metadata?.name ?? "";
  return namespace ? `${namespace}/${name}` : name;
}

/** The values in key order; the watch cache sends them in that order already, which costs one pass to see. */
function inListOrder<U>(kept: { key: string; value: U }[]): U[] {
  let sorted = true;
  for (let index = 1; index < kept.length && sorted; index++) sorted = kept[index - 1].key <= kept[index].key;
  if (!sorted) kept.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return kept.map((entry) => entry.value);
}

function describe(event: WatchEvent<unknown> | undefined): string {
  if (event === undefined) return "a line that is not JSON";
  if (event.type === undefined) return "something that is not a watch event";
  if (event.type === "ERROR") {
    const status = event.object as { code?: number; message?: string } | undefined;
    return `an error (${status?.code ?? "?"}: ${status?.message ?? "no message"})`;
  }
  return `a ${event.type} event`;
}
