/**
 * HTTP front of the emulator: the EKS REST paths @aws-sdk/client-eks calls (restJson1: JSON
 * bodies, errors named by the x-amzn-ErrorType header), plus a few /sandbox/ paths for the test
 * harness: reset, call counts, per-cluster settings and insights, an immediate node mirror pass,
 * and the kube-apiserver's token webhook.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { EksEmulator } from "./emulator.js";
import { EksError, invalidParameter } from "./errors.js";
import type { Logger } from "./log.js";
import type { CallRecord } from "./state.js";

type Json = Record<string, unknown>;

interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Json;
}

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  operation: string;
  handle(context: RouteContext): Promise<Json> | Json;
}

export interface AdminHooks {
  /** Extra work on POST /sandbox/reset, after the emulator forgot its state. */
  onReset?(): Promise<void> | void;
  /** One node mirror pass on demand (POST /sandbox/node-mirror/sync). */
  syncNodes?(): Promise<Json>;
  /** The kube-apiserver's token webhook (POST /sandbox/authenticate): a TokenReview in and out. */
  authenticate?(review: Json): Promise<Json>;
  /** The token reviews answered since the last reset (GET /sandbox/token-reviews). */
  tokenReviews?(): Json[];
}

/** Request fields worth keeping in the call log: they tell which hop or version a call was for. */
const RECORDED_FIELDS = [
  "version",
  "releaseVersion",
  "force",
  "clientRequestToken",
  "addonVersion",
  "name",
  "nodegroupName",
  "addonName",
  // What tests of cloned clusters and scaled node groups check.
  "scalingConfig",
  "roleArn",
  "resourcesVpcConfig",
  "subnets",
  "nodeRole",
  "instanceTypes",
  "labels",
  "taints",
  "tags",
];

function route(method: string, path: string, operation: string, handle: Route["handle"]): Route {
  const keys: string[] = [];
  const pattern = new RegExp(
    "^" +
      path.replace(/\{(\w+)\}/g, (_match, key: string) => {
        keys.push(key);
        return "([^/]+)";
      }) +
      "/?$",
  );
  return { method, pattern, keys, operation, handle };
}

