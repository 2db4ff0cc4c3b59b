import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { ChangeResourceRecordSetsCommand, GetChangeCommand, Route53Client } from "@aws-sdk/client-route-53";
import { isThrottlingError } from "@smithy/core/retry";
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from "@smithy/types";
import {
  operationOf,
  parseFaultRates,
  serviceOf,
  startFaultProxy,
  validateFaultRates,
  type AwsService,
  type FaultProxy,
  type FaultRatesByService,
} from "../../../sandbox/faults/http-proxy.js";

/** Answers one successful call per service, the way moto and the emulator would, and counts them. */
class FakeBackend {
  readonly calls: { service: AwsService; operation: string; body: string }[] = [];
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.answer(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  count(operation: string): number {
    return this.calls.filter((call) => call.operation === operation).length;
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const service = serviceOf(request);
    const operation = operationOf(service, request.method ?? "GET", request.url ?? "/", request.headers, body);
    this.calls.push({ service, operation, body: body.toString("utf8") });
    switch (operation) {
      case "DescribeCluster":
        return sendFixed(response, "application/json", JSON.stringify({ cluster: { name: "prod", version: "1.29", status: "ACTIVE" } }));
      case "DescribeInstances": {
        // Large enough to span several TCP writes: the proxy must pass it on whole.
        const reservations = Array.from({ length: 400 }, (_, i) => `<item><reservationId>r-${i}</reservationId><ownerId>123456789012</ownerId><instancesSet><item><instanceId>i-${String(i).padStart(17, "0")}</instanceId></item></instancesSet></item>`).join("");
        return sendFixed(response, "text/xml", `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r1</requestId><reservationSet>${reservations}</reservationSet></DescribeInstancesResponse>`);
      }
      case "DescribeAutoScalingGroups":
        return sendFixed(response, "text/xml", `<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeAutoScalingGroupsResult><AutoScalingGroups/></DescribeAutoScalingGroupsResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeAutoScalingGroupsResponse>`);
      case "GetChange":
      case "ChangeResourceRecordSets": {
        // Chunked, as moto sends some answers: no content-length from the backend.
        const tag = operation === "GetChange" ? "GetChangeResponse" : "ChangeResourceRecordSetsResponse";
        response.writeHead(200, { "content-type": "text/xml" });
        response.write(`<?xml version="1.0" encoding="UTF-8"?>\n<${tag} xmlns="https://route53.amazonaws.com/doc/2013-04-01/">`);
        response.write(`<ChangeInfo><Id>/change/C1</Id><Status>INSYNC</Status><SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt></ChangeInfo>`);
        response.end(`</${tag}>`);
        return;
      }
      case "ListMetrics":
        return sendFixed(response, "application/x-amz-json-1.0", JSON.stringify({ Metrics: [{ Namespace: "AWS/EC2", MetricName: "CPUUtilization" }] }));
      default:
        return sendFixed(response, "application/json", JSON.stringify({ message: `fake backend has no ${operation}` }), 404);
    }
  }
}

function sendFixed(response: ServerResponse, contentType: string, text: string, status = 200): void {
  response.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  response.end(text);
}

/**
 * Retries what the SDK classifies as THROTTLING or TRANSIENT, without delay, and keeps the SDK's
 * classification of every failed attempt. onRetry runs before each retry (a test uses it to lift
 * the faults, so the retry must get through).
 */
class RecordingRetryStrategy implements RetryStrategyV2 {
  readonly errorTypes: string[] = [];
  readonly errorCodes: string[] = [];

  constructor(
    private readonly maxAttempts: number,
    private readonly onRetry: () => void = () => {},
  ) {}

  acquireInitialRetryToken(): Promise<RetryToken> {
    return Promise.resolve(token(0));
  }

  refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    this.errorTypes.push(info.errorType);
    this.errorCodes.push(info.error?.name ?? "");
    const attempts = previous.getRetryCount() + 1;
    if ((info.errorType === "THROTTLING" || info.errorType === "TRANSIENT") && attempts < this.maxAttempts) {
      this.onRetry();
      return Promise.resolve(token(attempts));
    }
    return Promise.reject(new Error("no retry"));
  }

  recordSuccess(): void {}
}

function token(retryCount: number): RetryToken {
  return { getRetryCount: () => retryCount, getRetryDelay: () => 0 };
}

interface ClientOptions {
  retryStrategy?: RetryStrategyV2;
  maxAttempts?: number;
  requestTimeout?: number;
}

