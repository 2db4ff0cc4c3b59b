// AutoScalingPort over @aws-sdk/client-auto-scaling.
import {
  AutoScalingClient,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { isValidation, NotFoundError } from "../../util/errors.js";
import type { AutoScalingGroupInfo, AutoScalingPort, GroupSize } from "../ports.js";
import { awsCall } from "./call.js";
import { awsClientConfig } from "./client-config.js";

// What TerminateInstanceInAutoScalingGroup says of an instance no group manages any more (it was
// terminated, or detached): "Instance Id not found - No managed instance found for instance ID ...".
const NOT_IN_A_GROUP = /No managed instance found for instance ID|Instance Id not found/i;

export class AwsAutoScaling implements AutoScalingPort {
  constructor(private readonly client: AutoScalingClient) {}

  static forRegion(region: string): AwsAutoScaling {
    return new AwsAutoScaling(new AutoScalingClient(awsClientConfig(region)));
  }

  async describeGroup(name: string): Promise<AutoScalingGroupInfo> {
    const { AutoScalingGroups } = await awsCall(`describing Auto Scaling group ${name}`, (options) =>
      this.client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), options),
    );
    const group = AutoScalingGroups?.[0];
    if (!group) throw new NotFoundError(`describing Auto Scaling group ${name}: no such group`);
    const template = group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
    return {
      name,
      size: { min: group.MinSize ?? 0, max: group.MaxSize ?? 0, desired: group.DesiredCapacity ?? 0 },
      instances: (group.Instances ?? []).map((instance) => ({
        id: instance.InstanceId ?? "",
        zone: instance.AvailabilityZone ?? "",
        lifecycleState: instance.LifecycleState ?? "",
        healthy: instance.HealthStatus === "Healthy",
        ...(instance.LaunchTemplate?.Version ? { launchTemplateVersion: instance.LaunchTemplate.Version } : {}),
      })),
      subnetIds: (group.VPCZoneIdentifier ?? "").split(",").map((id) => id.trim()).filter(Boolean),
      tags: Object.fromEntries((group.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
      ...(template
        ? {
            launchTemplate: {
              ...(template.LaunchTemplateId ? { id: template.LaunchTemplateId } : {}),
              ...(template.LaunchTemplateName ? { name: template.LaunchTemplateName } : {}),
              ...(template.Version ? { version: template.Version } : {}),
            },
          }
        : {}),
    };
  }

  async setSize(name: string, size: GroupSize): Promise<void> {
    await awsCall(`resizing Auto Scaling group ${name} to min ${size.min}, max ${size.max}, desired ${size.desired}`, (options) =>
      this.client.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: size.min, MaxSize: size.max, DesiredCapacity: size.desired }), options),
    );
  }

  async terminateInstance(instanceId: string, decrementDesired: boolean): Promise<void> {
    try {
      await awsCall(`terminating instance ${instanceId}`, (options) =>
        this.client.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: decrementDesired }), options),
      );
    } catch (error) {
      // Auto Scaling answers ValidationError both when the instance has already left every group
      // and when the call itself is wrong (a decrement below the group's minimum, ...): only the
      // first means the work is done, so only its words become NotFoundError.
      if (isValidation(error) && NOT_IN_A_GROUP.test(error instanceof Error ? error.message : "")) {
        throw new NotFoundError(`terminating instance ${instanceId}: it is in no Auto Scaling group (${error instanceof Error ? error.message : String(error)})`, { cause: error });
      }
      throw error;
    }
  }

  async tagGroup(name: string, tags: Record<string, string>): Promise<void> {
    await awsCall(`tagging Auto Scaling group ${name}`, (options) =>
      this.client.send(
        new CreateOrUpdateTagsCommand({
          Tags: Object.entries(tags).map(([Key, Value]) => ({ ResourceId: name, ResourceType: "auto-scaling-group", Key, Value, PropagateAtLaunch: false })),
        }),
        options,
      ),
    );
  }

  async untagGroup(name: string, keys: string[]): Promise<void> {
    await awsCall(`removing tags ${keys.join(", ")} from Auto Scaling group ${name}`, (options) =>
      this.client.send(new DeleteTagsCommand({ Tags: keys.map((Key) => ({ ResourceId: name, ResourceType: "auto-scaling-group", Key })) }), options),
    );
  }

  async setLaunchTemplateVersion(name: string, templateId: string, version: string): Promise<void> {
    await awsCall(`pointing Auto Scaling group ${name} at launch template ${templateId} version ${version}`, (options) =>
      this.client.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateId: templateId, Version: version } }), options),
    );
  }

  async suspendProcesses(name: string, processes: string[]): Promise<void> {
    await awsCall(`suspending ${processes.join(", ")} on Auto Scaling group ${name}`, (options) =>
      this.client.send(new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: processes }), options),
    );
  }

  async resumeProcesses(name: string, processes: string[]): Promise<void> {
    await awsCall(`resuming ${processes.join(", ")} on Auto Scaling group ${name}`, (options) =>
      this.client.send(new ResumeProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: processes }), options),
    );
  }
}
