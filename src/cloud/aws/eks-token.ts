// EKS bearer tokens, as `aws eks get-token` prints them: an STS GetCallerIdentity request,
// presigned with SigV4 in the query string and bound to one cluster by the signed header
// x-k8s-aws-id, base64url-encoded and prefixed with "k8s-aws-v1.". The cluster's authenticator
// replays the request against STS and maps the caller it learns to a Kubernetes identity, so the
// operator reaches a cluster it created with nothing but its own AWS credentials.
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Sha256 } from "@smithy/core/checksum";
import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";

export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";
/** The header that names the cluster; it is signed, so a token opens one cluster only. */
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
/** What the presigned URL says. The authenticator ignores it and accepts the token 15 minutes. */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** How long EKS accepts a token after it was signed. */
export const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Credentials, or a function that returns current ones (the AWS SDK's credential providers are such functions). */
export type CredentialSource = AwsCredentials | (() => Promise<AwsCredentials>);

export interface EksTokenRequest {
  clusterName: string;
  region: string;
  credentials: CredentialSource;
  /** Default: stsEndpointFor(region), which honours AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL. */
  stsEndpoint?: string;
  /** The signing time; default now. */
  now?: Date;
}

export interface EksToken {
  token: string;
  /** When the cluster stops accepting the token: 15 minutes after signing. */
  expiresAt: Date;
}

/** Returns a token whose expiry is still ahead; callers decide when to ask for a new one. */
export type EksTokenSource = () => Promise<EksToken>;

/**
 * The STS endpoint, chosen as the AWS SDK chooses it for an STS client: AWS_ENDPOINT_URL_STS, then
 * AWS_ENDPOINT_URL (both ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), then the
 * region's public endpoint.
 */
export function stsEndpointFor(region: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() !== "true") {
    const configured = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
    if (configured) return configured;
  }
  const suffix = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://sts.${region}.${suffix}`;
}

/** The credential chain the SDK clients of src/cloud/aws use (environment, profile, IRSA, Pod Identity, ...). */
export function defaultAwsCredentials(): () => Promise<AwsCredentials> {
  return defaultProvider();
}

export async function eksBearerToken(request: EksTokenRequest): Promise<EksToken> {
  const { clusterName, region } = request;
  if (clusterName === "") throw new Error("an EKS token needs a cluster name");
  const endpoint = new URL(request.stsEndpoint ?? stsEndpointFor(region));
  const signingDate = request.now ?? new Date();
  const credentials = typeof request.credentials === "function" ? await request.credentials() : request.credentials;
  const signer = new SignatureV4({ service: "sts", region, credentials, sha256: Sha256, uriEscapePath: true });
  const unsigned = new HttpRequest({
    method: "GET",
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path: endpoint.pathname === "" ? "/" : endpoint.pathname,
    query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
    // The host header is what the client will send, port included when it is not the default.
    headers: { host: endpoint.host, [CLUSTER_ID_HEADER]: clusterName },
  });
  const signed = await signer.presign(unsigned, { signingDate, expiresIn: PRESIGN_EXPIRES_SECONDS });
  const url = new URL(endpoint.origin);
  url.pathname = signed.path;
  for (const [key, value] of Object.entries(signed.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== null) url.searchParams.append(key, item);
  }
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url.toString(), "utf8").toString("base64url"),
    expiresAt: new Date(signingDate.getTime() + EKS_TOKEN_LIFETIME_MS),
  };
}

/**
 * A token source for one cluster that signs with current credentials each time it is asked;
 * credentials default to the SDK's chain and the STS endpoint to stsEndpointFor(region).
 */
export function eksTokenSource(options: {
  clusterName: string;
  region: string;
  credentials?: CredentialSource;
  stsEndpoint?: string;
}): EksTokenSource {
  const credentials = options.credentials ?? defaultAwsCredentials();
  return () =>
    eksBearerToken({
      clusterName: options.clusterName,
      region: options.region,
      credentials,
      ...(options.stsEndpoint ? { stsEndpoint: options.stsEndpoint } : {}),
    });
}
