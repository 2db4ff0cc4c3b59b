// List pages read as plain JSON. The generated API clients of @kubernetes/client-node turn every
// item of a page into instances of their model classes, walking each field of each object; at
// 60,000 pods that walk is most of the preflight's CPU and of its short-lived memory, and the
// result is thrown away by slim.ts a moment later. Here a page is parsed with JSON.parse and
// handed to the slimming function as it is.
//
// Everything else stays the library's: the request is built by its ServerConfiguration, signed by
// the KubeConfig's applySecurityAuthentication (so CancellableKubeConfig's timeout and reconcile
// signal apply), and sent by its fetch layer; a refusal becomes its ApiException, which
// classifyKubeError and listAll's 410 restart already read.
//
// What differs from the model classes: date-time fields stay strings. slim.ts keeps only one,
// metadata.deletionTimestamp, and turns it back into a Date.
import * as k8s from "@kubernetes/client-node";
import type { Page, PageRequest } from "./paged-list.js";

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
 */
export function rawPages<T>(kubeConfig: k8s.KubeConfig, path: string, query: Record<string, string> = {}): (request: PageRequest) => Promise<Page<T>> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const server = new k8s.ServerConfiguration<Record<string, string>>(cluster.server, {});
  const http = new k8s.IsomorphicFetchHttpLibrary();
  return async (request) => {
    const context = server.makeRequestContext(path, k8s.HttpMethod.GET);
    for (const [name, value] of Object.entries(query)) context.setQueryParam(name, value);
    context.setQueryParam("limit", String(request.limit));
    if (request._continue !== undefined) context.setQueryParam("continue", request._continue);
    context.setHeaderParam("Accept", "application/json");
    await kubeConfig.applySecurityAuthentication(context);
    const response = await http.send(context).toPromise();
    const text = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      // The body is the API server's Status; readKubeError reads its reason and message from it.
      throw new k8s.ApiException<string>(response.httpStatusCode, `HTTP-Code: ${response.httpStatusCode} listing ${path}`, text, response.headers);
    }
    const token = leadingContinue(text);
    if (token === undefined) {
      const list = JSON.parse(text) as ListBody<T>;
      const found = list.metadata?.continue;
      return { items: list.items ?? [], metadata: found ? { _continue: found } : {} };
    }
    // The token is known without parsing the page: listAll asks for the next page first, and the
    // items are parsed one by one as it reads them.
    return { items: eachItem<T>(text), metadata: token ? { _continue: token } : {} };
  };
}

/**
 * The items of a list body whose metadata leads (see leadingContinue), each parsed only when the
 * caller gets to it, without its managedFields.
 *
 * Parsing a page of 500 pods at once keeps all 500 whole pods alive until the last is slimmed:
 * a few megabytes that outlive V8's young generation and are copied into the old one, which is
 * then collected over and over with the snapshot in it. Parsed one at a time, a pod is garbage
 * as soon as it is slimmed. managedFields, which slim.ts never keeps, is a third of a pod's JSON
 * and most of its objects (an empty object per field), and is cut from the text before parsing.
 *
 * Items are found by the text that separates two of them as the API server writes a typed list:
 * `},{"metadata":{`. Outside a JSON string that text can stand only between two objects of an
 * array whose objects start with metadata; should it stand somewhere inside an item (an array of
 * such objects in a field), the piece cut there has an unclosed brace and does not parse, and the
 * rest of the page is then parsed whole.
 */
export function* eachItem<T>(text: string): Generator<T> {
  const body = itemsText(text);
  if (body === undefined) {
    yield* (JSON.parse(text) as ListBody<T>).items ?? [];
    return;
  }
  const stripped = withoutManagedFields(body);
  let index = 0;
  let from = 0;
  while (from < stripped.length) {
    const at = stripped.indexOf(BETWEEN_ITEMS, from);
    const end = at < 0 ? stripped.length : at + 1;
    let item: T;
    try {
      item = JSON.parse(stripped.slice(from, end)) as T;
    } catch {
      yield* ((JSON.parse(text) as ListBody<T>).items ?? []).slice(index);
      return;
    }
    yield item;
    index++;
    from = end + 1;
  }
}

const BETWEEN_ITEMS = '},{"metadata":{';
const ITEMS_KEY = '"items":[';

/** The text inside `"items":[...]` when it is the body's last field; undefined otherwise. */
function itemsText(text: string): string | undefined {
  const start = text.indexOf(ITEMS_KEY);
  let end = text.length;
  while (end > 0 && /\s/.test(text[end - 1])) end--;
  if (start < 0 || !text.startsWith("]}", end - 2)) return undefined;
  return text.slice(start + ITEMS_KEY.length, end - 2);
}

const MANAGED_FIELDS_KEY = '"managedFields":[';
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The JSON text with the value of every "managedFields" key replaced by null. Outside a string the
 * key's quotes cannot be escaped, so every match is a key; the value's end is found by counting
 * brackets outside strings. Text whose array does not close is returned as it is.
 */
export function withoutManagedFields(text: string): string {
  let at = text.indexOf(MANAGED_FIELDS_KEY);
  if (at < 0) return text;
  const kept: string[] = [];
  let from = 0;
  while (at >= 0) {
    const open = at + MANAGED_FIELDS_KEY.length - 1;
    let depth = 0;
    let index = open;
    for (; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code === QUOTE) index = closingQuote(text, index);
      else if (code === OPEN_BRACKET || code === OPEN_BRACE) depth++;
      else if ((code === CLOSE_BRACKET || code === CLOSE_BRACE) && --depth === 0) break;
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
