// List pages read as plain JSON. The generated API clients of @kubernetes/client-node turn every
// item of a page into instances of their model classes, walking each field of each object; at
// 60,000 pods that walk is most of the preflight's CPU and of its short-lived memory, and the
// result is thrown away by slim.ts a moment later. Here a page is parsed with JSON.parse and
// handed to the slimming function as it is, item by item as the body arrives.
//
// The rest is the library's: the request is built by its ServerConfiguration, signed by the
// KubeConfig's applySecurityAuthentication (so CancellableKubeConfig's timeout, shared agent and
// reconcile signal apply), and sent with node-fetch, the HTTP client its fetch layer uses; a
// refusal becomes its ApiException, which classifyKubeError and listAll's 410 restart already read.
//
// What differs from the model classes: date-time fields stay strings. slim.ts keeps only one,
// metadata.deletionTimestamp, and turns it back into a Date.
import { StringDecoder } from "node:string_decoder";
import fetch from "node-fetch";
import * as k8s from "@kubernetes/client-node";
import type { Page, PageRequest } from "./paged-list.js";
import { decodePod, PROTOBUF_CONTENT_TYPE, protobufStatusAsJson, readProtobufListBody } from "./protobuf-list.js";

/** The list paths the operator pages through, each answered with `{ items, metadata.continue }`. */
export const LIST_PATHS = {
  nodes: "/api/v1/nodes",
  pods: "/api/v1/pods",
  budgets: "/apis/policy/v1/poddisruptionbudgets",
  deployments: "/apis/apps/v1/deployments",
  statefulSets: "/apis/apps/v1/statefulsets",
  replicaSets: "/apis/apps/v1/replicasets",
  daemonSets: "/apis/apps/v1/daemonsets",
} as const;

interface ListBody<T> {
  items?: T[] | null;
  metadata?: { continue?: string };
}

/**
 * A page reader for listAll over `path` of the KubeConfig's current cluster, with optional extra
 * query parameters (a field selector). Items are the API server's JSON, typed as `T`.
 *
 * The request is sent with node-fetch, as client-node's IsomorphicFetchHttpLibrary sends it, but
 * its body is read as a stream (see readListBody) rather than through that library's text().
 */
export function rawPages<T>(kubeConfig: k8s.KubeConfig, path: string, query: Record<string, string> = {}, decodeProtobuf?: (item: Uint8Array) => T): (request: PageRequest) => Promise<Page<T>> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const server = new k8s.ServerConfiguration<Record<string, string>>(cluster.server, {});
  const compress = listCompression() === "gzip";
  const decode = listEncoding() === "protobuf" ? decodeProtobuf : undefined;
  return async (request) => {
    const context = server.makeRequestContext(path, k8s.HttpMethod.GET);
    for (const [name, value] of Object.entries(query)) context.setQueryParam(name, value);
    context.setQueryParam("limit", String(request.limit));
    if (request._continue !== undefined) context.setQueryParam("continue", request._continue);
    // Protobuf first when this kind has a decoder, JSON when the server cannot encode it so.
    context.setHeaderParam("Accept", decode ? `${PROTOBUF_CONTENT_TYPE}, application/json` : "application/json");
    await kubeConfig.applySecurityAuthentication(context);
    // A page left unread (listAll failed before reaching it) is aborted, which closes its
    // connection instead of leaving the response half-read on it.
    const discard = new AbortController();
    const signal = context.getSignal();
    const response = await fetch(context.getUrl(), {
      method: "GET",
      headers: context.getHeaders(),
      signal: signal === undefined ? discard.signal : AbortSignal.any([signal, discard.signal]),
      agent: context.getAgent(),
      // Whether node-fetch asks for gzip (Accept-Encoding) and inflates what comes gzipped.
      compress,
    });
    const protobufBody = response.headers.get("content-type")?.startsWith(PROTOBUF_CONTENT_TYPE) ?? false;
    if (response.status < 200 || response.status > 299) {
      // A refusal comes in the encoding asked for: a protobuf Status is turned into its JSON.
      const bytes = await response.buffer();
      const text = (protobufBody ? protobufStatusAsJson(bytes) : undefined) ?? bytes.toString("utf8");
      // The body is the API server's Status; readKubeError reads its reason and message from it.
      throw new k8s.ApiException<string>(response.status, `HTTP-Code: ${response.status} listing ${path}`, text, Object.fromEntries(response.headers.entries()));
    }
    if (protobufBody && decode) {
      const page = await readProtobufListBody(response.body, decode, () => discard.abort());
      return { items: page.items, metadata: page.continue ? { _continue: page.continue } : {}, discard: () => discard.abort() };
    }
    const page = await readListBody<T>(response.body, () => discard.abort());
    return { ...page, discard: () => discard.abort() };
  };
}

/** Pages of pods, as protobuf unless KUBE_LIST_ENCODING says json (protobuf-list.ts says why). */
export function podPages(kubeConfig: k8s.KubeConfig, query: Record<string, string> = {}): (request: PageRequest) => Promise<Page<k8s.V1Pod>> {
  return rawPages<k8s.V1Pod>(kubeConfig, LIST_PATHS.pods, query, decodePod);
}

