// What the CRD schema cannot check on its own: cron expressions, time zones, AMIs per version.
// Each problem names the field and says how to fix it; the controller turns them into the
// SpecValid condition with reason InvalidSpec and changes nothing.
import { Cron } from "croner";
import { validateWeightSchedule } from "../../bluegreen/schedule.js";
import { weightSchedule } from "./defaults.js";
import { parseDuration } from "./duration.js";
import type { ClusterUpgradeSpec } from "./types.js";
import { refusedUrl, type OutboundPolicy } from "../../net/outbound.js";

export interface SpecProblem {
  field: string;
  message: string;
}

export function validateSpec(spec: ClusterUpgradeSpec): SpecProblem[] {
  return [
    ...validateWindows(spec),
    ...validateDurations(spec),
    ...validateNodeGroups(spec),
    ...validateBlueGreen(spec),
    ...validateOverrides(spec),
  ];
}

/** A blue cluster is deleted only after at least this long as the fallback (the CRD says the same). */
export const MIN_KEEP_BEFORE_DELETE_MS = 60 * 60_000;

/**
 * The CRD's CEL rules for dangerous switches, repeated for clusters whose CRD predates them: each
 * switch that removes a safety net must come with what makes it deliberate.
 */
function validateOverrides(spec: ClusterUpgradeSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  if (spec.controlPlane?.force && !(spec.preflight?.insightOverrides?.length)) {
    problems.push({ field: "spec.controlPlane.force", message: "force overrides EKS upgrade insights, so it requires spec.preflight.insightOverrides naming each insight overridden with a reason" });
  }
  if (spec.drain?.gracePeriodSeconds === 0 && !spec.drain.allowForceDelete) {
    problems.push({ field: "spec.drain.gracePeriodSeconds", message: "0 kills pods without any time to shut down, so it requires spec.drain.allowForceDelete: true; or give them at least 1 second" });
  }
  const retention = spec.blueGreen?.blueRetention;
  if (spec.strategy === "BlueGreen" && retention?.deleteBlue) {
    // The CRD's default; an object stored before the default existed may lack it.
    const keepFor = retention.keepFor ?? "24h";
    if (parseDurationSafe(keepFor) < MIN_KEEP_BEFORE_DELETE_MS) {
      problems.push({ field: "spec.blueGreen.blueRetention.keepFor", message: `deleteBlue requires keepFor of at least 1h (it is ${keepFor}): blue is the only way back once green carries the traffic` });
    }
  }
  return problems;
}

