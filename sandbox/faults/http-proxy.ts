/**
 * A fault-injecting reverse proxy for the sandbox's AWS endpoints (moto and the EKS emulator). The
 * operator is pointed at it instead of the backends; tests and the harness keep talking to the
 * backends directly, so what they observe is never distorted by a fault meant for the operator.
 *
 * Each request gets a number in arrival order and exactly three draws from a PRNG seeded by the
 * caller (fault kind, error variant, latency), whatever the rates are. So the same seed and the
 * same request sequence give the same decisions, and changing the rates mid-run does not shift the
 * draws of later requests. Errors are written in each service's own wire format, so the AWS SDK
 * classifies them exactly as it would classify the real thing (throttling, transient, ...).
 *
 * Built on node:http rather than a proxy library: the faults sit below what proxy libraries
 * expose (a reset before any byte is answered, an answer dropped after the backend acted on it),
 * and both backends are plain HTTP on loopback, so forwarding itself is a few lines.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import seedrandom from "seedrandom";

/** Services told apart by the proxy; the name is the one used in FaultRatesByService. */
export type AwsService = "eks" | "ec2" | "autoscaling" | "route53" | "cloudwatch" | "sts" | "unknown";

/**
 * What can happen to one request instead of (or on top of) a plain forward:
 * - throttle: the service's own throttling error (Route53 also answers PriorRequestNotComplete
 *   to changes), never forwarded
 * - error500 / error503: the service's internal-error / unavailable answer, never forwarded
 * - reset: the connection is reset before the request reaches the backend
 * - resetAfter: the backend acts on the request, then the connection is reset instead of
 *   answering (the caller cannot know whether its change happened)
 * - hang: never forwarded and never answered; the connection is closed after hangMs, or earlier
 *   when the client gives up
 */
export type FaultKind = "throttle" | "error500" | "error503" | "reset" | "resetAfter" | "hang";

export const FAULT_KINDS: readonly FaultKind[] = ["throttle", "error500", "error503", "reset", "resetAfter", "hang"];

/** Probability of each fault kind per request, from 0 to 1; unset means 0; the sum must not exceed 1. */
export type FaultRates = Partial<Record<FaultKind, number>>;

/** Rates for every service (`default`), with per-service overrides that replace it whole. */
export type FaultRatesByService = { default?: FaultRates } & Partial<Record<Exclude<AwsService, "unknown">, FaultRates>>;

export interface FaultProxyOptions {
  /** Base URL of the backend, e.g. http://127.0.0.1:5000. Plain HTTP only. */
  target: string;
  /** Seeds the PRNG that decides every fault. */
  seed: string | number;
  rates?: FaultRatesByService;
  /** How long a hung request is held before its connection is closed; default 300 000 (300 s). */
  hangMs?: number;
  /** Extra latency before each forwarded or faulted answer: a fixed value or a [min, max] range. */
  delayMs?: number | readonly [number, number];
  /** Names this proxy in messages; default the target's host. */
  name?: string;
  /** Port to listen on (127.0.0.1); default a free one. */
  port?: number;
  /** Called as each fault is injected (also kept in stats()). */
  onFault?: (fault: InjectedFault) => void;
}

export interface InjectedFault {
  /** The request's number in arrival order, from 1. */
  request: number;
  service: AwsService;
  /** The API operation, e.g. UpdateClusterVersion; METHOD /path when it cannot be told. */
  operation: string;
  kind: FaultKind;
  /** The error code and HTTP status answered, for throttle and error kinds. */
  code?: string;
  status?: number;
}

export interface FaultProxyStats {
  name: string;
  requests: number;
  /** Requests sent on to the backend (resetAfter included). */
  forwarded: number;
  /** Requests held right now, by pause() or a hang. */
  held: number;
  /** Requests the backend could not be reached for (answered 502; not injected). */
  upstreamErrors: number;
  byService: Partial<Record<AwsService, number>>;
  byKind: Partial<Record<FaultKind, number>>;
  faults: InjectedFault[];
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Replaces the rates from the next request on; validated like the initial ones. */
  setRates(rates: FaultRatesByService): void;
  /** Holds every request arriving from now on until resume(). */
  pause(): void;
  /** Releases the held requests (they then go their normal way) and stops holding new ones. */
  resume(): void;
  stats(): FaultProxyStats;
  /** Stops listening and drops every connection, held ones included. */
  close(): Promise<void>;
}

