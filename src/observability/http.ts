/**
 * The operations endpoint: /healthz (liveness), /readyz (readiness) and /metrics.
 *
 * Liveness answers from the event loop itself: if the loop is stuck, the probe times out and
 * the kubelet restarts the pod, which is exactly what should happen. Readiness is a callback
 * the manager answers (caches synced, leader election running); it returns 503 with the reason
 * until then, so a rollout waits for a replica that can actually take over.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeError } from "../util/errors.js";
import { createSilentLogger, type Logger } from "../util/logger.js";

export interface ProbeResult {
  ok: boolean;
  /** Said in the body, e.g. "informer clusterupgrades.eksupgrade.io not synced". */
  detail?: string;
}

export interface OperationsServerOptions {
  /** Port to listen on; 0 picks a free one (tests). */
  port: number;
  /** Default "0.0.0.0" so the kubelet and Prometheus can reach it. */
  host?: string;
  readiness: () => ProbeResult;
  /** Defaults to always healthy while the event loop answers. */
  liveness?: () => ProbeResult;
  /** Returns the exposition text and its content type. */
  metrics?: () => Promise<{ body: string; contentType: string }>;
  logger?: Logger;
}

export interface OperationsServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Stops accepting connections, lets in-flight requests finish, then drops the rest after `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
}

function send(response: ServerResponse, status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  response.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-store" });
  response.end(body);
}

function sendProbe(response: ServerResponse, result: ProbeResult): void {
  const body = result.ok ? `ok${result.detail ? `: ${result.detail}` : ""}\n` : `not ready: ${result.detail ?? "unknown"}\n`;
  send(response, result.ok ? 200 : 503, body);
}

function routeRequest(options: OperationsServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    send(response, 405, "method not allowed\n");
    return Promise.resolve();
  }
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  switch (path) {
    case "/healthz":
    case "/livez":
      sendProbe(response, options.liveness?.() ?? { ok: true });
      return Promise.resolve();
    case "/readyz":
      sendProbe(response, options.readiness());
      return Promise.resolve();
    case "/metrics":
      return serveMetrics(options, response);
    default:
      send(response, 404, "not found\n");
      return Promise.resolve();
  }
}

async function serveMetrics(options: OperationsServerOptions, response: ServerResponse): Promise<void> {
  if (options.metrics === undefined) {
    send(response, 404, "metrics not enabled\n");
    return;
  }
  const { body, contentType } = await options.metrics();
  send(response, 200, body, contentType);
}

export async function startOperationsServer(options: OperationsServerOptions): Promise<OperationsServer> {
  const logger = options.logger ?? createSilentLogger();
  const server: Server = createServer((request, response) => {
    routeRequest(options, request, response).catch((err: unknown) => {
      logger.error("operations endpoint failed", { path: request.url, reason: describeError(err) });
      if (!response.headersSent) send(response, 500, "internal error\n");
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info("operations endpoint listening", { port });
  return { port, close: (timeoutMs = 5_000) => closeServer(server, timeoutMs) };
}

function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const forceTimer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    forceTimer.unref();
    server.close(() => {
      clearTimeout(forceTimer);
      resolve();
    });
    // Keep-alive connections with no request in flight would otherwise hold close() open.
    server.closeIdleConnections();
  });
}
