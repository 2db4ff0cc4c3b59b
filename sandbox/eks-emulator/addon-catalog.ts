/**
 * The add-on versions the emulator offers and the Kubernetes versions each one supports.
 * The shape follows DescribeAddonVersions; the version numbers are modelled on EKS's published
 * ones but are illustrative, not AWS's current matrix (docs/sandbox.md says so). What matters for
 * the operator is the rule EKS applies: an add-on version is offered for a cluster version only if
 * its compatibilities list that version, and one version per cluster version is the default.
 */
import { formatMinorVersion, parseMinorVersion } from "./versions.js";

export interface AddonVersionEntry {
  addonVersion: string;
  /** Cluster versions this add-on version runs on. */
  clusterVersions: string[];
  /** Cluster versions for which this is the default version. */
  defaultFor: string[];
}

export interface AddonCatalogEntry {
  addonName: string;
  type: string;
  publisher: string;
  owner: string;
  defaultNamespace: string;
  versions: AddonVersionEntry[];
}

/** Kubernetes minors the catalog covers: the sandbox scenarios start at 1.25 and end at 1.34. */
const FIRST_MINOR = 25;
const LAST_MINOR = 34;

/** The cluster versions the emulator runs (the range its add-on catalog covers), oldest first. */
export function offeredClusterVersions(): string[] {
  const out: string[] = [];
  for (let minor = FIRST_MINOR; minor <= LAST_MINOR; minor++) out.push(`1.${minor}`);
  return out;
}

function minors(from: number, to: number): string[] {
  const out: string[] = [];
  for (let minor = Math.max(from, FIRST_MINOR); minor <= Math.min(to, LAST_MINOR); minor++) out.push(`1.${minor}`);
  return out;
}

/** kube-proxy follows the control plane minor exactly: one build line per minor. */
function kubeProxyVersions(): AddonVersionEntry[] {
  const out: AddonVersionEntry[] = [];
  for (let minor = FIRST_MINOR; minor <= LAST_MINOR; minor++) {
    const version = `1.${minor}`;
    out.push({ addonVersion: `v1.${minor}.0-eksbuild.1`, clusterVersions: [version], defaultFor: [] });
    out.push({ addonVersion: `v1.${minor}.3-eksbuild.2`, clusterVersions: [version], defaultFor: [version] });
  }
  return out;
}

export const ADDON_CATALOG: readonly AddonCatalogEntry[] = [
  {
    addonName: "vpc-cni",
    type: "networking",
    publisher: "eks",
    owner: "aws",
    defaultNamespace: "kube-system",
    versions: [
      { addonVersion: "v1.16.0-eksbuild.1", clusterVersions: minors(25, 29), defaultFor: minors(25, 27) },
      { addonVersion: "v1.18.3-eksbuild.1", clusterVersions: minors(25, 31), defaultFor: minors(28, 30) },
      { addonVersion: "v1.19.2-eksbuild.1", clusterVersions: minors(27, 33), defaultFor: minors(31, 32) },
      { addonVersion: "v1.20.0-eksbuild.1", clusterVersions: minors(29, 34), defaultFor: minors(33, 34) },
    ],
  },
  {
    addonName: "coredns",
    type: "networking",
    publisher: "eks",
    owner: "aws",
    defaultNamespace: "kube-system",
    versions: [
      { addonVersion: "v1.9.3-eksbuild.11", clusterVersions: minors(25, 28), defaultFor: minors(25, 27) },
      { addonVersion: "v1.10.1-eksbuild.13", clusterVersions: minors(25, 30), defaultFor: minors(28, 28) },
      { addonVersion: "v1.11.1-eksbuild.9", clusterVersions: minors(29, 32), defaultFor: minors(29, 30) },
      { addonVersion: "v1.11.4-eksbuild.2", clusterVersions: minors(29, 34), defaultFor: minors(31, 32) },
      { addonVersion: "v1.12.1-eksbuild.2", clusterVersions: minors(32, 34), defaultFor: minors(33, 34) },
    ],
  },
  {
    addonName: "kube-proxy",
    type: "networking",
    publisher: "eks",
    owner: "aws",
    defaultNamespace: "kube-system",
    versions: kubeProxyVersions(),
  },
  {
    addonName: "aws-ebs-csi-driver",
    type: "storage",
    publisher: "eks",
    owner: "aws",
    defaultNamespace: "kube-system",
    versions: [
      { addonVersion: "v1.30.0-eksbuild.1", clusterVersions: minors(25, 31), defaultFor: minors(25, 29) },
      { addonVersion: "v1.38.1-eksbuild.1", clusterVersions: minors(27, 34), defaultFor: minors(30, 34) },
    ],
  },
];

export function findAddon(addonName: string): AddonCatalogEntry | undefined {
  return ADDON_CATALOG.find((entry) => entry.addonName === addonName);
}

export function isCompatible(addonName: string, addonVersion: string, clusterVersion: string): boolean {
  const entry = findAddon(addonName)?.versions.find((version) => version.addonVersion === addonVersion);
  return entry !== undefined && entry.clusterVersions.includes(normalize(clusterVersion));
}

export function defaultAddonVersion(addonName: string, clusterVersion: string): string | undefined {
  const version = normalize(clusterVersion);
  return findAddon(addonName)?.versions.find((entry) => entry.defaultFor.includes(version))?.addonVersion;
}

/** Versions of an add-on offered for a cluster version, newest first, as DescribeAddonVersions lists them. */
export function versionsFor(entry: AddonCatalogEntry, clusterVersion: string | undefined): AddonVersionEntry[] {
  const wanted = clusterVersion === undefined ? undefined : normalize(clusterVersion);
  return entry.versions
    .filter((version) => wanted === undefined || version.clusterVersions.includes(wanted))
    .sort((a, b) => compareAddonVersions(b.addonVersion, a.addonVersion));
}

/** Orders "v1.11.4-eksbuild.2" style versions numerically: semver core, then build number. */
export function compareAddonVersions(a: string, b: string): number {
  const pa = addonVersionParts(a);
  const pb = addonVersionParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function addonVersionParts(version: string): number[] {
  return (version.match(/\d+/g) ?? []).map(Number);
}

function normalize(clusterVersion: string): string {
  const parsed = parseMinorVersion(clusterVersion);
  return parsed ? formatMinorVersion(parsed) : clusterVersion;
}

