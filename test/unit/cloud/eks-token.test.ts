import assert from "node:assert/strict";
import {
  EKS_TOKEN_LIFETIME_MS,
  eksBearerToken,
  eksTokenSource,
  stsEndpointFor,
  type EksTokenRequest,
} from "../../../src/cloud/aws/eks-token.js";
import { presignedSignature } from "../../../sandbox/eks-emulator/token-review.js";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const signedAt = new Date("2025-03-04T05:06:07Z");

function request(overrides: Partial<EksTokenRequest> = {}): EksTokenRequest {
  return { clusterName: "green", region: "eu-west-1", credentials, stsEndpoint: "https://sts.eu-west-1.amazonaws.com", now: signedAt, ...overrides };
}

function decode(token: string): URL {
  assert.ok(token.startsWith("k8s-aws-v1."), token);
  const encoded = token.slice("k8s-aws-v1.".length);
  assert.match(encoded, /^[A-Za-z0-9_-]+$/, "base64url without padding");
  return new URL(Buffer.from(encoded, "base64url").toString("utf8"));
}

describe("eksBearerToken", () => {
  it("is a presigned STS GetCallerIdentity URL bound to the cluster", async () => {
    const { token, expiresAt } = await eksBearerToken(request());
    const url = decode(token);
    const query = url.searchParams;
    assert.equal(url.origin, "https://sts.eu-west-1.amazonaws.com");
    assert.equal(url.pathname, "/");
    assert.equal(query.get("Action"), "GetCallerIdentity");
    assert.equal(query.get("Version"), "2011-06-15");
    assert.equal(query.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    assert.equal(query.get("X-Amz-Expires"), "60");
    assert.equal(query.get("X-Amz-Date"), "20250304T050607Z");
    assert.deepEqual(query.get("X-Amz-SignedHeaders")?.split(";"), ["host", "x-k8s-aws-id"]);
    assert.equal(query.get("X-Amz-Credential"), "AKIDEXAMPLE/20250304/eu-west-1/sts/aws4_request");
    assert.match(query.get("X-Amz-Signature") ?? "", /^[0-9a-f]{64}$/);
    assert.equal(query.get("X-Amz-Security-Token"), null);
    assert.equal(expiresAt.getTime(), signedAt.getTime() + EKS_TOKEN_LIFETIME_MS);
  });

  it("carries a signature an independent SigV4 implementation agrees with, for its cluster only", async () => {
    const url = decode((await eksBearerToken(request())).token);
    const signature = url.searchParams.get("X-Amz-Signature");
    assert.equal(presignedSignature(url, "green", credentials.secretAccessKey), signature);
    assert.notEqual(presignedSignature(url, "blue", credentials.secretAccessKey), signature);
    assert.notEqual(presignedSignature(url, "green", "another-secret"), signature);
  });

  it("gives different signatures for different cluster names", async () => {
    const green = decode((await eksBearerToken(request({ clusterName: "green" }))).token);
    const blue = decode((await eksBearerToken(request({ clusterName: "blue" }))).token);
    assert.notEqual(green.searchParams.get("X-Amz-Signature"), blue.searchParams.get("X-Amz-Signature"));
    const withoutSignature = (url: URL): string => {
      const copy = new URL(url);
      copy.searchParams.delete("X-Amz-Signature");
      return copy.toString();
    };
    assert.equal(withoutSignature(green), withoutSignature(blue), "the name is in the signature, not in the URL");
  });

  it("carries a session token and signs it", async () => {
    const sessionToken = "FwoGZXIvYXdzE+/session=token";
    const url = decode((await eksBearerToken(request({ credentials: { ...credentials, sessionToken } }))).token);
    assert.equal(url.searchParams.get("X-Amz-Security-Token"), sessionToken);
    assert.equal(presignedSignature(url, "green", credentials.secretAccessKey), url.searchParams.get("X-Amz-Signature"));
  });

  it("asks a credential provider each time and keeps the endpoint's port", async () => {
    let asked = 0;
    const provider = (): Promise<typeof credentials> => {
      asked += 1;
      return Promise.resolve(credentials);
    };
    const url = decode((await eksBearerToken(request({ credentials: provider, stsEndpoint: "http://127.0.0.1:15000" }))).token);
    assert.equal(url.host, "127.0.0.1:15000");
    assert.equal(presignedSignature(url, "green", credentials.secretAccessKey), url.searchParams.get("X-Amz-Signature"));
    const source = eksTokenSource({ clusterName: "green", region: "eu-west-1", credentials: provider, stsEndpoint: "http://127.0.0.1:15000" });
    await source();
    assert.equal(asked, 2);
  });
});

describe("stsEndpointFor", () => {
  it("prefers AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, then the regional endpoint", () => {
    assert.equal(stsEndpointFor("us-east-1", {}), "https://sts.us-east-1.amazonaws.com");
    assert.equal(stsEndpointFor("cn-north-1", {}), "https://sts.cn-north-1.amazonaws.com.cn");
    assert.equal(stsEndpointFor("us-east-1", { AWS_ENDPOINT_URL: "http://127.0.0.1:15000" }), "http://127.0.0.1:15000");
    assert.equal(
      stsEndpointFor("us-east-1", { AWS_ENDPOINT_URL: "http://127.0.0.1:15000", AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9000" }),
      "http://127.0.0.1:9000",
    );
    assert.equal(
      stsEndpointFor("us-east-1", { AWS_ENDPOINT_URL: "http://127.0.0.1:15000", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }),
      "https://sts.us-east-1.amazonaws.com",
    );
  });
});
