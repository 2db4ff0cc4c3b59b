// Minimal HTTP(S) calls for health checks and admin endpoints, with no dependency beyond Node.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface HttpResponse {
  status: number;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM bundle to trust for https; without it the loopback certificate is not verified. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

export function httpCall(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === "https:";
  return new Promise((resolvePromise, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers["content-length"] = String(Buffer.byteLength(options.body));
    const requestOptions = {
      method: options.method ?? "GET",
      headers,
      timeout: options.timeoutMs ?? 5_000,
      ...(isHttps ? { ca: options.ca, rejectUnauthorized: options.ca !== undefined } : {}),
    };
    const request = (isHttps ? httpsRequest : httpRequest)(target, requestOptions, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolvePromise({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`timed out calling ${url}`)));
    request.on("error", reject);
    request.end(options.body);
  });
}

export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ port, host });
    const done = (open: boolean): void => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between attempts; a returned message aborts the wait with that message. */
  abortIf?: () => string | undefined;
}

/** Polls `probe` until it returns true; returns the last failure reason on timeout. */
export async function waitUntil(
  description: string,
  probe: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const abortReason = options.abortIf?.();
    if (abortReason !== undefined) throw new Error(`${description}: ${abortReason}`);
    try {
      if (await probe()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`${description}: not ready after ${options.timeoutMs / 1000}s${cause}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}
