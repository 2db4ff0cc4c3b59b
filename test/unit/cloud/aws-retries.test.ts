// One retry layer for AWS: the SDK client's. A local HTTP server speaks EKS's JSON error shape so
// the whole path (client config, retry middleware, awsCall) runs as in production, and counts the
// sends each call costs.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EKSClient } from "@aws-sdk/client-eks";
import { awsCallTimeoutMs, awsClientConfig, awsMaxAttempts, awsRequestTimeoutMs, awsRetryMode, DEFAULT_AWS_MAX_ATTEMPTS } from "../../../src/cloud/aws/client-config.js";
import { AwsEks } from "../../../src/cloud/aws/eks.js";
import { isThrottling, isValidation } from "../../../src/util/errors.js";

interface Answer {
  status: number;
  type?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

interface FakeEks {
  endpoint: string;
  sends: number[];
  close(): Promise<void>;
}

/** Answers each request with the next answer; the last one repeats. Records when each send arrived. */
async function fakeEks(answers: Answer[]): Promise<FakeEks> {
  const sends: number[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const answer = answers[Math.min(sends.length, answers.length - 1)];
      sends.push(Date.now());
      res.writeHead(answer.status, {
        "content-type": "application/json",
        ...(answer.type ? { "x-amzn-errortype": answer.type } : {}),
        ...answer.headers,
      });
      res.end(JSON.stringify(answer.body ?? { message: answer.type ?? "ok" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    sends,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function eksAgainst(fake: FakeEks, env: Record<string, string>): AwsEks {
  const client = new EKSClient({
    ...awsClientConfig("eu-west-1", env),
    endpoint: fake.endpoint,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  });
  return new AwsEks(client);
}

const throttled: Answer = { status: 429, type: "ThrottlingException", body: { message: "Rate exceeded" } };

describe("AWS retries: one layer, in the SDK client", function () {
  this.timeout(30_000);
  let fake: FakeEks | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it("sends a throttled call exactly maxAttempts times, then throws a typed throttling error", async () => {
    fake = await fakeEks([throttled]);
    const error: unknown = await eksAgainst(fake, { AWS_MAX_ATTEMPTS: "3" }).describeCluster("prod").then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(isThrottling(error), String(error));
    assert.match((error as Error).message, /describing EKS cluster prod/);
    assert.equal(fake.sends.length, 3);
  });

  it("returns the answer once a retry succeeds", async () => {
    fake = await fakeEks([throttled, { status: 200, body: { cluster: { name: "prod", version: "1.33", status: "ACTIVE" } } }]);
    const cluster = await eksAgainst(fake, { AWS_MAX_ATTEMPTS: "3" }).describeCluster("prod");
    assert.equal(cluster.version, "1.33");
    assert.equal(fake.sends.length, 2);
  });

  it("does not retry a refusal", async () => {
    fake = await fakeEks([{ status: 400, type: "InvalidParameterException", body: { message: "bad name" } }]);
    const error: unknown = await eksAgainst(fake, {}).describeCluster("prod").then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(isValidation(error), String(error));
    assert.equal(fake.sends.length, 1);
  });

  it("waits at least the Retry-After a throttling answer asks for before the next send", async () => {
    // The SDK's own first throttling backoff is at most 1 s, so a gap of 3 s can only come from the header.
    fake = await fakeEks([{ ...throttled, headers: { "retry-after": "3" } }]);
    await eksAgainst(fake, { AWS_MAX_ATTEMPTS: "2" }).describeCluster("prod").catch(() => undefined);
    assert.equal(fake.sends.length, 2);
    assert.ok(fake.sends[1] - fake.sends[0] >= 3_000, `second send came ${fake.sends[1] - fake.sends[0]} ms after the first`);
  });
});

describe("AWS client configuration", () => {
  it("defaults to the standard strategy with the operator's attempts", () => {
    assert.deepEqual(awsClientConfig("us-east-1", {}), {
      region: "us-east-1",
      maxAttempts: DEFAULT_AWS_MAX_ATTEMPTS,
      retryMode: "standard",
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 20_000, throwOnRequestTimeout: true },
    });
    assert.equal(DEFAULT_AWS_MAX_ATTEMPTS, 5);
  });

  it("takes AWS_MAX_ATTEMPTS, AWS_RETRY_MODE and AWS_REQUEST_TIMEOUT_SECONDS from the environment", () => {
    assert.deepEqual(awsClientConfig("us-east-1", { AWS_MAX_ATTEMPTS: "8", AWS_RETRY_MODE: "adaptive", AWS_REQUEST_TIMEOUT_SECONDS: "2.5" }), {
      region: "us-east-1",
      maxAttempts: 8,
      retryMode: "adaptive",
      requestHandler: { connectionTimeout: 2_500, requestTimeout: 2_500, throwOnRequestTimeout: true },
    });
  });

  it("refuses bad values, naming the variable", () => {
    assert.throws(() => awsMaxAttempts({ AWS_MAX_ATTEMPTS: "0" }), /AWS_MAX_ATTEMPTS must be a whole number from 1 to 20.*"0"/);
    assert.throws(() => awsMaxAttempts({ AWS_MAX_ATTEMPTS: "three" }), /AWS_MAX_ATTEMPTS/);
    assert.throws(() => awsRetryMode({ AWS_RETRY_MODE: "legacy" }), /AWS_RETRY_MODE must be "standard" or "adaptive"/);
    assert.throws(() => awsRequestTimeoutMs({ AWS_REQUEST_TIMEOUT_SECONDS: "0" }), /AWS_REQUEST_TIMEOUT_SECONDS must be a number of seconds greater than 0.*"0"/);
    assert.throws(() => awsCallTimeoutMs({ AWS_CALL_TIMEOUT_SECONDS: "soon" }), /AWS_CALL_TIMEOUT_SECONDS must be a number of seconds/);
  });
});
