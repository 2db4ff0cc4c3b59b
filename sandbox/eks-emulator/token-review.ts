/**
 * The sandbox's stand-in for the EKS authenticator: the kube-apiserver's token webhook
 * (POST /sandbox/authenticate) sends a TokenReview, and a `k8s-aws-v1.` token is accepted when it
 * is a well-formed presigned STS GetCallerIdentity URL, signed with the sandbox's key pair for a
 * cluster the emulator knows, still within its 15 minutes, and moto's STS answers the request with
 * a caller. The caller's ARN becomes the username, in group system:masters.
 *
 * moto does not check SigV4 signatures, so the signature is checked here, against each known
 * cluster name as the value of the signed x-k8s-aws-id header (the URL carries the header's name,
 * not its value). That is also how the cluster is found: a token signed for a name the emulator
 * does not know, or altered after signing, matches none.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

type Json = Record<string, unknown>;

export const TOKEN_PREFIX = "k8s-aws-v1.";
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
/** EKS accepts a token for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
/** A token dated this much in the future is still accepted (clock skew between signer and checker). */
export const CLOCK_SKEW_MS = 5 * 60_000;
export const ADMIN_GROUPS: readonly string[] = ["system:masters"];

const EMPTY_PAYLOAD_SHA256 = createHash("sha256").update("").digest("hex");
/** STS hosts the EKS authenticator accepts; the sandbox also accepts moto's own address. */
const STS_HOST = /^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/;

export interface TokenReviewerOptions {
  /** Names of the clusters the emulator knows right now. */
  clusterNames(): Iterable<string>;
  /** Secret access keys by access key id: the sandbox's dummy key pair. */
  secretKeys: ReadonlyMap<string, string>;
  /** moto's endpoint, where STS GetCallerIdentity is asked. */
  stsEndpoint: string;
  now?: () => number;
  fetch?: (url: URL, init: RequestInit) => Promise<Response>;
}

export interface Caller {
  arn: string;
  account: string;
  userId: string;
}

export type TokenCheck =
  | { ok: true; clusterName: string; accessKeyId: string; caller: Caller }
  | { ok: false; reason: string };

class Refused extends Error {}

export class TokenReviewer {
  private readonly now: () => number;
  private readonly fetch: (url: URL, init: RequestInit) => Promise<Response>;
  private readonly stsHost: string;

  constructor(private readonly options: TokenReviewerOptions) {
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.stsHost = new URL(options.stsEndpoint).host;
  }

  /** A TokenReview (authentication.k8s.io/v1) in, the same kind with its status out. */
  async review(request: Json): Promise<Json> {
    const apiVersion = typeof request.apiVersion === "string" ? request.apiVersion : "authentication.k8s.io/v1";
    const spec = (request.spec ?? {}) as Json;
    const token = typeof spec.token === "string" ? spec.token : "";
    const check = await this.check(token);
    const status: Json = check.ok
      ? {
          authenticated: true,
          user: {
            username: check.caller.arn,
            uid: `aws-iam-authenticator:${check.caller.account}:${check.caller.userId}`,
            groups: [...ADMIN_GROUPS],
            extra: {
              arn: [check.caller.arn],
              accessKeyId: [check.accessKeyId],
              "sandbox.eks-upgrade-operator.io/cluster": [check.clusterName],
            },
          },
        }
      : { authenticated: false, error: check.reason };
    return { apiVersion, kind: "TokenReview", status };
  }

