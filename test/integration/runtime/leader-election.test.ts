// Two and then three operator replicas, each its own process, against the sandbox's real
// kube-apiserver: only the Lease holder reconciles; when the leader is killed (no release) a
// standby takes over once the Lease expires; when the leader is stopped with SIGTERM it
// finishes its running reconcile, releases the Lease, and a standby takes over at once.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import * as k8s from "@kubernetes/client-node";
import { sandboxEnv, sandboxKubeConfig } from "../../support/global-sandbox.js";

const CANDIDATE_SCRIPT = fileURLToPath(new URL("./leader-candidate.ts", import.meta.url));
const LABEL = "eksup-test/leader-election";
const LEASE_NAME = "eks-upgrade-operator-test";
// Short but realistic ratios (client-go's defaults are 15 s / 10 s / 2 s).
const LEASE_DURATION_MS = 5_000;
const RENEW_DEADLINE_MS = 3_000;
const RETRY_PERIOD_MS = 500;

interface Report {
  event: string;
  at: number;
  key?: string;
  detail?: string;
  reason?: string;
}

/** A running replica: its reports as they arrive, and helpers to wait for one. */
class Candidate {
  readonly reports: Report[] = [];
  readonly exited: Promise<number | null>;
  private readonly listeners = new Set<() => void>();
  private readonly stderr: string[] = [];

  constructor(
    readonly identity: string,
    readonly process: ChildProcess,
  ) {
    createInterface({ input: process.stdout! }).on("line", (line) => {
      try {
        this.reports.push(JSON.parse(line) as Report);
      } catch {
        return;
      }
      for (const listener of this.listeners) listener();
    });
    createInterface({ input: process.stderr! }).on("line", (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) => process.once("exit", (code) => resolve(code)));
  }

  /** Resolves with the first report matching `predicate`, including ones already received. */
  waitFor(description: string, predicate: (report: Report) => boolean, timeoutMs: number): Promise<Report> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.reports.find(predicate);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.identity}: no "${description}" within ${timeoutMs} ms; reports: ${JSON.stringify(this.reports)}; stderr tail: ${this.stderr.slice(-5).join(" | ")}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void check();
      this.listeners.add(listener);
      check();
    });
  }

  reconciled(key: string): Report[] {
    return this.reports.filter((report) => report.event === "reconcile-end" && report.key === key);
  }

  startedReconciles(): Report[] {
    return this.reports.filter((report) => report.event === "reconcile-start");
  }
}

