// The pieces of the sandbox suite's least-privilege check that need no sandbox: reading config/rbac
// as the operator's ServiceAccount sees it, and comparing audit events with its grants.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { operatorGrants, OPERATOR_USER, rbacManifests, secretReaderFor } from "../../../sandbox/runtime/index.js";
import {
  auditLogFiles,
  comparePermissionUse,
  grantedKeys,
  NOT_EXERCISED_IN_SANDBOX,
  operatorRequests,
  permissionFailure,
  sandboxSpecFiles,
  type AuditEvent,
} from "../../support/audit.js";

let sequence = 0;
function request(verb: string, resource: string, options: { group?: string; subresource?: string; namespace?: string; code?: number; user?: string } = {}): AuditEvent {
  return {
    auditID: `id-${++sequence}`,
    stage: "ResponseComplete",
    verb,
    requestURI: `/x/${resource}`,
    user: { username: options.user ?? OPERATOR_USER },
    objectRef: { resource, subresource: options.subresource, apiGroup: options.group, namespace: options.namespace },
    responseStatus: { code: options.code ?? 200 },
    stageTimestamp: new Date().toISOString(),
  };
}

describe("least privilege: config/rbac as the operator's ServiceAccount holds it", () => {
  it("collects the grants of every role bound to the ServiceAccount, and none of the roles meant for people", () => {
    const keys = grantedKeys();
    assert.ok(keys.has("/pods/eviction create"));
    assert.ok(keys.has("coordination.k8s.io/leases update"));
    assert.ok(keys.has("/secrets get"));
    assert.ok(!keys.has("eksupgrade.io/clusterupgrades create"), "the editor role is not the operator's");
    assert.ok(!keys.has("eksupgrade.io/clusterupgrades/status get"), "the viewer role is not the operator's");
  });

  it("grants Secrets only through namespaced RoleBindings", () => {
    const secretGrants = operatorGrants(rbacManifests()).filter(({ rule }) => rule.resources?.includes("secrets"));
    assert.deepEqual(secretGrants.map(({ namespace }) => namespace), ["eks-upgrade-system"]);
  });

  it("moves the secret reader Role and RoleBinding to another namespace as the docs describe", () => {
    const objects = secretReaderFor("payments");
    assert.deepEqual(objects.map((object) => `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`).sort(), [
      "Role payments/eks-upgrade-operator-secret-reader",
      "RoleBinding payments/eks-upgrade-operator-secret-reader",
    ]);
    const grants = operatorGrants(objects);
    assert.deepEqual(grants, [{ namespace: "payments", rule: { apiGroups: [""], resources: ["secrets"], verbs: ["get"] } }]);
    // The shipped objects are left as they are.
    assert.ok(rbacManifests().filter((object) => object.metadata.name === "eks-upgrade-operator-secret-reader").every((object) => object.metadata.namespace === "eks-upgrade-system"));
  });

  it("keeps every allowance for an unexercised grant on an actual grant", () => {
    const keys = grantedKeys();
    for (const key of Object.keys(NOT_EXERCISED_IN_SANDBOX)) assert.ok(keys.has(key), `${key} is allowed unexercised but not granted`);
  });
});

describe("least privilege: comparing audit events with the grants", () => {
  const granted = new Set(["/pods list", "/pods/eviction create", "/nodes patch", "/pods delete"]);

  it("passes when the operator used exactly what it is granted (allowance aside)", () => {
    const audit = comparePermissionUse([request("list", "pods"), request("create", "pods", { subresource: "eviction" }), request("patch", "nodes")], granted, {
      judgeUnused: true,
      allowance: { "/pods delete": "not exercised" },
    });
    assert.deepEqual(audit.usedNotGranted, []);
    assert.deepEqual(audit.grantedNotUsed, []);
    assert.equal(permissionFailure(audit, granted, "audit.log"), undefined);
  });

  it("fails on a request not granted and on a refused one, whatever part of the suite ran", () => {
    const audit = comparePermissionUse([request("list", "pods"), request("get", "secrets", { namespace: "shop", code: 403 })], granted, { judgeUnused: false, allowance: {} });
    assert.deepEqual(audit.usedNotGranted, ["/secrets get"]);
    assert.deepEqual(audit.denied, ["/secrets get in shop (1x)"]);
    assert.equal(audit.grantedNotUsed, undefined, "unused grants are not judged on part of the suite");
    const failure = permissionFailure(audit, granted, "audit.log");
    assert.ok(failure);
    assert.match(failure.message, /used but not granted by config\/rbac[^\n]*\n\s+\/secrets get/);
    assert.match(failure.message, /refused by the API server \(403\):\n\s+\/secrets get in shop \(1x\)/);
  });

  it("fails on a grant never used when the whole suite ran, with a diff of used against granted", () => {
    const audit = comparePermissionUse([request("list", "pods")], granted, { judgeUnused: true, allowance: { "/pods delete": "not exercised" } });
    assert.deepEqual(audit.grantedNotUsed, ["/nodes patch", "/pods/eviction create"]);
    const failure = permissionFailure(audit, granted, "audit.log");
    assert.match(failure?.message ?? "", /never used by the whole sandbox suite[^\n]*\n\s+\/nodes patch\n\s+\/pods\/eviction create/);
    assert.deepEqual(failure?.expected, [...granted].sort());
  });

  it("counts a refused discovery request but not a granted one", () => {
    const discovery = (code: number): AuditEvent => ({ ...request("get", "x"), objectRef: undefined, requestURI: "/version", responseStatus: { code } });
    assert.deepEqual(comparePermissionUse([discovery(200)], granted, { judgeUnused: false }).denied, []);
    assert.deepEqual(comparePermissionUse([discovery(403)], granted, { judgeUnused: false }).denied, ["get /version (1x)"]);
  });

  it("reads the operator's requests from the audit log and its rotated files, one per request, since the run began", () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-"));
    try {
      const old = { ...request("list", "nodes"), stageTimestamp: "2020-01-01T00:00:00Z" };
      const watch = request("watch", "clusterupgrades", { group: "eksupgrade.io" });
      const other = request("delete", "pods", { user: "sandbox-admin" });
      writeFileSync(join(dir, "audit-2026-01-01T00-00-00.000.log"), `${JSON.stringify(old)}\n${JSON.stringify({ ...watch, stage: "ResponseStarted" })}\n`);
      writeFileSync(join(dir, "audit.log"), `${JSON.stringify(watch)}\n${JSON.stringify(other)}\n\n`);
      writeFileSync(join(dir, "kube-apiserver.log"), "not an audit log\n");
      const files = auditLogFiles(dir);
      assert.equal(files.length, 2);
      const requests = operatorRequests(files, Date.parse("2021-01-01T00:00:00Z"));
      assert.deepEqual(requests.map((event) => `${event.verb} ${event.stage}`), ["watch ResponseComplete"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("knows the sandbox suite's spec files from .mocharc.sandbox.json", () => {
    const files = sandboxSpecFiles();
    assert.ok(files.includes("test/e2e/node-roll.test.ts"));
    assert.ok(files.includes("test/integration/runtime/leader-election.test.ts"));
    assert.ok(files.every((file) => file.endsWith(".test.ts") && !file.startsWith("test/unit/")));
  });
});
