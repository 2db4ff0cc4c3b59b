// What `plan` and `status` print as tables, and the -o json|yaml form of any object. Pure.
import { stringify } from "yaml";
import type { ClusterUpgrade, Finding, Plan } from "../../api/v1alpha1/types.js";
import { describeProgress } from "../../controllers/clusterupgrade/status.js";
import type { OutputFormat } from "./args.js";
import { table, type Row } from "./table.js";

export function serialize(value: unknown, format: Exclude<OutputFormat, "table">): string {
  return format === "json" ? JSON.stringify(value, null, 2) : stringify(value).trimEnd();
}

function sections(parts: (string | undefined)[]): string {
  return parts.filter((part) => part !== undefined && part !== "").join("\n\n");
}

export function renderPlan(plan: Plan | undefined): string {
  if (!plan?.hops.length) return "No plan: the operator wrote none (see the findings and the Ready message).";
  const hops = table(
    ["HOP", "CONTROL PLANE", "ADD-ONS", "NODE GROUPS", "NODES"],
    plan.hops.map((hop) => [`${hop.from} -> ${hop.to}`, hop.controlPlane ? "upgrade" : "already there", hop.addons.length, hop.nodeGroups.length, hop.nodeGroups.reduce((sum, group) => sum + group.nodeCount, 0)]),
  );
  const addonRows: Row[] = plan.hops.flatMap((hop) => hop.addons.map((addon) => [hop.to, addon.name, addon.from, addon.to]));
  const groupRows: Row[] = plan.hops.flatMap((hop) =>
    hop.nodeGroups.flatMap((group) =>
      group.batches.length ? group.batches.map((batch, index) => [hop.to, group.name, group.kind, `${index + 1}/${group.batches.length}`, batch.join(",")]) : [[hop.to, group.name, group.kind, "0/0", undefined]],
    ),
  );
  return sections([
    hops,
    addonRows.length ? table(["HOP", "ADD-ON", "FROM", "TO"], addonRows) : undefined,
    groupRows.length ? table(["HOP", "NODE GROUP", "KIND", "BATCH", "NODES"], groupRows) : undefined,
    plan.unorderedNodeGroups?.length ? `Node groups not in spec.nodeGroups.order, rolled after it: ${plan.unorderedNodeGroups.join(", ")}` : undefined,
    plan.otherNodes?.length
      ? table(
          ["NOT ROLLED", "NODEPOOL", "NODES", "WHAT HAPPENS"],
          plan.otherNodes.map((group) => [group.kind, group.nodePool, group.nodeCount, group.restart?.length ? `${group.action}; restart: ${group.restart.join(", ")}` : group.action]),
        )
      : undefined,
  ]);
}

export function renderFindings(findings: readonly Finding[]): string {
  if (!findings.length) return "No findings: preflight passed.";
  const ordered = [...findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "Blocking" ? -1 : 1));
  const findingsTable = table(["SEVERITY", "CODE", "RESOURCE", "MESSAGE"], ordered.map((finding) => [finding.severity, finding.code, finding.resource, finding.message]));
  const fixes = table(["CODE", "RESOURCE", "REMEDIATION"], ordered.map((finding) => [finding.code, finding.resource, finding.remediation]));
  return sections([findingsTable, fixes]);
}

