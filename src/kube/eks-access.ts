// Access to an EKS cluster's API server with EKS bearer tokens instead of a kubeconfig Secret: how
// the operator reaches a cluster it created itself, whose creator EKS makes an administrator.
import type { OutgoingHttpHeaders } from "node:http";
import * as k8s from "@kubernetes/client-node";
import type { EksToken, EksTokenSource } from "../cloud/aws/eks-token.js";
import { CancellableKubeConfig } from "./cancellable-kubeconfig.js";
import { KubeWorkloadReader, type ClusterAccess } from "./workloads.js";

/** A token is replaced once fewer than this many milliseconds of its life remain. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/** The name under which the kubeconfig's user asks for the authenticator below. */
const AUTH_PROVIDER_NAME = "eks-bearer-token";

export interface EksClusterEndpoint {
  /** Used in the kubeconfig's names only. */
  name: string;
  /** The API server URL, as DescribeCluster reports it (cluster.endpoint). */
  endpoint: string;
  /** The cluster CA bundle, base64, as DescribeCluster reports it (cluster.certificateAuthority.data). */
  certificateAuthorityData: string;
}

/**
 * Keeps one token and hands it out until fewer than `refreshMarginMs` of its life remain; callers
 * asking while a new one is being made share that one.
 */
export function refreshingToken(
  source: EksTokenSource,
  options: { refreshMarginMs?: number; now?: () => number } = {},
): () => Promise<string> {
  const margin = options.refreshMarginMs ?? TOKEN_REFRESH_MARGIN_MS;
  const now = options.now ?? Date.now;
  let current: EksToken | undefined;
  let pending: Promise<EksToken> | undefined;
  return async () => {
    if (current && current.expiresAt.getTime() - now() >= margin) return current.token;
    pending ??= source().finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current.token;
  };
}

/** A KubeConfig for the cluster whose every request carries a token of `tokens`. */
export function eksKubeConfig(cluster: EksClusterEndpoint, tokens: EksTokenSource): k8s.KubeConfig {
  if (!cluster.endpoint) throw new Error(`EKS cluster ${cluster.name} reports no API server endpoint yet`);
  if (!cluster.certificateAuthorityData) throw new Error(`EKS cluster ${cluster.name} reports no certificate authority yet`);
  const token = refreshingToken(tokens);
  const kubeConfig = new CancellableKubeConfig();
  // Asked before every request, by the generated API clients and by watches alike.
  kubeConfig.addAuthenticator({
    isAuthProvider: (user: k8s.User) => (user.authProvider as { name?: string } | undefined)?.name === AUTH_PROVIDER_NAME,
    applyAuthentication: async (_user: k8s.User, opts: { headers?: OutgoingHttpHeaders }) => {
      opts.headers = { ...opts.headers, Authorization: `Bearer ${await token()}` };
    },
  });
  const userName = `eks-token@${cluster.name}`;
  kubeConfig.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.endpoint, caData: cluster.certificateAuthorityData, skipTLSVerify: false }],
    users: [{ name: userName, authProvider: { name: AUTH_PROVIDER_NAME, config: {} } }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: userName }],
    currentContext: cluster.name,
  });
  return kubeConfig;
}

/** The reader (and node operations) for an EKS cluster reached with EKS tokens. */
export function eksClusterAccess(cluster: EksClusterEndpoint, tokens: EksTokenSource): ClusterAccess {
  return new KubeWorkloadReader(eksKubeConfig(cluster, tokens));
}
