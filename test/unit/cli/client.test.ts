// The plugin reads the kubeconfig as kubectl does: --kubeconfig, --context, and the namespace from
// -n, then the context, then "default".
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadKubeConfig, resolveNamespace } from "../../../src/cli/kubectl-eksupgrade/client.js";

function kubeconfigFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), "eksup-cli-")), "config");
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "mgmt", cluster: { server: "https://127.0.0.1:6443" } }],
      users: [{ name: "me", user: { token: "t" } }],
      contexts: [
        { name: "upgrades", context: { cluster: "mgmt", user: "me", namespace: "eks-upgrade-system" } },
        { name: "plain", context: { cluster: "mgmt", user: "me" } },
      ],
      "current-context": "upgrades",
    }),
  );
  return path;
}

describe("kubectl eksupgrade kubeconfig", () => {
  it("takes the namespace from -n, then the context, then default", () => {
    const path = kubeconfigFile();
    assert.equal(resolveNamespace(loadKubeConfig({ kubeconfig: path }), undefined), "eks-upgrade-system");
    assert.equal(resolveNamespace(loadKubeConfig({ kubeconfig: path }), "team-a"), "team-a");
    assert.equal(resolveNamespace(loadKubeConfig({ kubeconfig: path, context: "plain" }), undefined), "default");
  });

  it("refuses a context the kubeconfig does not have, naming it", () => {
    assert.throws(() => loadKubeConfig({ kubeconfig: kubeconfigFile(), context: "prod" }), /context "prod" is not in the kubeconfig/);
  });

  it("says which kubeconfig it could not read", () => {
    assert.throws(() => loadKubeConfig({ kubeconfig: "/nonexistent/config" }), /reading the kubeconfig \/nonexistent\/config: /);
  });
});
