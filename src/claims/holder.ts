// Who holds a claim, written into the claim itself so that any operator reading it (in this or
// another management cluster) can tell the holder and say so. One string fits both an AWS tag
// value (at most 256 characters of letters, digits, spaces and + - = . _ : / @) and one TXT
// string (at most 255 characters), so the same text is used everywhere.

/** The tag key that carries a claim on an EKS cluster or an Auto Scaling group. */
export const CLAIM_TAG = "eksupgrade.io/claimed-by";

/** Route53 and EKS both accept 255 characters; the upgrade's name is cut first if needed. */
const MAX_VALUE_LENGTH = 255;
const IDENTITY_PATTERN = /^[A-Za-z0-9._:@+-]{1,64}$/;

export interface ClaimHolder {
  /** The holding ClusterUpgrade's UID: what tells one holder from another, across restarts too. */
  uid: string;
  /** The management cluster it runs in (OPERATOR_IDENTITY, by default the kube-system namespace UID). */
  operator: string;
  /** When the claim was written (RFC 3339, seconds). */
  since: string;
  /** namespace/name of the holding ClusterUpgrade. */
  upgrade: string;
}

/**
 * Checks an operator identity before the operator starts; returns a message naming the variable
 * and the fix, or undefined when it is usable.
 */
export function operatorIdentityProblem(identity: string): string | undefined {
  if (IDENTITY_PATTERN.test(identity)) return undefined;
  return `OPERATOR_IDENTITY "${identity}" cannot be written into an AWS tag: use 1 to 64 letters, digits or . _ : @ + - (no spaces), for example the management cluster's name`;
}

/** Ends an upgrade name that had to be cut; no Kubernetes name contains it, so a cut name is never looked up. */
export const CUT_MARK = "+";

/** "uid=... operator=... since=... upgrade=ns/name": the upgrade's name goes last so that cutting it keeps the rest readable. */
export function formatHolder(holder: ClaimHolder): string {
  const text = `uid=${holder.uid} operator=${holder.operator} since=${holder.since} upgrade=${holder.upgrade}`;
  return text.length <= MAX_VALUE_LENGTH ? text : `${text.slice(0, MAX_VALUE_LENGTH - CUT_MARK.length)}${CUT_MARK}`;
}

/** The holder a claim names, or undefined when the value is not a claim this operator wrote. */
export function parseHolder(value: string | undefined): ClaimHolder | undefined {
  if (!value) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.trim().split(/\s+/)) {
    const separator = part.indexOf("=");
    if (separator > 0) fields.set(part.slice(0, separator), part.slice(separator + 1));
  }
  const uid = fields.get("uid");
  if (!uid) return undefined;
  return { uid, operator: fields.get("operator") ?? "unknown", since: fields.get("since") ?? "", upgrade: fields.get("upgrade") ?? "unknown" };
}

export function describeHolder(holder: ClaimHolder): string {
  return `ClusterUpgrade ${holder.upgrade} (UID ${holder.uid}) of the operator in management cluster ${holder.operator}${holder.since ? `, since ${holder.since}` : ""}`;
}

/** TXT data is stored quoted; claim values hold no quotes or backslashes, so plain quoting is exact. */
export function quoteTxt(value: string): string {
  return `"${value}"`;
}

export function unquoteTxt(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, "$1") : value;
}

/**
 * The ownership TXT record kept beside a weighted record, in the spirit of external-dns's
 * registry but under a name of its own: `_eksupgrade-claim-<type>.<record name>`. A wildcard
 * record's `*` label cannot be prefixed, so it is spelled `_wildcard`.
 */
export function ownershipRecordName(recordName: string, recordType: string): string {
  const name = recordName.replace(/\.$/, "").replace(/^\*\./, "_wildcard.");
  return `_eksupgrade-claim-${recordType.toLowerCase()}.${name}`;
}
