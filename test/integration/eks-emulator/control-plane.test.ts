// The control-plane update of the EKS emulator through the real @aws-sdk/client-eks, against
// moto's subnets and security groups (eks-upgrade-facts "Control plane").
import assert from "node:assert/strict";
import { DeleteSecurityGroupCommand, DeleteSubnetCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  DescribeClusterCommand,
  EKSClient,
  InvalidParameterException,
  ListUpdatesCommand,
  ResourceInUseException,
  UpdateClusterVersionCommand,
} from "@aws-sdk/client-eks";
import { resetSandbox, sandboxAwsClientConfig } from "../../support/global-sandbox.js";
import { emulatorCalls, eksClient, scenarioPath, waitForUpdateEnd } from "./helpers.js";

describe("EKS emulator: control-plane version updates (sandbox)", function () {
  this.timeout(240_000);
  let eks: EKSClient;
  let ec2: EC2Client;

  before(() => {
    eks = eksClient();
    ec2 = new EC2Client(sandboxAwsClientConfig());
  });

  describe("on the default scenario", () => {
    before(async () => {
      await resetSandbox({ scenario: scenarioPath("default") });
    });

    it("takes UpdateClusterVersion, reports InProgress, then Successful with the version bumped", async () => {
      const before = (await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster!;
      assert.equal(before.version, "1.29");
      const started = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "demo-1.30" }))).update!;
      assert.equal(started.status, "InProgress");
      assert.equal(started.type, "VersionUpdate");

      const again = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "demo-1.30" }))).update!;
      assert.equal(again.id, started.id, "the same clientRequestToken returns the same update");
      await assert.rejects(
        eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "another" })),
        ResourceInUseException,
      );
      assert.equal((await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster?.version, "1.29", "not bumped while in progress");

      const { update, seen } = await waitForUpdateEnd(eks, { name: "demo", updateId: started.id! });
      assert.deepEqual(seen, ["InProgress", "Successful"]);
      assert.deepEqual(update.errors, []);
      const after = (await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster!;
      assert.equal(after.version, "1.30");
      assert.equal(after.status, "ACTIVE");
      assert.deepEqual((await eks.send(new ListUpdatesCommand({ name: "demo" }))).updateIds, [started.id]);

      const calls = await emulatorCalls({ operation: "UpdateClusterVersion", clusterName: "demo" });
      assert.equal(calls.total, 3);
      assert.deepEqual(calls.calls.map((call) => call.status), [200, 200, 409]);
    });

    it("rejects a request that skips a minor with InvalidParameterException", async () => {
      await assert.rejects(
        eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.32" })),
        (error: unknown) => error instanceof InvalidParameterException && /1\.30 to 1\.32/.test(error.message),
      );
    });

    it("fails the update with SubnetNotFound and SecurityGroupNotFound once they were deleted in moto", async () => {
      const cluster = (await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster!;
      const subnets = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: cluster.resourcesVpcConfig!.subnetIds }))).Subnets!;
      // Instances of a group all start in its first subnet in moto: private-c holds none.
      const empty = subnets.find((subnet) => subnet.Tags?.some((tag) => tag.Key === "Name" && tag.Value === "private-c"))!;
      await ec2.send(new DeleteSubnetCommand({ SubnetId: empty.SubnetId }));
      const groupId = cluster.resourcesVpcConfig!.securityGroupIds![0];
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));

      // force: the node groups still run 1.29, which would refuse the hop before any network check.
      const started = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.31", force: true }))).update!;
      const { update } = await waitForUpdateEnd(eks, { name: "demo", updateId: started.id! });
      assert.equal(update.status, "Failed");
      assert.deepEqual(
        update.errors?.map((error) => [error.errorCode, error.resourceIds]),
        [
          ["SubnetNotFound", [empty.SubnetId]],
          ["SecurityGroupNotFound", [groupId]],
        ],
      );
      assert.equal((await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster?.version, "1.30");
    });
  });

  describe("on the IP-starved scenario", () => {
    before(async () => {
      await resetSandbox({ scenario: scenarioPath("ip-starved") });
    });

    it("seeds the chosen free-IP counts and fails the update with InsufficientFreeAddresses", async () => {
      const cluster = (await eks.send(new DescribeClusterCommand({ name: "starved" }))).cluster!;
      const subnets = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: cluster.resourcesVpcConfig!.subnetIds }))).Subnets!;
      assert.deepEqual(subnets.map((subnet) => subnet.AvailableIpAddressCount).sort(), [1, 2]);

      const started = (await eks.send(new UpdateClusterVersionCommand({ name: "starved", version: "1.31" }))).update!;
      assert.equal(started.status, "InProgress");
      const { update } = await waitForUpdateEnd(eks, { name: "starved", updateId: started.id! });
      assert.equal(update.status, "Failed");
      assert.equal(update.errors?.[0]?.errorCode, "InsufficientFreeAddresses");
      assert.deepEqual([...(update.errors?.[0]?.resourceIds ?? [])].sort(), subnets.map((subnet) => subnet.SubnetId).sort());
      assert.equal((await eks.send(new DescribeClusterCommand({ name: "starved" }))).cluster?.version, "1.30");
    });
  });
});
