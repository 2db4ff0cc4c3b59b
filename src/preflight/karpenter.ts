// Preflight for clusters whose capacity Karpenter manages. Karpenter replaces its nodes by drift
// once the NodePool or node class points at a new version; these checks find what would keep it
// from doing so inside the upgrade's maintenance windows (a Karpenter too old for a hop, budgets
// that close drift, do-not-disrupt pods and nodes) and what would make it force pods out
// (terminationGracePeriod, expireAfter). EKS Auto Mode's own NodePools are left out: EKS runs
// that Karpenter and keeps it in step with the control plane.
import type { V1Deployment, V1Node, V1Pod } from "@kubernetes/client-node";
import { formatDuration, parseDuration } from "../api/v1alpha1/duration.js";
import { isKarpenterController, type PreflightDisruptionBudget, type PreflightNodePool } from "../kube/karpenter-objects.js";
import { nodeKindOf, nodePoolOf } from "../kube/node-kinds.js";
import { budgetsFor, DO_NOT_DISRUPT, podName, type WorkloadSnapshot } from "../kube/workload-snapshot.js";
import { occurrencesBetween, type Occurrence, type Window } from "../schedule/windows.js";
import { blocking, warning, type Finding } from "./findings.js";

/**
 * The oldest Karpenter release that supports each Kubernetes minor. Source: Karpenter's
 * "Compatibility" page (karpenter.sh/docs/upgrading/compatibility/, matrix as of v1.6) for 1.27 to
 * 1.33; 1.34 and 1.35 from the first Karpenter minors whose release notes add them (1.6 and 1.9).
 * docs/preflight.md carries the same table: change both together.
 */
export const KARPENTER_COMPATIBILITY: readonly { kubernetes: string; minimum: string }[] = [
  { kubernetes: "1.27", minimum: "0.28.0" },
  { kubernetes: "1.28", minimum: "0.31.0" },
  { kubernetes: "1.29", minimum: "0.34.0" },
  { kubernetes: "1.30", minimum: "0.37.0" },
  { kubernetes: "1.31", minimum: "1.0.5" },
  { kubernetes: "1.32", minimum: "1.2.0" },
  { kubernetes: "1.33", minimum: "1.5.0" },
  { kubernetes: "1.34", minimum: "1.6.0" },
  { kubernetes: "1.35", minimum: "1.9.0" },
];

/** Karpenter's default for spec.template.spec.expireAfter. */
const DEFAULT_EXPIRE_AFTER = "720h";
/** How far ahead windows are compared with budgets and expiry: a month of weekly windows. */
const HORIZON_MS = 35 * 24 * 3_600_000;
/** With no maintenance windows the upgrade may start at any time: the next week stands for it. */
const ANY_TIME_MS = 7 * 24 * 3_600_000;
const LISTED = 5;

export interface KarpenterCheckInput {
  snapshot: Pick<WorkloadSnapshot, "nodes" | "pods" | "pdbs" | "deployments" | "nodePools">;
  /** Every Kubernetes minor the control plane passes through, the target last. */
  hops: string[];
  windows: Window[];
  now: Date;
  /** spec.drain.timeout: how long this upgrade lets a drain wait for PodDisruptionBudgets. */
  drainTimeout: string;
}

function list(names: string[]): string {
  return names.length > LISTED ? `${names.slice(0, LISTED).join(", ")} and ${names.length - LISTED} more` : names.join(", ");
}

function minorOf(version: string): number[] {
  return version
    .replace(/^v/, "")
    .split(/[.-]/)
    .slice(0, 3)
    .map((part) => Number.parseInt(part, 10));
}

