// Kubeconfigs read from Secrets: only inline credentials; commands and file paths are refused
// before the client library could run or read them.
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { loadUntrustedKubeconfig, untrustedKubeconfigProblems } from "../../../src/kube/untrusted-kubeconfig.js";

const ORIGIN = "Secret team-a/green-kubeconfig key kubeconfig (spec.blueGreen.greenCluster.kubeconfigSecretRef)";

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: "https://green.example.com", "certificate-authority-data": "Q0E=" }): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "green", cluster }],
    users: [{ name: "operator", user }],
    contexts: [{ name: "green", context: { cluster: "green", user: "operator" } }],
    "current-context": "green",
  });
}

describe("kubeconfigs from Secrets", () => {
  it("accepts inline credentials", () => {
    const config = loadUntrustedKubeconfig(kubeconfig({ token: "abc" }), ORIGIN);
    assert.equal(config.getCurrentCluster()?.server, "https://green.example.com");
    assert.equal(config.getCurrentUser()?.token, "abc");
    assert.deepEqual(untrustedKubeconfigProblems(kubeconfig({ "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ" })), []);
    assert.deepEqual(untrustedKubeconfigProblems(kubeconfig({ username: "admin", password: "secret" })), []);
  });

  const refused: [string, Record<string, unknown>, Record<string, unknown> | undefined, RegExp][] = [
    ["exec", { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "sh", args: ["-c", "curl evil"] } }, undefined, /users\[0\] \(operator\)\.user\.exec is refused/],
    ["auth-provider", { "auth-provider": { name: "oidc", config: {} } }, undefined, /users\[0\] \(operator\)\.user\.auth-provider is refused/],
    ["tokenFile", { tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" }, undefined, /user\.tokenFile is refused: use token with the token itself/],
    ["token-file", { "token-file": "/var/run/secrets/kubernetes.io/serviceaccount/token" }, undefined, /user\.token-file is refused/],
    ["client-certificate path", { "client-certificate": "/etc/ssl/cert.pem", "client-key-data": "S0VZ" }, undefined, /user\.client-certificate is refused: use client-certificate-data/],
    ["client-key path", { "client-certificate-data": "Q0VSVA==", "client-key": "/etc/ssl/key.pem" }, undefined, /user\.client-key is refused: use client-key-data/],
    ["certificate-authority path", { token: "abc" }, { server: "https://green.example.com", "certificate-authority": "/etc/ssl/ca.pem" }, /clusters\[0\] \(green\)\.cluster\.certificate-authority is refused: use certificate-authority-data/],
  ];

  for (const [name, user, cluster, expected] of refused) {
    it(`refuses ${name}, naming the Secret, key and field`, () => {
      assert.throws(
        () => loadUntrustedKubeconfig(kubeconfig(user, cluster), ORIGIN),
        (error: Error) => {
          assert.equal(error.name, "UntrustedKubeconfigError");
          assert.match(error.message, /^the kubeconfig in Secret team-a\/green-kubeconfig key kubeconfig \(spec\.blueGreen\.greenCluster\.kubeconfigSecretRef\) is refused: /);
          assert.match(error.message, expected);
          return true;
        },
      );
    });
  }

  it("never reads a token file while refusing it", () => {
    // A path that does not exist: the client library would throw ENOENT if it got to read it.
    assert.throws(() => loadUntrustedKubeconfig(kubeconfig({ "token-file": "/nonexistent/token" }), ORIGIN), /token-file is refused/);
  });

  it("names every problem at once, and refuses text that is no kubeconfig", () => {
    const problems = untrustedKubeconfigProblems(kubeconfig({ exec: { command: "x" }, "client-key": "/k" }, { "certificate-authority": "/ca" }));
    assert.equal(problems.length, 3);
    assert.match(untrustedKubeconfigProblems("just text")[0], /not a kubeconfig/);
    assert.match(untrustedKubeconfigProblems("a: [unclosed")[0], /not valid YAML/);
  });
});
