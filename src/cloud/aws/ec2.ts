// Ec2Port over @aws-sdk/client-ec2: subnet free addresses, security-group existence, launch
// template versions and EKS-optimized AMIs.
import { CreateLaunchTemplateVersionCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { Ec2Port, SubnetInfo } from "../ports.js";
import { isNotFound } from "../../util/errors.js";
import { awsCall } from "./call.js";
import { awsClientConfig } from "./client-config.js";

/** Name prefix of the EKS-optimized Amazon Linux 2023 AMIs; the Kubernetes minor follows it. */
const EKS_AMI_NAME_PREFIX = "amazon-eks-node-al2023-x86_64-standard-";

export class AwsEc2 implements Ec2Port {
  /** `amiOwner`: who publishes the EKS AMIs; "amazon" on AWS, "self" where they are registered locally. */
  constructor(
    private readonly client: EC2Client,
    private readonly amiOwner = "amazon",
  ) {}

  static forRegion(region: string): AwsEc2 {
    return new AwsEc2(new EC2Client(awsClientConfig(region)), process.env.EKS_AMI_OWNER || "amazon");
  }

  async findLaunchTemplateVersion(templateId: string, marker: string): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await awsCall(`listing the versions of launch template ${templateId}`, (options) =>
        this.client.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, ...(nextToken ? { NextToken: nextToken } : {}) }), options),
      );
      const found = (page.LaunchTemplateVersions ?? []).find((version) => version.VersionDescription?.includes(marker));
      if (found?.VersionNumber !== undefined) return String(found.VersionNumber);
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  }

  async describeLaunchTemplateVersion(templateId: string, version: string): Promise<{ imageId?: string } | undefined> {
    try {
      const page = await awsCall(`describing version ${version} of launch template ${templateId}`, (options) =>
        this.client.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: [version] }), options),
      );
      const found = (page.LaunchTemplateVersions ?? []).find((entry) => String(entry.VersionNumber) === version);
      if (!found) return undefined;
      return found.LaunchTemplateData?.ImageId ? { imageId: found.LaunchTemplateData.ImageId } : {};
    } catch (error) {
      // InvalidLaunchTemplateId.VersionNotFound (or .NotFound for the template): it is gone.
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async createLaunchTemplateVersion(request: { templateId: string; sourceVersion: string; imageId: string; description: string; clientToken: string }): Promise<string> {
    const { LaunchTemplateVersion } = await awsCall(`adding a version with AMI ${request.imageId} to launch template ${request.templateId}`, (options) =>
      this.client.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: request.templateId,
          SourceVersion: request.sourceVersion,
          VersionDescription: request.description,
          ClientToken: request.clientToken,
          LaunchTemplateData: { ImageId: request.imageId },
        }),
        options,
      ),
    );
    if (LaunchTemplateVersion?.VersionNumber === undefined) throw new Error(`EC2 answered without a version number for launch template ${request.templateId}`);
    return String(LaunchTemplateVersion.VersionNumber);
  }

  async instanceImages(instanceIds: string[]): Promise<Record<string, string>> {
    const images: Record<string, string> = {};
    if (instanceIds.length === 0) return images;
    let nextToken: string | undefined;
    do {
      // A filter rather than InstanceIds: an instance terminated meanwhile is absent, not an error.
      const page = await awsCall(`describing instances ${instanceIds.join(", ")}`, (options) =>
        this.client.send(new DescribeInstancesCommand({ Filters: [{ Name: "instance-id", Values: instanceIds }], ...(nextToken ? { NextToken: nextToken } : {}) }), options),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) if (instance.InstanceId && instance.ImageId) images[instance.InstanceId] = instance.ImageId;
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return images;
  }

  async eksOptimizedAmi(kubernetesVersion: string): Promise<string | undefined> {
    return (await this.newestEksOptimizedImage(kubernetesVersion))?.ImageId;
  }

  async eksOptimizedAmiRelease(kubernetesVersion: string): Promise<string | undefined> {
    const name = (await this.newestEksOptimizedImage(kubernetesVersion))?.Name;
    return name ? /-(v\d{8})$/.exec(name)?.[1] : undefined;
  }

  private async newestEksOptimizedImage(kubernetesVersion: string): Promise<{ ImageId?: string; Name?: string } | undefined> {
    const { Images } = await awsCall(`looking up the EKS-optimized AMI for Kubernetes ${kubernetesVersion}`, (options) =>
      this.client.send(new DescribeImagesCommand({ Owners: [this.amiOwner], Filters: [{ Name: "name", Values: [`${EKS_AMI_NAME_PREFIX}${kubernetesVersion}-v*`] }] }), options),
    );
    // Names end with the release date (vYYYYMMDD): the greatest name is the newest release.
    return (Images ?? []).filter((image) => image.ImageId && image.Name).sort((a, b) => b.Name!.localeCompare(a.Name!))[0];
  }

  async describeSubnets(subnetIds: string[]): Promise<SubnetInfo[]> {
    if (subnetIds.length === 0) return [];
    // Filtering by subnet-id returns only those that exist, where SubnetIds would fail the whole call.
    const { Subnets } = await awsCall(`describing subnets ${subnetIds.join(", ")}`, (options) =>
      this.client.send(new DescribeSubnetsCommand({ Filters: [{ Name: "subnet-id", Values: subnetIds }] }), options),
    );
    return (Subnets ?? []).map((subnet) => ({
      id: subnet.SubnetId ?? "",
      availabilityZone: subnet.AvailabilityZone ?? "",
      availableIpAddressCount: subnet.AvailableIpAddressCount ?? 0,
      cidrBlock: subnet.CidrBlock ?? "",
    }));
  }

  async existingSecurityGroups(groupIds: string[]): Promise<string[]> {
    if (groupIds.length === 0) return [];
    const { SecurityGroups } = await awsCall(`describing security groups ${groupIds.join(", ")}`, (options) =>
      this.client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-id", Values: groupIds }] }), options),
    );
    return (SecurityGroups ?? []).map((group) => group.GroupId ?? "").filter(Boolean);
  }
}