  async check(token: string): Promise<TokenCheck> {
    try {
      const url = decodeToken(token);
      const parts = presignedParts(url, this.now());
      if (parts.host !== this.stsHost && !STS_HOST.test(parts.host)) throw new Refused(`${parts.host} is not an STS endpoint`);
      const secret = this.options.secretKeys.get(parts.accessKeyId);
      if (secret === undefined) throw new Refused(`access key ${parts.accessKeyId} is not the sandbox's`);
      const clusterName = [...this.options.clusterNames()].find((name) => signatureMatches(url, name, secret, parts.signature));
      if (clusterName === undefined) {
        throw new Refused("the signature matches no cluster the emulator knows (unknown cluster name, or the token was altered)");
      }
      const caller = await this.askSts(url, clusterName, parts);
      return { ok: true, clusterName, accessKeyId: parts.accessKeyId, caller };
    } catch (error) {
      if (error instanceof Refused) return { ok: false, reason: error.message };
      return { ok: false, reason: `token check failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  /**
   * Replays the presigned request against moto: same query string, same x-k8s-aws-id header.
   * moto routes a request to a service by its Authorization header only, so the presigned
   * credential and signature are repeated there in header form.
   */
  private async askSts(url: URL, clusterName: string, parts: PresignedParts): Promise<Caller> {
    const target = new URL(this.options.stsEndpoint);
    target.pathname = url.pathname;
    target.search = url.search;
    const response = await this.fetch(target, {
      method: "GET",
      headers: {
        [CLUSTER_ID_HEADER]: clusterName,
        authorization: `AWS4-HMAC-SHA256 Credential=${parts.credential}, SignedHeaders=${parts.signedHeaders.join(";")}, Signature=${parts.signature}`,
      },
      signal: AbortSignal.timeout(5_000),
    });
    const body = await response.text();
    if (response.status !== 200) throw new Refused(`STS answered ${response.status}: ${body.slice(0, 200)}`);
    const field = (name: string): string => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1] ?? "";
    const caller = { arn: field("Arn"), account: field("Account"), userId: field("UserId") };
    if (caller.arn === "") throw new Refused("STS named no caller");
    return caller;
  }
}

export function decodeToken(token: string): URL {
  if (!token.startsWith(TOKEN_PREFIX)) throw new Refused(`not an EKS token (no ${TOKEN_PREFIX} prefix)`);
  const encoded = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw new Refused("the token is not base64url");
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, "base64url").toString("utf8"));
  } catch {
    throw new Refused("the token does not decode to a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Refused(`the token's URL is ${url.protocol}, not http(s)`);
  return url;
}

interface PresignedParts {
  host: string;
  accessKeyId: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
}

/** The checks that need no key: shape of the URL, the action, signed headers and the time window. */
function presignedParts(url: URL, now: number): PresignedParts {
  const query = url.searchParams;
  const single = (name: string): string => {
    const values = query.getAll(name);
    if (values.length !== 1 || values[0] === "") throw new Refused(`the token's URL needs exactly one ${name}`);
    return values[0];
  };
  if (url.pathname !== "/") throw new Refused(`unexpected path ${url.pathname} in the token's URL`);
  if (single("Action") !== "GetCallerIdentity") throw new Refused("the token's URL is not an STS GetCallerIdentity request");
  if (single("Version") !== "2011-06-15") throw new Refused("the token's URL has an unknown STS Version");
  if (single("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") throw new Refused("the token is not signed with AWS4-HMAC-SHA256");
  const signedHeaders = single("X-Amz-SignedHeaders").split(";");
  if (!signedHeaders.includes(CLUSTER_ID_HEADER)) throw new Refused(`${CLUSTER_ID_HEADER} is not among the signed headers`);
  if (!signedHeaders.includes("host")) throw new Refused("host is not among the signed headers");
  const unknown = signedHeaders.filter((name) => name !== "host" && name !== CLUSTER_ID_HEADER);
  if (unknown.length > 0) throw new Refused(`unexpected signed headers: ${unknown.join(", ")}`);
  const credential = single("X-Amz-Credential");
  const scope = credential.split("/");
  if (scope.length !== 5 || scope[3] !== "sts" || scope[4] !== "aws4_request") {
    throw new Refused(`the credential scope ${scope.slice(1).join("/")} is not an STS one`);
  }
  const signed = parseAmzDate(single("X-Amz-Date"));
  if (signed === undefined) throw new Refused("X-Amz-Date is not a date");
  if (!/^\d+$/.test(single("X-Amz-Expires"))) throw new Refused("X-Amz-Expires is not a number of seconds");
  if (signed - CLOCK_SKEW_MS > now) throw new Refused("the token is dated in the future");
  if (signed + TOKEN_LIFETIME_MS < now) {
    throw new Refused(`the token expired at ${new Date(signed + TOKEN_LIFETIME_MS).toISOString()}`);
  }
  const signature = single("X-Amz-Signature");
  if (!/^[0-9a-f]{64}$/.test(signature)) throw new Refused("X-Amz-Signature is not 64 hex characters");
  return { host: url.host, accessKeyId: scope[0], credential, signedHeaders, signature };
}

function parseAmzDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number);
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** RFC 3986 percent-encoding, as SigV4 wants it. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * SigV4 for a presigned GET, written out from the specification rather than with the SDK's signer,
 * so that the sandbox checks the operator's tokens with an implementation of its own.
 */
export function presignedSignature(url: URL, clusterName: string, secretAccessKey: string): string {
  const query = url.searchParams;
  const canonicalQuery = [...query.entries()]
    .filter(([key]) => key !== "X-Amz-Signature")
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  const headers: Record<string, string> = { host: url.host, [CLUSTER_ID_HEADER]: clusterName.trim() };
  const signedHeaders = (query.get("X-Amz-SignedHeaders") ?? "").split(";");
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headers[name] ?? ""}\n`).join("");
  const canonicalRequest = ["GET", "/", canonicalQuery, canonicalHeaders, signedHeaders.join(";"), EMPTY_PAYLOAD_SHA256].join("\n");
  const [, day, region, service, terminator] = (query.get("X-Amz-Credential") ?? "").split("/");
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    query.get("X-Amz-Date") ?? "",
    [day, region, service, terminator].join("/"),
    createHash("sha256").update(canonicalRequest).digest("hex"),
  ].join("\n");
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`, "utf8");
  for (const part of [day, region, service, terminator]) key = createHmac("sha256", key).update(part ?? "").digest();
  return createHmac("sha256", key).update(stringToSign).digest("hex");
}

function signatureMatches(url: URL, clusterName: string, secret: string, signature: string): boolean {
  const expected = Buffer.from(presignedSignature(url, clusterName, secret), "hex");
  const given = Buffer.from(signature, "hex");
  return expected.length === given.length && timingSafeEqual(expected, given);
}
