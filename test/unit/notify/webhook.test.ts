// The webhook notifier against a real HTTP server on loopback.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { notificationBody, WebhookNotifier, type PhaseChange } from "../../../src/notify/webhook.js";
import { createSilentLogger } from "../../../src/util/logger.js";
import { isTransient, isValidation } from "../../../src/util/errors.js";
import type { OutboundPolicy } from "../../../src/net/outbound.js";

/** The receivers below listen on loopback, which the guard refuses unless the operator opens it. */
const LOOPBACK: OutboundPolicy = { allowHttp: true, denyPrivate: false, allowlist: ["127.0.0.1"] };

const change: PhaseChange = {
  clusterUpgrade: "team-a/prod",
  cluster: "prod",
  targetVersion: "1.31",
  currentVersion: "1.30",
  previousPhase: "UpgradingControlPlane",
  phase: "Failed",
  message: "ControlPlaneUpgraded: InsufficientFreeAddresses",
  at: "2026-11-22T12:00:00.000Z",
  idempotencyKey: "uid-1/4/Failed",
};

interface Receiver {
  url: string;
  bodies: unknown[];
  keys: (string | undefined)[];
  close(): Promise<void>;
}

async function receiver(statuses: number[]): Promise<Receiver> {
  const bodies: unknown[] = [];
  const keys: (string | undefined)[] = [];
  const server: Server = createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    request.on("end", () => {
      bodies.push(JSON.parse(raw));
      keys.push(request.headers["idempotency-key"] as string | undefined);
      response.statusCode = statuses.shift() ?? 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, keys, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("webhook notifications", () => {
  it("says what changed in a Slack-compatible text field, flagging failures", () => {
    const body = notificationBody(change);
    assert.equal(body.failure, true);
    assert.equal(body.text, ":warning: ClusterUpgrade team-a/prod, cluster prod (1.30 -> 1.31): UpgradingControlPlane -> Failed. ControlPlaneUpgraded: InsufficientFreeAddresses");
    assert.equal(notificationBody({ ...change, phase: "Succeeded" }).failure, false);
  });

  it("posts the JSON message with its idempotency key in the body and the Idempotency-Key header", async () => {
    const hook = await receiver([200]);
    await new WebhookNotifier(hook.url, createSilentLogger(), LOOPBACK).notify(change);
    await hook.close();
    assert.equal(hook.bodies.length, 1);
    const body = hook.bodies[0] as { phase: string; kind: string; idempotencyKey: string };
    assert.equal(body.phase, "Failed");
    assert.equal(body.kind, "PhaseChanged");
    assert.equal(body.idempotencyKey, "uid-1/4/Failed");
    assert.deepEqual(hook.keys, ["uid-1/4/Failed"]);
  });

  it("retries a 5xx answer once in place with the same key, and rejects when it persists", async () => {
    const flaky = await receiver([503, 200]);
    await new WebhookNotifier(flaky.url, createSilentLogger(), LOOPBACK).notify(change);
    assert.deepEqual(flaky.keys, ["uid-1/4/Failed", "uid-1/4/Failed"]);
    await flaky.close();
    const down = await receiver([500, 500, 200]);
    await assert.rejects(new WebhookNotifier(down.url, createSilentLogger(), LOOPBACK).notify(change), (error: unknown) => isTransient(error) && /HTTP 500/.test((error as Error).message));
    await down.close();
    assert.equal(down.bodies.length, 2);
  });

  it("rejects a 4xx answer at once, and an unreachable receiver as transient", async () => {
    const refusing = await receiver([404, 200]);
    await assert.rejects(new WebhookNotifier(refusing.url, createSilentLogger(), LOOPBACK).notify(change), (error: unknown) => isValidation(error) && /HTTP 404/.test((error as Error).message));
    await refusing.close();
    assert.equal(refusing.bodies.length, 1);
    await assert.rejects(new WebhookNotifier("http://127.0.0.1:9/unreachable", createSilentLogger(), LOOPBACK).notify(change), (error: unknown) => isTransient(error));
  });

  it("refuses loopback, http and the metadata service by default, naming the field, and never retries a refusal", async () => {
    const hook = await receiver([200]);
    const refusals: string[] = [];
    const refusal = (error: unknown): boolean => {
      refusals.push((error as Error).message);
      return isValidation(error);
    };
    await assert.rejects(new WebhookNotifier(hook.url, createSilentLogger()).notify(change), refusal);
    await assert.rejects(new WebhookNotifier(hook.url, createSilentLogger(), { ...LOOPBACK, allowlist: [] }).notify(change), refusal);
    await assert.rejects(new WebhookNotifier("https://169.254.169.254/latest/meta-data/", createSilentLogger(), LOOPBACK).notify(change), refusal);
    await hook.close();
    assert.equal(hook.bodies.length, 0, "nothing reached the receiver");
    assert.equal(refusals.length, 3);
    assert.match(refusals[0], /spec\.notifications\.webhookUrl: http is refused/);
    assert.match(refusals[1], /spec\.notifications\.webhookUrl: 127\.0\.0\.1 is a loopback address; .*OUTBOUND_ALLOWLIST/);
    assert.match(refusals[2], /169\.254\.169\.254 is the instance metadata service/);
  });

  it("refuses a name that resolves to loopback, and connects to the checked address when allowed", async () => {
    const hook = await receiver([200]);
    const port = new URL(hook.url).port;
    const toLoopback = (): Promise<{ address: string; family: number }[]> => Promise.resolve([{ address: "127.0.0.1", family: 4 }]);
    const strict = { allowHttp: true, denyPrivate: false, allowlist: [] };
    await assert.rejects(new WebhookNotifier(`http://hooks.example.test:${port}/hook`, createSilentLogger(), strict, "spec.notifications.webhookUrl", toLoopback).notify(change), (error: unknown) => isValidation(error));
    assert.equal(hook.bodies.length, 0, "a public-looking name that resolves to 127.0.0.1 is refused");
    // hooks.example.test does not exist in DNS: the post can only arrive if the socket went to the checked address.
    await new WebhookNotifier(`http://hooks.example.test:${port}/hook`, createSilentLogger(), { ...strict, allowlist: ["127.0.0.0/8"] }, "spec.notifications.webhookUrl", toLoopback).notify(change);
    await hook.close();
    assert.equal(hook.bodies.length, 1);
  });
});