/**
 * KUBE_LIST_ENCODING: whether pods are listed as the API server's protobuf ("protobuf", the
 * default, the encoding Kubernetes' own components ask for) or as JSON ("json"). Protobuf costs
 * the API server and this process less CPU per pod (docs/benchmarks.md); JSON is there for an API
 * server behind a proxy that does not pass protobuf through. Other kinds are always read as JSON.
 * Anything else stops startup with a message.
 */
export function listEncoding(env: Record<string, string | undefined> = process.env): "protobuf" | "json" {
  const raw = env.KUBE_LIST_ENCODING?.trim();
  if (raw === undefined || raw === "" || raw === "protobuf") return "protobuf";
  if (raw === "json") return "json";
  throw new Error(`KUBE_LIST_ENCODING must be protobuf or json, got "${raw}"; unset it to use protobuf`);
}

/**
 * KUBE_LIST_COMPRESSION: whether list pages are asked for gzipped ("gzip", the default, as kubectl
 * and client-go ask) or plain ("none"). kube-apiserver gzips any list response over 128 KiB that a
 * client accepts gzipped: a tenth of the bytes on the wire, for CPU on both sides (gzip on the API
 * server, inflating here). Over a fast network to the API server, plain pages cost less time and
 * CPU; this is the setting kubeconfig's `disable-compression` and kubectl's `--disable-compression`
 * give client-go programs. Anything else stops startup with a message.
 */
export function listCompression(env: Record<string, string | undefined> = process.env): "gzip" | "none" {
  const raw = env.KUBE_LIST_COMPRESSION?.trim();
  if (raw === undefined || raw === "" || raw === "gzip") return "gzip";
  if (raw === "none") return "none";
  throw new Error(`KUBE_LIST_COMPRESSION must be gzip or none, got "${raw}"; unset it to use gzip`);
}

/**
 * A list body read as it arrives, chunk by chunk. `abandon` is called when reading stops before
 * the end (the caller stopped, or the body is malformed), to close what the body comes from.
 *
 * The API server writes a list's metadata, and so its continue token, before its items
 * (`{"kind":..,"apiVersion":..,"metadata":{..,"continue":".."},"items":[..]}`). The page is
 * returned as soon as that head has arrived: listAll asks for the next page first, and then reads
 * this one's items, each parsed as its text completes and without its managedFields.
 *
 * Why: a page of 500 pods is several megabytes of text. Read whole, every page was a large
 * buffer and a large string in V8's old generation, 120 of each for 60,000 pods, and the process
 * held tens of megabytes of them between collections. Read this way, what is held is the chunk
 * that arrived and the item being parsed, and each item is garbage as soon as it is slimmed.
 * managedFields, which slim.ts never keeps, is a third of a pod's JSON and most of its objects
 * (an empty object per field); it is cut from the text before parsing.
 *
 * Items are found by the text that separates two of them as the API server writes a list:
 * `},{"metadata":{`. Outside a JSON string that text can stand only between two objects of an
 * array whose objects start with metadata. When it stands inside an item (a StatefulSet's
 * volumeClaimTemplates), the text cut there leaves a brace unclosed and does not parse, so the
 * cut is not made and the item goes on to the next separator. A body of another shape (indented,
 * items before metadata, items null) is read whole and parsed at once.
 */
export async function readListBody<T>(body: AsyncIterable<Buffer | string>, abandon: () => void = () => undefined): Promise<Page<T>> {
  const arriving = new ArrivingText(body[Symbol.asyncIterator](), abandon);
  try {
    let items = -1;
    while (items < 0 && !arriving.ended) {
      // Only the new text can hold the key's start, with a few characters before it.
      const searched = Math.max(0, arriving.text.length - ITEMS_KEY.length + 1);
      await arriving.more();
      items = arriving.text.indexOf(ITEMS_KEY, searched);
    }
    const token = items < 0 ? undefined : leadingContinue(arriving.text.slice(0, items + ITEMS_KEY.length));
    if (token === undefined) {
      while (!arriving.ended) await arriving.more();
      const list = JSON.parse(arriving.text) as ListBody<T>;
      const found = list.metadata?.continue;
      return { items: list.items ?? [], metadata: found ? { _continue: found } : {} };
    }
    arriving.text = arriving.text.slice(items + ITEMS_KEY.length);
    return { items: streamedItems<T>(arriving), metadata: token ? { _continue: token } : {} };
  } catch (error) {
    await arriving.close();
    throw error;
  }
}

/** A body's text as it arrives: what has come and is not used yet, and whether the body has ended. */
class ArrivingText {
  text = "";
  ended = false;
  private readonly decoder = new StringDecoder("utf8");

  constructor(
    private readonly chunks: AsyncIterator<Buffer | string>,
    private readonly abandon: () => void,
  ) {}

  /** Adds the next chunk to the text, or marks the end. */
  async more(): Promise<void> {
    const next = await this.chunks.next();
    if (next.done) {
      this.text += this.decoder.end();
      this.ended = true;
    } else this.text += this.decoder.write(next.value);
  }

