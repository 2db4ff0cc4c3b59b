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
    // items are parsed when it reads them.
    let items: T[] | undefined;
    return {
      get items(): T[] {
        items ??= (JSON.parse(text) as ListBody<T>).items ?? [];
        return items;
      },
      metadata: token ? { _continue: token } : {},
    };
  };
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
