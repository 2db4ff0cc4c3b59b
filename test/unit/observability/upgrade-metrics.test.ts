import assert from "node:assert/strict";
import type { ClusterUpgrade, ClusterUpgradeStatus, NodeGroupStatus } from "../../../src/api/v1alpha1/types.js";
import { awsCall, setAwsCallErrorObserver } from "../../../src/cloud/aws/call.js";
import { OperatorMetrics } from "../../../src/observability/metrics.js";
import { UpgradeMetrics } from "../../../src/observability/upgrade-metrics.js";
import { CANCEL_REASONS, runWithSignal } from "../../../src/runtime/cancellation.js";

type Labels = Record<string, string | number>;

async function series(metrics: OperatorMetrics, name: string): Promise<{ labels: Labels; value: number }[]> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric, `${name} is not registered`);
  return (await metric.get()).values.map(({ labels, value }) => ({ labels: labels as Labels, value }));
}

function upgrade(name: string, drainTimeout?: string): ClusterUpgrade {
  return {
    apiVersion: "eksupgrade.io/v1alpha1",
    kind: "ClusterUpgrade",
    metadata: { namespace: "prod", name },
    spec: { cluster: { name }, targetVersion: "1.31", ...(drainTimeout ? { drain: { timeout: drainTimeout } } : {}) },
  };
}

function group(nodes: NodeGroupStatus["nodes"]): NodeGroupStatus {
  return { name: "general", kind: "SelfManaged", total: 3, upgraded: 0, inFlight: nodes?.length ?? 0, state: "InProgress", nodes };
}

const T0 = Date.parse("2026-11-29T10:00:00Z");

describe("UpgradeMetrics", () => {
  let metrics: OperatorMetrics;
  let tracker: UpgradeMetrics;

  beforeEach(() => {
    metrics = new OperatorMetrics({ collectProcessMetrics: false });
    tracker = new UpgradeMetrics(metrics);
  });

  it("keeps the time a phase was first seen while it lasts, and starts again on the next phase", async () => {
    const main = upgrade("main");
    tracker.observe(main, { phase: "UpgradingControlPlane" }, T0);
    tracker.observe(main, { phase: "UpgradingControlPlane" }, T0 + 60_000);
    assert.deepEqual(await series(metrics, "eksupgrade_upgrade_phase_entered_timestamp_seconds"), [
      { labels: { namespace: "prod", name: "main", phase: "UpgradingControlPlane" }, value: T0 / 1000 },
    ]);
    tracker.observe(main, { phase: "UpgradingNodeGroups" }, T0 + 120_000);
    assert.deepEqual(await series(metrics, "eksupgrade_upgrade_phase_entered_timestamp_seconds"), [
      { labels: { namespace: "prod", name: "main", phase: "UpgradingNodeGroups" }, value: (T0 + 120_000) / 1000 },
    ]);
  });

  it("exports the nodes being drained with their cordon time, and drops them once drained", async () => {
    const main = upgrade("main", "30m");
    const since = "2026-11-29T09:50:00Z";
    const status: ClusterUpgradeStatus = {
      phase: "UpgradingNodeGroups",
      nodeGroups: [group([
        { name: "n1", phase: "Draining", since },
        { name: "n2", phase: "Cordoned", since: "2026-11-29T09:55:00Z" },
        { name: "n3", phase: "Terminating", since },
      ])],
    };
    tracker.observe(main, status, T0);
    const drains = await series(metrics, "eksupgrade_node_drain_started_timestamp_seconds");
    assert.deepEqual(drains.map((entry) => [entry.labels.node, entry.value]), [["n1", Date.parse(since) / 1000], ["n2", Date.parse("2026-11-29T09:55:00Z") / 1000]]);
    assert.deepEqual(drains[0].labels, { namespace: "prod", name: "main", node_group: "general", node: "n1" });
    assert.deepEqual(await series(metrics, "eksupgrade_drain_timeout_seconds"), [{ labels: { namespace: "prod", name: "main" }, value: 1800 }]);

    tracker.observe(main, { ...status, nodeGroups: [group([{ name: "n2", phase: "Draining", since: "2026-11-29T09:55:00Z" }])] }, T0 + 60_000);
    assert.deepEqual((await series(metrics, "eksupgrade_node_drain_started_timestamp_seconds")).map((entry) => entry.labels.node), ["n2"]);
  });

  it("uses the 15 minute default drain timeout when the spec sets none", async () => {
    tracker.observe(upgrade("main"), { phase: "Preflight" }, T0);
    assert.deepEqual((await series(metrics, "eksupgrade_drain_timeout_seconds")).map((entry) => entry.value), [900]);
  });

  it("says 1 once blue/green traffic goes back to blue, 0 before", async () => {
    const bg = upgrade("bg");
    const cutover = { step: 2, blueWeight: 50, greenWeight: 50, split: "50/50", failures: 0 };
    tracker.observe(bg, { phase: "ShiftingTraffic", cutover: { ...cutover, state: "Shifting" } }, T0);
    assert.deepEqual((await series(metrics, "eksupgrade_upgrade_traffic_rolled_back")).map((entry) => entry.value), [0]);
    tracker.observe(bg, { phase: "RollingBack", cutover: { ...cutover, state: "RollingBack" } }, T0 + 1000);
    assert.deepEqual((await series(metrics, "eksupgrade_upgrade_traffic_rolled_back")).map((entry) => entry.value), [1]);
    tracker.observe(bg, { phase: "Failed", cutover: { ...cutover, state: "RolledBack", rolledBack: true } }, T0 + 2000);
    assert.deepEqual((await series(metrics, "eksupgrade_upgrade_traffic_rolled_back")).map((entry) => entry.value), [1]);
  });

  it("removes every series of an upgrade that is gone, and only of that one", async () => {
    const status: ClusterUpgradeStatus = { phase: "UpgradingNodeGroups", nodeGroups: [group([{ name: "n1", phase: "Draining", since: "2026-11-29T09:50:00Z" }])] };
    tracker.observe(upgrade("main"), status, T0);
    tracker.observe(upgrade("other"), { phase: "Preflight" }, T0);
    tracker.forget("prod/main");
    for (const name of ["eksupgrade_upgrade_phase_entered_timestamp_seconds", "eksupgrade_drain_timeout_seconds", "eksupgrade_upgrade_traffic_rolled_back"]) {
      assert.deepEqual((await series(metrics, name)).map((entry) => entry.labels.name), ["other"], name);
    }
    assert.deepEqual(await series(metrics, "eksupgrade_node_drain_started_timestamp_seconds"), []);
    tracker.forget("prod/never-seen");
  });
});