/** The header lines shared by `plan` and `status`. */
function summary(upgrade: ClusterUpgrade): string {
  const status = upgrade.status ?? {};
  const ready = status.conditions?.find((condition) => condition.type === "Ready");
  const cluster = upgrade.spec.cluster;
  const rows: [string, string | undefined][] = [
    ["Name", `${upgrade.metadata.namespace}/${upgrade.metadata.name}`],
    ["Cluster", `${cluster.name}${cluster.region ? ` (${cluster.region})` : ""}`],
    ["Strategy", upgrade.spec.strategy ?? "InPlace"],
    ["Version", `${status.currentVersion ?? "?"} -> ${upgrade.spec.targetVersion}`],
    ["Phase", `${status.phase ?? "Pending"}${upgrade.spec.dryRun ? " (dry run)" : ""}${upgrade.spec.paused ? " (spec.paused)" : ""}${upgrade.spec.abort ? " (spec.abort)" : ""}`],
    ["Progress", describeProgress(status) || undefined],
    ["Ready", ready ? `${ready.status} ${ready.reason}: ${ready.message}` : undefined],
  ];
  if (status.cutover) rows.push(["Traffic", `${status.cutover.split} blue/green, step ${status.cutover.step}/${status.cutover.steps ?? "?"}${status.cutover.state ? ` (${status.cutover.state})` : ""}`]);
  if (status.cutover?.approvalCommand) rows.push(["Approve", `kubectl eksupgrade approve ${upgrade.metadata.name} -n ${upgrade.metadata.namespace}`]);
  if (status.window && !status.window.open) rows.push(["Window", `closed${status.window.nextStart ? `, next opens ${status.window.nextStart}` : ""}${status.window.reason ? ` (${status.window.reason})` : ""}`]);
  const width = Math.max(...rows.map(([label]) => label.length)) + 3;
  return rows
    .filter(([, value]) => value !== undefined)
    .map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`)
    .join("\n");
}

export function renderPlanResult(upgrade: ClusterUpgrade, blocked: boolean): string {
  const blocking = upgrade.status?.preflight?.blocking ?? 0;
  const verdict = blocked ? `Verdict:   preflight would stop this upgrade${blocking ? ` (${blocking} blocking finding(s))` : ""}` : "Verdict:   preflight passes: the upgrade can start";
  return sections([`${summary(upgrade)}\n${verdict}`, renderPlan(upgrade.status?.plan), renderFindings(upgrade.status?.preflight?.findings ?? [])]);
}

export function renderStatus(upgrade: ClusterUpgrade): string {
  const status = upgrade.status ?? {};
  const hops = status.hops ?? [];
  const addons = status.addons ?? [];
  const groups = status.nodeGroups ?? [];
  const pools = status.karpenter?.nodePools ?? [];
  const nodes = groups.flatMap((group) => (group.nodes ?? []).map((node) => ({ group, node })));
  const waitingClaims = (status.claims ?? []).filter((claim) => claim.state === "Waiting");
  const blocking = (status.preflight?.findings ?? []).filter((finding) => finding.severity === "Blocking");
  return sections([
    summary(upgrade),
    hops.length ? table(["HOP", "STATE", "STAGE", "STARTED", "FINISHED", "MESSAGE"], hops.map((hop) => [`${hop.from} -> ${hop.version}`, hop.state, hop.stage, hop.startedAt, hop.finishedAt, hop.errors?.length ? `${hop.errors.map((error) => error.errorCode).join(",")}: ${hop.message ?? ""}` : hop.message])) : undefined,
    addons.length ? table(["ADD-ON", "HOP", "FROM", "TO", "STATE", "MESSAGE"], addons.map((addon) => [addon.name, addon.hop, addon.fromVersion, addon.toVersion, addon.state, addon.message])) : undefined,
    groups.length ? table(["NODE GROUP", "KIND", "VERSION", "TARGET", "UPGRADED", "IN FLIGHT", "STATE", "MESSAGE"], groups.map((group) => [group.name, group.kind, group.version, group.targetVersion, `${group.upgraded}/${group.total}`, group.inFlight, group.state, group.message])) : undefined,
    pools.length
      ? table(
          ["NODEPOOL", "NODE CLASS", "TARGET", "AT VERSION", "DRIFTED", "REPLACED", "STATE", "HELD BY"],
          pools.map((pool) => [pool.name, pool.nodeClass, pool.targetVersion, `${pool.atVersion}/${pool.total}`, pool.drifted, pool.replaced, pool.state, pool.blockers?.length ? `${pool.blockers[0]}${pool.blockers.length > 1 ? ` (+${pool.blockers.length - 1} more)` : ""}` : pool.message]),
        )
      : undefined,
    nodes.length
      ? table(
          ["NODE", "NODE GROUP", "PHASE", "SINCE", "EVICTIONS", "PODS LEFT", "HELD BY"],
          nodes.map(({ group, node }) => [node.name, group.name, node.phase, node.since, node.evictions ?? 0, node.podsLeft?.length ?? 0, node.podsLeft?.length ? `${node.podsLeft[0].pod}: ${node.podsLeft[0].heldBy}${node.podsLeft.length > 1 ? ` (+${node.podsLeft.length - 1} more)` : ""}` : node.message]),
        )
      : undefined,
    blocking.length ? renderFindings(blocking) : undefined,
    waitingClaims.length ? table(["CLAIM", "STATE", "HELD BY"], waitingClaims.map((claim) => [claim.resource, claim.state, claim.heldBy])) : undefined,
    status.conditions?.length ? table(["CONDITION", "STATUS", "REASON", "MESSAGE"], status.conditions.map((condition) => [condition.type, condition.status, condition.reason, condition.message])) : undefined,
  ]);
}