const SERVICE_KEYS: readonly string[] = ["default", "eks", "ec2", "autoscaling", "route53", "cloudwatch", "sts"];

/** Throws a message naming the bad field; returns the rates unchanged when they are valid. */
export function validateFaultRates(rates: FaultRatesByService): FaultRatesByService {
  if (typeof rates !== "object" || rates === null || Array.isArray(rates)) {
    throw new Error(`fault rates must be an object such as { default: { throttle: 0.1 } }`);
  }
  for (const [service, perKind] of Object.entries(rates) as [string, unknown][]) {
    if (!SERVICE_KEYS.includes(service)) {
      throw new Error(`fault rates: unknown service "${service}"; use one of ${SERVICE_KEYS.join(", ")}`);
    }
    if (perKind === undefined) continue;
    if (typeof perKind !== "object" || perKind === null || Array.isArray(perKind)) {
      throw new Error(`fault rates.${service} must be an object such as { throttle: 0.1 }`);
    }
    let sum = 0;
    for (const [kind, rate] of Object.entries(perKind as Record<string, unknown>)) {
      if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
        throw new Error(`fault rates.${service}: unknown fault kind "${kind}"; use one of ${FAULT_KINDS.join(", ")}`);
      }
      if (rate === undefined) continue;
      if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0 || rate > 1) {
        throw new Error(`fault rates.${service}.${kind} must be a number from 0 to 1, got ${JSON.stringify(rate)}`);
      }
      sum += rate;
    }
    if (sum > 1 + 1e-9) {
      throw new Error(`fault rates.${service}: the rates add up to ${sum}, more than 1; lower them so at most every request is faulted`);
    }
  }
  return rates;
}

function ratesFor(rates: FaultRatesByService, service: AwsService): FaultRates {
  return (service !== "unknown" ? rates[service] : undefined) ?? rates.default ?? {};
}

/** The kind whose slice of [0, 1) holds `draw`, slices laid out in FAULT_KINDS order. */
function pickKind(rates: FaultRates, draw: number): FaultKind | undefined {
  let upper = 0;
  for (const kind of FAULT_KINDS) {
    upper += rates[kind] ?? 0;
    if (draw < upper) return kind;
  }
  return undefined;
}

/**
 * Rates from command-line words: `KIND=P` sets the default rate of a kind, `SERVICE.KIND=P` one
 * service's (a service named this way starts from the defaults given anywhere in the list).
 */
export function parseFaultRates(words: readonly string[]): FaultRatesByService {
  const defaults: FaultRates = {};
  const perService: Partial<Record<string, FaultRates>> = {};
  for (const word of words) {
    const match = /^(?:([a-z0-9]+)\.)?([A-Za-z0-9]+)=(.+)$/.exec(word);
    if (!match) throw new Error(`--rate "${word}": write KIND=P or SERVICE.KIND=P, e.g. throttle=0.1 or route53.throttle=0.2`);
    const [, service, kind, raw] = match;
    const rate = Number(raw);
    if (raw.trim() === "" || Number.isNaN(rate)) throw new Error(`--rate "${word}": ${raw} is not a number; use a probability from 0 to 1`);
    const into = service ? (perService[service] ??= {}) : defaults;
    (into as Record<string, number>)[kind] = rate;
  }
  const rates: Record<string, FaultRates> = { default: defaults };
  for (const [service, own] of Object.entries(perService)) rates[service] = { ...defaults, ...own };
  return validateFaultRates(rates);
}

// --- Telling the service and operation apart ------------------------------------------------

const SIGNING_NAMES: Record<string, AwsService> = {
  eks: "eks",
  ec2: "ec2",
  autoscaling: "autoscaling",
  route53: "route53",
  monitoring: "cloudwatch",
  sts: "sts",
};

