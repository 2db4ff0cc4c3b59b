/**
 * What the emulator reads and changes in moto: subnets, security groups, AMIs, launch templates,
 * Auto Scaling groups and instances. One narrow class so the EKS logic never builds SDK calls itself.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  DeleteLaunchTemplateCommand,
  DeleteNetworkInterfaceCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
  RegisterImageCommand,
  type _InstanceType,
} from "@aws-sdk/client-ec2";
import { amiName, type AmiRelease } from "./amis.js";
import type { ObservedSubnet } from "./network-check.js";

export interface AwsEndpointConfig {
  endpoint: string;
  region: string;
}

/** moto accepts any credentials; fixed ones keep the SDK from searching the machine for real ones. */
export const SANDBOX_CREDENTIALS = { accessKeyId: "sandbox", secretAccessKey: "sandbox" } as const;

export function sdkConfig(config: AwsEndpointConfig): {
  endpoint: string;
  region: string;
  credentials: typeof SANDBOX_CREDENTIALS;
  maxAttempts: number;
} {
  return { endpoint: config.endpoint, region: config.region, credentials: SANDBOX_CREDENTIALS, maxAttempts: 3 };
}

export interface InstanceView {
  instanceId: string;
  state: string;
  imageId: string;
  instanceType: string;
  subnetId: string;
  privateDnsName: string;
  privateIpAddress: string;
  launchTime?: Date;
}

export interface GroupView {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  subnetIds: string[];
  tags: Record<string, string>;
  /** Instances the group counts (moto reports them InService at once). */
  instanceIds: string[];
  launchTemplateId?: string;
}

export class MotoCloud {
  readonly ec2: EC2Client;
  readonly autoscaling: AutoScalingClient;

  constructor(config: AwsEndpointConfig) {
    this.ec2 = new EC2Client(sdkConfig(config));
    this.autoscaling = new AutoScalingClient(sdkConfig(config));
  }

