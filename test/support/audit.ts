// Least privilege, measured: what the operator's ServiceAccount did in the sandbox (kube-apiserver's
// audit log) against what config/rbac grants it. Used by the root hook of the sandbox suite
// (global-sandbox.ts) after every test has run.
//
// Always judged: a request the manifests do not grant, and any request the API server refused
// (403). Judged only when the whole sandbox suite ran: a grant no request used, since a single test
// file exercises only part of the operator.
import { AssertionError } from "node:assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { operatorGrants, OPERATOR_USER, rbacManifests, type ManifestObject } from "../../sandbox/runtime/index.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Grants the operator needs that no sandbox test exercises, each with the reason. Keep it empty if
 * at all possible: every entry is a permission the suite cannot prove is needed. (Pod deletion past
 * the drain timeout and the count bump of a repeated Event, which no end-to-end scenario causes, are exercised with the
 * operator's rights by test/integration/runtime/kube-writes.test.ts instead.)
 */
export const NOT_EXERCISED_IN_SANDBOX: Readonly<Record<string, string>> = {
  // The EC2NodeClass CRD ships with Karpenter's AWS provider, which the sandbox cannot run; its
  // kwok provider uses KWOKNodeClass, so the sandbox drifts NodePools through their template.
  // Unit tests cover the EC2NodeClass path (test/unit/karpenter).
  "karpenter.k8s.aws/ec2nodeclasses get": "EC2NodeClass exists only with Karpenter's AWS provider",
  "karpenter.k8s.aws/ec2nodeclasses patch": "EC2NodeClass exists only with Karpenter's AWS provider",
};

/** One request as kube-apiserver's audit log records it (level Metadata). */
export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; apiGroup?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  stageTimestamp?: string;
}

/** "group/resource[/subresource] verb", the core group written as "": "/pods/eviction create". */
export function permissionKey(group: string | undefined, resource: string, verb: string): string {
  return `${group ?? ""}/${resource} ${verb}`;
}

/** Every (group/resource, verb) the operator's ServiceAccount is granted by the given objects. */
export function grantedKeys(objects: ManifestObject[] = rbacManifests()): Set<string> {
  const keys = new Set<string>();
  for (const { rule } of operatorGrants(objects)) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        for (const verb of rule.verbs) keys.add(permissionKey(group, resource, verb));
      }
    }
  }
  return keys;
}

/** The audit log and its rotated files, oldest first. */
export function auditLogFiles(logDir: string): string[] {
  if (!existsSync(logDir)) return [];
  return readdirSync(logDir)
    .filter((name) => /^audit(-.+)?\.log$/.test(name))
    .map((name) => join(logDir, name))
    .sort((left, right) => statSync(left).mtimeMs - statSync(right).mtimeMs);
}

/** The operator's requests since `sinceMs`, one event per request (a watch logs two stages). */
export function operatorRequests(files: string[], sinceMs: number, user: string = OPERATOR_USER): AuditEvent[] {
  const byId = new Map<string, AuditEvent>();
  for (const file of files) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const event = JSON.parse(line) as AuditEvent;
      if (event.user?.username !== user) continue;
      if (event.stageTimestamp && Date.parse(event.stageTimestamp) < sinceMs) continue;
      // ResponseComplete follows ResponseStarted for the same request; either carries the code.
      byId.set(event.auditID, event);
    }
  }
  return [...byId.values()];
}

export interface PermissionAudit {
  requests: number;
  used: string[];
  usedNotGranted: string[];
  /** "verb path (n×): reason" for every refused request, grouped. */
  denied: string[];
  /** Undefined when not judged (only part of the suite ran). */
  grantedNotUsed: string[] | undefined;
}

