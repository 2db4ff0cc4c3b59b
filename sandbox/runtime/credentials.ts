// Credentials of the local control plane: a service-account signing key, static bearer tokens for
// the admin and each component, and the kubeconfig files that carry them.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

export interface Identity {
  /** Name of the kubeconfig file and of the line in the token file. */
  name: string;
  user: string;
  groups: string[];
  token: string;
}

export interface Credentials {
  serviceAccountKeyFile: string;
  serviceAccountPublicKeyFile: string;
  tokenFile: string;
  identities: Record<"admin" | "controllerManager" | "scheduler" | "kwok" | "karpenter", Identity>;
}

function newToken(): string {
  return randomBytes(24).toString("hex");
}

export function createCredentials(pkiDir: string): Credentials {
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const serviceAccountKeyFile = join(pkiDir, "service-account.key");
  const serviceAccountPublicKeyFile = join(pkiDir, "service-account.pub");
  writeFileSync(serviceAccountKeyFile, privateKey, { mode: 0o600 });
  writeFileSync(serviceAccountPublicKeyFile, publicKey);

  // The controller manager and kwok act for many controllers and kubelets at once; with
  // --use-service-account-credentials=false the simplest honest grant is system:masters.
  const identities: Credentials["identities"] = {
    admin: { name: "admin", user: "sandbox-admin", groups: ["system:masters"], token: newToken() },
    controllerManager: {
      name: "kube-controller-manager",
      user: "system:kube-controller-manager",
      groups: ["system:masters"],
      token: newToken(),
    },
    scheduler: { name: "kube-scheduler", user: "system:kube-scheduler", groups: [], token: newToken() },
    kwok: { name: "kwok", user: "sandbox-kwok", groups: ["system:masters"], token: newToken() },
    // Karpenter's chart grants it a long list of cluster-wide rights; the sandbox does not test
    // Karpenter's own permissions, only the operator's.
    karpenter: { name: "karpenter", user: "sandbox-karpenter", groups: ["system:masters"], token: newToken() },
  };
  const tokenFile = join(pkiDir, "tokens.csv");
  const lines = Object.values(identities).map(
    (identity) => `${identity.token},${identity.user},${identity.user},"${identity.groups.join(",")}"`,
  );
  writeFileSync(tokenFile, lines.join("\n") + "\n", { mode: 0o600 });
  return { serviceAccountKeyFile, serviceAccountPublicKeyFile, tokenFile, identities };
}

export function writeKubeconfig(path: string, server: string, caPem: string, identity: Identity): void {
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "sandbox",
        cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: [{ name: identity.user, user: { token: identity.token } }],
    contexts: [{ name: "sandbox", context: { cluster: "sandbox", user: identity.user } }],
    "current-context": "sandbox",
  };
  writeFileSync(path, stringify(kubeconfig), { mode: 0o600 });
}

/**
 * A webhook configuration is a kubeconfig whose cluster is the webhook. The emulator listens on
 * plain HTTP on the loopback interface, so there is neither a CA nor a client credential.
 */
export function writeTokenWebhookConfig(path: string, url: string): void {
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "eks-emulator", cluster: { server: url } }],
    users: [{ name: "kube-apiserver", user: {} }],
    contexts: [{ name: "webhook", context: { cluster: "eks-emulator", user: "kube-apiserver" } }],
    "current-context": "webhook",
  };
  writeFileSync(path, stringify(kubeconfig), { mode: 0o600 });
}
