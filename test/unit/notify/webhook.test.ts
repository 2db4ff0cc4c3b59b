// The webhook notifier against a real HTTP server on loopback.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { notificationBody, WebhookNotifier, type PhaseChange } from "../../../src/notify/webhook.js";
import { createSilentLogger } from "../../../src/util/logger.js";
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
};

interface Receiver {
  url: string;
  bodies: unknown[];
  close(): Promise<void>;
}

async function receiver(statuses: number[]): Promise<Receiver> {
  const bodies: unknown[] = [];
  const server: Server = createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    request.on("end", () => {
      bodies.push(JSON.parse(raw));
      response.statusCode = statuses.shift() ?? 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("webhook notifications", () => {
  it("says what changed in a Slack-compatible text field, flagging failures", () => {
    const body = notificationBody(change);
    assert.equal(body.failure, true);
    assert.equal(body.text, ":warning: ClusterUpgrade team-a/prod, cluster prod (1.30 -> 1.31): UpgradingControlPlane -> Failed. ControlPlaneUpgraded: InsufficientFreeAddresses");
    assert.equal(notificationBody({ ...change, phase: "Succeeded" }).failure, false);
  });

  it("posts the JSON message", async () => {
    const hook = await receiver([200]);
    await new WebhookNotifier(hook.url, createSilentLogger(), LOOPBACK).notify(change);
    await hook.close();
    assert.equal(hook.bodies.length, 1);
    assert.deepEqual((hook.bodies[0] as { phase: string; kind: string }).phase, "Failed");
    assert.equal((hook.bodies[0] as { kind: string }).kind, "PhaseChanged");
  });

  it("retries a 5xx answer, not a 4xx one, and never throws", async () => {
    const flaky = await receiver([503, 200]);
    await new WebhookNotifier(flaky.url, createSilentLogger(), LOOPBACK).notify(change);
    await flaky.close();
    assert.equal(flaky.bodies.length, 2);
    const refusing = await receiver([404, 200]);
    await new WebhookNotifier(refusing.url, createSilentLogger(), LOOPBACK).notify(change);
    await refusing.close();
    assert.equal(refusing.bodies.length, 1);
    await new WebhookNotifier("http://127.0.0.1:9/unreachable", createSilentLogger(), LOOPBACK).notify(change);
  });

  it("refuses loopback, http and the metadata service by default, naming the field, and never retries a refusal", async () => {
    const hook = await receiver([200]);
    const warnings: string[] = [];
    const logger = createSilentLogger();
    logger.warn = ((message: string, meta: { error?: string }) => {
      warnings.push(`${message}: ${meta.error}`);
      return logger;
    }) as typeof logger.warn;
    await new WebhookNotifier(hook.url, logger).notify(change);
    await new WebhookNotifier(hook.url, logger, { ...LOOPBACK, allowlist: [] }).notify(change);
    await new WebhookNotifier("https://169.254.169.254/latest/meta-data/", logger, LOOPBACK).notify(change);
    await hook.close();
    assert.equal(hook.bodies.length, 0, "nothing reached the receiver");
    assert.equal(warnings.length, 3);
    assert.match(warnings[0], /spec\.notifications\.webhookUrl: http is refused/);
    assert.match(warnings[1], /spec\.notifications\.webhookUrl: 127\.0\.0\.1 is a loopback address; .*OUTBOUND_ALLOWLIST/);
    assert.match(warnings[2], /169\.254\.169\.254 is the instance metadata service/);
  });

  it("refuses a name that resolves to loopback, and connects to the checked address when allowed", async () => {
    const hook = await receiver([200]);
    const port = new URL(hook.url).port;
    const toLoopback = (): Promise<{ address: string; family: number }[]> => Promise.resolve([{ address: "127.0.0.1", family: 4 }]);
    const strict = { allowHttp: true, denyPrivate: false, allowlist: [] };
    await new WebhookNotifier(`http://hooks.example.test:${port}/hook`, createSilentLogger(), strict, "spec.notifications.webhookUrl", toLoopback).notify(change);
    assert.equal(hook.bodies.length, 0, "a public-looking name that resolves to 127.0.0.1 is refused");
    // hooks.example.test does not exist in DNS: the post can only arrive if the socket went to the checked address.
    await new WebhookNotifier(`http://hooks.example.test:${port}/hook`, createSilentLogger(), { ...strict, allowlist: ["127.0.0.0/8"] }, "spec.notifications.webhookUrl", toLoopback).notify(change);
    await hook.close();
    assert.equal(hook.bodies.length, 1);
  });
});
