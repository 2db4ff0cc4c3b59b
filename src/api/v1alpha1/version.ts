// Kubernetes minor versions as EKS names them ("1.31"), and the hop arithmetic around them.

export interface MinorVersion {
  major: number;
  minor: number;
}

const MINOR_PATTERN = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$/;

/** Parses "1.31", "v1.31.2" or "v1.31.2-eks-1234" to its major and minor. */
export function parseMinor(version: string): MinorVersion {
  const match = MINOR_PATTERN.exec(version.trim());
  if (!match) throw new Error(`"${version}" is not a Kubernetes version (expected a form like 1.31)`);
  return { major: Number(match[1]), minor: Number(match[2]) };
}

export function formatMinor(version: MinorVersion): string {
  return `${version.major}.${version.minor}`;
}

/** Negative when a is older than b, zero when equal, positive when newer. */
export function compareMinor(a: string, b: string): number {
  const left = parseMinor(a);
  const right = parseMinor(b);
  return left.major !== right.major ? left.major - right.major : left.minor - right.minor;
}

/** The minors between current (exclusive) and target (inclusive), one per hop: EKS moves one minor per call. */
export function planHops(current: string, target: string): string[] {
  const from = parseMinor(current);
  const to = parseMinor(target);
  if (from.major !== to.major) throw new Error(`cannot plan across major versions (${current} -> ${target})`);
  const hops: string[] = [];
  for (let minor = from.minor + 1; minor <= to.minor; minor++) hops.push(formatMinor({ major: to.major, minor }));
  return hops;
}

/** Minors by which `older` trails `newer` (0 when equal or ahead). */
export function minorsBehind(older: string, newer: string): number {
  return Math.max(0, -compareMinor(older, newer));
}
