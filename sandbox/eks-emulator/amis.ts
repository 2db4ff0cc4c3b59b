/**
 * EKS-optimized AMIs as the emulator names them. EKS derives a node's kubelet version from its
 * AMI; the emulator does the same by registering, in moto, one image per Kubernetes version and
 * release date whose name carries both (the naming follows the public amazon-eks-node images).
 * The node mirror reads an instance's image name to know which kubelet version it runs, for managed
 * and self-managed groups alike.
 */

/** Release dates the emulator offers for every Kubernetes version, oldest first. */
export const AMI_RELEASE_DATES = ["20241201", "20250115"] as const;

/** The kubelet patch level every emulated AMI ships: arbitrary but fixed, so tests can expect it. */
export const KUBELET_PATCH = 4;

const AMI_NAME = /^amazon-eks-node-al2023-x86_64-standard-(\d+\.\d+)-v(\d{8})$/;
const RELEASE_VERSION = /^(\d+\.\d+)\.(\d+)-(\d{8})$/;

export interface AmiRelease {
  /** Kubernetes minor, "1.30". */
  version: string;
  /** Release date, "20250115". */
  date: string;
}

export function latestRelease(version: string): AmiRelease {
  return { version, date: AMI_RELEASE_DATES[AMI_RELEASE_DATES.length - 1] };
}

export function amiName(release: AmiRelease): string {
  return `amazon-eks-node-al2023-x86_64-standard-${release.version}-v${release.date}`;
}

export function parseAmiName(name: string): AmiRelease | undefined {
  const match = AMI_NAME.exec(name);
  return match ? { version: match[1], date: match[2] } : undefined;
}

/** EKS's releaseVersion format, e.g. "1.30.4-20250115". */
export function releaseVersionOf(release: AmiRelease): string {
  return `${release.version}.${KUBELET_PATCH}-${release.date}`;
}

export function parseReleaseVersion(releaseVersion: string): AmiRelease | undefined {
  const match = RELEASE_VERSION.exec(releaseVersion);
  return match ? { version: match[1], date: match[3] } : undefined;
}

/** The kubelet version a node started from this AMI reports, e.g. "v1.30.4-eks-20250115". */
export function kubeletVersionOf(release: AmiRelease): string {
  return `v${release.version}.${KUBELET_PATCH}-eks-${release.date}`;
}

export function isKnownReleaseDate(date: string): boolean {
  return (AMI_RELEASE_DATES as readonly string[]).includes(date);
}
