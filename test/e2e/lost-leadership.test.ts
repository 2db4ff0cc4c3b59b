// Two operator replicas on the sandbox; the leader reaches the API server, moto and the EKS
// emulator through TCP fault proxies, which are paused mid-upgrade: a network partition that
// leaves its connections open and silent. The leader must step down by its renew deadline, cancel
// the reconcile it has in flight, and send nothing more to AWS, before the standby takes the Lease
// and finishes the upgrade.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { startTcpProxy, type TcpProxy } from "../../sandbox/faults/tcp-proxy.js";
import { sandboxEnv } from "../support/global-sandbox.js";
import { prepareOperatorKubeconfig, startOperatorProcess, type OperatorProcess, type OperatorProcessOptions } from "../support/operator.js";
import { emulatorCalls, UpgradeWorld } from "../support/upgrades.js";
import { waitUntil } from "../support/wait.js";

interface LogLine {
  level?: string;
  message?: string;
  timestamp?: string;
  [field: string]: unknown;
}

function logLines(operator: OperatorProcess): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of readFileSync(operator.logPath, "utf8").split("\n")) {
    if (!text.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      // A line cut in the middle of a write; the next read sees it whole.
    }
  }
  return lines;
}

function firstLine(operator: OperatorProcess, message: string): LogLine | undefined {
  return logLines(operator).find((line) => line.message === message);
}

describe("lost leadership end to end (sandbox)", function () {
  this.timeout(10 * 60_000);
  let world: UpgradeWorld;
  const operators: OperatorProcess[] = [];
  const proxies: TcpProxy[] = [];

  function operator(extraEnv: Record<string, string> = {}, options: OperatorProcessOptions = {}): OperatorProcess {
    const started = startOperatorProcess(extraEnv, options);
    operators.push(started);
    return started;
  }

  /** A proxy in front of `url`; returns it and the URL to reach `url` through it. */
  async function through(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(url);
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } });
    proxies.push(proxy);
    return { proxy, url: `${target.protocol}//${proxy.address}` };
  }

  beforeEach(async function () {
    this.timeout(3 * 60_000);
    world = await UpgradeWorld.prepare("default");
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") {
      for (const running of operators) console.error(`--- ${running.logPath}\n${readFileSync(running.logPath, "utf8").split("\n").slice(-40).join("\n")}`);
    }
    await Promise.all(operators.splice(0).map((running) => running.stop()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });

  it("a leader cut off mid-upgrade steps down and cancels its work before the standby takes over, which finishes with one UpdateClusterVersion per hop", async () => {
    const env = sandboxEnv();
    const coordination = world.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    const holder = async (): Promise<string | undefined> => {
      try {
        return (await coordination.readNamespacedLease({ namespace: "eks-upgrade-system", name: "eks-upgrade-operator" })).spec?.holderIdentity ?? undefined;
      } catch {
        return undefined;
      }
    };
    // Prepared before the proxies run: preparing blocks this process, and with it the proxies.
    const kubeconfigPath = prepareOperatorKubeconfig();
    const kube = await through(env.apiServerUrl);
    const moto = await through(env.awsEndpointUrl);
    const eks = await through(env.eksEndpointUrl);
    const leader = operator({ AWS_ENDPOINT_URL: moto.url, AWS_ENDPOINT_URL_EKS: eks.url }, { apiServerUrl: kube.url, kubeconfigPath });
    await waitUntil("the proxied operator to hold the Lease", async () => (await holder())?.endsWith(`-${leader.child.pid}`), 60_000);
    const standby = operator({}, { kubeconfigPath });
    await waitUntil("the standby to see the leader", () => Promise.resolve(firstLine(standby, "observed leader")), 60_000);

    await world.apply("partitioned", { cluster: { name: "demo" }, targetVersion: "1.31", nodeGroups: { order: ["general"] } });
    await world.waitFor("partitioned", "the first control-plane update running", (upgrade) => upgrade.status?.hops?.[0]?.state === "InProgress");
    assert.ok(kube.proxy.stats().bytesUp > 0 && eks.proxy.stats().bytesUp > 0, `the leader works through the proxies: ${JSON.stringify({ kube: kube.proxy.stats(), moto: moto.proxy.stats(), eks: eks.proxy.stats() })}`);
    for (const { proxy } of [kube, moto, eks]) proxy.pause();
    const pausedAt = Date.now();

    // LEASE_RENEW_DEADLINE_SECONDS is 3 for test operators.
    const steppedDown = await waitUntil("the leader to step down", () => Promise.resolve(firstLine(leader, "lost leadership, stopping")), 30_000);
    assert.ok(Date.parse(steppedDown.timestamp ?? "") - pausedAt < 3_000 + 2_000, `stepped down ${Date.parse(steppedDown.timestamp ?? "") - pausedAt} ms after the pause`);
    // From here on the leader must send nothing to AWS: give it a working path again and watch.
    const sentToAws = moto.proxy.stats().bytesUp + eks.proxy.stats().bytesUp;
    moto.proxy.resume();
    eks.proxy.resume();

    const exitCode = await waitUntil("the old leader to exit", () => Promise.resolve(leader.child.exitCode ?? undefined), 60_000);
    assert.equal(exitCode, 1, "a replica that lost the Lease exits non-zero, to be restarted as a standby");
    assert.equal(moto.proxy.stats().bytesUp + eks.proxy.stats().bytesUp, sentToAws, "not one byte to AWS after stepping down");
    const cancelled = logLines(leader).filter((line) => line.message === "cancelling running reconciles");
    assert.equal(cancelled.length, 1, "the reconcile in flight when the Lease was lost was cancelled");
    assert.equal(cancelled[0].reason, "cancelled: leadership lost");

    await waitUntil("the standby to take the Lease", async () => (await holder())?.endsWith(`-${standby.child.pid}`), 60_000);
    const tookOver = firstLine(standby, "started leading");
    assert.ok(tookOver, "the standby logged its takeover");
    assert.ok(Date.parse(steppedDown.timestamp ?? "") < Date.parse(tookOver.timestamp ?? ""), `the leader stepped down at ${steppedDown.timestamp}, before the standby led at ${tookOver.timestamp}`);

    const done = await world.waitForPhase("partitioned", "Succeeded");
    assert.equal(done.status?.currentVersion, "1.31");
    const updates = await emulatorCalls("demo", "UpdateClusterVersion");
    assert.deepEqual(updates.map((call) => call.request.version), ["1.30", "1.31"], "exactly one UpdateClusterVersion per hop");
  });
});