describe("leader election with real replicas", function () {
  this.timeout(120_000);
  const namespace = `le-${randomBytes(3).toString("hex")}`;
  const candidates: Candidate[] = [];
  let core: k8s.CoreV1Api;
  let coordination: k8s.CoordinationV1Api;

  function startCandidate(name: string): Candidate {
    const identity = `${name}_${randomBytes(2).toString("hex")}`;
    const child = spawn(process.execPath, ["--import", "tsx", CANDIDATE_SCRIPT], {
      env: {
        ...process.env,
        KUBECONFIG: sandboxEnv().kubeconfigPath,
        CANDIDATE_IDENTITY: identity,
        TEST_NAMESPACE: namespace,
        LEASE_NAME,
        LEASE_DURATION_MS: String(LEASE_DURATION_MS),
        RENEW_DEADLINE_MS: String(RENEW_DEADLINE_MS),
        RETRY_PERIOD_MS: String(RETRY_PERIOD_MS),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const candidate = new Candidate(identity, child);
    candidates.push(candidate);
    return candidate;
  }

  async function createConfigMap(name: string, data: Record<string, string> = {}): Promise<void> {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels: { [LABEL]: "true" } }, data } });
  }

  async function leaseHolder(): Promise<string | undefined> {
    const lease = await coordination.readNamespacedLease({ namespace, name: LEASE_NAME });
    return lease.spec?.holderIdentity;
  }

  before(async () => {
    const kubeConfig = sandboxKubeConfig();
    core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    coordination = kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  after(async () => {
    for (const candidate of candidates) {
      if (candidate.process.exitCode === null && candidate.process.signalCode === null) candidate.process.kill("SIGKILL");
    }
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  let first: Candidate;
  let second: Candidate;

  it("lets only the Lease holder reconcile", async () => {
    first = startCandidate("first");
    await first.waitFor("leading", (report) => report.event === "leading", 60_000);
    second = startCandidate("second");
    const ready = await second.waitFor("ready", (report) => report.event === "ready", 60_000);
    assert.equal(ready.detail, "standby");
    assert.equal(await leaseHolder(), first.identity);

    await createConfigMap("cm-1");
    await first.waitFor("cm-1 reconciled", (report) => report.event === "reconcile-end" && report.key === `${namespace}/cm-1`, 15_000);
    // Give the standby's watch ample time to have seen cm-1 too.
    await new Promise((resolve) => setTimeout(resolve, 2 * RETRY_PERIOD_MS));
    assert.deepEqual(second.startedReconciles(), [], "the standby must not reconcile");
    assert.equal(second.reports.some((report) => report.event === "leading"), false);
  });

  it("hands over to the standby within the lease duration when the leader is killed", async () => {
    const killedAt = Date.now();
    first.process.kill("SIGKILL");
    await first.exited;
    const leading = await second.waitFor("leading", (report) => report.event === "leading", LEASE_DURATION_MS * 3);
    const takeoverMs = leading.at - killedAt;
    // The standby waits for the Lease to expire by its own clock (it saw the last renewal at
    // most one retry period before the kill), then needs at most one more poll.
    assert.ok(takeoverMs >= LEASE_DURATION_MS - 2 * RETRY_PERIOD_MS, `took over after only ${takeoverMs} ms, before the Lease could expire`);
    // One poll plus jitter, and some slack for a loaded machine.
    assert.ok(takeoverMs <= LEASE_DURATION_MS + 2_500, `took over after ${takeoverMs} ms`);
    assert.equal(await leaseHolder(), second.identity);
    const lease = await coordination.readNamespacedLease({ namespace, name: LEASE_NAME });
    assert.equal(lease.spec?.leaseTransitions, 1);

    await second.waitFor("cm-1 reconciled by the new leader", (report) => report.event === "reconcile-end" && report.key === `${namespace}/cm-1`, 10_000);
    await createConfigMap("cm-2");
    await second.waitFor("cm-2 reconciled", (report) => report.event === "reconcile-end" && report.key === `${namespace}/cm-2`, 10_000);
  });

  it("on SIGTERM finishes the running reconcile, releases the Lease and the standby takes over at once", async () => {
    const third = startCandidate("third");
    await third.waitFor("ready", (report) => report.event === "ready", 60_000);

    await createConfigMap("cm-slow", { sleepMs: "2000" });
    await second.waitFor("cm-slow started", (report) => report.event === "reconcile-start" && report.key === `${namespace}/cm-slow`, 10_000);
    second.process.kill("SIGTERM");
    const exitCode = await second.exited;
    const exitedAt = Date.now();
    assert.equal(exitCode, 0);

    const finished = second.reconciled(`${namespace}/cm-slow`);
    assert.equal(finished.length, 1, "the running reconcile was allowed to finish");
    const stopped = second.reports.find((report) => report.event === "stopped");
    assert.ok(stopped, "the replica reported its stop");
    assert.equal(stopped.reason, "shutdown");
    assert.ok(finished[0].at <= stopped.at);

    const leading = await third.waitFor("leading", (report) => report.event === "leading", LEASE_DURATION_MS * 2);
    assert.ok(leading.at >= finished[0].at, "the new leader started only after the old one finished its reconcile");
    const takeoverMs = leading.at - exitedAt;
    assert.ok(takeoverMs < LEASE_DURATION_MS / 2, `a released Lease should be taken at the next poll, took ${takeoverMs} ms`);
    assert.equal(await leaseHolder(), third.identity);
    await third.waitFor("cm-slow reconciled by the new leader", (report) => report.event === "reconcile-end" && report.key === `${namespace}/cm-slow`, 10_000);

    third.process.kill("SIGTERM");
    assert.equal(await third.exited, 0);
    assert.equal(await leaseHolder(), "", "a graceful stop leaves the Lease released");
  });
});