  /**
   * Stops before the end (the caller threw, or the body is malformed): the rest is not read, and
   * its source is closed rather than left half-read on a kept-alive connection.
   */
  async close(): Promise<void> {
    if (this.ended) return;
    this.abandon();
    await this.chunks.return?.();
  }
}

/** The items of a list's `"items":[` array; `arriving.text` starts after that key. */
async function* streamedItems<T>(arriving: ArrivingText): AsyncGenerator<T> {
  // The text starts at the first item not yet yielded.
  let searchFrom = 0;
  try {
    for (;;) {
      const at = arriving.text.indexOf(BETWEEN_ITEMS, searchFrom);
      if (at >= 0) {
        const item = parsed<T>(arriving.text.slice(0, at + 1));
        if (item === undefined) {
          // The separator stands inside this item: it goes on past it.
          searchFrom = at + 1;
          continue;
        }
        arriving.text = arriving.text.slice(at + 2);
        searchFrom = 0;
        yield item.value;
        continue;
      }
      if (arriving.ended) break;
      searchFrom = Math.max(0, arriving.text.length - BETWEEN_ITEMS.length + 1);
      await arriving.more();
    }
  } finally {
    await arriving.close();
  }
  // What is left is the last item, then the array's and the body's closing `]}`. Parsed as an
  // array, it may also be none (an empty list) or several items the separator did not split.
  const end = arriving.text.trimEnd();
  if (!end.endsWith("]}")) throw new SyntaxError(`a list body ends with ${JSON.stringify(end.slice(-40))}, not with its items`);
  const last = parsed<T[]>(`[${end.slice(0, -2)}]`);
  if (last === undefined) throw new SyntaxError(`the last items of a list body do not parse: ${JSON.stringify(end.slice(0, 200))}`);
  yield* last.value;
}

/**
 * The JSON value in `piece`, without its managedFields; undefined when the piece is not one whole
 * JSON value. The quick cut is tried first (see withoutManagedFields), then the exact one.
 */
function parsed<T>(piece: string): { value: T } | undefined {
  try {
    return { value: JSON.parse(withoutManagedFields(piece, false)) as T };
  } catch {
    try {
      return { value: JSON.parse(withoutManagedFields(piece)) as T };
    } catch {
      return undefined;
    }
  }
}

const BETWEEN_ITEMS = '},{"metadata":{';
const ITEMS_KEY = '"items":[';

const MANAGED_FIELDS_KEY = '"managedFields":[';
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The JSON text with the value of every "managedFields" key replaced by null. Outside a string the
 * key's quotes cannot be escaped, so every match is a key. Text whose array does not close is
 * returned as it is.
 *
 * Exact (the default), the value's end is found by counting brackets outside strings: a scan of
 * every string of it, and managedFields is mostly strings (a key per field). The quick cut, when
 * no `[` comes before the array's first `]`, ends the value at that `]`: managedFields holds no
 * array of its own (fieldsV1 is objects of objects), so that `]` closes it unless it stands inside
 * a string. In that one case the cut text has an odd number of unescaped quotes, the cut ending
 * inside a string it started outside of, and cannot parse: a caller that parses the result knows
 * the quick cut was right when the parse succeeds.
 */
export function withoutManagedFields(text: string, exact = true): string {
  let at = text.indexOf(MANAGED_FIELDS_KEY);
  if (at < 0) return text;
  const kept: string[] = [];
  let from = 0;
  while (at >= 0) {
    const open = at + MANAGED_FIELDS_KEY.length - 1;
    let index = exact ? -1 : text.indexOf("]", open);
    if (index < 0 || text.lastIndexOf("[", index) !== open) {
      let depth = 0;
      for (index = open; index < text.length; index++) {
        const code = text.charCodeAt(index);
        if (code === QUOTE) index = closingQuote(text, index);
        else if (code === OPEN_BRACKET || code === OPEN_BRACE) depth++;
        else if ((code === CLOSE_BRACKET || code === CLOSE_BRACE) && --depth === 0) break;
      }
    }
    if (index >= text.length) return text;
    kept.push(text.slice(from, open), "null");
    from = index + 1;
    at = text.indexOf(MANAGED_FIELDS_KEY, from);
  }
  kept.push(text.slice(from));
  return kept.join("");
}

/**
 * The continue token of a list body whose metadata comes before its items, as the API server
 * writes every list (`{"kind":..,"apiVersion":..,"metadata":{..,"continue":".."},"items":[..]}`);
 * "" when that metadata has none. Undefined when the body does not start that way: the caller then
 * parses the whole body to find it.
 */
export function leadingContinue(text: string): string | undefined {
  const items = text.indexOf('"items":');
  if (items < 0) return undefined;
  const head = text.slice(0, items);
  const metadata = head.indexOf('"metadata":{');
  if (metadata < 0) return undefined;
  const found = /"continue":"((?:[^"\\]|\\.)*)"/.exec(head.slice(metadata));
  return found ? (JSON.parse(`"${found[1]}"`) as string) : "";
}

/** Where the string opened at `open` ends (text.length when it never does). */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at >= 0) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    // An odd number of backslashes escapes the quote; an even number are escaped themselves.
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return text.length;
}