  /** Subnets that still exist among `subnetIds`; a deleted one is simply absent from the map. */
  async observeSubnets(subnetIds: readonly string[]): Promise<Map<string, ObservedSubnet>> {
    const out = new Map<string, ObservedSubnet>();
    if (subnetIds.length === 0) return out;
    const answer = await this.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "subnet-id", Values: [...subnetIds] }] }),
    );
    for (const subnet of answer.Subnets ?? []) {
      if (!subnet.SubnetId) continue;
      out.set(subnet.SubnetId, {
        subnetId: subnet.SubnetId,
        availabilityZone: subnet.AvailabilityZone ?? "",
        availableIpAddressCount: subnet.AvailableIpAddressCount ?? 0,
      });
    }
    return out;
  }

  async subnetVpcs(subnetIds: readonly string[]): Promise<Map<string, string>> {
    const answer = await this.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "subnet-id", Values: [...subnetIds] }] }),
    );
    return new Map((answer.Subnets ?? []).map((subnet) => [subnet.SubnetId ?? "", subnet.VpcId ?? ""]));
  }

  async existingSecurityGroups(groupIds: readonly string[]): Promise<Set<string>> {
    if (groupIds.length === 0) return new Set();
    const answer = await this.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-id", Values: [...groupIds] }] }),
    );
    return new Set((answer.SecurityGroups ?? []).map((group) => group.GroupId ?? ""));
  }

  async createSecurityGroup(vpcId: string, name: string, description: string): Promise<string> {
    const answer = await this.ec2.send(
      new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: description }),
    );
    if (!answer.GroupId) throw new Error(`creating security group ${name}: moto returned no id`);
    return answer.GroupId;
  }

  /** The AMI of an EKS release, registered in moto on first use. */
  async ensureAmi(release: AmiRelease): Promise<string> {
    const name = amiName(release);
    const found = await this.ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "name", Values: [name] }] }));
    const existing = found.Images?.find((image) => image.Name === name)?.ImageId;
    if (existing) return existing;
    const registered = await this.ec2.send(
      new RegisterImageCommand({ Name: name, Description: `EKS node image for Kubernetes ${release.version}` }),
    );
    if (!registered.ImageId) throw new Error(`registering AMI ${name}: moto returned no id`);
    return registered.ImageId;
  }

  async imageNames(imageIds: readonly string[]): Promise<Map<string, string>> {
    const unique = [...new Set(imageIds)].filter((id) => id !== "");
    if (unique.length === 0) return new Map();
    // A filter, not ImageIds: an AMI deregistered meanwhile is then missing, not an error.
    const answer = await this.ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "image-id", Values: unique }] }));
    return new Map((answer.Images ?? []).map((image) => [image.ImageId ?? "", image.Name ?? ""]));
  }

  async createLaunchTemplate(
    name: string,
    imageId: string,
    instanceType: string,
    tags: Record<string, string>,
  ): Promise<{ id: string; version: string }> {
    const answer = await this.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        LaunchTemplateData: { ImageId: imageId, InstanceType: instanceType as _InstanceType },
        TagSpecifications: [{ ResourceType: "launch-template", Tags: toTagList(tags) }],
      }),
    );
    const template = answer.LaunchTemplate;
    if (!template?.LaunchTemplateId) throw new Error(`creating launch template ${name}: moto returned no id`);
    return { id: template.LaunchTemplateId, version: String(template.LatestVersionNumber ?? 1) };
  }

  /**
   * A new template version made the default. moto ignores SourceVersion (sandbox-facts), so the
   * whole data is passed again.
   */
  async addLaunchTemplateVersion(templateId: string, imageId: string, instanceType: string): Promise<string> {
    const answer = await this.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: templateId,
        LaunchTemplateData: { ImageId: imageId, InstanceType: instanceType as _InstanceType },
      }),
    );
    const version = String(answer.LaunchTemplateVersion?.VersionNumber ?? "");
    if (version === "") throw new Error(`adding a version to launch template ${templateId}: moto returned none`);
    await this.ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: templateId, DefaultVersion: version }));
    return version;
  }

  async deleteLaunchTemplate(templateId: string): Promise<void> {
    await this.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId }));
  }

  async createGroup(input: {
    name: string;
    launchTemplateId: string;
    launchTemplateVersion: string;
    subnetIds: readonly string[];
    minSize: number;
    maxSize: number;
    desiredCapacity: number;
    tags: Record<string, string>;
  }): Promise<void> {
    await this.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: input.name,
        LaunchTemplate: { LaunchTemplateId: input.launchTemplateId, Version: input.launchTemplateVersion },
        VPCZoneIdentifier: input.subnetIds.join(","),
        MinSize: input.minSize,
        MaxSize: input.maxSize,
        DesiredCapacity: input.desiredCapacity,
        Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
      }),
    );
  }

  async updateGroup(
    name: string,
    change: { minSize?: number; maxSize?: number; desiredCapacity?: number; launchTemplate?: { id: string; version: string } },
  ): Promise<void> {
    await this.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        MinSize: change.minSize,
        MaxSize: change.maxSize,
        DesiredCapacity: change.desiredCapacity,
        LaunchTemplate: change.launchTemplate
          ? { LaunchTemplateId: change.launchTemplate.id, Version: change.launchTemplate.version }
          : undefined,
      }),
    );
  }

  async deleteGroup(name: string): Promise<void> {
    await this.autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }));
  }

  async terminateInGroup(instanceId: string, decrementDesired: boolean): Promise<void> {
    await this.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: instanceId,
        ShouldDecrementDesiredCapacity: decrementDesired,
      }),
    );
  }

  async describeGroup(name: string): Promise<GroupView | undefined> {
    const answer = await this.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    const group = answer.AutoScalingGroups?.[0];
    return group ? toGroupView(group) : undefined;
  }

  async listGroups(): Promise<GroupView[]> {
    const out: GroupView[] = [];
    let nextToken: string | undefined;
    do {
      const answer = await this.autoscaling.send(new DescribeAutoScalingGroupsCommand({ NextToken: nextToken, MaxRecords: 100 }));
      out.push(...(answer.AutoScalingGroups ?? []).map(toGroupView));
      nextToken = answer.NextToken;
    } while (nextToken);
    return out;
  }

  async describeInstances(instanceIds: readonly string[]): Promise<Map<string, InstanceView>> {
    const out = new Map<string, InstanceView>();
    for (let start = 0; start < instanceIds.length; start += 200) {
      const batch = instanceIds.slice(start, start + 200);
      const answer = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [...batch] }));
      for (const reservation of answer.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (!instance.InstanceId) continue;
          out.set(instance.InstanceId, {
            instanceId: instance.InstanceId,
            state: instance.State?.Name ?? "unknown",
            imageId: instance.ImageId ?? "",
            instanceType: instance.InstanceType ?? "",
            subnetId: instance.SubnetId ?? "",
            privateDnsName: instance.PrivateDnsName ?? "",
            privateIpAddress: instance.PrivateIpAddress ?? "",
            launchTime: instance.LaunchTime,
          });
        }
      }
    }
    return out;
  }

  /**
   * moto 5.2.5 keeps a terminated instance's network interface attached, so its address never
   * returns to the subnet; AWS deletes the interface with the instance. Deleting them here keeps
   * AvailableIpAddressCount honest. `done` holds instances already handled (moto keeps terminated
   * instances listed); it is updated in place. Returns how many interfaces were deleted.
   */
  async reclaimInterfacesOfTerminatedInstances(done: Set<string>): Promise<number> {
    const terminated = await this.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["terminated"] }] }),
    );
    const ids = (terminated.Reservations ?? [])
      .flatMap((reservation) => (reservation.Instances ?? []).map((instance) => instance.InstanceId ?? ""))
      .filter((id) => id !== "" && !done.has(id));
    if (ids.length === 0) return 0;
    const interfaces = await this.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: ids }] }),
    );
    let deleted = 0;
    for (const networkInterface of interfaces.NetworkInterfaces ?? []) {
      if (!networkInterface.NetworkInterfaceId) continue;
      await this.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: networkInterface.NetworkInterfaceId }));
      deleted++;
    }
    for (const id of ids) done.add(id);
    return deleted;
  }
}

function toGroupView(group: AutoScalingGroup): GroupView {
  const tags: Record<string, string> = {};
  for (const tag of group.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? "";
  return {
    name: group.AutoScalingGroupName ?? "",
    minSize: group.MinSize ?? 0,
    maxSize: group.MaxSize ?? 0,
    desiredCapacity: group.DesiredCapacity ?? 0,
    subnetIds: (group.VPCZoneIdentifier ?? "").split(",").map((id) => id.trim()).filter((id) => id !== ""),
    tags,
    instanceIds: (group.Instances ?? [])
      .filter((instance) => instance.LifecycleState !== "Terminating" && instance.LifecycleState !== "Terminated")
      .map((instance) => instance.InstanceId ?? "")
      .filter((id) => id !== ""),
    launchTemplateId: group.LaunchTemplate?.LaunchTemplateId,
  };
}

function toTagList(tags: Record<string, string>): Array<{ Key: string; Value: string }> {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
