// The one way the operator sends a request to a URL taken from a spec or a Secret (notification
// webhooks, blue/green HTTP probes). Whoever may write a ClusterUpgrade must not be able to make
// the operator reach what only the operator's pod can reach: the instance metadata service (and
// with it the node's AWS credentials), loopback services in the pod, link-local addresses, or the
// cluster's own Services. So every URL is checked before the request, its host name is resolved and
// every address checked too, and the connection is pinned to the address that was checked, so a
// second DNS answer cannot swap in another target. Every request has a timeout and a body limit.
//
// Private RFC 1918 ranges stay allowed by default because internal webhooks and probes commonly
// live there; OUTBOUND_DENY_PRIVATE=true refuses them as well. OUTBOUND_ALLOWLIST lets an operator
// admin open exactly the hosts or ranges they trust (the sandbox opens 127.0.0.1 for its servers).
import { lookup as dnsLookup } from "node:dns/promises";
import * as http from "node:http";
import * as https from "node:https";
import { BlockList, isIP } from "node:net";
import { abortError, currentSignal, throwIfCancelled } from "../runtime/cancellation.js";

/** Operator-level settings; never from a spec. */
export interface OutboundPolicy {
  /** http:// URLs are refused unless this is true (OUTBOUND_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) are refused when true (OUTBOUND_DENY_PRIVATE). */
  denyPrivate: boolean;
  /** Host names (exact, or "*.example.com" for subdomains), IP addresses and CIDR ranges let through whatever they are (OUTBOUND_ALLOWLIST). */
  allowlist: string[];
}

export const DEFAULT_OUTBOUND_POLICY: OutboundPolicy = { allowHttp: false, denyPrivate: false, allowlist: [] };

