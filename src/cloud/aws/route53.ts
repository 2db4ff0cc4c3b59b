// Route53Port over @aws-sdk/client-route-53: weighted records of one name and type, changed in one
// batch, and the change's propagation.
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHealthCheckStatusCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
  type RRType,
} from "@aws-sdk/client-route-53";
import { ValidationError } from "../../util/errors.js";
import type { Route53Port, TxtRecord, WeightedRecord } from "../ports.js";
import { awsCall } from "./call.js";
import { awsClientConfig } from "./client-config.js";

function isInvalidChangeBatch(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current.name === "InvalidChangeBatch") return true;
  }
  return false;
}

/** Route53 compares names with a trailing dot. */
function absolute(name: string): string {
  return name.endsWith(".") ? name : `${name}.`;
}

export class AwsRoute53 implements Route53Port {
  constructor(private readonly client: Route53Client) {}

  static forRegion(region: string): AwsRoute53 {
    return new AwsRoute53(new Route53Client(awsClientConfig(region)));
  }

  private async recordSets(hostedZoneId: string, name: string, type: string): Promise<ResourceRecordSet[]> {
    const sets: ResourceRecordSet[] = [];
    let start: { name?: string; type?: RRType; identifier?: string } = { name: absolute(name), type: type as RRType };
    for (;;) {
      const page = await awsCall(`listing ${type} records ${name} in hosted zone ${hostedZoneId}`, (options) =>
        this.client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            ...(start.name ? { StartRecordName: start.name } : {}),
            ...(start.type ? { StartRecordType: start.type } : {}),
            ...(start.identifier ? { StartRecordIdentifier: start.identifier } : {}),
          }),
          options,
        ),
      );
      const matching = (page.ResourceRecordSets ?? []).filter((set) => set.Name === absolute(name) && set.Type === type);
      sets.push(...matching);
      const more = page.IsTruncated && page.NextRecordName === absolute(name) && page.NextRecordType === type;
      if (!more) return sets;
      start = { name: page.NextRecordName, type: page.NextRecordType, ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}) };
    }
  }

  async weightedRecords(hostedZoneId: string, name: string, type: string): Promise<WeightedRecord[]> {
    return (await this.recordSets(hostedZoneId, name, type))
      .filter((set) => set.SetIdentifier !== undefined && set.Weight !== undefined)
      .map((set) => ({
        setIdentifier: set.SetIdentifier!,
        weight: set.Weight!,
        ...(set.TTL !== undefined ? { ttl: set.TTL } : {}),
        values: (set.ResourceRecords ?? []).map((record) => record.Value ?? ""),
        ...(set.HealthCheckId ? { healthCheckId: set.HealthCheckId } : {}),
      }));
  }

  async setWeights(hostedZoneId: string, name: string, type: string, weights: Record<string, number>): Promise<string> {
    const current = await this.recordSets(hostedZoneId, name, type);
    const changes = Object.entries(weights).map(([setIdentifier, weight]) => {
      const record = current.find((set) => set.SetIdentifier === setIdentifier);
      if (!record) throw new ValidationError(`no weighted ${type} record ${name} with set identifier ${setIdentifier} in hosted zone ${hostedZoneId}`);
      return { Action: "UPSERT" as const, ResourceRecordSet: { ...record, Weight: weight } };
    });
    const { ChangeInfo } = await awsCall(`changing the weights of ${name} (${Object.entries(weights).map(([id, weight]) => `${id}=${weight}`).join(", ")})`, (options) =>
      this.client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, ChangeBatch: { Comment: "eks-upgrade-operator traffic step", Changes: changes } }), options),
    );
    if (!ChangeInfo?.Id) throw new Error(`Route53 answered without a change id for ${name}`);
    return ChangeInfo.Id;
  }

  async changeStatus(changeId: string): Promise<"PENDING" | "INSYNC"> {
    const { ChangeInfo } = await awsCall(`reading Route53 change ${changeId}`, (options) => this.client.send(new GetChangeCommand({ Id: changeId }), options));
    return ChangeInfo?.Status === "INSYNC" ? "INSYNC" : "PENDING";
  }

  async txtValues(hostedZoneId: string, name: string): Promise<string[]> {
    return (await this.recordSets(hostedZoneId, name, "TXT")).flatMap((set) => (set.ResourceRecords ?? []).map((record) => record.Value ?? ""));
  }

  async txtRecord(hostedZoneId: string, name: string): Promise<TxtRecord | undefined> {
    const set = (await this.recordSets(hostedZoneId, name, "TXT")).find((candidate) => candidate.SetIdentifier === undefined);
    if (!set) return undefined;
    return { ttl: set.TTL ?? 0, values: (set.ResourceRecords ?? []).map((record) => record.Value ?? "") };
  }

  async replaceTxtRecord(hostedZoneId: string, name: string, from: TxtRecord | undefined, to: TxtRecord | undefined): Promise<boolean> {
    const recordSet = (record: TxtRecord): ResourceRecordSet => ({ Name: absolute(name), Type: "TXT", TTL: record.ttl, ResourceRecords: record.values.map((Value) => ({ Value })) });
    const changes = [
      ...(from ? [{ Action: "DELETE" as const, ResourceRecordSet: recordSet(from) }] : []),
      ...(to ? [{ Action: "CREATE" as const, ResourceRecordSet: recordSet(to) }] : []),
    ];
    if (changes.length === 0) return true;
    try {
      await awsCall(`replacing TXT record ${name} in hosted zone ${hostedZoneId}`, (options) =>
        this.client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, ChangeBatch: { Comment: "eks-upgrade-operator claim", Changes: changes } }), options),
      );
      return true;
    } catch (error) {
      // The DELETE found other values, or the CREATE found a record: someone else changed it first.
      if (isInvalidChangeBatch(error)) return false;
      throw error;
    }
  }

  async healthCheckHealthy(healthCheckId: string): Promise<boolean> {
    const { HealthCheckObservations } = await awsCall(`reading Route53 health check ${healthCheckId}`, (options) =>
      this.client.send(new GetHealthCheckStatusCommand({ HealthCheckId: healthCheckId }), options),
    );
    const observations = HealthCheckObservations ?? [];
    // Route53 calls a check healthy when more than 18% of its checkers see it healthy.
    const healthy = observations.filter((observation) => observation.StatusReport?.Status?.startsWith("Success")).length;
    return observations.length > 0 && healthy / observations.length > 0.18;
  }
}