function clientConfig(proxy: FaultProxy, options: ClientOptions) {
  return {
    region: "us-east-1",
    endpoint: proxy.url,
    credentials: { accessKeyId: "AKIDFAULTPROXYTEST", secretAccessKey: "not-a-secret" },
    ...(options.retryStrategy ? { retryStrategy: options.retryStrategy } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    // Without throwOnRequestTimeout, this SDK only logs a warning when requestTimeout passes.
    ...(options.requestTimeout ? { requestHandler: { requestTimeout: options.requestTimeout, throwOnRequestTimeout: true } } : {}),
  };
}

/** One call per service, each returning what the fake backend answered, for the generic tests. */
function calls(proxy: FaultProxy, options: ClientOptions): Record<string, () => Promise<{ $metadata: { attempts?: number } }>> {
  const config = clientConfig(proxy, options);
  return {
    eks: () => new EKSClient(config).send(new DescribeClusterCommand({ name: "prod" })),
    ec2: () => new EC2Client(config).send(new DescribeInstancesCommand({})),
    autoscaling: () => new AutoScalingClient(config).send(new DescribeAutoScalingGroupsCommand({})),
    route53: () => new Route53Client(config).send(new GetChangeCommand({ Id: "C1" })),
    cloudwatch: () => new CloudWatchClient(config).send(new ListMetricsCommand({})),
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { attempts?: number; httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata?: { attempts?: number; httpStatusCode?: number } };
  }
  assert.fail("the call succeeded, but a fault was expected");
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("sandbox fault proxy", function () {
  this.timeout(20_000);
  let backend: FakeBackend;
  const proxies: FaultProxy[] = [];

  async function proxy(rates: FaultRatesByService, extra: { seed?: string; hangMs?: number } = {}): Promise<FaultProxy> {
    const started = await startFaultProxy({ target: backend.url, seed: extra.seed ?? "unit", rates, hangMs: extra.hangMs, name: "unit" });
    proxies.push(started);
    return started;
  }

  beforeEach(async () => {
    backend = new FakeBackend();
    await backend.start();
  });

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await backend.stop();
  });

  describe("throttling in each service's wire format", () => {
    const expected: Record<string, { code: string; status: number; operation: string }> = {
      eks: { code: "ThrottlingException", status: 429, operation: "DescribeCluster" },
      ec2: { code: "RequestLimitExceeded", status: 503, operation: "DescribeInstances" },
      autoscaling: { code: "Throttling", status: 400, operation: "DescribeAutoScalingGroups" },
      route53: { code: "Throttling", status: 400, operation: "GetChange" },
      cloudwatch: { code: "Throttling", status: 400, operation: "ListMetrics" },
    };
    for (const [service, want] of Object.entries(expected)) {
      it(`${service}: the SDK reads ${want.code} (${want.status}) as throttling and retries it`, async () => {
        const faults = await proxy({ default: { throttle: 1 } });
        const retry = new RecordingRetryStrategy(3);
        const error = await rejection(calls(faults, { retryStrategy: retry })[service]());
        assert.equal(error.name, want.code);
        assert.equal(error.$metadata?.httpStatusCode, want.status);
        assert.equal(error.$metadata?.attempts, 3);
        assert.ok(isThrottlingError(error as Parameters<typeof isThrottlingError>[0]), `${error.name} is not classified as throttling`);
        assert.deepEqual(retry.errorTypes, ["THROTTLING", "THROTTLING", "THROTTLING"]);
        assert.equal(backend.calls.length, 0, "a throttled request must not reach the backend");
        const stats = faults.stats();
        assert.deepEqual(
          stats.faults.map((f) => [f.request, f.service, f.operation, f.kind, f.code, f.status]),
          [1, 2, 3].map((n) => [n, service, want.operation, "throttle", want.code, want.status]),
        );
      });
    }

    it("route53: a change is answered Throttling or PriorRequestNotComplete, both read as throttling", async () => {
      const faults = await proxy({ route53: { throttle: 1 } });
      const retry = new RecordingRetryStrategy(12);
      const client = new Route53Client(clientConfig(faults, { retryStrategy: retry }));
      const change = new ChangeResourceRecordSetsCommand({
        HostedZoneId: "Z1",
        ChangeBatch: { Changes: [{ Action: "UPSERT", ResourceRecordSet: { Name: "app.example.com", Type: "CNAME", TTL: 60, ResourceRecords: [{ Value: "blue.example.com" }] } }] },
      });
      await rejection(client.send(change));
      assert.deepEqual(new Set(retry.errorCodes), new Set(["Throttling", "PriorRequestNotComplete"]));
      assert.ok(retry.errorTypes.every((type) => type === "THROTTLING"), retry.errorTypes.join(","));
      assert.ok(faults.stats().faults.every((f) => f.operation === "ChangeResourceRecordSets" && f.status === 400));
    });

    it("the SDK's own standard retry strategy retries a throttle and succeeds once it stops", async () => {
      const faults = await proxy({ default: { throttle: 1 } });
      const client = new EKSClient(clientConfig(faults, { maxAttempts: 3 }));
      const call = client.send(new DescribeClusterCommand({ name: "prod" }));
      await until(() => faults.stats().requests >= 1, "the first throttled attempt");
      faults.setRates({});
      const output = await call;
      assert.equal(output.cluster?.version, "1.29");
      assert.ok((output.$metadata.attempts ?? 0) >= 2, `attempts: ${output.$metadata.attempts}`);
      assert.equal(backend.count("DescribeCluster"), 1);
    });
  });

  describe("decisions", () => {
    async function run(seed: string): Promise<unknown[]> {
      const faults = await proxy({ default: { throttle: 0.2, error500: 0.1, error503: 0.1, reset: 0.1 } }, { seed });
      const retry = new RecordingRetryStrategy(20);
      const call = calls(faults, { retryStrategy: retry });
      for (let i = 0; i < 6; i++) {
        for (const service of ["eks", "ec2", "autoscaling", "route53", "cloudwatch"]) await call[service]();
      }
      return faults.stats().faults.map((f) => [f.request, f.service, f.operation, f.kind, f.code ?? ""]);
    }

    it("the same seed and request sequence give the same faults; another seed others", async () => {
      const first = await run("seed-1");
      const again = await run("seed-1");
      const other = await run("seed-2");
      assert.ok(first.length >= 5, `only ${first.length} faults in 30 calls at a 50 % rate`);
      assert.deepEqual(again, first);
      assert.notDeepEqual(other, first);
    });

    it("rate 0 injects nothing and forwards every request and answer unchanged", async () => {
      const faults = await proxy({ default: { throttle: 0, error500: 0, reset: 0, hang: 0 } });
      const call = calls(faults, {});
      const attempts: number[] = [];
      for (let i = 0; i < 10; i++) {
        for (const service of ["eks", "ec2", "autoscaling", "route53", "cloudwatch"]) attempts.push((await call[service]()).$metadata.attempts ?? 0);
      }
      assert.ok(attempts.every((n) => n === 1));
      const stats = faults.stats();
      assert.deepEqual(stats.faults, []);
      assert.equal(stats.requests, 50);
      assert.equal(stats.forwarded, 50);
      assert.deepEqual(stats.byService, { eks: 10, ec2: 10, autoscaling: 10, route53: 10, cloudwatch: 10 });
      assert.equal(backend.calls.length, 50);
      const ec2 = await new EC2Client(clientConfig(faults, {})).send(new DescribeInstancesCommand({}));
      assert.equal(ec2.Reservations?.length, 400, "the large EC2 answer lost reservations");
      const metrics = await new CloudWatchClient(clientConfig(faults, {})).send(new ListMetricsCommand({}));
      assert.equal(metrics.Metrics?.[0]?.MetricName, "CPUUtilization");
    });

    it("passes request bodies through, so a Route53 change reaches the backend whole", async () => {
      const faults = await proxy({});
      await new Route53Client(clientConfig(faults, {})).send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: "Z1",
          ChangeBatch: { Changes: [{ Action: "UPSERT", ResourceRecordSet: { Name: "app.example.com", Type: "A", SetIdentifier: "green", Weight: 10, TTL: 60, ResourceRecords: [{ Value: "10.0.0.1" }] } }] },
        }),
      );
      const change = backend.calls.find((call) => call.operation === "ChangeResourceRecordSets");
      assert.match(change?.body ?? "", /<SetIdentifier>green<\/SetIdentifier><Weight>10<\/Weight>/);
    });

    it("per-service rates replace the default for that service only", async () => {
      const faults = await proxy({ default: { throttle: 1 }, route53: {} });
      const call = calls(faults, { retryStrategy: new RecordingRetryStrategy(1) });
      await call.route53();
      await rejection(call.eks());
      assert.deepEqual(faults.stats().faults.map((f) => f.service), ["eks"]);
    });
  });

  describe("errors, resets and hangs", () => {
    for (const kind of ["error500", "error503", "reset", "resetAfter"] as const) {
      it(`${kind}: the SDK reads it as transient and its retry gets through`, async () => {
        const faults = await proxy({ default: { [kind]: 1 } });
        const retry = new RecordingRetryStrategy(3, () => faults.setRates({}));
        const outputs = [];
        for (const service of ["eks", "ec2", "autoscaling", "route53", "cloudwatch"]) {
          faults.setRates({ default: { [kind]: 1 } });
          outputs.push(await calls(faults, { retryStrategy: retry })[service]());
        }
        assert.deepEqual(outputs.map((o) => o.$metadata.attempts), [2, 2, 2, 2, 2]);
        assert.deepEqual(retry.errorTypes, ["TRANSIENT", "TRANSIENT", "TRANSIENT", "TRANSIENT", "TRANSIENT"]);
        const stats = faults.stats();
        assert.deepEqual(stats.faults.map((f) => f.kind), [kind, kind, kind, kind, kind]);
        // Only resetAfter lets the backend act on the lost attempt.
        assert.equal(backend.calls.length, kind === "resetAfter" ? 10 : 5);
        if (kind === "error500" || kind === "error503") {
          const status = kind === "error500" ? 500 : 503;
          assert.ok(stats.faults.every((f) => f.status === status), JSON.stringify(stats.faults));
          assert.deepEqual(stats.faults.map((f) => f.code), kind === "error500"
            ? ["ServerException", "InternalError", "InternalFailure", "InternalFailure", "InternalServiceError"]
            : ["ServiceUnavailableException", "Unavailable", "ServiceUnavailable", "ServiceUnavailable", "ServiceUnavailable"]);
        }
      });
    }

    it("the SDK names each server error as its service does", async () => {
      const names: string[] = [];
      for (const kind of ["error500", "error503"] as const) {
        const faults = await proxy({ default: { [kind]: 1 } });
        for (const service of ["eks", "ec2", "autoscaling", "route53", "cloudwatch"]) {
          const error = await rejection(calls(faults, { retryStrategy: new RecordingRetryStrategy(1) })[service]());
          names.push(`${service} ${error.$metadata?.httpStatusCode} ${error.name}`);
        }
      }
      assert.deepEqual(names, [
        "eks 500 ServerException",
        "ec2 500 InternalError",
        "autoscaling 500 InternalFailure",
        "route53 500 InternalFailure",
        // CloudWatch's modeled error, found through its query error code InternalServiceError.
        "cloudwatch 500 InternalServiceFault",
        "eks 503 ServiceUnavailableException",
        "ec2 503 Unavailable",
        "autoscaling 503 ServiceUnavailable",
        "route53 503 ServiceUnavailable",
        "cloudwatch 503 ServiceUnavailable",
      ]);
    });

    it("a hang is cut by the client's request timeout, and the retry gets through", async () => {
      const faults = await proxy({ default: { hang: 1 } });
      const error = await rejection(calls(faults, { maxAttempts: 1, requestTimeout: 300 }).eks());
      assert.equal(error.name, "TimeoutError");
      await until(() => faults.stats().held === 0, "the proxy to let go of the abandoned request");
      const retry = new RecordingRetryStrategy(2, () => faults.setRates({}));
      const output = await calls(faults, { retryStrategy: retry, requestTimeout: 300 }).eks();
      assert.equal(output.$metadata.attempts, 2);
      assert.deepEqual(retry.errorTypes, ["TRANSIENT"]);
      assert.deepEqual(faults.stats().faults.map((f) => f.kind), ["hang", "hang"]);
      assert.equal(backend.calls.length, 1, "a hung request must never reach the backend");
    });

    it("a hang with no client timeout ends when hangMs passes, with the connection closed", async () => {
      const faults = await proxy({ default: { hang: 1 } }, { hangMs: 200 });
      const error = await rejection(calls(faults, { maxAttempts: 1 }).ec2());
      assert.ok(["ECONNRESET", "EPIPE"].includes((error as { code?: string }).code ?? "") || /socket hang up/.test(error.message), `${error.name}: ${error.message}`);
      assert.equal(backend.calls.length, 0);
    });
  });

  it("pause holds every request until resume releases it", async () => {
    const faults = await proxy({});
    faults.pause();
    let settled = false;
    const call = calls(faults, { maxAttempts: 1 }).eks().finally(() => (settled = true));
    const other = calls(faults, { maxAttempts: 1 }).route53().finally(() => (settled = true));
    await until(() => faults.stats().held === 2, "two held requests");
    assert.equal(settled, false);
    assert.equal(backend.calls.length, 0);
    faults.resume();
    await Promise.all([call, other]);
    assert.equal(backend.calls.length, 2);
    assert.equal(faults.stats().held, 0);
    assert.deepEqual(faults.stats().faults, []);
  });

  describe("telling services and operations apart", () => {
    it("reads the SigV4 credential scope, a presigned query, then the path", () => {
      const scope = (service: string) => ({ authorization: `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=abc` });
      assert.equal(serviceOf({ headers: scope("monitoring") }), "cloudwatch");
      assert.equal(serviceOf({ headers: scope("autoscaling") }), "autoscaling");
      assert.equal(serviceOf({ headers: {}, url: "/?Action=GetCallerIdentity&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fsts%2Faws4_request" }), "sts");
      assert.equal(serviceOf({ headers: {}, url: "/2013-04-01/change/C1" }), "route53");
      assert.equal(serviceOf({ headers: {}, url: "/clusters/prod/updates" }), "eks");
      assert.equal(serviceOf({ headers: { "x-amz-target": "GraniteServiceVersion20100801.ListMetrics" } }), "cloudwatch");
      assert.equal(serviceOf({ headers: {}, url: "/moto-api/reset" }), "unknown");
    });

    it("names EKS's two update calls by their bodies", () => {
      assert.equal(operationOf("eks", "POST", "/clusters/prod/updates", {}, Buffer.from(`{"version":"1.30","clientRequestToken":"t"}`)), "UpdateClusterVersion");
      assert.equal(operationOf("eks", "POST", "/clusters/prod/updates", {}, Buffer.from(`{"logging":{}}`)), "UpdateClusterConfig");
      assert.equal(operationOf("eks", "POST", "/clusters/prod/node-groups/ng/update-version", {}, Buffer.alloc(0)), "UpdateNodegroupVersion");
      assert.equal(operationOf("ec2", "POST", "/", { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, Buffer.from("Action=DescribeSubnets&Version=2016-11-15")), "DescribeSubnets");
    });
  });

  it("reports each fault to onFault as it is injected", async () => {
    const seen: string[] = [];
    const faults = await startFaultProxy({ target: backend.url, seed: "unit", rates: { default: { error503: 1 } }, onFault: (fault) => seen.push(`${fault.request} ${fault.service} ${fault.operation} ${fault.kind} ${fault.code}`) });
    proxies.push(faults);
    await rejection(calls(faults, { retryStrategy: new RecordingRetryStrategy(1) }).autoscaling());
    assert.deepEqual(seen, ["1 autoscaling DescribeAutoScalingGroups error503 ServiceUnavailable"]);
  });

  describe("rates from the command line", () => {
    it("reads KIND=P as a default and SERVICE.KIND=P on top of the defaults", () => {
      assert.deepEqual(parseFaultRates(["throttle=0.1", "route53.throttle=0.3", "error500=0.02"]), {
        default: { throttle: 0.1, error500: 0.02 },
        route53: { throttle: 0.3, error500: 0.02 },
      });
      assert.deepEqual(parseFaultRates([]), { default: {} });
      assert.throws(() => parseFaultRates(["throttle"]), /--rate "throttle": write KIND=P or SERVICE.KIND=P/);
      assert.throws(() => parseFaultRates(["throttle=lots"]), /lots is not a number/);
      assert.throws(() => parseFaultRates(["s3.throttle=0.1"]), /unknown service "s3"/);
    });
  });

  describe("bad settings", () => {
    it("names the field and the fix", async () => {
      assert.throws(() => validateFaultRates({ default: { throttle: 1.5 } }), /rates\.default\.throttle must be a number from 0 to 1, got 1\.5/);
      assert.throws(() => validateFaultRates({ default: { throttle: 0.6, error500: 0.6 } }), /rates\.default: the rates add up to 1\.2/);
      assert.throws(() => validateFaultRates({ s3: {} } as FaultRatesByService), /unknown service "s3"/);
      assert.throws(() => validateFaultRates({ ec2: { timeout: 0.1 } } as FaultRatesByService), /unknown fault kind "timeout"/);
      await assert.rejects(startFaultProxy({ target: "https://127.0.0.1:1", seed: 1 }), /target must be an http:\/\/ URL/);
      await assert.rejects(startFaultProxy({ target: backend.url, seed: 1, delayMs: [5, 1] }), /delayMs must be/);
    });
  });
});
