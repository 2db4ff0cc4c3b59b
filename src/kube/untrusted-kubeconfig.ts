// A kubeconfig read from a Secret is input written by whoever may write that Secret, not
// configuration of the operator. The client library would run a user's `exec` command or
// `auth-provider` in the operator's pod, and read `tokenFile`, `client-certificate`, `client-key`
// and `certificate-authority` paths from the operator's file system: the ServiceAccount token among
// them, sent to whatever server the kubeconfig names. So only inline credentials are accepted
// (token, client-certificate-data and client-key-data, certificate-authority-data, username and
// password), and a kubeconfig with anything else is refused before the library sees it.
import * as k8s from "@kubernetes/client-node";
import { parse } from "yaml";
import { CancellableKubeConfig } from "./cancellable-kubeconfig.js";

/** Fields that make the client run a command or read a local file, with the inline alternative. */
const USER_FIELDS: readonly { field: string; instead: string }[] = [
  { field: "exec", instead: "an inline token (a ServiceAccount token of the target cluster, or let the operator reach an EKS cluster with its own IAM identity)" },
  { field: "auth-provider", instead: "an inline token" },
  { field: "tokenFile", instead: "token with the token itself" },
  { field: "token-file", instead: "token with the token itself" },
  { field: "client-certificate", instead: "client-certificate-data (base64 PEM)" },
  { field: "client-key", instead: "client-key-data (base64 PEM)" },
];
const CLUSTER_FIELDS: readonly { field: string; instead: string }[] = [{ field: "certificate-authority", instead: "certificate-authority-data (base64 PEM)" }];

interface NamedEntry {
  name?: unknown;
  user?: Record<string, unknown>;
  cluster?: Record<string, unknown>;
}

function nameOf(entry: NamedEntry | undefined): string {
  return typeof entry?.name === "string" ? entry.name : "unnamed";
}

/** Every problem of the kubeconfig text, each naming the entry and field; empty when it is acceptable. */
export function untrustedKubeconfigProblems(text: string): string[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    return [`it is not valid YAML (${(error as Error).message.split("\n")[0]})`];
  }
  if (typeof document !== "object" || document === null) return ["it is not a kubeconfig (expected a YAML mapping with clusters, users and contexts)"];
  const config = document as { users?: NamedEntry[]; clusters?: NamedEntry[] };
  const problems: string[] = [];
  for (const [index, entry] of (Array.isArray(config.users) ? config.users : []).entries()) {
    for (const { field, instead } of USER_FIELDS) {
      if (entry?.user && field in entry.user) problems.push(`users[${index}] (${nameOf(entry)}).user.${field} is refused: use ${instead}`);
    }
  }
  for (const [index, entry] of (Array.isArray(config.clusters) ? config.clusters : []).entries()) {
    for (const { field, instead } of CLUSTER_FIELDS) {
      if (entry?.cluster && field in entry.cluster) problems.push(`clusters[${index}] (${nameOf(entry)}).cluster.${field} is refused: use ${instead}`);
    }
  }
  return problems;
}

/**
 * Loads a kubeconfig from a Secret after refusing what would run commands or read files.
 * `origin` names the Secret, key and spec field, e.g. `Secret team-a/green-kubeconfig key kubeconfig (spec.blueGreen.greenCluster.kubeconfigSecretRef)`.
 */
export function loadUntrustedKubeconfig(text: string, origin: string): k8s.KubeConfig {
  const problems = untrustedKubeconfigProblems(text);
  if (problems.length) throw new UntrustedKubeconfigError(`the kubeconfig in ${origin} is refused: ${problems.join("; ")}. The operator accepts only inline credentials in kubeconfigs read from Secrets.`);
  const config = new CancellableKubeConfig();
  config.loadFromString(text);
  return config;
}

export class UntrustedKubeconfigError extends Error {
  override readonly name = "UntrustedKubeconfigError";
}
