import assert from "node:assert/strict";
import { startOperationsServer, type OperationsServer } from "../../../src/observability/http.js";
import { OperatorMetrics } from "../../../src/observability/metrics.js";

describe("operations server", () => {
  let server: OperationsServer | undefined;
  afterEach(async () => {
    await server?.close(1_000);
    server = undefined;
  });

  async function start(ready: { value: boolean }, metrics = new OperatorMetrics({ collectProcessMetrics: false })): Promise<string> {
    server = await startOperationsServer({
      port: 0,
      host: "127.0.0.1",
      readiness: () => (ready.value ? { ok: true, detail: "leader" } : { ok: false, detail: "1 informer cache(s) not synced" }),
      metrics: async () => ({ body: await metrics.render(), contentType: metrics.contentType }),
    });
    return `http://127.0.0.1:${server.port}`;
  }

  it("answers /healthz while the event loop runs", async () => {
    const base = await start({ value: false });
    const response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ok\n");
  });

  it("answers /readyz with 503 and the reason until ready, then 200", async () => {
    const ready = { value: false };
    const base = await start(ready);
    const before = await fetch(`${base}/readyz`);
    assert.equal(before.status, 503);
    assert.match(await before.text(), /not synced/);
    ready.value = true;
    const after = await fetch(`${base}/readyz`);
    assert.equal(after.status, 200);
    assert.equal(await after.text(), "ok: leader\n");
  });

  it("serves the operator's metrics in Prometheus text format", async () => {
    const metrics = new OperatorMetrics({ collectProcessMetrics: false });
    metrics.recordReconcile("clusterupgrade", "success", 0.2);
    metrics.recordReconcile("clusterupgrade", "error", 1.5);
    metrics.setWorkqueueDepth("clusterupgrade", 3);
    metrics.setUpgradesByPhase({ Upgrading: 2 }, ["Pending", "Upgrading", "Succeeded"]);
    metrics.setLeader(true);
    const base = await start({ value: true }, metrics);
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await response.text();
    assert.match(text, /^eksupgrade_reconcile_total\{controller="clusterupgrade",result="success"\} 1$/m);
    assert.match(text, /^eksupgrade_reconcile_total\{controller="clusterupgrade",result="error"\} 1$/m);
    assert.match(text, /^eksupgrade_reconcile_errors_total\{controller="clusterupgrade"\} 1$/m);
    assert.match(text, /^eksupgrade_reconcile_duration_seconds_count\{controller="clusterupgrade"\} 2$/m);
    assert.match(text, /^eksupgrade_workqueue_depth\{controller="clusterupgrade"\} 3$/m);
    assert.match(text, /^eksupgrade_upgrades_by_phase\{phase="Upgrading"\} 2$/m);
    assert.match(text, /^eksupgrade_upgrades_by_phase\{phase="Pending"\} 0$/m);
    assert.match(text, /^eksupgrade_leader 1$/m);
    assert.match(text, /^eksupgrade_leader_acquisitions_total 1$/m);
  });

  it("drops phases that no longer have upgrades", async () => {
    const metrics = new OperatorMetrics({ collectProcessMetrics: false });
    metrics.setUpgradesByPhase({ Upgrading: 1 });
    metrics.setUpgradesByPhase({ Succeeded: 1 });
    const text = await metrics.render();
    assert.doesNotMatch(text, /phase="Upgrading"/);
    assert.match(text, /phase="Succeeded"\} 1/);
  });

  it("answers 404 for unknown paths and 405 for other methods", async () => {
    const base = await start({ value: true });
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/healthz`, { method: "POST" })).status, 405);
  });

  it("closes even with an idle keep-alive connection open", async () => {
    const base = await start({ value: true });
    await (await fetch(`${base}/healthz`, { keepalive: true })).text();
    const started = Date.now();
    await server!.close(2_000);
    server = undefined;
    assert.ok(Date.now() - started < 1_500, "close waited for the idle connection");
    await assert.rejects(fetch(`${base}/healthz`));
  });

  it("keeps separate registries apart", async () => {
    const first = new OperatorMetrics({ collectProcessMetrics: false });
    const second = new OperatorMetrics({ collectProcessMetrics: true });
    first.setLeader(true);
    assert.match(await second.render(), /^eksupgrade_leader 0$/m);
    assert.match(await second.render(), /process_cpu_user_seconds_total/);
  });
});