export function comparePermissionUse(
  requests: AuditEvent[],
  granted: ReadonlySet<string>,
  options: { judgeUnused: boolean; allowance?: Readonly<Record<string, string>> },
): PermissionAudit {
  const used = new Set<string>();
  const denied = new Map<string, number>();
  for (const request of requests) {
    const ref = request.objectRef;
    // Requests without an object are discovery paths (/api, /version), which the built-in
    // system:discovery role grants every authenticated user; only a refusal of one counts.
    const key = ref?.resource ? permissionKey(ref.apiGroup, ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource, request.verb) : undefined;
    if (key) used.add(key);
    if (request.responseStatus?.code === 403) {
      const where = ref?.resource ? `${key}${ref.namespace ? ` in ${ref.namespace}` : ""}${ref.name ? ` (${ref.name})` : ""}` : `${request.verb} ${request.requestURI}`;
      denied.set(where, (denied.get(where) ?? 0) + 1);
    }
  }
  const allowance = options.allowance ?? NOT_EXERCISED_IN_SANDBOX;
  return {
    requests: requests.length,
    used: [...used].sort(),
    usedNotGranted: [...used].filter((key) => !granted.has(key)).sort(),
    denied: [...denied].map(([where, count]) => `${where} (${count}x)`).sort(),
    grantedNotUsed: options.judgeUnused ? [...granted].filter((key) => !used.has(key) && !(key in allowance)).sort() : undefined,
  };
}

/** The failure to report, or undefined when the operator used exactly what it is granted. */
export function permissionFailure(audit: PermissionAudit, granted: ReadonlySet<string>, source: string): AssertionError | undefined {
  const sections: string[] = [];
  const list = (title: string, lines: string[]): void => {
    if (lines.length > 0) sections.push(`${title}\n${lines.map((line) => `    ${line}`).join("\n")}`);
  };
  list("  used but not granted by config/rbac (refused in a real cluster):", audit.usedNotGranted);
  list("  refused by the API server (403):", audit.denied);
  list(
    "  granted by config/rbac but never used by the whole sandbox suite (remove the verb, or add it with its reason to NOT_EXERCISED_IN_SANDBOX in test/support/audit.ts):",
    audit.grantedNotUsed ?? [],
  );
  if (sections.length === 0) return undefined;
  const message = `the operator's ServiceAccount and config/rbac disagree (${audit.requests} requests in ${source}):\n${sections.join("\n")}`;
  // The diff mocha prints: what was used (plus what is allowed unexercised) against what is granted.
  if (audit.grantedNotUsed === undefined) return new AssertionError({ message });
  const allowed = Object.keys(NOT_EXERCISED_IN_SANDBOX).filter((key) => granted.has(key));
  return new AssertionError({ message, actual: [...new Set([...audit.used, ...allowed])].sort(), expected: [...granted].sort(), operator: "deepStrictEqual" });
}

/**
 * The sandbox suite's spec files, from .mocharc.sandbox.json: its patterns have the form
 * "<dir>/**\/*.test.ts", which is all this expands.
 */
export function sandboxSpecFiles(configPath: string = join(repoRoot, ".mocharc.sandbox.json")): string[] {
  const config = JSON.parse(readFileSync(configPath, "utf8")) as { spec: string[] };
  const files: string[] = [];
  for (const pattern of config.spec) {
    const match = /^(.+)\/\*\*\/\*(\.test\.ts)$/.exec(pattern);
    if (!match) throw new Error(`${configPath}: spec pattern ${pattern} is not of the form <dir>/**/*.test.ts, which test/support/audit.ts expands`);
    const walk = (directory: string): void => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        const path = join(directory, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(match[2])) files.push(relative(repoRoot, path));
      }
    };
    const base = resolve(repoRoot, match[1]);
    if (existsSync(base)) walk(base);
  }
  return files.sort();
}

/** Spec files of the suite that this run did not load; empty when the whole suite ran. */
export function specFilesNotRun(loadedFiles: Iterable<string>): string[] {
  const loaded = new Set([...loadedFiles].map((file) => relative(repoRoot, resolve(file))));
  return sandboxSpecFiles().filter((file) => !loaded.has(file));
}