function compareVersions(a: string, b: string): number {
  const [left, right] = [minorOf(a), minorOf(b)];
  for (let index = 0; index < 3; index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The NodePools of the user's own Karpenter: Auto Mode's pools reference EKS's node class. */
function ownNodePools(nodePools: PreflightNodePool[] | undefined): PreflightNodePool[] {
  return (nodePools ?? []).filter((pool) => pool.nodeClassGroup !== "eks.amazonaws.com");
}

function karpenterNodesByPool(nodes: V1Node[]): Map<string, V1Node[]> {
  const byPool = new Map<string, V1Node[]>();
  for (const node of nodes) {
    if (nodeKindOf(node) !== "Karpenter") continue;
    const pool = nodePoolOf(node) ?? "";
    byPool.set(pool, [...(byPool.get(pool) ?? []), node]);
  }
  return byPool;
}

function versionOf(tag: string | undefined): string | undefined {
  return tag && /^v?\d+\.\d+(\.\d+)?([-+].*)?$/.test(tag) ? tag.replace(/^v/, "") : undefined;
}

/** "1.5.0" from "public.ecr.aws/karpenter/controller:1.5.0@sha256:...", undefined when the tag is no version. */
export function versionFromImage(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split("@")[0];
  const colon = withoutDigest.lastIndexOf(":");
  if (colon <= withoutDigest.lastIndexOf("/")) return undefined;
  return versionOf(withoutDigest.slice(colon + 1));
}

/** The Karpenter controller Deployments of the cluster, with the version each tells (image tag, else its version label). */
export function karpenterControllers(deployments: V1Deployment[]): { name: string; version?: string }[] {
  return deployments.filter(isKarpenterController).map((deployment) => {
    const containers = deployment.spec?.template.spec?.containers ?? [];
    const controller = containers.find((container) => container.name === "controller") ?? containers.find((container) => container.image?.includes("karpenter")) ?? containers[0];
    const version = versionFromImage(controller?.image) ?? versionOf(deployment.metadata?.labels?.["app.kubernetes.io/version"]);
    return { name: `${deployment.metadata?.namespace ?? ""}/${deployment.metadata?.name ?? ""}`, ...(version ? { version } : {}) };
  });
}

/** KAR001-KAR003: the installed Karpenter supports every hop's Kubernetes version. */
export function checkKarpenterVersion(input: Pick<KarpenterCheckInput, "snapshot" | "hops">): Finding[] {
  const pools = ownNodePools(input.snapshot.nodePools);
  const controllers = karpenterControllers(input.snapshot.deployments);
  const hasNodes = karpenterNodesByPool(input.snapshot.nodes).size > 0;
  if (!pools.length && !controllers.length && !hasNodes) return [];
  const known = controllers.filter((controller): controller is { name: string; version: string } => controller.version !== undefined);
  if (!known.length) {
    const seen = controllers.length ? `Deployment ${controllers.map((controller) => controller.name).join(", ")} has no version in its image tag or app.kubernetes.io/version label` : "no Deployment labelled app.kubernetes.io/name=karpenter was found in any namespace";
    const evidence = pools.length ? `NodePools ${list(pools.map((pool) => pool.name))}` : "nodes labelled karpenter.sh/nodepool";
    return [
      warning(
        "KAR002",
        controllers.length ? `Deployment/${controllers[0].name}` : "Deployment/karpenter",
        `the cluster runs Karpenter (${evidence}) but its version cannot be read: ${seen}; whether it supports Kubernetes ${input.hops.join(", ")} is not checked`,
        "label the Karpenter controller Deployment app.kubernetes.io/name=karpenter and app.kubernetes.io/version=<its version> (the Helm chart does both), or run an image tagged with its version; or, having checked Karpenter's compatibility page yourself, add KAR002 to spec.preflight.ignore",
      ),
    ];
  }
  // Several controllers (a migration in progress): the oldest decides.
  const oldest = [...known].sort((a, b) => compareVersions(a.version, b.version))[0];
  const findings: Finding[] = [];
  const newest = KARPENTER_COMPATIBILITY[KARPENTER_COMPATIBILITY.length - 1];
  const tooOld = input.hops
    .map((hop) => ({ hop, entry: KARPENTER_COMPATIBILITY.find((row) => row.kubernetes === hop) }))
    .filter(({ entry }) => entry !== undefined && compareVersions(oldest.version, entry.minimum) < 0);
  if (tooOld.length) {
    const needed = tooOld.map(({ entry }) => entry!.minimum).sort(compareVersions).at(-1)!;
    findings.push(
      blocking(
        "KAR001",
        `Deployment/${oldest.name}`,
        `Karpenter ${oldest.version} (Deployment ${oldest.name}) does not support Kubernetes ${tooOld.map(({ hop, entry }) => `${hop} (needs ${entry!.minimum} or later)`).join(", ")}`,
        `upgrade Karpenter to ${needed} or later, and its CRDs with it (see Karpenter's upgrade guide), before the control plane moves (Karpenter's compatibility page lists the release each Kubernetes version needs)`,
      ),
    );
  }
  const unknown = input.hops.filter((hop) => compareVersions(hop, newest.kubernetes) > 0);
  if (unknown.length) {
    findings.push(
      warning(
        "KAR003",
        `Deployment/${oldest.name}`,
        `the operator's Karpenter compatibility table ends at Kubernetes ${newest.kubernetes}: whether Karpenter ${oldest.version} supports ${unknown.join(", ")} is not checked`,
        `read Karpenter's compatibility page (karpenter.sh/docs/upgrading/compatibility/) for ${unknown.join(", ")}; upgrade Karpenter if needed, then add KAR003 to spec.preflight.ignore`,
      ),
    );
  }
  return findings;
}

function describeBudget(pool: string, index: number, budget: PreflightDisruptionBudget): string {
  const parts = [`nodes ${budget.nodes}`, `reasons ${budget.reasons?.join("/") ?? "all"}`, ...(budget.schedule ? [`schedule "${budget.schedule}" UTC for ${budget.duration ?? "?"}`] : ["always"])];
  return `NodePool ${pool} spec.disruption.budgets[${index}] (${parts.join(", ")})`;
}

/** A budget that lets no node of its pool be disrupted for drift while it is active. */
function closesDrift(budget: PreflightDisruptionBudget): boolean {
  const appliesToDrift = !budget.reasons?.length || budget.reasons.includes("Drifted");
  return appliesToDrift && /^0+%?$/.test(budget.nodes.trim());
}

/** Whether [start, end) is covered entirely by the union of the intervals. */
function covered(span: Occurrence, intervals: Occurrence[]): boolean {
  let reached = span.start.getTime();
  for (const interval of [...intervals].sort((a, b) => a.start.getTime() - b.start.getTime())) {
    if (interval.start.getTime() > reached) return false;
    reached = Math.max(reached, interval.end.getTime());
    if (reached >= span.end.getTime()) return true;
  }
  return reached >= span.end.getTime();
}

/** The spans the upgrade may work in: the maintenance windows' occurrences ahead, or the next week when there are none. */
function upgradeSpans(windows: Window[], now: Date): { span: Occurrence; label: string }[] {
  if (!windows.length) return [{ span: { start: now, end: new Date(now.getTime() + ANY_TIME_MS) }, label: "the next 7 days (no spec.maintenanceWindows)" }];
  const until = new Date(now.getTime() + HORIZON_MS);
  return windows.flatMap((window, index) =>
    occurrencesBetween(window, now, until).map((occurrence) => ({
      span: { start: new Date(Math.max(occurrence.start.getTime(), now.getTime())), end: occurrence.end },
      label: `spec.maintenanceWindows[${index}] at ${occurrence.start.toISOString()}`,
    })),
  );
}

/** KAR010-KAR012: NodePool disruption budgets leave drift room inside the upgrade's windows. */
export function checkDriftBudgets(input: Pick<KarpenterCheckInput, "snapshot" | "windows" | "now">): Finding[] {
  const findings: Finding[] = [];
  const spans = upgradeSpans(input.windows, input.now);
  if (!spans.length) return [];
  const byPool = karpenterNodesByPool(input.snapshot.nodes);
  // A NodePool without nodes has nothing to replace: its budgets hold nothing up.
  for (const pool of ownNodePools(input.snapshot.nodePools).filter((candidate) => byPool.has(candidate.name))) {
    const closing: { budget: PreflightDisruptionBudget; index: number }[] = [];
    for (const [index, budget] of (pool.budgets ?? []).entries()) {
      if (!closesDrift(budget)) continue;
      if (budget.schedule) {
        try {
          parseDuration(budget.duration ?? "");
          occurrencesBetween({ schedule: budget.schedule, duration: budget.duration ?? "", timeZone: "UTC" }, input.now, input.now, 1);
        } catch (error) {
          findings.push(
            warning("KAR012", `NodePool/${pool.name}`, `${describeBudget(pool.name, index, budget)} cannot be read (${(error as Error).message}), so it is left out of the drift check`, `give the budget a five-field cron schedule and a duration such as 8h, as Karpenter expects`),
          );
          continue;
        }
      }
      closing.push({ budget, index });
    }
    if (!closing.length) continue;
    const blockedSpans = spans.filter(({ span }) => {
      const intervals = closing.flatMap(({ budget }) => (budget.schedule ? occurrencesBetween({ schedule: budget.schedule, duration: budget.duration!, timeZone: "UTC" }, span.start, span.end) : [span]));
      return covered(span, intervals);
    });
    if (!blockedSpans.length) continue;
    const budgets = closing.map(({ budget, index }) => describeBudget(pool.name, index, budget)).join("; ");
    if (blockedSpans.length === spans.length) {
      findings.push(
        blocking(
          "KAR010",
          `NodePool/${pool.name}`,
          `NodePool ${pool.name} allows no drift disruption in any of the upgrade's windows (${list(spans.map(({ label }) => label))}): ${budgets}; Karpenter could not replace its nodes with the new version, and they would fall behind the control plane`,
          `let drift through during the maintenance windows: give spec.disruption.budgets[${closing[0].index}] of NodePool ${pool.name} a schedule that leaves the windows free, or reasons that leave out Drifted, or move spec.maintenanceWindows to a time the budgets allow`,
        ),
      );
    } else {
      findings.push(
        warning(
          "KAR011",
          `NodePool/${pool.name}`,
          `NodePool ${pool.name} allows no drift disruption during ${list(blockedSpans.map(({ label }) => label))} (of ${spans.length} window occurrence(s) in the next ${spans.length === 1 ? "week" : "35 days"}): ${budgets}`,
          `its nodes are replaced only in the other windows; align the budget's schedule with spec.maintenanceWindows if the upgrade must use those too`,
        ),
      );
    }
  }
  return findings;
}

/** KAR020, KAR021: do-not-disrupt pods and nodes on Karpenter's nodes, which drift cannot replace. */
export function checkDoNotDisrupt(input: Pick<KarpenterCheckInput, "snapshot">): Finding[] {
  const findings: Finding[] = [];
  const pools = new Map(ownNodePools(input.snapshot.nodePools).map((pool) => [pool.name, pool]));
  const byPool = karpenterNodesByPool(input.snapshot.nodes);
  const nodeNames = new Map<string, string>();
  for (const [pool, nodes] of byPool) for (const node of nodes) nodeNames.set(node.metadata?.name ?? "", pool);
  const until = (pool: string): string => {
    const grace = pools.get(pool)?.terminationGracePeriod;
    return grace ? `until its terminationGracePeriod of ${grace} runs out, when Karpenter deletes the pod anyway` : "for as long as the annotation stays (NodePool without terminationGracePeriod)";
  };
  const pods = input.snapshot.pods.filter((pod: V1Pod) => pod.metadata?.annotations?.[DO_NOT_DISRUPT] === "true" && nodeNames.has(pod.spec?.nodeName ?? ""));
  for (const pod of pods) {
    const node = pod.spec!.nodeName!;
    const pool = nodeNames.get(node)!;
    findings.push(
      warning(
        "KAR020",
        `Pod/${podName(pod)}`,
        `pod ${podName(pod)} carries karpenter.sh/do-not-disrupt=true on node ${node} (NodePool ${pool}): Karpenter will not replace that node by drift ${until(pool)}`,
        `remove the annotation before the upgrade (kubectl annotate pod -n ${pod.metadata?.namespace} ${pod.metadata?.name} karpenter.sh/do-not-disrupt-), or let the pod finish first`,
      ),
    );
  }
  for (const [pool, nodes] of byPool) {
    const marked = nodes.filter((node) => node.metadata?.annotations?.[DO_NOT_DISRUPT] === "true").map((node) => node.metadata?.name ?? "");
    if (!marked.length) continue;
    findings.push(
      warning(
        "KAR021",
        `NodePool/${pool}`,
        `node(s) ${list(marked)} of NodePool ${pool} carry karpenter.sh/do-not-disrupt=true: Karpenter will not replace them by drift, so they stay on the old version`,
        `remove the annotation from the nodes (kubectl annotate node ${marked[0]} karpenter.sh/do-not-disrupt-) before the upgrade`,
      ),
    );
  }
  return findings;
}

/** The client hands creationTimestamp over as a Date; a copy made from JSON has the string. */
function createdAt(node: V1Node): number {
  const created: unknown = node.metadata?.creationTimestamp;
  return created instanceof Date ? created.getTime() : typeof created === "string" ? Date.parse(created) : Number.NaN;
}

function tryDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

/** KAR030, KAR031: terminationGracePeriod and expireAfter that would force pods off during the upgrade. */
export function checkForcedTermination(input: KarpenterCheckInput): Finding[] {
  const findings: Finding[] = [];
  const byPool = karpenterNodesByPool(input.snapshot.nodes);
  const drainMs = tryDuration(input.drainTimeout);
  const spans = upgradeSpans(input.windows, input.now);
  for (const pool of ownNodePools(input.snapshot.nodePools)) {
    const nodes = byPool.get(pool.name) ?? [];
    if (!nodes.length) continue;
    const names = new Set(nodes.map((node) => node.metadata?.name ?? ""));
    const pods = input.snapshot.pods.filter((pod) => names.has(pod.spec?.nodeName ?? ""));
    const graceMs = tryDuration(pool.terminationGracePeriod);
    if (graceMs !== undefined) {
      const held = pods.filter((pod) => budgetsFor(pod, input.snapshot.pdbs).length > 0 || pod.metadata?.annotations?.[DO_NOT_DISRUPT] === "true").map(podName);
      const slow = pods.filter((pod) => (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000 > graceMs).map(podName);
      const short = drainMs !== undefined && graceMs < drainMs;
      if ((short && held.length) || slow.length) {
        const reasons = [
          ...(short && held.length ? [`it is shorter than spec.drain.timeout ${input.drainTimeout}, so ${list(held)} (under PodDisruptionBudgets or do-not-disrupt) are deleted if their budgets have not let them go within ${pool.terminationGracePeriod}`] : []),
          ...(slow.length ? [`${list(slow)} ask for a longer termination grace period than that and are cut short`] : []),
        ];
        findings.push(
          warning(
            "KAR030",
            `NodePool/${pool.name}`,
            `NodePool ${pool.name} has terminationGracePeriod ${pool.terminationGracePeriod}: once a drifted node has drained that long, Karpenter deletes what is left on it; ${reasons.join("; ")}`,
            `raise spec.template.spec.terminationGracePeriod of NodePool ${pool.name} to at least ${drainMs !== undefined ? formatDuration(drainMs) : "the time its budgets need"} for the upgrade (changing it makes the nodes drift), or accept the forced deletions`,
          ),
        );
      }
    }
    const expireText = pool.expireAfter ?? DEFAULT_EXPIRE_AFTER;
    const expireMs = expireText === "Never" ? undefined : tryDuration(expireText);
    if (expireMs === undefined) continue;
    const expiring = nodes
      .map((node) => ({ name: node.metadata?.name ?? "", at: createdAt(node) + expireMs }))
      .filter(({ at }) => Number.isFinite(at) && spans.some(({ span }) => at >= span.start.getTime() && at < span.end.getTime()));
    if (!expiring.length) continue;
    findings.push(
      warning(
        "KAR031",
        `NodePool/${pool.name}`,
        `NodePool ${pool.name} expires nodes after ${expireText}${pool.expireAfter ? "" : " (Karpenter's default)"}, and ${list(expiring.map(({ name, at }) => `${name} at ${new Date(at).toISOString()}`))} expire inside the upgrade's windows: expiry replaces a node without waiting for disruption budgets${pool.terminationGracePeriod ? `, and deletes its pods after ${pool.terminationGracePeriod}` : ""}`,
        `raise spec.template.spec.expireAfter of NodePool ${pool.name} (or set Never) until the upgrade is done, or replace those nodes before the window`,
      ),
    );
  }
  return findings;
}

export function checkKarpenter(input: KarpenterCheckInput): Finding[] {
  return [...checkKarpenterVersion(input), ...checkDriftBudgets(input), ...checkDoNotDisrupt(input), ...checkForcedTermination(input)];
}
