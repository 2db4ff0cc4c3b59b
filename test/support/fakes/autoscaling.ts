// An in-memory Auto Scaling for unit tests. Like AWS (and moto), it launches or terminates
// instances as soon as the desired capacity changes; new instances get the group's current
// launch template version.
import type { AutoScalingGroupInfo, AutoScalingPort, GroupInstance, GroupSize } from "../../../src/cloud/ports.js";
import { NotFoundError, ValidationError } from "../../../src/util/errors.js";

interface FakeGroup {
  size: GroupSize;
  instances: GroupInstance[];
  subnetIds: string[];
  tags: Record<string, string>;
  launchTemplate: { id: string; version: string };
  suspended: Set<string>;
}

export class FakeAutoScaling implements AutoScalingPort {
  readonly calls: { method: string; args: unknown[] }[] = [];
  readonly groups = new Map<string, FakeGroup>();
  /** Instances Auto Scaling removed by its own choice to meet a lower desired capacity. */
  readonly scaledIn: string[] = [];
  private sequence = 0;

  /** Adds a group with `desired` running instances spread over `zones`. */
  addGroup(name: string, size: GroupSize, launchTemplate: { id: string; version: string }, zones = ["us-east-1a", "us-east-1b"]): void {
    const group: FakeGroup = { size: { ...size }, instances: [], subnetIds: zones.map((zone) => `subnet-${zone}`), tags: {}, launchTemplate: { ...launchTemplate }, suspended: new Set() };
    this.groups.set(name, group);
    this.fill(group, zones);
  }

  count(method: string): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  private group(name: string): FakeGroup {
    const group = this.groups.get(name);
    if (!group) throw new NotFoundError(`describing Auto Scaling group ${name}: no such group`);
    return group;
  }

  private fill(group: FakeGroup, zones = group.subnetIds.map((id) => id.replace(/^subnet-/, ""))): void {
    while (group.instances.length < group.size.desired) {
      const zone = zones[group.instances.length % zones.length];
      group.instances.push({ id: `i-${(++this.sequence).toString(16).padStart(8, "0")}`, zone, lifecycleState: "InService", healthy: true, launchTemplateVersion: group.launchTemplate.version });
    }
    // Scaling in removes the newest instances first in this fake.
    while (group.instances.length > group.size.desired) this.scaledIn.push(group.instances.pop()!.id);
  }

  async describeGroup(name: string): Promise<AutoScalingGroupInfo> {
    this.calls.push({ method: "describeGroup", args: [name] });
    await Promise.resolve();
    const group = this.group(name);
    return {
        name,
        size: { ...group.size },
        instances: group.instances.map((instance) => ({ ...instance })),
        subnetIds: [...group.subnetIds],
        tags: { ...group.tags },
      launchTemplate: { ...group.launchTemplate },
    };
  }

  setSize(name: string, size: GroupSize): Promise<void> {
    this.calls.push({ method: "setSize", args: [name, size] });
    const group = this.group(name);
    if (size.min > size.desired || size.desired > size.max) return Promise.reject(new ValidationError(`desired ${size.desired} outside min ${size.min} / max ${size.max}`));
    group.size = { ...size };
    this.fill(group);
    return Promise.resolve();
  }

  terminateInstance(instanceId: string, decrementDesired: boolean): Promise<void> {
    this.calls.push({ method: "terminateInstance", args: [instanceId, decrementDesired] });
    for (const group of this.groups.values()) {
      const index = group.instances.findIndex((instance) => instance.id === instanceId);
      if (index < 0) continue;
      if (decrementDesired && group.size.desired - 1 < group.size.min) {
        // Auto Scaling's own words for a decrement below the minimum.
        return Promise.reject(
          new ValidationError(
            `terminating instance ${instanceId}: ValidationError: Currently, desiredSize equals minSize (${group.size.min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
          ),
        );
      }
      group.instances.splice(index, 1);
      if (decrementDesired) group.size.desired--;
      this.fill(group);
      return Promise.resolve();
    }
    // What the adapter makes of Auto Scaling's "No managed instance found for instance ID".
    return Promise.reject(new NotFoundError(`terminating instance ${instanceId}: it is in no Auto Scaling group`));
  }

  tagGroup(name: string, tags: Record<string, string>): Promise<void> {
    this.calls.push({ method: "tagGroup", args: [name, tags] });
    Object.assign(this.group(name).tags, tags);
    return Promise.resolve();
  }

  untagGroup(name: string, keys: string[]): Promise<void> {
    this.calls.push({ method: "untagGroup", args: [name, keys] });
    for (const key of keys) delete this.group(name).tags[key];
    return Promise.resolve();
  }

  setLaunchTemplateVersion(name: string, templateId: string, version: string): Promise<void> {
    this.calls.push({ method: "setLaunchTemplateVersion", args: [name, templateId, version] });
    this.group(name).launchTemplate = { id: templateId, version };
    return Promise.resolve();
  }

  suspendProcesses(name: string, processes: string[]): Promise<void> {
    this.calls.push({ method: "suspendProcesses", args: [name, processes] });
    for (const process of processes) this.group(name).suspended.add(process);
    return Promise.resolve();
  }

  resumeProcesses(name: string, processes: string[]): Promise<void> {
    this.calls.push({ method: "resumeProcesses", args: [name, processes] });
    for (const process of processes) this.group(name).suspended.delete(process);
    return Promise.resolve();
  }
}
