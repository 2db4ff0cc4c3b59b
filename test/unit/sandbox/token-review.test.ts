import assert from "node:assert/strict";
import { eksBearerToken } from "../../../src/cloud/aws/eks-token.js";
import { TokenReviewer } from "../../../sandbox/eks-emulator/token-review.js";

const STS = "http://127.0.0.1:15000";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const callerXml =
  '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
  "<UserId>AKIAIOSFODNN7EXAMPLE</UserId><Account>123456789012</Account><Arn>arn:aws:sts::123456789012:user/moto</Arn>" +
  "</GetCallerIdentityResult></GetCallerIdentityResponse>";

interface Seen {
  url: string;
  headers: Record<string, string>;
}

function reviewer(options: { now?: number; stsStatus?: number } = {}): { reviewer: TokenReviewer; seen: Seen[] } {
  const seen: Seen[] = [];
  const fakeFetch = (url: URL, init: RequestInit): Promise<Response> => {
    seen.push({ url: url.toString(), headers: init.headers as Record<string, string> });
    return Promise.resolve(new Response(callerXml, { status: options.stsStatus ?? 200 }));
  };
  return {
    reviewer: new TokenReviewer({
      clusterNames: () => ["blue", "green"],
      secretKeys: new Map([["testing", "testing"]]),
      stsEndpoint: STS,
      now: () => options.now ?? Date.now(),
      fetch: fakeFetch,
    }),
    seen,
  };
}

function tokenReview(token: string): Record<string, unknown> {
  return { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } };
}

async function token(clusterName: string, extra: { now?: Date; stsEndpoint?: string } = {}): Promise<string> {
  return (await eksBearerToken({ clusterName, region: "us-east-1", credentials, stsEndpoint: extra.stsEndpoint ?? STS, ...(extra.now ? { now: extra.now } : {}) })).token;
}

function reencode(original: string, change: (url: URL) => void): string {
  const url = new URL(Buffer.from(original.slice("k8s-aws-v1.".length), "base64url").toString("utf8"));
  change(url);
  return "k8s-aws-v1." + Buffer.from(url.toString()).toString("base64url");
}

describe("sandbox EKS token review", () => {
  it("authenticates a valid token as STS's caller, in system:masters, after asking STS", async () => {
    const { reviewer: subject, seen } = reviewer();
    const issued = await token("green");
    const answer = await subject.review(tokenReview(issued));
    assert.deepEqual(answer.status, {
      authenticated: true,
      user: {
        username: "arn:aws:sts::123456789012:user/moto",
        uid: "aws-iam-authenticator:123456789012:AKIAIOSFODNN7EXAMPLE",
        groups: ["system:masters"],
        extra: {
          arn: ["arn:aws:sts::123456789012:user/moto"],
          accessKeyId: ["testing"],
          "sandbox.eks-upgrade-operator.io/cluster": ["green"],
        },
      },
    });
    assert.equal(answer.kind, "TokenReview");
    assert.equal(answer.apiVersion, "authentication.k8s.io/v1");
    assert.equal(seen.length, 1);
    const presigned = new URL(Buffer.from(issued.slice("k8s-aws-v1.".length), "base64url").toString("utf8"));
    assert.equal(new URL(seen[0].url).search, presigned.search, "the same query string goes to STS");
    assert.equal(seen[0].headers["x-k8s-aws-id"], "green");
    assert.match(seen[0].headers.authorization, /^AWS4-HMAC-SHA256 Credential=testing\/\d{8}\/us-east-1\/sts\/aws4_request, /);
  });

  it("accepts tokens signed for the public STS endpoint too", async () => {
    const { reviewer: subject } = reviewer();
    const check = await subject.check(await token("blue", { stsEndpoint: "https://sts.us-east-1.amazonaws.com" }));
    assert.equal(check.ok && check.clusterName, "blue");
  });

  const refusals: [string, () => Promise<string>, RegExp][] = [
    ["an unknown cluster", () => token("purple"), /matches no cluster/],
    ["an altered token", async () => reencode(await token("green"), (url) => url.searchParams.set("X-Amz-Expires", "900")), /matches no cluster/],
    ["a token dated in the future", async () => reencode(await token("green"), (url) => url.searchParams.set("X-Amz-Date", "20990101T000000Z")), /dated in the future/],
    [
      "a token whose signature was altered",
      async () =>
        reencode(await token("green"), (url) => {
          const signature = url.searchParams.get("X-Amz-Signature") ?? "";
          url.searchParams.set("X-Amz-Signature", (signature[0] === "a" ? "b" : "a") + signature.slice(1));
        }),
      /matches no cluster/,
    ],
    ["an expired token", () => token("green", { now: new Date(Date.now() - 20 * 60_000) }), /expired/],
    ["a token without the prefix", async () => (await token("green")).slice("k8s-aws-v1.".length), /prefix/],
    ["a token that is not base64url", () => Promise.resolve("k8s-aws-v1.not+base64/"), /base64url/],
    ["another action", async () => reencode(await token("green"), (url) => url.searchParams.set("Action", "AssumeRole")), /GetCallerIdentity/],
    [
      "a cluster header left unsigned",
      async () => reencode(await token("green"), (url) => url.searchParams.set("X-Amz-SignedHeaders", "host")),
      /x-k8s-aws-id is not among the signed headers/,
    ],
    ["a token for another host", () => token("green", { stsEndpoint: "https://example.com" }), /not an STS endpoint/],
  ];
  for (const [what, make, reason] of refusals) {
    it(`refuses ${what}`, async () => {
      const { reviewer: subject, seen } = reviewer();
      const answer = await subject.review(tokenReview(await make()));
      const status = answer.status as { authenticated: boolean; error: string };
      assert.equal(status.authenticated, false);
      assert.match(status.error, reason);
      assert.equal(seen.length, 0, "STS is not asked");
    });
  }

  it("refuses a key the sandbox does not hold", async () => {
    const { reviewer: subject } = reviewer();
    const other = await eksBearerToken({ clusterName: "green", region: "us-east-1", credentials: { accessKeyId: "AKIAOTHER", secretAccessKey: "x" }, stsEndpoint: STS });
    const check = await subject.check(other.token);
    assert.ok(!check.ok && /AKIAOTHER is not the sandbox's/.test(check.reason));
  });

  it("refuses what STS refuses", async () => {
    const { reviewer: subject } = reviewer({ stsStatus: 403 });
    const check = await subject.check(await token("green"));
    assert.ok(!check.ok && /STS answered 403/.test(check.reason));
  });
});
