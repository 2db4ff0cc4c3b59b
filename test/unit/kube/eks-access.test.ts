import assert from "node:assert/strict";
import type { EksToken } from "../../../src/cloud/aws/eks-token.js";
import { eksKubeConfig, refreshingToken } from "../../../src/kube/eks-access.js";

const MINUTE = 60_000;

/** A token source that numbers its tokens, each valid 15 minutes from the fake clock's now. */
function countingSource(clock: { now: number }): { source: () => Promise<EksToken>; made: () => number } {
  let made = 0;
  return {
    source: () => {
      made += 1;
      return Promise.resolve({ token: `token-${made}`, expiresAt: new Date(clock.now + 15 * MINUTE) });
    },
    made: () => made,
  };
}

describe("refreshingToken", () => {
  it("reuses a token until fewer than 5 minutes remain", async () => {
    const clock = { now: 0 };
    const { source, made } = countingSource(clock);
    const token = refreshingToken(source, { now: () => clock.now });
    assert.equal(await token(), "token-1");
    clock.now = 10 * MINUTE - 1;
    assert.equal(await token(), "token-1");
    clock.now = 10 * MINUTE + 1;
    assert.equal(await token(), "token-2");
    assert.equal(made(), 2);
  });

  it("makes one token for callers that ask at the same time", async () => {
    const clock = { now: 0 };
    const { source, made } = countingSource(clock);
    const token = refreshingToken(source, { now: () => clock.now });
    assert.deepEqual(await Promise.all([token(), token(), token()]), ["token-1", "token-1", "token-1"]);
    assert.equal(made(), 1);
  });

  it("tries again after a failure", async () => {
    let calls = 0;
    const token = refreshingToken(() => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error("no credentials")) : Promise.resolve({ token: "t", expiresAt: new Date(Date.now() + 15 * MINUTE) });
    });
    await assert.rejects(token(), /no credentials/);
    assert.equal(await token(), "t");
  });
});

describe("eksKubeConfig", () => {
  const cluster = {
    name: "green",
    endpoint: "https://ABC.gr7.us-east-1.eks.amazonaws.com",
    certificateAuthorityData: Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64"),
  };

  it("points at the endpoint with the cluster's CA and sends a bearer token", async () => {
    let made = 0;
    const kubeConfig = eksKubeConfig(cluster, () => {
      made += 1;
      return Promise.resolve({ token: `k8s-aws-v1.token${made}`, expiresAt: new Date(Date.now() + 15 * 60_000) });
    });
    assert.equal(kubeConfig.getCurrentCluster()?.server, cluster.endpoint);
    assert.equal(kubeConfig.getCurrentCluster()?.caData, cluster.certificateAuthorityData);
    assert.equal(kubeConfig.getCurrentUser()?.token, undefined);
    const first: { headers?: Record<string, unknown>; ca?: unknown } = {};
    await kubeConfig.applyToHTTPSOptions(first);
    assert.equal(first.headers?.Authorization, "Bearer k8s-aws-v1.token1");
    assert.ok(first.ca, "the CA is applied");
    const second: { headers?: Record<string, unknown> } = {};
    await kubeConfig.applyToHTTPSOptions(second);
    assert.equal(second.headers?.Authorization, "Bearer k8s-aws-v1.token1", "a fresh token is reused");
    assert.equal(made, 1);
  });

  it("refuses a cluster without endpoint or CA", () => {
    const never = (): Promise<EksToken> => Promise.reject(new Error("not called"));
    assert.throws(() => eksKubeConfig({ ...cluster, endpoint: "" }, never), /no API server endpoint/);
    assert.throws(() => eksKubeConfig({ ...cluster, certificateAuthorityData: "" }, never), /no certificate authority/);
  });
});
