// Ec2Port over @aws-sdk/client-ec2: subnet free addresses and security-group existence.
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import type { Ec2Port, SubnetInfo } from "../ports.js";
import { awsCall } from "./call.js";

export class AwsEc2 implements Ec2Port {
  constructor(private readonly client: EC2Client) {}

  static forRegion(region: string): AwsEc2 {
    return new AwsEc2(new EC2Client({ region }));
  }

  async describeSubnets(subnetIds: string[]): Promise<SubnetInfo[]> {
    if (subnetIds.length === 0) return [];
    // Filtering by subnet-id returns only those that exist, where SubnetIds would fail the whole call.
    const { Subnets } = await awsCall(`describing subnets ${subnetIds.join(", ")}`, () =>
      this.client.send(new DescribeSubnetsCommand({ Filters: [{ Name: "subnet-id", Values: subnetIds }] })),
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
    const { SecurityGroups } = await awsCall(`describing security groups ${groupIds.join(", ")}`, () =>
      this.client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-id", Values: groupIds }] })),
    );
    return (SecurityGroups ?? []).map((group) => group.GroupId ?? "").filter(Boolean);
  }
}
