// The preflight of a BlueGreen upgrade: blue is not changed, so its checks are those of green and
// of the route (green ACTIVE at the target with its node groups, the workloads named in the spec
// available on green, both weighted records present and not owned by external-dns, every alarm
// gate existing). Runs until the first weight change; blocking findings hold the cutover back.
import { resolveGates } from "../../../api/v1alpha1/defaults.js";
import { ConditionType, Reason, type Finding } from "../../../api/v1alpha1/types.js";
import { parseDuration } from "../../../api/v1alpha1/duration.js";
import { externalDnsFinding, findOwnership, ownershipRecordNames } from "../../../bluegreen/external-dns.js";
import { checkAlarmsExist, checkGreenCluster, checkGreenWorkloads, checkWeightedRecords, type GreenObservation } from "../../../bluegreen/green-checks.js";
import type { ClusterInfo } from "../../../cloud/ports.js";
import { applyPolicy } from "../../../preflight/findings.js";
import { isNotFound } from "../../../util/errors.js";
import { CONTINUE, waitFor, type Step, type StepContext, type StepResult } from "../context.js";
import { resolveRoute } from "../../../bluegreen/route.js";
import { cloneFindings } from "./green-cluster.js";
import { recordFindings } from "./record-findings.js";

async function observeGreen(context: StepContext): Promise<GreenObservation> {
  const blueGreen = context.spec.blueGreen!;
  const eks = context.cloudIn(blueGreen.greenCluster.region).eks;
  const clusterName = blueGreen.greenCluster.name;
  let cluster: ClusterInfo | undefined;
  try {
    cluster = await eks.describeCluster(clusterName);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const nodeGroups = cluster ? await Promise.all((await eks.listNodegroups(clusterName)).map((name) => eks.describeNodegroup(clusterName, name))) : [];
  const wantsWorkloads = Boolean(blueGreen.verify?.workloads?.length || blueGreen.verify?.namespaces?.length);
  const snapshot = cluster && wantsWorkloads ? await (await context.greenWorkloads()).snapshot() : undefined;
  return { clusterName, targetVersion: context.spec.targetVersion, cluster, nodeGroups, verify: blueGreen.verify, ...(snapshot ? { snapshot } : {}) };
}

async function checkRoute(context: StepContext): Promise<Finding[]> {
  const blueGreen = context.spec.blueGreen!;
  const route = resolveRoute(blueGreen.route53);
  const route53 = context.cloud.route53;
  const records = await route53.weightedRecords(route.hostedZoneId, route.recordName, route.recordType);
  const txt = await Promise.all(ownershipRecordNames(route.recordName, route.recordType).map(async (name) => ({ name, values: await route53.txtValues(route.hostedZoneId, name) })));
  const ownership = externalDnsFinding(findOwnership(txt), route.recordName, route.externalDNS);
  const alarms = resolveGates(blueGreen.gates).cloudWatchAlarms;
  const alarmStates = alarms.length ? await context.cloudIn(blueGreen.greenCluster.region).cloudwatch.alarmStates(alarms) : {};
  return [...checkWeightedRecords(records, route), ...(ownership ? [ownership] : []), ...checkAlarmsExist(alarms, alarmStates)];
}

/** createGreen before green is ready: what the clone needs, and the route; green itself comes later. */
async function clonePreflight(context: StepContext): Promise<StepResult> {
  const findings = applyPolicy([...(await cloneFindings(context)), ...(await checkRoute(context))], context.spec.preflight);
  const blockingFindings = recordFindings(context, findings, [], "no cluster created and no traffic moved; ");
  if (blockingFindings.length > 0) {
    if (context.spec.dryRun) return CONTINUE;
    return waitFor(parseDuration(context.spec.preflight.recheckInterval), "clone preflight blocked");
  }
  const blueGreen = context.spec.blueGreen!;
  const state = context.status.green ? `being created (${context.status.green.state})` : "to be created";
  const warnings = findings.length ? ` (${findings.length} warning(s): ${[...new Set(findings.map((finding) => finding.code))].join(", ")})` : "";
  context.setCondition(ConditionType.PreflightPassed, "True", Reason.ChecksPassed, `green cluster ${blueGreen.greenCluster.name} is ${state} from ${context.spec.cluster.name} at ${context.spec.targetVersion}; it is verified once it exists${warnings}`);
  return CONTINUE;
}

export const greenPreflightStep: Step = {
  name: "greenPreflight",
  run: greenPreflight,
};

async function greenPreflight(context: StepContext): Promise<StepResult> {
  // Once traffic has started to move, green is watched by the gates instead.
  if (context.status.cutover) return CONTINUE;
  if (context.spec.blueGreen!.createGreen && context.status.green?.state !== "Ready") return clonePreflight(context);
  const observed = await observeGreen(context);
  const findings = applyPolicy([...checkGreenCluster(observed), ...checkGreenWorkloads(observed), ...(await checkRoute(context))], context.spec.preflight);
  const blockingFindings = recordFindings(context, findings, [], "no traffic moved; ");
  if (blockingFindings.length > 0) {
    if (context.spec.dryRun) return CONTINUE;
    return waitFor(parseDuration(context.spec.preflight.recheckInterval), "green preflight blocked");
  }
  const warnings = findings.length;
  context.setCondition(ConditionType.PreflightPassed, "True", Reason.ChecksPassed, `green cluster ${observed.clusterName} is ready for traffic${warnings ? ` (${warnings} warning(s): ${[...new Set(findings.map((finding) => finding.code))].join(", ")})` : ""}`);
  return CONTINUE;
}