describe("eksupgrade_aws_call_errors_total", () => {
  afterEach(() => setAwsCallErrorObserver(undefined));

  it("counts failed AWS calls by error class, and not the ones that succeed or were cancelled", async () => {
    const metrics = new OperatorMetrics({ collectProcessMetrics: false });
    setAwsCallErrorObserver((errorClass) => metrics.recordAwsCallError(errorClass));
    const awsError = (name: string, httpStatusCode: number): Error => Object.assign(new Error(`${name} from AWS`), { name, $metadata: { httpStatusCode } });
    await awsCall("describing cluster demo", () => Promise.resolve("ok"));
    await assert.rejects(awsCall("updating cluster demo", () => Promise.reject(awsError("AccessDeniedException", 403))));
    await assert.rejects(awsCall("describing cluster gone", () => Promise.reject(awsError("ResourceNotFoundException", 404))));
    await assert.rejects(awsCall("describing cluster demo", () => Promise.reject(awsError("ThrottlingException", 400))));
    // Leadership lost while a call is in flight: the SDK rejects once its signal aborts.
    const controller = new AbortController();
    const cancelled = runWithSignal(controller.signal, () =>
      awsCall("updating cluster demo", ({ abortSignal }) => new Promise((_resolve, reject) => abortSignal.addEventListener("abort", () => reject(awsError("AbortError", 0))))),
    );
    controller.abort(CANCEL_REASONS.leadershipLost());
    await assert.rejects(cancelled, /cancelled: leadership lost/);
    const counted = Object.fromEntries((await series(metrics, "eksupgrade_aws_call_errors_total")).map((entry) => [entry.labels.error, entry.value]));
    assert.deepEqual(counted, { AccessDeniedError: 1, NotFoundError: 1, ThrottlingError: 1 });
  });
});
