// The AWS side of the sandbox is real enough to test against: moto's subnet accounting follows the
// Auto Scaling group, the node mirror follows the instances, and Route53 keeps weighted records.
import assert from "node:assert/strict";
import { CoreV1Api } from "@kubernetes/client-node";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from "@aws-sdk/client-route-53";
import { resetSandbox, sandboxAwsClientConfig, sandboxKubeConfig } from "../../support/global-sandbox.js";
import { waitUntil } from "../../support/wait.js";
import { scenarioPath, syncNodes } from "./helpers.js";

const AUTO_SCALING_GROUP_LABEL = "sandbox.eks-upgrade-operator.io/auto-scaling-group";

describe("sandbox AWS world (moto + node mirror)", function () {
  this.timeout(240_000);
  let ec2: EC2Client;
  let autoscaling: AutoScalingClient;

  before(() => {
    ec2 = new EC2Client(sandboxAwsClientConfig());
    autoscaling = new AutoScalingClient(sandboxAwsClientConfig());
  });

  describe("on the default scenario", () => {
    before(async () => {
      await resetSandbox({ scenario: scenarioPath("default") });
    });

    it("lowers a subnet's free IP count when an Auto Scaling group scales out, and mirrors the new nodes", async () => {
      const core = sandboxKubeConfig().makeApiClient(CoreV1Api);
      const group = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["demo-legacy"] }))).AutoScalingGroups![0];
      assert.equal(group.Instances?.length, 2);
      const firstSubnet = group.VPCZoneIdentifier!.split(",")[0];
      const freeIps = async (): Promise<number> =>
        (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [firstSubnet] }))).Subnets![0].AvailableIpAddressCount!;
      const legacyNodes = async (): Promise<number> =>
        (await core.listNode({ labelSelector: `${AUTO_SCALING_GROUP_LABEL}=demo-legacy` })).items.length;
      const before = await freeIps();
      assert.equal(await legacyNodes(), 2);

      await autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "demo-legacy", DesiredCapacity: 4 }));
      assert.equal(await freeIps(), before - 2, "each new instance takes an address of the subnet");
      await syncNodes();
      await waitUntil("4 legacy nodes", async () => (await legacyNodes()) === 4, 30_000);

      await autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: "demo-legacy", DesiredCapacity: 2 }));
      await syncNodes();
      await waitUntil("2 legacy nodes", async () => (await legacyNodes()) === 2, 30_000);
      assert.equal(await freeIps(), before, "terminated instances give their addresses back");
    });
  });

  describe("on the blue/green scenario", () => {
    before(async () => {
      await resetSandbox({ scenario: scenarioPath("blue-green") });
    });

    it("reads back the weighted records, and a weight change once its change is INSYNC", async () => {
      const route53 = new Route53Client(sandboxAwsClientConfig());
      const zone = (await route53.send(new ListHostedZonesByNameCommand({ DNSName: "shop.example.com" }))).HostedZones!.find(
        (candidate) => candidate.Name === "shop.example.com.",
      )!;
      const weights = async (): Promise<Array<[string | undefined, number | undefined, string | undefined]>> => {
        const sets = (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.Id }))).ResourceRecordSets ?? [];
        return sets
          .filter((set) => set.Name === "www.shop.example.com." && set.SetIdentifier !== undefined)
          .map((set): [string | undefined, number | undefined, string | undefined] => [set.SetIdentifier, set.Weight, set.ResourceRecords?.[0]?.Value])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      };
      assert.deepEqual(await weights(), [
        ["blue", 100, "blue-ingress.shop.example.com"],
        ["green", 0, "green-ingress.shop.example.com"],
      ]);

      const change = await route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone.Id,
          ChangeBatch: {
            Changes: ["blue", "green"].map((color) => ({
              Action: "UPSERT",
              ResourceRecordSet: {
                Name: "www.shop.example.com",
                Type: "CNAME",
                TTL: 60,
                SetIdentifier: color,
                Weight: color === "blue" ? 90 : 10,
                ResourceRecords: [{ Value: `${color}-ingress.shop.example.com` }],
              },
            })),
          },
        }),
      );
      const status = (await route53.send(new GetChangeCommand({ Id: change.ChangeInfo!.Id }))).ChangeInfo?.Status;
      assert.equal(status, "INSYNC");
      assert.deepEqual(await weights(), [
        ["blue", 90, "blue-ingress.shop.example.com"],
        ["green", 10, "green-ingress.shop.example.com"],
      ]);
    });
  });
});
