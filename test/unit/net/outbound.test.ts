// The outbound guard: what a URL from a spec or a Secret may point at, with fake DNS answers, and
// the limits every request has, against real servers on loopback.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CANCEL_REASONS, runWithSignal } from "../../../src/runtime/cancellation.js";
import { waitUntil } from "../../support/wait.js";
import {
  checkUrl,
  outboundPolicyFromEnv,
  outboundRequest,
  refusedAddress,
  refusedUrl,
  DEFAULT_OUTBOUND_POLICY as strict,
  type OutboundPolicy,
  type Resolver,
} from "../../../src/net/outbound.js";

const resolvesTo =
  (...addresses: string[]): Resolver =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));

describe("outbound guard", () => {
  it("refuses metadata, link-local, loopback, unspecified and multicast addresses, in every spelling", () => {
    const cases: [string, RegExp][] = [
      ["169.254.169.254", /instance metadata service/],
      ["fd00:ec2::254", /instance metadata service/],
      ["169.254.10.1", /link-local/],
      ["fe80::1", /link-local/],
      ["127.0.0.1", /loopback/],
      ["127.8.9.10", /loopback/],
      ["::1", /loopback/],
      ["::ffff:127.0.0.1", /loopback/],
      ["::ffff:169.254.169.254", /instance metadata service/],
      ["0.0.0.0", /unspecified/],
      ["::", /unspecified/],
      ["224.0.0.1", /multicast/],
    ];
    for (const [address, why] of cases) assert.match(refusedAddress(strict, address) ?? "allowed", why, address);
    for (const address of ["10.1.2.3", "192.168.1.1", "172.20.0.1", "52.94.1.1", "2600:1f18::1"]) assert.equal(refusedAddress(strict, address), undefined, address);
  });

  it("refuses private ranges only when OUTBOUND_DENY_PRIVATE is true", () => {
    const policy = outboundPolicyFromEnv({ OUTBOUND_DENY_PRIVATE: "true" });
    for (const address of ["10.1.2.3", "192.168.1.1", "172.20.0.1", "100.64.0.1", "fd12::1"]) assert.match(refusedAddress(policy, address) ?? "allowed", /OUTBOUND_DENY_PRIVATE/, address);
    assert.equal(refusedAddress(policy, "52.94.1.1"), undefined);
  });

  it("judges the URL itself: scheme, credentials, literal addresses, cluster-internal and single-label names", () => {
    assert.match(refusedUrl(strict, "http://hooks.example.com/x") ?? "", /http is refused.*OUTBOUND_ALLOW_HTTP=true/);
    assert.match(refusedUrl(strict, "ftp://hooks.example.com/x") ?? "", /scheme ftp is not allowed/);
    assert.match(refusedUrl(strict, "https://user:secret@hooks.example.com/x") ?? "", /credentials in the URL/);
    assert.match(refusedUrl(strict, "https://169.254.169.254/latest/meta-data/") ?? "", /169\.254\.169\.254 is the instance metadata service/);
    assert.match(refusedUrl(strict, "https://[::1]:8443/") ?? "", /::1 is a loopback address/);
    assert.match(refusedUrl(strict, "https://kubernetes.default.svc/api") ?? "", /cluster-internal/);
    assert.match(refusedUrl(strict, "https://prometheus.monitoring.svc.cluster.local:9090/") ?? "", /cluster-internal/);
    assert.match(refusedUrl(strict, "https://kubernetes/api") ?? "", /single-label name/);
    assert.match(refusedUrl(strict, "https://localhost:8080/") ?? "", /single-label name|cluster-internal or local/);
    assert.match(refusedUrl(strict, "not a url") ?? "", /not an absolute URL/);
    assert.equal(refusedUrl(strict, "https://hooks.slack.com/services/T/B/X"), undefined);
    assert.equal(refusedUrl(strict, "https://10.0.0.5/healthz"), undefined, "RFC 1918 stays allowed by default");
  });

  it("lets through exactly what OUTBOUND_ALLOWLIST names: hosts, subdomains, addresses and ranges", () => {
    const policy = outboundPolicyFromEnv({ OUTBOUND_ALLOW_HTTP: "true", OUTBOUND_ALLOWLIST: "127.0.0.1, *.svc.cluster.local fd00:ec2::/64 gate.monitoring" });
    assert.deepEqual(policy.allowlist, ["127.0.0.1", "*.svc.cluster.local", "fd00:ec2::/64", "gate.monitoring"]);
    assert.equal(refusedUrl(policy, "http://127.0.0.1:8080/"), undefined);
    assert.match(refusedUrl(policy, "http://127.0.0.2:8080/") ?? "", /loopback/);
    assert.equal(refusedUrl(policy, "http://probe.shop.svc.cluster.local/"), undefined);
    assert.equal(refusedUrl(policy, "http://gate.monitoring/"), undefined);
    assert.equal(refusedAddress(policy, "fd00:ec2::254"), undefined);
    assert.throws(() => outboundPolicyFromEnv({ OUTBOUND_ALLOWLIST: "10.0.0.0/99" }), /OUTBOUND_ALLOWLIST: "10\.0\.0\.0\/99" is not a CIDR range/);
  });

  it("resolves names and refuses when any address is refused, naming the field", async () => {
    await assert.rejects(checkUrl(strict, "https://evil.example.com/", "spec.notifications.webhookUrl", resolvesTo("127.0.0.1")), {
      name: "OutboundRefusedError",
      message: /^spec\.notifications\.webhookUrl: evil\.example\.com resolves to 127\.0\.0\.1, a loopback address/,
    });
    await assert.rejects(checkUrl(strict, "https://mixed.example.com/", "f", resolvesTo("52.94.1.1", "169.254.169.254")), /resolves to 169\.254\.169\.254, the instance metadata service/);
    const target = await checkUrl(strict, "https://ok.example.com/", "f", resolvesTo("52.94.1.1"));
    assert.equal(target.address, "52.94.1.1");
    const allowed: OutboundPolicy = { ...strict, allowlist: ["internal.example.com"] };
    assert.equal((await checkUrl(allowed, "https://internal.example.com/", "f", resolvesTo("127.0.0.1"))).address, "127.0.0.1", "an allowlisted name may resolve anywhere");
  });

  describe("requests", () => {
    let server: Server;
    let base: string;
    const requests: string[] = [];
    const loopback: OutboundPolicy = { allowHttp: true, denyPrivate: false, allowlist: ["127.0.0.1"] };

    before(async () => {
      server = createServer((request, response) => {
        requests.push(request.url ?? "");
        if (request.url === "/big") response.end("x".repeat(200_000));
        else if (request.url === "/slow") setTimeout(() => response.end("late"), 2_000);
        else if (request.url === "/redirect") {
          response.statusCode = 302;
          response.setHeader("location", "http://169.254.169.254/");
          response.end();
        } else response.end("ok");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(() => {
      server.closeAllConnections();
      server.close();
    });

    it("answers with the status and body", async () => {
      assert.deepEqual(await outboundRequest(loopback, `${base}/`, { method: "GET", field: "f", timeoutMs: 2_000 }), { status: 200, body: "ok" });
    });

    it("stops reading at the size limit", async () => {
      await assert.rejects(outboundRequest(loopback, `${base}/big`, { method: "GET", field: "f", timeoutMs: 2_000, maxResponseBytes: 1024 }), /f: the answer is larger than 1024 bytes/);
    });

    it("gives up at the timeout", async () => {
      await assert.rejects(outboundRequest(loopback, `${base}/slow`, { method: "GET", field: "f", timeoutMs: 200 }), { name: "OutboundTimeoutError", message: /no answer within 0\.2s/ });
    });

    it("is aborted with the reconcile, and sends nothing once it is cancelled", async () => {
      const controller = new AbortController();
      const slow = runWithSignal(controller.signal, () => outboundRequest(loopback, `${base}/slow`, { method: "POST", field: "spec.notifications.webhookUrl", timeoutMs: 10_000, body: "{}" }));
      await waitUntil("the post to arrive", () => Promise.resolve(requests.includes("/slow")), 5_000, 10);
      controller.abort(CANCEL_REASONS.leadershipLost());
      await assert.rejects(slow, { name: "CancelledError", message: "spec.notifications.webhookUrl: cancelled: leadership lost" });
      const before = requests.length;
      await assert.rejects(runWithSignal(controller.signal, () => outboundRequest(loopback, `${base}/`, { method: "POST", field: "f", timeoutMs: 2_000, body: "{}" })), { name: "CancelledError" });
      assert.equal(requests.length, before, "no request left the process");
    });

    it("does not follow a redirect", async () => {
      assert.equal((await outboundRequest(loopback, `${base}/redirect`, { method: "GET", field: "f", timeoutMs: 2_000 })).status, 302);
    });

    it("refuses before connecting when the policy does not open loopback", async () => {
      await assert.rejects(outboundRequest({ ...loopback, allowlist: [] }, `${base}/`, { method: "GET", field: "spec.blueGreen.gates.httpProbes[0].url", timeoutMs: 2_000 }), /httpProbes\[0\]\.url: 127\.0\.0\.1 is a loopback address/);
    });
  });
});
