import assert from "node:assert/strict";
import { resolveGates } from "../../../src/api/v1alpha1/defaults.js";
import { checkDue, describeFailing, judgeCheck, readGates, type HttpProbe } from "../../../src/bluegreen/gates.js";
import { FakeClock } from "../../../src/util/clock.js";
import { FakeCloudWatch, FakeRoute53 } from "../../support/fakes/traffic.js";

function readers(probe: HttpProbe = () => Promise.resolve({ status: 200 })): { route53: FakeRoute53; cloudwatch: FakeCloudWatch; probe: HttpProbe } {
  return { route53: new FakeRoute53(), cloudwatch: new FakeCloudWatch(), probe };
}

describe("blue/green gates", () => {
  it("reads every kind of gate and names what it saw", async () => {
    const clock = new FakeClock();
    const world = readers((url) => Promise.resolve(url.endsWith("/down") ? { status: 503 } : url.endsWith("/slow") ? { error: "no answer within 2s" } : { status: 204 }));
    world.route53.healthy.set("hc-bad", false);
    world.cloudwatch.alarms.set("green-5xx", "ALARM");
    world.cloudwatch.alarms.set("green-latency", "INSUFFICIENT_DATA");
    const gates = resolveGates({
      route53HealthCheckIds: ["hc-ok", "hc-bad"],
      cloudWatchAlarms: ["green-5xx", "green-latency", "missing"],
      httpProbes: [{ url: "http://green/ok" }, { url: "http://green/down" }, { url: "http://green/slow", timeoutSeconds: 2 }],
    });
    const results = await readGates(world, gates, clock.date());
    assert.deepEqual(results.map((result) => [result.kind, result.name, result.healthy, result.value]), [
      ["Route53HealthCheck", "hc-ok", true, "Healthy"],
      ["Route53HealthCheck", "hc-bad", false, "Unhealthy"],
      ["CloudWatchAlarm", "green-5xx", false, "ALARM"],
      ["CloudWatchAlarm", "green-latency", true, "INSUFFICIENT_DATA"],
      ["CloudWatchAlarm", "missing", false, "alarm not found"],
      ["HttpProbe", "http://green/ok", true, "HTTP 204"],
      ["HttpProbe", "http://green/down", false, "HTTP 503"],
      ["HttpProbe", "http://green/slow", false, "no answer within 2s"],
    ]);
  });

  it("counts a gate it cannot read as failed", async () => {
    const world = readers();
    world.cloudwatch.alarmStates = () => Promise.reject(new Error("ThrottlingException: rate exceeded"));
    const [result] = await readGates(world, resolveGates({ cloudWatchAlarms: ["green-5xx"] }), new FakeClock().date());
    assert.equal(result.healthy, false);
    assert.match(result.value, /cannot read: .*ThrottlingException/);
  });

  it("passes the probe's timeout in milliseconds, 5 s by default", async () => {
    const seen: number[] = [];
    const world = readers((_url, timeoutMs) => Promise.resolve(void seen.push(timeoutMs)).then(() => ({ status: 200 })));
    await readGates(world, resolveGates({ httpProbes: [{ url: "http://a" }, { url: "http://b", timeoutSeconds: 9 }] }), new FakeClock().date());
    assert.deepEqual(seen, [5000, 9000]);
  });

  it("rolls back on the check that brings the failures to the threshold, not before", () => {
    const failing = [{ name: "http://green", kind: "HttpProbe" as const, healthy: false, value: "HTTP 500", checkedAt: "t" }];
    const healthy = [{ ...failing[0], healthy: true, value: "HTTP 200" }];
    let failures = 0;
    const verdicts: boolean[] = [];
    for (const results of [failing, healthy, failing, failing]) {
      const verdict = judgeCheck(results, failures, 3);
      failures = verdict.failures;
      verdicts.push(verdict.rollBack);
    }
    assert.deepEqual(verdicts, [false, false, false, true]);
    assert.equal(failures, 3);
    assert.equal(describeFailing(failing), "HttpProbe http://green: HTTP 500");
  });

  it("a healthy check never rolls back, whatever came before", () => {
    assert.equal(judgeCheck([{ name: "a", kind: "CloudWatchAlarm", healthy: true, value: "OK", checkedAt: "t" }], 10, 3).rollBack, false);
  });

  it("is due for a check once the interval has passed since the last one", async () => {
    const clock = new FakeClock();
    const last = clock.date().toISOString();
    await clock.advance(29_999);
    assert.equal(checkDue(last, clock.date(), 30_000), false);
    await clock.advance(1);
    assert.equal(checkDue(last, clock.date(), 30_000), true);
    assert.equal(checkDue(undefined, clock.date(), 30_000), true);
  });
});
