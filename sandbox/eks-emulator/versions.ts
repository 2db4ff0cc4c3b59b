/**
 * Kubernetes minor-version rules the emulator enforces. Pure functions, unit-tested.
 */
import { CONTROL_PLANE_MINOR_STEP } from "./facts.js";

export interface MinorVersion {
  major: number;
  minor: number;
}

const MINOR_VERSION = /^(\d+)\.(\d+)$/;

/** Parses "1.30" (EKS versions are major.minor); returns undefined for anything else. */
export function parseMinorVersion(text: string): MinorVersion | undefined {
  const match = MINOR_VERSION.exec(text.trim());
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]) };
}

export function formatMinorVersion(version: MinorVersion): string {
  return `${version.major}.${version.minor}`;
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareMinorVersions(a: MinorVersion, b: MinorVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function nextMinorVersion(version: MinorVersion): MinorVersion {
  return { major: version.major, minor: version.minor + CONTROL_PLANE_MINOR_STEP };
}

export type HopVerdict = { ok: true } | { ok: false; reason: string };

/**
 * eks-upgrade-facts "Control plane": EKS upgrades one minor per UpdateClusterVersion call and
 * rejects a request that skips a minor. Staying on the same version or going down is rejected too.
 */
export function checkControlPlaneHop(current: string, target: string): HopVerdict {
  const from = parseMinorVersion(current);
  const to = parseMinorVersion(target);
  if (!from) return { ok: false, reason: `cluster version ${current} is not a Kubernetes minor version` };
  if (!to) return { ok: false, reason: `requested version ${target} is not a Kubernetes minor version (expected e.g. 1.30)` };
  if (compareMinorVersions(to, nextMinorVersion(from)) !== 0) {
    return {
      ok: false,
      reason:
        `Unsupported Kubernetes minor version update from ${formatMinorVersion(from)} to ${formatMinorVersion(to)}: ` +
        `the control plane moves one minor version per update (next allowed: ${formatMinorVersion(nextMinorVersion(from))})`,
    };
  }
  return { ok: true };
}

/**
 * A managed node group's target version must not be newer than the control plane
 * (eks-upgrade-facts "Version skew": kubelet must never be newer than kube-apiserver).
 * An empty target means "the cluster's version", as in EKS.
 */
export function resolveNodegroupTargetVersion(
  clusterVersion: string,
  requested: string | undefined,
): { ok: true; version: string } | { ok: false; reason: string } {
  if (requested === undefined || requested === "") return { ok: true, version: clusterVersion };
  const target = parseMinorVersion(requested);
  const cluster = parseMinorVersion(clusterVersion);
  if (!target || !cluster) return { ok: false, reason: `Requested Nodegroup version ${requested} is invalid` };
  if (compareMinorVersions(target, cluster) > 0) {
    return {
      ok: false,
      reason: `Requested Nodegroup version ${requested} is invalid: it is newer than the cluster's version ${clusterVersion}`,
    };
  }
  return { ok: true, version: formatMinorVersion(target) };
}

/**
 * eks-upgrade-facts "Version skew": managed node groups are expected in lock-step with each hop,
 * and UpdateClusterVersion can refuse when they lag. Returns the groups older than the control
 * plane's current version: moving the control plane on would leave them two minors behind it.
 */
export function laggingNodegroups(
  clusterVersion: string,
  nodegroups: ReadonlyArray<{ name: string; version: string }>,
): string[] {
  const cluster = parseMinorVersion(clusterVersion);
  if (!cluster) return [];
  return nodegroups
    .filter((group) => {
      const version = parseMinorVersion(group.version);
      return version !== undefined && compareMinorVersions(version, cluster) < 0;
    })
    .map((group) => group.name)
    .sort();
}

export interface RollbackRequest {
  current: string;
  target: string;
  /** The last successful minor upgrade of the cluster, if there is one to undo. */
  lastUpgrade?: { from: string; to: string };
  /** EKS seconds since that upgrade finished. */
  secondsSinceUpgrade?: number;
  windowSeconds: number;
}

/** Whether a version request goes down at all: such a request is judged by checkControlPlaneRollback. */
export function isDowngrade(current: string, target: string): boolean {
  const from = parseMinorVersion(current);
  const to = parseMinorVersion(target);
  return from !== undefined && to !== undefined && compareMinorVersions(to, from) < 0;
}

/**
 * eks-upgrade-facts "Control-plane rollback": a control plane goes back one minor only, to the
 * version it was upgraded from, within 7 days of that upgrade.
 */
export type RollbackVerdict = { ok: true } | { ok: false; reason: string; error: "InvalidParameterException" | "InvalidRequestException" };

export function checkControlPlaneRollback(request: RollbackRequest): RollbackVerdict {
  const from = parseMinorVersion(request.current);
  const to = parseMinorVersion(request.target);
  if (!from || !to) return { ok: false, error: "InvalidParameterException", reason: `requested version ${request.target} is not a Kubernetes minor version (expected e.g. 1.30)` };
  const oneBack = { major: from.major, minor: from.minor - CONTROL_PLANE_MINOR_STEP };
  if (compareMinorVersions(to, oneBack) !== 0) {
    return {
      ok: false,
      error: "InvalidParameterException",
      reason:
        `Unsupported Kubernetes minor version rollback from ${formatMinorVersion(from)} to ${formatMinorVersion(to)}: ` +
        `a cluster can be rolled back one minor version only (allowed: ${formatMinorVersion(oneBack)})`,
    };
  }
  const last = request.lastUpgrade;
  if (!last || last.to !== request.current || last.from !== request.target) {
    return { ok: false, error: "InvalidRequestException", reason: `Cluster was not upgraded from ${request.target} to ${request.current}; there is no upgrade to roll back` };
  }
  const days = request.windowSeconds / 86_400;
  if ((request.secondsSinceUpgrade ?? Infinity) > request.windowSeconds) {
    return { ok: false, error: "InvalidRequestException", reason: `Rollback to ${request.target} is no longer available: it is possible only within ${days} days of the upgrade to ${request.current}` };
  }
  return { ok: true };
}