export function buildRoutes(emulator: EksEmulator, hooks: AdminHooks = {}): Route[] {
  return [
    route("POST", "/clusters", "CreateCluster", ({ body }) => emulator.clusters.createCluster(body)),
    route("GET", "/clusters", "ListClusters", ({ query }) => emulator.clusters.listClusters(query)),
    route("GET", "/clusters/{name}", "DescribeCluster", ({ params }) => emulator.clusters.describeCluster(params.name)),
    route("DELETE", "/clusters/{name}", "DeleteCluster", ({ params }) => emulator.clusters.deleteCluster(params.name)),
    route("POST", "/clusters/{name}/updates", "UpdateClusterVersion", ({ params, body }) =>
      emulator.updates.updateClusterVersion(params.name, body),
    ),
    route("GET", "/clusters/{name}/updates", "ListUpdates", ({ params, query }) => emulator.updates.listUpdates(params.name, query)),
    route("GET", "/clusters/{name}/updates/{updateId}", "DescribeUpdate", ({ params, query }) =>
      emulator.updates.describeUpdate(params.name, params.updateId, query),
    ),
    route("POST", "/clusters/{name}/node-groups", "CreateNodegroup", ({ params, body }) =>
      emulator.nodegroups.createNodegroup(params.name, body),
    ),
    route("GET", "/clusters/{name}/node-groups", "ListNodegroups", ({ params, query }) =>
      emulator.nodegroups.listNodegroups(params.name, query),
    ),
    route("GET", "/clusters/{name}/node-groups/{nodegroup}", "DescribeNodegroup", ({ params }) =>
      emulator.nodegroups.describeNodegroup(params.name, params.nodegroup),
    ),
    route("DELETE", "/clusters/{name}/node-groups/{nodegroup}", "DeleteNodegroup", ({ params }) =>
      emulator.nodegroups.deleteNodegroup(params.name, params.nodegroup),
    ),
    route("POST", "/clusters/{name}/node-groups/{nodegroup}/update-version", "UpdateNodegroupVersion", ({ params, body }) =>
      emulator.nodegroups.updateNodegroupVersion(params.name, params.nodegroup, body),
    ),
    route("POST", "/clusters/{name}/node-groups/{nodegroup}/update-config", "UpdateNodegroupConfig", ({ params, body }) =>
      emulator.nodegroups.updateNodegroupConfig(params.name, params.nodegroup, body),
    ),
    route("POST", "/clusters/{name}/addons", "CreateAddon", ({ params, body }) => emulator.addons.createAddon(params.name, body)),
    route("GET", "/clusters/{name}/addons", "ListAddons", ({ params, query }) => emulator.addons.listAddons(params.name, query)),
    route("GET", "/clusters/{name}/addons/{addon}", "DescribeAddon", ({ params }) =>
      emulator.addons.describeAddon(params.name, params.addon),
    ),
    route("DELETE", "/clusters/{name}/addons/{addon}", "DeleteAddon", ({ params }) =>
      emulator.addons.deleteAddon(params.name, params.addon),
    ),
    route("POST", "/clusters/{name}/addons/{addon}/update", "UpdateAddon", ({ params, body }) =>
      emulator.addons.updateAddon(params.name, params.addon, body),
    ),
    route("GET", "/addons/supported-versions", "DescribeAddonVersions", ({ query }) => emulator.addons.describeAddonVersions(query)),
    route("GET", "/cluster-versions", "DescribeClusterVersions", ({ query }) => emulator.clusters.describeClusterVersions(query)),
    route("POST", "/clusters/{name}/insights", "ListInsights", ({ params, body }) => emulator.insights.listInsights(params.name, body)),
    route("GET", "/clusters/{name}/insights/{id}", "DescribeInsight", ({ params }) =>
      emulator.insights.describeInsight(params.name, params.id),
    ),

    route("GET", "/tags/{resourceArn}", "ListTagsForResource", ({ params }) => emulator.tags.listTagsForResource(params.resourceArn)),
    route("POST", "/tags/{resourceArn}", "TagResource", ({ params, body }) => emulator.tags.tagResource(params.resourceArn, body)),
    route("DELETE", "/tags/{resourceArn}", "UntagResource", ({ params, query }) => emulator.tags.untagResource(params.resourceArn, query)),

    route("GET", "/sandbox/health", "SandboxHealth", () => ({ ok: true })),
    route("POST", "/sandbox/reset", "SandboxReset", async () => {
      await emulator.reset();
      await hooks.onReset?.();
      return { reset: true };
    }),
    route("GET", "/sandbox/calls", "SandboxCalls", ({ query }) => callReport(emulator.state.calls, query)),
    route("DELETE", "/sandbox/calls", "SandboxCallsClear", () => {
      emulator.state.calls.length = 0;
      return { cleared: true };
    }),
    route("PUT", "/sandbox/settings", "SandboxSettings", ({ body }) => emulator.configureSandbox(body)),
    route("PUT", "/sandbox/clusters/{name}/settings", "SandboxClusterSettings", ({ params, body }) =>
      emulator.clusters.configureCluster(params.name, body),
    ),
    route("PUT", "/sandbox/clusters/{name}/insights", "SandboxPutInsights", ({ params, body }) =>
      emulator.insights.putInsights(params.name, body),
    ),
    route("POST", "/sandbox/node-mirror/sync", "SandboxNodeMirrorSync", async () => {
      if (!hooks.syncNodes) throw invalidParameter("the node mirror is not running (no KUBECONFIG)");
      return hooks.syncNodes();
    }),
    route("GET", "/sandbox/token-reviews", "SandboxTokenReviews", () => ({ reviews: hooks.tokenReviews?.() ?? [] })),
    route("POST", "/sandbox/authenticate", "SandboxAuthenticate", ({ body }) =>
      hooks.authenticate
        ? hooks.authenticate(body)
        : { apiVersion: body.apiVersion, kind: "TokenReview", status: { authenticated: false, error: "token review is not configured" } },
    ),
  ];
}

