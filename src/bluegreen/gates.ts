// Health gates of a blue/green cutover: Route53 health checks, CloudWatch alarms and HTTP probes,
// read every gates.checkInterval while a step is in flight. Reading is I/O through narrow
// interfaces; counting failed checks against the threshold is pure.
import type { Resolved } from "../api/v1alpha1/defaults.js";
import type { GateResult, GatesSpec } from "../api/v1alpha1/types.js";
import type { CloudWatchPort, Route53Port } from "../cloud/ports.js";
import { describeError } from "../util/errors.js";

/** Seconds an HTTP probe may take when the spec gives none (the CRD's default). */
export const DEFAULT_PROBE_TIMEOUT_SECONDS = 5;

export interface ProbeAnswer {
  /** The HTTP status, when the server answered. */
  status?: number;
  /** Why there was no answer: timeout, refused connection, DNS failure. */
  error?: string;
}

/** Sends one GET and reports the status or why there was none; never throws. */
export type HttpProbe = (url: string, timeoutMs: number) => Promise<ProbeAnswer>;

export interface GateReaders {
  route53: Route53Port;
  cloudwatch: CloudWatchPort;
  probe: HttpProbe;
}

/** A probe passes on any 2xx answer within its timeout (the Flagger webhook model accepts 200-202). */
export function probePassed(answer: ProbeAnswer): boolean {
  return answer.status !== undefined && answer.status >= 200 && answer.status < 300;
}

async function healthCheckGates(readers: GateReaders, ids: string[], checkedAt: string): Promise<GateResult[]> {
  return Promise.all(
    ids.map(async (id): Promise<GateResult> => {
      try {
        const healthy = await readers.route53.healthCheckHealthy(id);
        return { name: id, kind: "Route53HealthCheck", healthy, value: healthy ? "Healthy" : "Unhealthy", checkedAt };
      } catch (error) {
        return { name: id, kind: "Route53HealthCheck", healthy: false, value: `cannot read: ${describeError(error)}`, checkedAt };
      }
    }),
  );
}

async function alarmGates(readers: GateReaders, names: string[], checkedAt: string): Promise<GateResult[]> {
  if (names.length === 0) return [];
  let states: Record<string, string>;
  try {
    states = await readers.cloudwatch.alarmStates(names);
  } catch (error) {
    return names.map((name) => ({ name, kind: "CloudWatchAlarm", healthy: false, value: `cannot read: ${describeError(error)}`, checkedAt }));
  }
  // INSUFFICIENT_DATA is not a failure: a quiet metric on a freshly shifted green is expected.
  return names.map((name) => {
    const state = states[name];
    if (!state) return { name, kind: "CloudWatchAlarm", healthy: false, value: "alarm not found", checkedAt };
    return { name, kind: "CloudWatchAlarm", healthy: state !== "ALARM", value: state, checkedAt };
  });
}

async function probeGates(readers: GateReaders, probes: { url: string; timeoutSeconds?: number }[], checkedAt: string): Promise<GateResult[]> {
  return Promise.all(
    probes.map(async (probe): Promise<GateResult> => {
      const timeoutSeconds = probe.timeoutSeconds ?? DEFAULT_PROBE_TIMEOUT_SECONDS;
      const answer = await readers.probe(probe.url, timeoutSeconds * 1000);
      const value = answer.status !== undefined ? `HTTP ${answer.status}` : (answer.error ?? `no answer within ${timeoutSeconds}s`);
      return { name: probe.url, kind: "HttpProbe", healthy: probePassed(answer), value, checkedAt };
    }),
  );
}

/** Reads every gate once. A gate that cannot be read counts as failed: traffic must not move blind. */
export async function readGates(readers: GateReaders, gates: Resolved<GatesSpec>, now: Date): Promise<GateResult[]> {
  const checkedAt = now.toISOString();
  const [healthChecks, alarms, probes] = await Promise.all([
    healthCheckGates(readers, gates.route53HealthCheckIds, checkedAt),
    alarmGates(readers, gates.cloudWatchAlarms, checkedAt),
    probeGates(readers, gates.httpProbes, checkedAt),
  ]);
  return [...healthChecks, ...alarms, ...probes];
}

export interface GateVerdict {
  /** Failed checks so far, this one included. */
  failures: number;
  /** The gates that failed in this check. */
  failing: GateResult[];
  /** True once the failed checks reach the threshold: traffic goes back to blue. */
  rollBack: boolean;
}

/**
 * One check is a reading of every gate; it fails when any gate fails. Failed checks add up over the
 * whole cutover and the check that brings them to failureThreshold rolls back (Flagger's model:
 * roll back after `threshold` failed checks).
 */
export function judgeCheck(results: readonly GateResult[], failuresSoFar: number, failureThreshold: number): GateVerdict {
  const failing = results.filter((result) => !result.healthy);
  const failures = failuresSoFar + (failing.length > 0 ? 1 : 0);
  return { failures, failing, rollBack: failing.length > 0 && failures >= failureThreshold };
}

/** "HttpProbe http://green/healthz: HTTP 500; CloudWatchAlarm green-5xx: ALARM" */
export function describeFailing(failing: readonly GateResult[]): string {
  return failing.map((gate) => `${gate.kind} ${gate.name}: ${gate.value}`).join("; ");
}

/** Whether the gates are due for a reading. */
export function checkDue(lastCheckAt: string | undefined, now: Date, checkIntervalMs: number): boolean {
  return !lastCheckAt || now.getTime() - Date.parse(lastCheckAt) >= checkIntervalMs;
}
