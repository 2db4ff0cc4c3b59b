// Timeouts, cancellation and the fence on AWS calls, through the real SDK client, its request
// handler and awsCall, against a local server that can leave requests without an answer.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { EKSClient } from "@aws-sdk/client-eks";
import { awsClientConfig } from "../../../src/cloud/aws/client-config.js";
import { AwsEks } from "../../../src/cloud/aws/eks.js";
import { CANCEL_REASONS, runWithSignal } from "../../../src/runtime/cancellation.js";
import { CancelledError, isCancelled, isTransient, TimedOutError } from "../../../src/util/errors.js";

interface HangingEks {
  endpoint: string;
  /** "METHOD path" of every request received. */
  requests: string[];
  /** Resolves when the n-th request (1-based) has arrived. */
  arrived(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Never answers; every request stays open until the client gives up. */
async function hangingEks(): Promise<HangingEks> {
  const requests: string[] = [];
  const open = new Set<ServerResponse>();
  let waiters: Array<{ count: number; resolve: () => void }> = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url?.split("?")[0]}`);
    open.add(res);
    req.resume();
    waiters = waiters.filter((waiter) => (requests.length >= waiter.count ? (waiter.resolve(), false) : true));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    arrived: (count) => (requests.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function eksAgainst(fake: HangingEks, env: Record<string, string>): AwsEks {
  return new AwsEks(new EKSClient({ ...awsClientConfig("eu-west-1", env), endpoint: fake.endpoint, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } }));
}

/** Runs `body` with AWS_CALL_TIMEOUT_SECONDS set, which awsCall reads on each call. */
async function withCallTimeout<T>(seconds: string, body: () => Promise<T>): Promise<T> {
  const before = process.env.AWS_CALL_TIMEOUT_SECONDS;
  process.env.AWS_CALL_TIMEOUT_SECONDS = seconds;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.AWS_CALL_TIMEOUT_SECONDS;
    else process.env.AWS_CALL_TIMEOUT_SECONDS = before;
  }
}

describe("AWS call timeouts and cancellation", () => {
  let fake: HangingEks;
  beforeEach(async () => (fake = await hangingEks()));
  afterEach(() => fake.close());

  it("bounds each attempt with the request handler's timeout, then retries on a new request", async () => {
    const eks = eksAgainst(fake, { AWS_MAX_ATTEMPTS: "2", AWS_REQUEST_TIMEOUT_SECONDS: "0.3" });
    const error = await withCallTimeout("20", () => eks.describeCluster("prod").then(() => undefined, (err: unknown) => err));
    assert.equal(fake.requests.length, 2, "the hung attempt was retried once");
    assert.ok(isTransient(error), `retryable: ${String(error)}`);
    assert.match(String((error as Error).message), /^describing EKS cluster prod: .*requestTimeout/);
  });

  it("bounds the whole call, retries included, and says which call timed out after how long", async () => {
    const eks = eksAgainst(fake, { AWS_MAX_ATTEMPTS: "5", AWS_REQUEST_TIMEOUT_SECONDS: "30" });
    const started = Date.now();
    const error = await withCallTimeout("0.4", () => eks.describeCluster("prod").then(() => undefined, (err: unknown) => err));
    assert.ok(error instanceof TimedOutError, `a TimedOutError: ${String(error)}`);
    assert.equal(error.message, "describing EKS cluster prod: timed out after 0.4 s");
    assert.equal(error.retryable, true, "the work queue retries it");
    assert.ok(Date.now() - started < 5_000, "not the 30 s of the request timeout");
    assert.equal(fake.requests.length, 1);
  });

  it("aborts a hung call when the reconcile is cancelled, with the reason in the error", async () => {
    const eks = eksAgainst(fake, { AWS_REQUEST_TIMEOUT_SECONDS: "30" });
    const controller = new AbortController();
    const call = withCallTimeout("30", () => runWithSignal(controller.signal, () => eks.describeCluster("prod")).then(() => undefined, (err: unknown) => err));
    await fake.arrived(1);
    controller.abort(CANCEL_REASONS.leadershipLost());
    const error = await call;
    assert.ok(error instanceof CancelledError, `a CancelledError: ${String(error)}`);
    assert.equal(error.message, "describing EKS cluster prod: cancelled: leadership lost");
    assert.ok(isCancelled(error) && error.retryable);
    assert.deepEqual(fake.requests, ["GET /clusters/prod"], "the SDK did not retry an aborted call");
  });

  it("sends nothing once the reconcile is cancelled: the fence", async () => {
    const eks = eksAgainst(fake, {});
    const controller = new AbortController();
    controller.abort(CANCEL_REASONS.leadershipLost());
    const error = await runWithSignal(controller.signal, () => eks.startClusterVersionUpdate({ clusterName: "prod", version: "1.31", clientRequestToken: "t", force: false })).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(isCancelled(error), String(error));
    assert.match(String((error as Error).message), /cancelled: leadership lost$/);
    assert.deepEqual(fake.requests, [], "no UpdateClusterVersion left the process");
  });

  it("every AWS adapter hands the call's options to send()", () => {
    // awsCall's signal reaches the SDK only through send(command, options); a send without it
    // would have neither the call timeout nor cancellation.
    const dir = new URL("../../../src/cloud/aws/", import.meta.url);
    const offenders: string[] = [];
    for (const file of readdirSync(dir).filter((name) => name.endsWith(".ts"))) {
      const text = readFileSync(new URL(file, dir), "utf8");
      const sends = text.split("this.client.send(").length - 1;
      const withOptions = (text.match(/\(options\) =>\s*this\.client\.send\(/g) ?? []).length;
      const passed = (text.match(/options,?\s*\)/g) ?? []).length;
      if (sends !== withOptions || passed < sends) offenders.push(`${file}: ${sends} sends, ${withOptions} take options, ${passed} pass them`);
    }
    assert.deepEqual(offenders, []);
  });
});
