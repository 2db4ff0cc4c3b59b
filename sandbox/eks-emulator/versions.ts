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
