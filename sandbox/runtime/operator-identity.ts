// The operator's own identity in the sandbox: the ServiceAccount, roles and bindings of
// config/rbac, applied from the shipped YAML files, and a kubeconfig carrying a token for that
// ServiceAccount (TokenRequest API). The operator run by the tests and the demo uses it instead of
// the sandbox administrator, so every request it makes is authorized by the manifests users install.
//
// TokenRequest needs only kube-apiserver: --service-account-issuer and
// --service-account-signing-key-file (components.ts) let it sign tokens, and it checks the
// ServiceAccount exists. The controller manager's token controller (legacy Secret tokens) plays
// no part.
import * as k8s from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { apiServerCertificate, layoutOf } from "./components.js";
import { repoRoot } from "./config.js";
import { writeKubeconfig } from "./credentials.js";
import type { SandboxEnv } from "./env.js";
import { waitUntil } from "./http.js";
import { kubeConfigOf } from "./seeding.js";

export const OPERATOR_NAMESPACE = "eks-upgrade-system";
export const OPERATOR_SERVICE_ACCOUNT = "eks-upgrade-operator";
/** The user name the API server gives requests made with the ServiceAccount's tokens. */
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;
/** The Role and RoleBinding that let the operator read Secrets in one namespace. */
export const SECRET_READER = "eks-upgrade-operator-secret-reader";

const rbacDirectory = join(repoRoot, "config", "rbac");
const fieldManager = "eksup-sandbox";

export interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface ManifestObject extends k8s.KubernetesObject {
  metadata: k8s.V1ObjectMeta & { name: string };
  rules?: RbacRule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/** Every object config/rbac/kustomization.yaml lists, read from its files. */
export function rbacManifests(directory: string = rbacDirectory): ManifestObject[] {
  const kustomization = parse(readFileSync(join(directory, "kustomization.yaml"), "utf8")) as { resources: string[] };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(directory, file), "utf8"))
      .map((document) => document.toJS() as ManifestObject | null)
      .filter((object): object is ManifestObject => object !== null),
  );
}

/**
 * The secret reader Role and RoleBinding moved to `namespace`: what docs/install.md asks users to
 * create in every namespace that holds ClusterUpgrades.
 */
export function secretReaderFor(namespace: string, manifests: ManifestObject[] = rbacManifests()): ManifestObject[] {
  const objects = manifests.filter((object) => (object.kind === "Role" || object.kind === "RoleBinding") && object.metadata.name === SECRET_READER);
  if (objects.length !== 2) throw new Error(`config/rbac should hold the Role and RoleBinding ${SECRET_READER}; found ${objects.length} object(s)`);
  return objects.map((object) => ({ ...structuredClone(object), metadata: { ...structuredClone(object.metadata), namespace } }));
}

function bindsOperator(binding: ManifestObject): boolean {
  return (binding.subjects ?? []).some(
    (subject) => subject.kind === "ServiceAccount" && subject.name === OPERATOR_SERVICE_ACCOUNT && subject.namespace === OPERATOR_NAMESPACE,
  );
}

export interface OperatorGrant {
  /** Namespace the rule applies in; undefined for a ClusterRole bound cluster-wide. */
  namespace: string | undefined;
  rule: RbacRule;
}