/** Reads OUTBOUND_ALLOW_HTTP, OUTBOUND_DENY_PRIVATE and OUTBOUND_ALLOWLIST (comma or space separated). */
export function outboundPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): OutboundPolicy {
  const allowlist = (env.OUTBOUND_ALLOWLIST ?? "")
    .split(/[\s,]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  for (const entry of allowlist) {
    if (entry.includes("/") && !parseCidr(entry)) throw new Error(`OUTBOUND_ALLOWLIST: "${entry}" is not a CIDR range such as 10.0.0.0/8 or fd00::/8`);
  }
  return { allowHttp: env.OUTBOUND_ALLOW_HTTP === "true", denyPrivate: env.OUTBOUND_DENY_PRIVATE === "true", allowlist };
}

/** A URL the guard will not fetch; the message names the field (when known) and why. */
export class OutboundRefusedError extends Error {
  override readonly name = "OutboundRefusedError";
}

export function isOutboundRefused(error: unknown): error is OutboundRefusedError {
  return error instanceof OutboundRefusedError;
}

interface Range {
  cidr: string;
  why: string;
}

const ALWAYS_REFUSED: Range[] = [
  { cidr: "169.254.169.254/32", why: "the instance metadata service" },
  { cidr: "fd00:ec2::254/128", why: "the instance metadata service" },
  { cidr: "169.254.0.0/16", why: "a link-local address" },
  { cidr: "fe80::/10", why: "a link-local address" },
  { cidr: "127.0.0.0/8", why: "a loopback address" },
  { cidr: "::1/128", why: "a loopback address" },
  { cidr: "0.0.0.0/8", why: "an unspecified address" },
  { cidr: "::/128", why: "an unspecified address" },
  { cidr: "224.0.0.0/4", why: "a multicast address" },
  { cidr: "ff00::/8", why: "a multicast address" },
  { cidr: "255.255.255.255/32", why: "the broadcast address" },
];

const PRIVATE: Range[] = [
  { cidr: "10.0.0.0/8", why: "a private address (OUTBOUND_DENY_PRIVATE is true)" },
  { cidr: "172.16.0.0/12", why: "a private address (OUTBOUND_DENY_PRIVATE is true)" },
  { cidr: "192.168.0.0/16", why: "a private address (OUTBOUND_DENY_PRIVATE is true)" },
  { cidr: "100.64.0.0/10", why: "a shared address (OUTBOUND_DENY_PRIVATE is true)" },
  { cidr: "fc00::/7", why: "a unique local address (OUTBOUND_DENY_PRIVATE is true)" },
];

/** Host names that resolve to the cluster's own Services and pods from inside a pod. */
const CLUSTER_SUFFIXES = [".svc", ".cluster.local"];

function parseCidr(text: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  const [address, prefixText] = text.split("/");
  const version = isIP(address);
  const prefix = Number(prefixText);
  if (version === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

function rangeList(ranges: readonly Range[]): { list: BlockList; why: (address: string) => string | undefined } {
  const singles = ranges.map((range) => {
    const list = new BlockList();
    const cidr = parseCidr(range.cidr)!;
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    return { list, why: range.why };
  });
  const all = new BlockList();
  for (const range of ranges) {
    const cidr = parseCidr(range.cidr)!;
    all.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return { list: all, why: (address) => singles.find((single) => matches(single.list, address))?.why };
}

const alwaysRefused = rangeList(ALWAYS_REFUSED);
const privateRanges = rangeList(PRIVATE);

/** An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is. */
function canonical(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

function matches(list: BlockList, address: string): boolean {
  const plain = canonical(address);
  return list.check(plain, isIP(plain) === 4 ? "ipv4" : "ipv6");
}

function hostAllowlisted(policy: OutboundPolicy, host: string): boolean {
  return policy.allowlist.some((entry) => entry === host || (entry.startsWith("*.") && host.endsWith(entry.slice(1))));
}

function addressAllowlisted(policy: OutboundPolicy, address: string): boolean {
  const plain = canonical(address);
  return policy.allowlist.some((entry) => {
    if (entry === plain) return true;
    const cidr = entry.includes("/") ? parseCidr(entry) : undefined;
    if (!cidr) return false;
    const list = new BlockList();
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    return matches(list, plain);
  });
}

/** Why an address may not be reached under the policy, or undefined when it may. */
export function refusedAddress(policy: OutboundPolicy, address: string): string | undefined {
  if (addressAllowlisted(policy, address)) return undefined;
  return alwaysRefused.why(address) ?? (policy.denyPrivate ? privateRanges.why(address) : undefined);
}

const ALLOW_HINT = "if this target is trusted, add it to the operator's OUTBOUND_ALLOWLIST";

/**
 * What can be decided from the URL alone (no DNS): the scheme, literal addresses, cluster-internal
 * names, credentials in the URL. Returns why it is refused, or undefined. The validate step uses it
 * to refuse a spec at once; `checkUrl` repeats it before every request.
 */
export function refusedUrl(policy: OutboundPolicy, text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "it is not an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `scheme ${url.protocol.replace(":", "")} is not allowed; use https`;
  if (url.protocol === "http:" && !policy.allowHttp) return "http is refused (the request and any token in it would travel in clear text); use https, or set OUTBOUND_ALLOW_HTTP=true in the operator's environment";
  if (url.username || url.password) return "credentials in the URL are refused; put the whole URL in a Secret (webhookSecretRef) or use a token the receiver checks";
  const host = hostOf(url);
  if (hostAllowlisted(policy, host)) return undefined;
  if (isIP(host)) {
    const why = refusedAddress(policy, host);
    return why ? `${host} is ${why}; ${ALLOW_HINT}` : undefined;
  }
  if (!host.includes(".")) return `host "${host}" is a single-label name, which resolves to a Service of the operator's own cluster; use a fully qualified public name, or ${ALLOW_HINT}`;
  const suffix = CLUSTER_SUFFIXES.find((ending) => host.endsWith(ending));
  if (suffix || host === "localhost" || host.endsWith(".localhost")) return `host ${host} is cluster-internal or local; ${ALLOW_HINT}`;
  return undefined;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

export interface CheckedTarget {
  url: URL;
  /** The address the connection must go to: the one that was checked. */
  address: string;
  family: 4 | 6;
}

/** The static checks, then every address the host name resolves to; throws OutboundRefusedError. */
export async function checkUrl(policy: OutboundPolicy, text: string, field: string, resolver: Resolver = systemResolver): Promise<CheckedTarget> {
  const why = refusedUrl(policy, text);
  if (why) throw new OutboundRefusedError(`${field}: ${why}`);
  const url = new URL(text);
  const host = hostOf(url);
  if (isIP(host)) return { url, address: host, family: isIP(host) as 4 | 6 };
  let addresses: { address: string; family: number }[];
  try {
    addresses = await resolver(host);
  } catch (error) {
    throw new Error(`${field}: resolving ${host}: ${(error as Error).message}`, { cause: error });
  }
  if (addresses.length === 0) throw new Error(`${field}: ${host} resolves to no address`);
  if (!hostAllowlisted(policy, host)) {
    for (const { address } of addresses) {
      const refused = refusedAddress(policy, address);
      if (refused) throw new OutboundRefusedError(`${field}: ${host} resolves to ${address}, ${refused}; ${ALLOW_HINT}`);
    }
  }
  return { url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}

export interface OutboundRequest {
  method: "GET" | "POST";
  /** The spec field (or Secret) the URL came from, for messages. */
  field: string;
  timeoutMs: number;
  /** Bytes of the response body read at most; more is an error. Default 64 KiB. */
  maxResponseBytes?: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface OutboundResponse {
  status: number;
  body: string;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Sends one request after `checkUrl`, connected to the checked address (TLS still verifies the
 * certificate against the host name). Redirects are not followed: a redirect could lead anywhere.
 */
export async function outboundRequest(policy: OutboundPolicy, text: string, request: OutboundRequest, resolver: Resolver = systemResolver): Promise<OutboundResponse> {
  throwIfCancelled(request.field);
  const target = await checkUrl(policy, text, request.field, resolver);
  throwIfCancelled(request.field);
  const limit = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const client = target.url.protocol === "https:" ? https : http;
  // The reconcile's signal too: a webhook post must not outlive a lost Lease either.
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const parent = currentSignal();
  const signal = parent === undefined ? timeout : AbortSignal.any([parent, timeout]);
  return new Promise<OutboundResponse>((resolve, reject) => {
    const outgoing = client.request(
      target.url,
      {
        method: request.method,
        headers: { ...request.headers, ...(request.body !== undefined ? { "content-length": String(Buffer.byteLength(request.body)) } : {}) },
        signal,
        // A fresh connection per request: a pooled socket would skip the lookup below.
        agent: false,
        // Pinning: whatever name the URL has, the socket goes to the address checked above.
        lookup: (_host, options, callback) => {
          if ((options as { all?: boolean }).all) (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
          else callback(null, target.address, target.family);
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            response.destroy(new Error(`${request.field}: the answer is larger than ${limit} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on("error", reject);
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    outgoing.on("error", (error) => {
      if (parent?.aborted) reject(abortError(parent, request.field));
      else if (signal.aborted) reject(new OutboundTimeoutError(`${request.field}: no answer within ${request.timeoutMs / 1000}s`));
      else reject(error);
    });
    outgoing.end(request.body);
  });
}

export class OutboundTimeoutError extends Error {
  override readonly name = "OutboundTimeoutError";
}