/** What the BlueGreen strategy needs and what this operator refuses to do to blue. */
function validateBlueGreen(spec: ClusterUpgradeSpec): SpecProblem[] {
  if (spec.strategy !== "BlueGreen") return [];
  const blueGreen = spec.blueGreen;
  if (!blueGreen) return [{ field: "spec.blueGreen", message: "strategy BlueGreen needs spec.blueGreen (green cluster and Route53 records)" }];
  const problems: SpecProblem[] = [];
  if (blueGreen.greenCluster.name === spec.cluster.name && (blueGreen.greenCluster.region ?? spec.cluster.region) === spec.cluster.region) {
    problems.push({ field: "spec.blueGreen.greenCluster.name", message: `green must be another cluster than blue (${spec.cluster.name}); name the cluster that takes the traffic` });
  }
  if (blueGreen.createGreen && blueGreen.greenCluster.region && blueGreen.greenCluster.region !== (spec.cluster.region ?? blueGreen.greenCluster.region)) {
    problems.push({ field: "spec.blueGreen.greenCluster.region", message: "createGreen clones blue into blue's own region (its subnets, roles and security groups live there); drop greenCluster.region or set it to spec.cluster.region" });
  }
  const schedule = weightSchedule(blueGreen);
  const field = blueGreen.weightSteps?.length ? "spec.blueGreen.weightSteps" : "spec.blueGreen.trafficSteps";
  for (const message of validateWeightSchedule(schedule)) problems.push({ field, message });
  const durations: [string, string | undefined][] = [
    ["spec.blueGreen.stepInterval", blueGreen.stepInterval],
    ["spec.blueGreen.gates.checkInterval", blueGreen.gates?.checkInterval],
    ["spec.blueGreen.blueRetention.keepFor", blueGreen.blueRetention?.keepFor],
  ];
  for (const [name, value] of durations) {
    if (value !== undefined && parseDurationSafe(value) === 0) problems.push({ field: name, message: `"${value}" must be a duration longer than 0s, e.g. 30s or 5m` });
  }
  return problems;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function validateWindows(spec: ClusterUpgradeSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  (spec.maintenanceWindows ?? []).forEach((window, index) => {
    const field = `spec.maintenanceWindows[${index}]`;
    const zone = window.timeZone ?? "UTC";
    if (!isValidTimeZone(zone)) {
      problems.push({ field: `${field}.timeZone`, message: `"${zone}" is not an IANA time zone; use a name such as Europe/Berlin or UTC` });
      return;
    }
    try {
      new Cron(window.schedule, { timezone: zone, paused: true });
    } catch (error) {
      problems.push({
        field: `${field}.schedule`,
        message: `"${window.schedule}" is not a valid cron schedule (${(error as Error).message}); use five fields: minute hour day-of-month month day-of-week, e.g. "0 22 * * 1-5"`,
      });
    }
    if (parseDurationSafe(window.duration) === 0) {
      problems.push({ field: `${field}.duration`, message: "a maintenance window must last longer than 0s" });
    }
  });
  return problems;
}

function validateDurations(spec: ClusterUpgradeSpec): SpecProblem[] {
  const fields: [string, string | undefined][] = [
    ["spec.controlPlane.expectedHopDuration", spec.controlPlane?.expectedHopDuration],
    ["spec.drain.timeout", spec.drain?.timeout],
    ["spec.drain.evictionRetryInterval", spec.drain?.evictionRetryInterval],
    ["spec.preflight.recheckInterval", spec.preflight?.recheckInterval],
  ];
  return fields
    .filter(([, value]) => value !== undefined && parseDurationSafe(value) === 0)
    .map(([field, value]) => ({ field, message: `"${value}" must be a duration longer than 0s, e.g. 30s or 15m` }));
}

/** Without an AMI in the spec, the operator looks up the EKS-optimized AMI of each hop's version. */
function validateNodeGroups(spec: ClusterUpgradeSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  for (const group of spec.nodeGroups?.selfManaged ?? []) {
    const field = `spec.nodeGroups.selfManaged[${group.autoScalingGroupName}]`;
    for (const version of Object.keys(group.amiIdsByVersion ?? {})) {
      if (!/^1\.\d{1,3}$/.test(version)) problems.push({ field: `${field}.amiIdsByVersion`, message: `key "${version}" is not a Kubernetes minor version such as "1.31"` });
    }
    const forTarget = group.amiIdsByVersion?.[spec.targetVersion];
    if (group.amiId && forTarget && forTarget !== group.amiId) {
      problems.push({ field: `${field}.amiId`, message: `amiId ${group.amiId} and amiIdsByVersion["${spec.targetVersion}"] ${forTarget} disagree about the target version's AMI: keep one` });
    }
  }
  return problems;
}

/**
 * URLs the operator would fetch (notification webhook, HTTP probes), judged by the operator's
 * outbound settings without DNS: scheme, literal addresses, cluster-internal names. The request
 * itself checks the resolved addresses again (src/net/outbound.ts).
 */
export function validateUrls(spec: ClusterUpgradeSpec, policy: OutboundPolicy): SpecProblem[] {
  const urls: [string, string | undefined][] = [
    ["spec.notifications.webhookUrl", spec.notifications?.webhookUrl],
    ...(spec.blueGreen?.gates?.httpProbes ?? []).map((probe, index): [string, string] => [`spec.blueGreen.gates.httpProbes[${index}].url`, probe.url]),
  ];
  const problems: SpecProblem[] = [];
  for (const [field, url] of urls) {
    const why = url === undefined ? undefined : refusedUrl(policy, url);
    if (why) problems.push({ field, message: `${url} is refused: ${why}` });
  }
  return problems;
}

function parseDurationSafe(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    return 0;
  }
}