/** The service a request is signed for, from SigV4's credential scope (header or presigned query). */
export function serviceOf(request: { headers: IncomingMessage["headers"]; url?: string }): AwsService {
  const url = new URL(request.url ?? "/", "http://proxy.invalid");
  const authorization = request.headers.authorization ?? "";
  const credential = /Credential=([^,\s]+)/.exec(authorization)?.[1] ?? url.searchParams.get("X-Amz-Credential") ?? "";
  const scope = credential.split("/");
  if (scope.length >= 5) {
    const named = SIGNING_NAMES[scope[3]];
    if (named) return named;
  }
  const target = headerValue(request.headers["x-amz-target"]);
  if (target?.startsWith("GraniteServiceVersion20100801.")) return "cloudwatch";
  if (url.pathname.startsWith("/2013-04-01/")) return "route53";
  if (/^\/(clusters|addons)(\/|$)/.test(url.pathname)) return "eks";
  const hostLabel = (request.headers.host ?? "").split(".")[0];
  return SIGNING_NAMES[hostLabel] ?? "unknown";
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const EKS_ROUTES: readonly [string, RegExp, string][] = [
  ["GET", /^\/clusters$/, "ListClusters"],
  ["GET", /^\/clusters\/[^/]+$/, "DescribeCluster"],
  ["GET", /^\/clusters\/[^/]+\/updates$/, "ListUpdates"],
  ["GET", /^\/clusters\/[^/]+\/updates\/[^/]+$/, "DescribeUpdate"],
  ["GET", /^\/clusters\/[^/]+\/node-groups$/, "ListNodegroups"],
  ["POST", /^\/clusters\/[^/]+\/node-groups$/, "CreateNodegroup"],
  ["GET", /^\/clusters\/[^/]+\/node-groups\/[^/]+$/, "DescribeNodegroup"],
  ["DELETE", /^\/clusters\/[^/]+\/node-groups\/[^/]+$/, "DeleteNodegroup"],
  ["POST", /^\/clusters\/[^/]+\/node-groups\/[^/]+\/update-version$/, "UpdateNodegroupVersion"],
  ["POST", /^\/clusters\/[^/]+\/node-groups\/[^/]+\/update-config$/, "UpdateNodegroupConfig"],
  ["GET", /^\/clusters\/[^/]+\/addons$/, "ListAddons"],
  ["POST", /^\/clusters\/[^/]+\/addons$/, "CreateAddon"],
  ["GET", /^\/clusters\/[^/]+\/addons\/[^/]+$/, "DescribeAddon"],
  ["DELETE", /^\/clusters\/[^/]+\/addons\/[^/]+$/, "DeleteAddon"],
  ["POST", /^\/clusters\/[^/]+\/addons\/[^/]+\/update$/, "UpdateAddon"],
  ["GET", /^\/addons\/supported-versions$/, "DescribeAddonVersions"],
  ["GET", /^\/clusters\/[^/]+\/insights$/, "ListInsights"],
  ["GET", /^\/clusters\/[^/]+\/insights\/[^/]+$/, "DescribeInsight"],
  ["GET", /^\/clusters\/[^/]+\/access-entries$/, "ListAccessEntries"],
  ["POST", /^\/clusters$/, "CreateCluster"],
];

const ROUTE53_ROUTES: readonly [string, RegExp, string][] = [
  ["POST", /^\/hostedzone\/[^/]+\/rrset\/?$/, "ChangeResourceRecordSets"],
  ["GET", /^\/hostedzone\/[^/]+\/rrset\/?$/, "ListResourceRecordSets"],
  ["GET", /^\/hostedzone\/[^/]+$/, "GetHostedZone"],
  ["GET", /^\/hostedzone\/?$/, "ListHostedZones"],
  ["POST", /^\/hostedzone\/?$/, "CreateHostedZone"],
  ["GET", /^\/hostedzonesbyname\/?$/, "ListHostedZonesByName"],
  ["GET", /^\/change\/[^/]+$/, "GetChange"],
  ["GET", /^\/healthcheck\/[^/]+\/status$/, "GetHealthCheckStatus"],
  ["GET", /^\/healthcheck\/[^/]+$/, "GetHealthCheck"],
  ["GET", /^\/healthcheck\/?$/, "ListHealthChecks"],
  ["POST", /^\/healthcheck\/?$/, "CreateHealthCheck"],
];

/** The API operation of a request whose body has been read. */
export function operationOf(service: AwsService, method: string, rawUrl: string, headers: IncomingMessage["headers"], body: Buffer): string {
  const url = new URL(rawUrl, "http://proxy.invalid");
  const target = headerValue(headers["x-amz-target"]);
  if (target?.includes(".")) return target.slice(target.lastIndexOf(".") + 1);
  const action = url.searchParams.get("Action") ?? new URLSearchParams(isForm(headers) ? body.toString("utf8") : "").get("Action");
  if (action) return action;
  const path = url.pathname.replace(/\/+$/, "") || "/";
  if (service === "eks") {
    if (method === "POST" && /^\/clusters\/[^/]+\/updates$/.test(path)) {
      // Both share the path; only UpdateClusterVersion's body carries a version.
      return /"version"\s*:/.test(body.toString("utf8")) ? "UpdateClusterVersion" : "UpdateClusterConfig";
    }
    const route = EKS_ROUTES.find(([m, pattern]) => m === method && pattern.test(path));
    if (route) return route[2];
  }
  if (service === "route53") {
    const route = ROUTE53_ROUTES.find(([m, pattern]) => m === method && pattern.test(path.replace(/^\/2013-04-01/, "")));
    if (route) return route[2];
  }
  return `${method} ${url.pathname}`;
}

function isForm(headers: IncomingMessage["headers"]): boolean {
  return (headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
}

// --- Error answers in each service's wire format ----------------------------------------------

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ErrorSpec {
  code: string;
  status: number;
  /** awsQuery's Type: Sender for the caller's side, Receiver for the service's. */
  type: "Sender" | "Receiver";
  message: string;
}

const QUERY_NAMESPACES: Partial<Record<AwsService, string>> = {
  autoscaling: "http://autoscaling.amazonaws.com/doc/2011-01-01/",
  sts: "https://sts.amazonaws.com/doc/2011-06-15/",
  cloudwatch: "http://monitoring.amazonaws.com/doc/2010-08-01/",
  route53: "https://route53.amazonaws.com/doc/2013-04-01/",
};

/** The code, status and message a service answers with for a fault, as its API documents them. */
export function errorSpec(service: AwsService, kind: "throttle" | "error500" | "error503", variant: number, operation: string): ErrorSpec {
  switch (service) {
    case "eks":
      // restJson1: the error name travels in x-amzn-ErrorType.
      if (kind === "throttle") return { code: "ThrottlingException", status: 429, type: "Sender", message: "Rate exceeded" };
      if (kind === "error500") return { code: "ServerException", status: 500, type: "Receiver", message: "These errors are usually caused by a server-side issue." };
      return { code: "ServiceUnavailableException", status: 503, type: "Receiver", message: "The service is unavailable. Back off and retry the operation." };
    case "ec2":
      if (kind === "throttle") return { code: "RequestLimitExceeded", status: 503, type: "Sender", message: "Request limit exceeded." };
      if (kind === "error500") return { code: "InternalError", status: 500, type: "Receiver", message: "An internal error has occurred." };
      return { code: "Unavailable", status: 503, type: "Receiver", message: "The server is overloaded and can't handle the request." };
    case "route53":
      if (kind === "throttle") {
        // PriorRequestNotComplete is what Route53 answers to a change arriving while the zone's
        // previous change is still being processed; plain throttling covers every call.
        return operation === "ChangeResourceRecordSets" && variant < 0.5
          ? { code: "PriorRequestNotComplete", status: 400, type: "Sender", message: "The request was rejected because Route 53 was still processing a prior request." }
          : { code: "Throttling", status: 400, type: "Sender", message: "Rate exceeded" };
      }
      if (kind === "error500") return { code: "InternalFailure", status: 500, type: "Receiver", message: "The request processing has failed because of an unknown error, exception or failure." };
      return { code: "ServiceUnavailable", status: 503, type: "Receiver", message: "The request has failed due to a temporary failure of the server." };
    default:
      // autoscaling, sts and cloudwatch share awsQuery's codes (cloudwatch also over JSON).
      if (kind === "throttle") return { code: "Throttling", status: 400, type: "Sender", message: "Rate exceeded" };
      if (kind === "error500") {
        return service === "cloudwatch"
          ? { code: "InternalServiceError", status: 500, type: "Receiver", message: "Request processing has failed due to some unknown error, exception, or failure." }
          : { code: "InternalFailure", status: 500, type: "Receiver", message: "The request processing has failed because of an unknown error, exception or failure." };
      }
      return { code: "ServiceUnavailable", status: 503, type: "Receiver", message: "The request has failed due to a temporary failure of the server." };
  }
}

/** The JSON error type that goes with a query error code in query-compatible mode. */
const JSON_ERROR_TYPES: Record<string, string> = {
  Throttling: "com.amazon.coral.availability#ThrottlingException",
  InternalServiceError: "com.amazonaws.cloudwatch#InternalServiceFault",
  InternalFailure: "com.amazon.coral.service#InternalFailure",
  ServiceUnavailable: "com.amazon.coral.availability#ServiceUnavailableException",
};

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The whole answer for an error fault, shaped by the service's protocol and the request's encoding. */
export function errorAnswer(service: AwsService, spec: ErrorSpec, requestHeaders: IncomingMessage["headers"], requestId: string): ErrorAnswer {
  const requestContentType = requestHeaders["content-type"] ?? "";
  if (service === "eks" || service === "unknown") {
    return {
      status: spec.status,
      headers: { "content-type": "application/json", "x-amzn-errortype": spec.code, "x-amzn-requestid": requestId },
      body: JSON.stringify({ message: spec.message }),
    };
  }
  if (service === "ec2") {
    // EC2's query protocol has its own envelope: Response/Errors/Error and RequestID.
    return {
      status: spec.status,
      headers: { "content-type": "text/xml;charset=UTF-8" },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${spec.code}</Code><Message>${xmlEscape(spec.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    };
  }
  if (requestContentType.startsWith("application/x-amz-json-")) {
    // A JSON protocol in query-compatible mode (CloudWatch in current SDKs): the query error code
    // and type ride in x-amzn-query-error, and __type names the JSON error.
    const jsonType = JSON_ERROR_TYPES[spec.code] ?? spec.code;
    return {
      status: spec.status,
      headers: {
        "content-type": requestContentType.split(";")[0],
        "x-amzn-query-error": `${spec.code};${spec.type}`,
        "x-amzn-requestid": requestId,
      },
      body: JSON.stringify({ __type: jsonType, message: spec.message }),
    };
  }
  // awsQuery and restXml (Route53) share the ErrorResponse envelope.
  const namespace = QUERY_NAMESPACES[service];
  return {
    status: spec.status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse${namespace ? ` xmlns="${namespace}"` : ""}><Error><Type>${spec.type}</Type><Code>${spec.code}</Code><Message>${xmlEscape(spec.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

// --- The proxy ----------------------------------------------------------------------------------

interface Decision {
  number: number;
  kind: FaultKind | undefined;
  variant: number;
  delayMs: number;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function validateDelay(delayMs: FaultProxyOptions["delayMs"]): readonly [number, number] {
  if (delayMs === undefined) return [0, 0];
  const range = typeof delayMs === "number" ? ([delayMs, delayMs] as const) : delayMs;
  if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => Number.isFinite(v) && v >= 0) || range[0] > range[1]) {
    throw new Error(`fault proxy delayMs must be a number of milliseconds or a [min, max] range with 0 <= min <= max, got ${JSON.stringify(delayMs)}`);
  }
  return range;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== "http:") throw new Error(`fault proxy target must be an http:// URL, got "${options.target}"`);
  const name = options.name ?? target.host;
  const hangMs = options.hangMs ?? 300_000;
  if (!Number.isFinite(hangMs) || hangMs < 0) throw new Error(`fault proxy hangMs must be a number of milliseconds >= 0, got ${hangMs}`);
  const delayRange = validateDelay(options.delayMs);
  let rates = validateFaultRates(options.rates ?? {});
  const random = seedrandom(String(options.seed));
  const agent = new Agent({ keepAlive: true });

  let sequence = 0;
  let paused = false;
  const pausedWaiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  const stats: FaultProxyStats = { name, requests: 0, forwarded: 0, held: 0, upstreamErrors: 0, byService: {}, byKind: {}, faults: [] };

  // Decided when the request arrives, before any await, so numbering and draws follow arrival order.
  function decide(service: AwsService): Decision {
    const kindDraw = random();
    const variant = random();
    const delayDraw = random();
    const number = ++sequence;
    return {
      number,
      kind: pickKind(ratesFor(rates, service), kindDraw),
      variant,
      delayMs: Math.round(delayRange[0] + (delayRange[1] - delayRange[0]) * delayDraw),
    };
  }

  function wait(ms: number, client: IncomingMessage): Promise<boolean> {
    // Resolves false early when the client goes away, so nothing is sent to a closed socket.
    if (ms <= 0) return Promise.resolve(!client.socket.destroyed);
    return new Promise((resolve) => {
      const onClose = (): void => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        timers.delete(timer);
        client.socket.off("close", onClose);
        resolve(!client.socket.destroyed);
      }, ms);
      timers.add(timer);
      client.socket.once("close", onClose);
    });
  }

  function heldWhilePaused(client: IncomingMessage): Promise<boolean> {
    if (!paused) return Promise.resolve(true);
    stats.held++;
    return new Promise((resolve) => {
      const release = (): void => {
        client.socket.off("close", onClose);
        stats.held--;
        resolve(!client.socket.destroyed);
      };
      const onClose = (): void => {
        pausedWaiters.delete(release);
        stats.held--;
        resolve(false);
      };
      pausedWaiters.add(release);
      client.socket.once("close", onClose);
    });
  }

  function record(decision: Decision, service: AwsService, operation: string, extra: Partial<InjectedFault> = {}): void {
    const kind = decision.kind as FaultKind;
    stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
    const fault: InjectedFault = { request: decision.number, service, operation, kind, ...extra };
    stats.faults.push(fault);
    options.onFault?.({ ...fault });
  }

  function forward(client: IncomingMessage, body: Buffer): Promise<{ status: number; rawHeaders: string[]; body: Buffer } | Error> {
    return new Promise((resolve) => {
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: client.method, path: client.url, headers: client.headers, agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 502, rawHeaders: response.rawHeaders, body: Buffer.concat(chunks) }));
          response.on("error", (error) => resolve(error));
        },
      );
      upstream.on("error", (error) => resolve(error));
      upstream.end(body);
    });
  }

  async function handle(client: IncomingMessage, response: ServerResponse): Promise<void> {
    const service = serviceOf(client);
    const decision = decide(service);
    stats.requests++;
    stats.byService[service] = (stats.byService[service] ?? 0) + 1;
    const body = await readBody(client);
    const operation = operationOf(service, client.method ?? "GET", client.url ?? "/", client.headers, body);
    if (!(await heldWhilePaused(client))) return;
    if (!(await wait(decision.delayMs, client))) return;

    switch (decision.kind) {
      case "reset":
        record(decision, service, operation);
        client.socket.resetAndDestroy();
        return;
      case "hang": {
        record(decision, service, operation);
        stats.held++;
        await wait(hangMs, client);
        stats.held--;
        client.socket.destroy();
        return;
      }
      case "throttle":
      case "error500":
      case "error503": {
        const spec = errorSpec(service, decision.kind, decision.variant, operation);
        record(decision, service, operation, { code: spec.code, status: spec.status });
        const answer = errorAnswer(service, spec, client.headers, `fault-${name}-${decision.number}`);
        response.writeHead(answer.status, { ...answer.headers, "content-length": Buffer.byteLength(answer.body) });
        response.end(answer.body);
        return;
      }
      default:
        break;
    }

    stats.forwarded++;
    const result = await forward(client, body);
    if (decision.kind === "resetAfter") {
      record(decision, service, operation);
      client.socket.resetAndDestroy();
      return;
    }
    if (result instanceof Error) {
      stats.upstreamErrors++;
      if (!response.headersSent) {
        const text = `fault proxy ${name}: backend ${options.target} failed: ${result.message}`;
        response.writeHead(502, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
        response.end(text);
      }
      return;
    }
    // The body is buffered, so the answer goes out with a content-length even when the backend
    // chunked it: framing is the proxy's own, everything else is the backend's.
    const headers: string[] = [];
    for (let i = 0; i < result.rawHeaders.length; i += 2) {
      const key = result.rawHeaders[i].toLowerCase();
      if (key === "transfer-encoding" || key === "content-length" || key === "connection" || key === "keep-alive") continue;
      headers.push(result.rawHeaders[i], result.rawHeaders[i + 1]);
    }
    headers.push("content-length", String(result.body.length));
    response.writeHead(result.status, headers);
    response.end(result.body);
  }

  const server = createServer((client, response) => {
    handle(client, response).catch((error: unknown) => {
      if (!response.headersSent) {
        const text = `fault proxy ${name}: ${(error as Error).message}`;
        response.writeHead(500, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
        response.end(text);
      } else {
        client.socket.destroy();
      }
    });
  });
  // Longer than the SDK's idle keep-alive, so a reused connection is not closed under a request
  // by the proxy itself: the only resets the client sees are the injected ones.
  server.keepAliveTimeout = 65_000;
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    setRates(next) {
      rates = validateFaultRates(next);
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      const waiting = [...pausedWaiters];
      pausedWaiters.clear();
      for (const release of waiting) release();
    },
    stats() {
      return { ...stats, byService: { ...stats.byService }, byKind: { ...stats.byKind }, faults: stats.faults.map((fault) => ({ ...fault })) };
    },
    async close() {
      paused = false;
      pausedWaiters.clear();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}