/** The rules the objects grant the operator's ServiceAccount, each with where it applies. */
export function operatorGrants(objects: ManifestObject[]): OperatorGrant[] {
  const roleKey = (kind: string, name: string, namespace: string | undefined): string => `${kind}/${namespace ?? ""}/${name}`;
  const roles = new Map<string, ManifestObject>();
  for (const role of objects.filter((object) => object.kind === "Role" || object.kind === "ClusterRole")) {
    roles.set(roleKey(role.kind ?? "", role.metadata.name, role.kind === "Role" ? role.metadata.namespace : undefined), role);
  }
  const grants: OperatorGrant[] = [];
  for (const binding of objects.filter((object) => (object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding") && bindsOperator(object))) {
    const namespace = binding.kind === "RoleBinding" ? binding.metadata.namespace : undefined;
    const ref = binding.roleRef!;
    const role = roles.get(roleKey(ref.kind, ref.name, ref.kind === "Role" ? namespace : undefined));
    if (!role) throw new Error(`${binding.kind} ${binding.metadata.name} refers to ${ref.kind} ${ref.name}, which config/rbac does not hold`);
    for (const rule of role.rules ?? []) grants.push({ namespace, rule });
  }
  return grants;
}

async function applyObject(client: k8s.KubernetesObjectApi, object: ManifestObject): Promise<void> {
  try {
    await client.patch(object, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply);
  } catch (error) {
    throw new Error(`applying ${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata.name}: ${(error as Error).message}`, { cause: error });
  }
}

async function ensureNamespace(core: k8s.CoreV1Api, name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
}

/**
 * Waits until the API server's authorizer sees every grant: RBAC objects reach its cache a moment
 * after they are written, and an operator started before would be refused its first requests.
 */
async function waitUntilAuthorized(kubeConfig: k8s.KubeConfig, grants: OperatorGrant[], timeoutMs: number): Promise<void> {
  const api = kubeConfig.makeApiClient(k8s.AuthorizationV1Api);
  const checks = grants.flatMap(({ namespace, rule }) =>
    (rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).map((full) => {
        const [resource, subresource] = full.split("/");
        return { namespace, verb: rule.verbs[0], group, resource, subresource, name: rule.resourceNames?.[0] };
      }),
    ),
  );
  let refused: string[] = [];
  try {
    await waitUntil(
      "the operator's grants to reach the authorizer",
      async () => {
        const answers = await Promise.all(
          checks.map(async (attributes) => {
            const review = await api.createSubjectAccessReview({
              body: { spec: { user: OPERATOR_USER, groups: ["system:serviceaccounts", `system:serviceaccounts:${OPERATOR_NAMESPACE}`, "system:authenticated"], resourceAttributes: attributes } },
            });
            return review.status?.allowed ? undefined : `${attributes.verb} ${attributes.group}/${attributes.resource}${attributes.subresource ? `/${attributes.subresource}` : ""} in ${attributes.namespace ?? "all namespaces"}`;
          }),
        );
        refused = answers.filter((answer): answer is string => answer !== undefined);
        return refused.length === 0;
      },
      { timeoutMs, intervalMs: 200 },
    );
  } catch (error) {
    throw new Error(`the operator's ServiceAccount is still refused: ${refused.join("; ")}`, { cause: error });
  }
}

export interface OperatorIdentityOptions {
  /** Namespaces that hold ClusterUpgrades besides eks-upgrade-system: each gets the secret reader Role and RoleBinding. */
  secretNamespaces?: string[];
  /** Lifetime of the token; default two hours, longer than any test or demo. */
  tokenSeconds?: number;
}

/**
 * Applies config/rbac to the sandbox (again: a reset deletes eks-upgrade-system and with it the
 * ServiceAccount and its namespaced grants), mints a token for the ServiceAccount and writes a
 * kubeconfig with it. Returns the kubeconfig's path.
 */
export async function installOperatorIdentity(env: SandboxEnv, options: OperatorIdentityOptions = {}): Promise<string> {
  const kubeConfig = kubeConfigOf(env);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  const manifests = rbacManifests();
  const extra = [...new Set(options.secretNamespaces ?? [])].filter((namespace) => namespace !== OPERATOR_NAMESPACE);
  const wanted = [...manifests, ...extra.flatMap((namespace) => secretReaderFor(namespace, manifests))];
  for (const namespace of new Set([OPERATOR_NAMESPACE, ...extra])) await ensureNamespace(core, namespace);
  for (const object of wanted) await applyObject(objects, object);
  await waitUntilAuthorized(kubeConfig, operatorGrants(wanted), 30_000);

  const request = await core.createNamespacedServiceAccountToken({
    name: OPERATOR_SERVICE_ACCOUNT,
    namespace: OPERATOR_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: options.tokenSeconds ?? 2 * 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`the TokenRequest for ${OPERATOR_USER} returned no token`);
  const layout = layoutOf(env.dir);
  const path = join(layout.kubeconfigDir, "operator.yaml");
  writeKubeconfig(path, env.apiServerUrl, readFileSync(apiServerCertificate(layout), "utf8"), { name: "operator", user: OPERATOR_USER, groups: [], token });
  return path;
}
