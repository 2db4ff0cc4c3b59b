// The Kubernetes permissions the operator needs, written down once, and a comparison of RBAC rules
// against them. Anything granted beyond this list breaks least privilege; anything missing breaks
// the operator.

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** "group/resource" (core group: "/resource") to verbs. */
export type Permissions = Record<string, readonly string[]>;

/** Granted cluster-wide: the operator acts on objects in any namespace and on nodes. */
export const CLUSTER_PERMISSIONS: Permissions = {
  // The API it serves: listed, watched, read afresh per reconcile; finalizer by patch.
  "eksupgrade.io/clusterupgrades": ["get", "list", "watch", "patch"],
  "eksupgrade.io/clusterupgrades/status": ["patch"],
  // Events on transitions; a repeat bumps the count by patch.
  "/events": ["create", "patch"],
  // Cordon and uncordon, and the annotation marking nodes this operator cordoned.
  "/nodes": ["list", "patch"],
  // Drain: list pods on a node, evict them, delete only when spec.drain allows it.
  "/pods": ["list", "delete"],
  "/pods/eviction": ["create"],
  // The claim identity: the kube-system namespace's UID, read once at start-up (by name).
  "/namespaces": ["get"],
  // Preflight and drain explain blocked evictions; the drain watches budgets to retry evictions the
  // moment one allows it; budgets are never changed.
  "policy/poddisruptionbudgets": ["list", "watch"],
  // Preflight (workload shapes) and blue/green verification.
  "apps/deployments": ["list"],
  "apps/statefulsets": ["list"],
  "apps/daemonsets": ["list"],
  "apps/replicasets": ["list"],
  // Karpenter: NodePools read by the preflight (404 without Karpenter) and by the drift roll, with
  // their NodeClaims; one template annotation set and put back; on AWS, the EC2NodeClass's AMI alias
  // pinned and put back.
  "karpenter.sh/nodepools": ["list", "patch"],
  "karpenter.sh/nodeclaims": ["list"],
  "karpenter.k8s.aws/ec2nodeclasses": ["get", "patch"],
};

/** Granted only in the operator's own namespace, on the named objects. */
export const NAMESPACE_PERMISSIONS: Permissions = {
  // Leader election between replicas.
  "coordination.k8s.io/leases": ["get", "create", "update"],
  // The global stop switch ConfigMap, through an informer.
  "/configmaps": ["list", "watch"],
};

/** Granted per namespace that holds ClusterUpgrades: the Secrets a ClusterUpgrade names, by name. */
export const SECRET_PERMISSIONS: Permissions = {
  "/secrets": ["get"],
};

export interface PermissionReport {
  wildcards: string[];
  excess: string[];
  missing: string[];
}

/** Every (group/resource, verb) pair the rules grant, e.g. "/pods/eviction create". */
export function grantsOf(rules: readonly PolicyRule[]): Set<string> {
  const grants = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        for (const verb of rule.verbs ?? []) grants.add(`${group}/${resource} ${verb}`);
      }
    }
  }
  return grants;
}

function expectedGrants(permissions: Permissions): Set<string> {
  return new Set(Object.entries(permissions).flatMap(([resource, verbs]) => verbs.map((verb) => `${resource} ${verb}`)));
}

export function comparePermissions(rules: readonly PolicyRule[], permissions: Permissions): PermissionReport {
  const wildcards = rules.flatMap((rule, index) => {
    const fields = [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.verbs ?? [])];
    const problems = fields.filter((field) => field.includes("*")).map((field) => `rule ${index}: wildcard ${JSON.stringify(field)}`);
    if (rule.nonResourceURLs?.length) problems.push(`rule ${index}: non-resource URLs ${rule.nonResourceURLs.join(", ")}`);
    return problems;
  });
  const granted = grantsOf(rules);
  const expected = expectedGrants(permissions);
  return {
    wildcards,
    excess: [...granted].filter((grant) => !expected.has(grant)).sort(),
    missing: [...expected].filter((grant) => !granted.has(grant)).sort(),
  };
}
