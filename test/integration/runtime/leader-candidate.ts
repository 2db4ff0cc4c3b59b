// One operator replica for the leader-election integration test, run as its own process so the
// test can kill it for real. It reconciles ConfigMaps labelled for the test (a ConfigMap whose
// data.sleepMs is set makes its reconcile take that long) and reports on stdout, one JSON
// object a line: ready, leading, reconcile-start, reconcile-end, stopped.
//
// Settings come from the environment: KUBECONFIG, CANDIDATE_IDENTITY, TEST_NAMESPACE,
// LEASE_NAME, LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS.
import * as k8s from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { Informer, kubeWatchFunction } from "../../../src/runtime/informer.js";
import { kubeLeaseClient } from "../../../src/runtime/leader-election.js";
import { Manager } from "../../../src/runtime/manager.js";
import { configMapSource } from "../../../src/runtime/sources.js";
import { createLogger } from "../../../src/util/logger.js";

const CANDIDATE_LABEL = "eksup-test/leader-election";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function report(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...fields })}\n`);
}

function main(): void {
  const identity = required("CANDIDATE_IDENTITY");
  const namespace = required("TEST_NAMESPACE");
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(required("KUBECONFIG"));
  // Operator logs go to stderr so stdout carries only the reports the test parses.
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? "info", stream: process.stderr, defaultMeta: { identity } });
  const informer = new Informer<k8s.V1ConfigMap>(
    configMapSource(kubeConfig, { namespace, labelSelector: `${CANDIDATE_LABEL}=true` }),
    kubeWatchFunction(kubeConfig),
    { logger },
  );
  const manager = new Manager<k8s.V1ConfigMap>({
    name: "leader-election-test",
    primary: informer,
    logger,
    leaderElection: {
      namespace,
      name: required("LEASE_NAME"),
      identity,
      client: kubeLeaseClient(kubeConfig),
      leaseDurationMs: Number(required("LEASE_DURATION_MS")),
      renewDeadlineMs: Number(required("RENEW_DEADLINE_MS")),
      retryPeriodMs: Number(required("RETRY_PERIOD_MS")),
    },
    shutdownTimeoutMs: 20_000,
    onLeadershipChange: (leading) => report(leading ? "leading" : "not-leading"),
    reconcile: async (key) => {
      report("reconcile-start", { key });
      const name = key.split("/")[1] ?? key;
      const sleepMs = Number(informer.get(namespace, name)?.data?.sleepMs ?? 0);
      if (sleepMs > 0) await sleep(sleepMs);
      report("reconcile-end", { key });
    },
  });
  manager.stopOnSignals();
  manager.start();
  const readiness = setInterval(() => {
    const probe = manager.readiness();
    if (!probe.ok) return;
    report("ready", { detail: probe.detail });
    clearInterval(readiness);
  }, 50);
  manager.done.then(
    (reason) => {
      clearInterval(readiness);
      report("stopped", { reason });
      process.exit(reason === "shutdown" ? 0 : 1);
    },
    (err: unknown) => {
      report("crashed", { error: String(err) });
      process.exit(2);
    },
  );
}

main();