/**
 * GET /sandbox/calls?operation=UpdateClusterVersion&clusterName=demo: the matching calls and their
 * count per operation. Only EKS operations are logged, not the /sandbox/ paths.
 */
export function callReport(calls: readonly CallRecord[], query: URLSearchParams): Json {
  const operation = query.get("operation");
  const clusterName = query.get("clusterName");
  const selected = calls.filter(
    (call) => (operation === null || call.operation === operation) && (clusterName === null || call.clusterName === clusterName),
  );
  const counts: Record<string, number> = {};
  for (const call of selected) counts[call.operation] = (counts[call.operation] ?? 0) + 1;
  return { counts, total: selected.length, calls: selected };
}

export function startServer(
  emulator: EksEmulator,
  port: number,
  log: Logger,
  hooks: AdminHooks = {},
  host = "127.0.0.1",
): Promise<Server> {
  const routes = buildRoutes(emulator, hooks);
  const server = createServer((request, response) => {
    void handle(routes, emulator, log, request, response);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

async function handle(
  routes: readonly Route[],
  emulator: EksEmulator,
  log: Logger,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://emulator.local");
  const method = (request.method ?? "GET").toUpperCase();
  const match = findRoute(routes, method, url.pathname);
  let body: Json = {};
  try {
    body = await readJson(request);
    if (!match) {
      sendError(response, new EksError("NotFoundException", `No EKS operation for ${method} ${url.pathname}`));
      return;
    }
    const result = await match.route.handle({ params: match.params, query: url.searchParams, body });
    record(emulator, match, body, url.searchParams, 200);
    sendJson(response, 200, result);
  } catch (error) {
    if (error instanceof EksError) {
      if (match) record(emulator, match, body, url.searchParams, error.status, error.type);
      sendError(response, error);
      return;
    }
    log.error("request failed", { method, path: url.pathname, error: error instanceof Error ? error.stack : String(error) });
    const failure = new EksError("ServerException", error instanceof Error ? error.message : String(error));
    if (match) record(emulator, match, body, url.searchParams, failure.status, failure.type);
    sendError(response, failure);
  }
}

function findRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const found = candidate.pattern.exec(path);
    if (!found) continue;
    const params: Record<string, string> = {};
    candidate.keys.forEach((key, index) => {
      params[key] = decodeURIComponent(found[index + 1] ?? "");
    });
    return { route: candidate, params };
  }
  return undefined;
}

function record(
  emulator: EksEmulator,
  match: { route: Route; params: Record<string, string> },
  body: Json,
  query: URLSearchParams,
  status: number,
  errorType?: string,
): void {
  if (match.route.operation.startsWith("Sandbox")) return;
  const request: Record<string, unknown> = {};
  for (const field of RECORDED_FIELDS) if (body[field] !== undefined) request[field] = body[field];
  for (const [key, value] of query) request[key] = value;
  emulator.state.calls.push({
    operation: match.route.operation,
    at: new Date().toISOString(),
    // CreateCluster names its cluster in the body, the tag operations in the resource ARN.
    clusterName: match.params.name ?? clusterOfArn(match.params.resourceArn) ?? (typeof body.name === "string" ? body.name : undefined),
    nodegroupName: match.params.nodegroup ?? query.get("nodegroupName") ?? undefined,
    addonName: match.params.addon ?? query.get("addonName") ?? undefined,
    request,
    status,
    errorType,
  });
}

/** arn:aws:eks:REGION:ACCOUNT:cluster/NAME or nodegroup/CLUSTER/NAME/ID -> the cluster's name. */
function clusterOfArn(arn: string | undefined): string | undefined {
  return arn ? /:(?:cluster|nodegroup|addon)\/([^/]+)/.exec(arn)?.[1] : undefined;
}

async function readJson(request: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // Reported below as a parameter error, as EKS does for malformed bodies.
  }
  throw invalidParameter("The request body is not a JSON object");
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": crypto.randomUUID(),
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: EksError): void {
  const text = JSON.stringify(error.body());
  response.writeHead(error.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-amzn-errortype": error.type,
    "x-amzn-requestid": crypto.randomUUID(),
  });
  response.end(text);
}
