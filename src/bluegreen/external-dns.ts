// external-dns keeps a TXT "ownership" record next to every record it manages, with a value like
// "heritage=external-dns,external-dns/owner=<id>,...". Older releases put it on the record's own
// name; releases since 0.12 also (0.18: only) put it on "<type>-<name>", e.g. cname-www.example.com
// (external-dns TXT registry documentation). A weighted record owned by external-dns may be
// rewritten by it at any time, so the operator refuses it unless told how the two share it.
import type { Finding } from "../api/v1alpha1/types.js";
import { blocking, warning } from "../preflight/findings.js";

/** The marker external-dns writes into every ownership TXT value. */
export const EXTERNAL_DNS_HERITAGE = "heritage=external-dns";

/** Where external-dns (without --txt-prefix/--txt-suffix) keeps the ownership record of `name`. */
export function ownershipRecordNames(recordName: string, recordType: string): string[] {
  const name = recordName.replace(/\.$/, "");
  return [name, `${recordType.toLowerCase()}-${name}`];
}

export interface TxtRecord {
  name: string;
  values: string[];
}

export interface Ownership {
  txtName: string;
  owner?: string;
}

/** The first ownership record among `records`, with the owner id it names. */
export function findOwnership(records: readonly TxtRecord[]): Ownership | undefined {
  for (const record of records) {
    for (const raw of record.values) {
      const value = raw.replace(/^"|"$/g, "");
      if (!value.includes(EXTERNAL_DNS_HERITAGE)) continue;
      const owner = /external-dns\/owner=([^,"]+)/.exec(value)?.[1];
      return { txtName: record.name.replace(/\.$/, ""), ...(owner ? { owner } : {}) };
    }
  }
  return undefined;
}

/** BG008: the finding for a record external-dns owns, by the spec's externalDNS policy. */
export function externalDnsFinding(ownership: Ownership | undefined, recordName: string, policy: "Refuse" | "Coexist"): Finding | undefined {
  if (!ownership) return undefined;
  const owner = ownership.owner ? ` (owner ${ownership.owner})` : "";
  const resource = `Route53Record/${recordName}`;
  if (policy === "Refuse") {
    return blocking(
      "BG008",
      resource,
      `record ${recordName} is managed by external-dns${owner}: its ownership TXT record ${ownership.txtName} exists, and external-dns would overwrite the weights this cutover sets`,
      "stop external-dns from managing this record (remove its hostname annotation, or run it with --policy=upsert-only and set the weights through its aws-weight annotation to the values in status.cutover), then set spec.blueGreen.route53.externalDNS to Coexist; see docs/blue-green.md",
    );
  }
  return warning(
    "BG008",
    resource,
    `record ${recordName} carries an external-dns ownership TXT record ${ownership.txtName}${owner}; externalDNS is Coexist, so the operator changes the weights anyway`,
    "make sure external-dns no longer writes this record's weights (see docs/blue-green.md), or it will undo each step",
  );
}
