// In-memory Route53 and CloudWatch for unit tests of traffic shifting and its gates.
import { isDeepStrictEqual } from "node:util";
import type { AlarmState, CloudWatchPort, Route53Port, TxtRecord, WeightedRecord } from "../../../src/cloud/ports.js";
import { ValidationError } from "../../../src/util/errors.js";

export class FakeRoute53 implements Route53Port {
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** "zone|name|type" -> weighted records */
  readonly records = new Map<string, WeightedRecord[]>();
  /** change id -> GetChange calls left before it is INSYNC */
  readonly changes = new Map<string, number>();
  /** How many GetChange calls a change stays PENDING. */
  pollsUntilInSync = 1;
  healthy = new Map<string, boolean>();
  private sequence = 0;

  private key(zone: string, name: string, type: string): string {
    return `${zone}|${name.replace(/\.$/, "")}|${type}`;
  }

  put(zone: string, name: string, type: string, records: WeightedRecord[]): void {
    this.records.set(this.key(zone, name, type), records.map((record) => ({ ...record })));
  }

  weightedRecords(hostedZoneId: string, name: string, type: string): Promise<WeightedRecord[]> {
    this.calls.push({ method: "weightedRecords", args: [hostedZoneId, name, type] });
    return Promise.resolve((this.records.get(this.key(hostedZoneId, name, type)) ?? []).map((record) => ({ ...record })));
  }

  setWeights(hostedZoneId: string, name: string, type: string, weights: Record<string, number>): Promise<string> {
    this.calls.push({ method: "setWeights", args: [hostedZoneId, name, type, weights] });
    const records = this.records.get(this.key(hostedZoneId, name, type)) ?? [];
    for (const identifier of Object.keys(weights)) {
      if (!records.some((record) => record.setIdentifier === identifier)) return Promise.reject(new ValidationError(`no weighted record ${name} with set identifier ${identifier}`));
    }
    for (const record of records) if (weights[record.setIdentifier] !== undefined) record.weight = weights[record.setIdentifier];
    const id = `/change/C${++this.sequence}`;
    this.changes.set(id, this.pollsUntilInSync);
    return Promise.resolve(id);
  }

  changeStatus(changeId: string): Promise<"PENDING" | "INSYNC"> {
    this.calls.push({ method: "changeStatus", args: [changeId] });
    const left = this.changes.get(changeId) ?? 0;
    if (left > 0) {
      this.changes.set(changeId, left - 1);
      return Promise.resolve("PENDING");
    }
    return Promise.resolve("INSYNC");
  }

  /** "zone|name" -> TXT values */
  readonly txt = new Map<string, string[]>();

  txtValues(hostedZoneId: string, name: string): Promise<string[]> {
    this.calls.push({ method: "txtValues", args: [hostedZoneId, name] });
    return Promise.resolve([...(this.txt.get(`${hostedZoneId}|${name.replace(/\.$/, "")}`) ?? [])]);
  }

  /** "zone|name" -> the simple TXT record set of that name, values quoted as Route53 keeps them */
  readonly txtRecords = new Map<string, TxtRecord>();

  txtRecord(hostedZoneId: string, name: string): Promise<TxtRecord | undefined> {
    this.calls.push({ method: "txtRecord", args: [hostedZoneId, name] });
    const record = this.txtRecords.get(`${hostedZoneId}|${name.replace(/\.$/, "")}`);
    return Promise.resolve(record ? structuredClone(record) : undefined);
  }

  /** Route53's all-or-nothing change batch: the DELETE must match exactly, the CREATE must find nothing. */
  replaceTxtRecord(hostedZoneId: string, name: string, from: TxtRecord | undefined, to: TxtRecord | undefined): Promise<boolean> {
    this.calls.push({ method: "replaceTxtRecord", args: [hostedZoneId, name, from, to] });
    const key = `${hostedZoneId}|${name.replace(/\.$/, "")}`;
    const current = this.txtRecords.get(key);
    if (from ? !isDeepStrictEqual(current, from) : to !== undefined && current !== undefined) return Promise.resolve(false);
    if (to) this.txtRecords.set(key, structuredClone(to));
    else this.txtRecords.delete(key);
    return Promise.resolve(true);
  }

  count(method: string): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  healthCheckHealthy(healthCheckId: string): Promise<boolean> {
    this.calls.push({ method: "healthCheckHealthy", args: [healthCheckId] });
    return Promise.resolve(this.healthy.get(healthCheckId) ?? true);
  }
}

export class FakeCloudWatch implements CloudWatchPort {
  readonly alarms = new Map<string, AlarmState>();

  alarmStates(alarmNames: string[]): Promise<Record<string, AlarmState>> {
    return Promise.resolve(Object.fromEntries(alarmNames.filter((name) => this.alarms.has(name)).map((name) => [name, this.alarms.get(name)!])));
  }
}
