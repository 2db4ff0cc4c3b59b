// Where each kind of claim is kept on the AWS side, behind one small interface: a tag on an EKS
// cluster or an Auto Scaling group, an ownership TXT record beside a Route53 record.
import type { CloudPorts, TxtRecord } from "../cloud/ports.js";
import { isNotFound } from "../util/errors.js";
import type { ClaimTarget, Observed } from "./decide.js";
import { CLAIM_TAG, ownershipRecordName, parseHolder, quoteTxt, unquoteTxt } from "./holder.js";

/** The TTL of ownership records: nobody resolves them, so it only matters for the exact DELETE. */
export const OWNERSHIP_RECORD_TTL = 300;

export interface ClaimSlot {
  read(): Promise<Observed>;
  /** Replaces what read() saw with `value`; false when another writer changed it first (TXT only; tags are last-writer-wins and always true). */
  write(value: string): Promise<boolean>;
  /** Removes what read() saw; tags go with UntagResource / DeleteTags, the TXT record with a DELETE of its exact value. */
  remove(): Promise<void>;
}

function observe(value: string | undefined): Observed {
  const holder = parseHolder(value);
  return { exists: true, ...(value !== undefined ? { value } : {}), ...(holder ? { holder } : {}) };
}

function clusterSlot(ports: CloudPorts, name: string): ClaimSlot {
  let arn: string | undefined;
  const requireArn = (): string => {
    if (!arn) throw new Error(`EKS cluster ${name} was described without an ARN, so it cannot be tagged`);
    return arn;
  };
  return {
    async read() {
      try {
        const cluster = await ports.eks.describeCluster(name);
        arn = cluster.arn;
        return observe(cluster.tags?.[CLAIM_TAG]);
      } catch (error) {
        if (isNotFound(error)) return { exists: false };
        throw error;
      }
    },
    async write(value) {
      await ports.eks.tagCluster(requireArn(), { [CLAIM_TAG]: value });
      return true;
    },
    async remove() {
      await ports.eks.untagCluster(requireArn(), [CLAIM_TAG]);
    },
  };
}

function groupSlot(ports: CloudPorts, name: string): ClaimSlot {
  return {
    async read() {
      try {
        return observe((await ports.autoscaling.describeGroup(name)).tags[CLAIM_TAG]);
      } catch (error) {
        if (isNotFound(error)) return { exists: false };
        throw error;
      }
    },
    async write(value) {
      await ports.autoscaling.tagGroup(name, { [CLAIM_TAG]: value });
      return true;
    },
    async remove() {
      await ports.autoscaling.untagGroup(name, [CLAIM_TAG]);
    },
  };
}

function recordSlot(ports: CloudPorts, hostedZoneId: string, recordName: string, recordType: string): ClaimSlot {
  const name = ownershipRecordName(recordName, recordType);
  let current: TxtRecord | undefined;
  return {
    async read() {
      try {
        current = await ports.route53.txtRecord(hostedZoneId, name);
      } catch (error) {
        if (isNotFound(error)) return { exists: false };
        throw error;
      }
      // A record with several strings is not one this operator wrote; it reads as an unknown holder.
      const value = current ? current.values.map(unquoteTxt).join(" ") : undefined;
      return observe(value);
    },
    write(value) {
      return ports.route53.replaceTxtRecord(hostedZoneId, name, current, { ttl: OWNERSHIP_RECORD_TTL, values: [quoteTxt(value)] });
    },
    async remove() {
      if (current) await ports.route53.replaceTxtRecord(hostedZoneId, name, current, undefined);
    },
  };
}

/** `portsIn(undefined)` means the cluster's own region. */
export function slotFor(target: ClaimTarget, portsIn: (region: string | undefined) => CloudPorts): ClaimSlot {
  switch (target.kind) {
    case "EKSCluster":
      return clusterSlot(portsIn(target.region), target.name);
    case "AutoScalingGroup":
      return groupSlot(portsIn(target.region), target.name);
    case "Route53Record":
      // Route53 is global; the cluster's region is as good as any.
      return recordSlot(portsIn(undefined), target.hostedZoneId, target.name, target.type);
  }
}
