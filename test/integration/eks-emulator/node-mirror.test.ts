// The node mirror plays the cloud controller manager: each running instance of the scenario's
// groups is a Node with the providerID, labels and kubelet version an EKS node would carry.
import assert from "node:assert/strict";
import { CoreV1Api, type V1Node } from "@kubernetes/client-node";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeNodegroupCommand } from "@aws-sdk/client-eks";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { resetSandbox, sandboxAwsClientConfig, sandboxKubeConfig } from "../../support/global-sandbox.js";
import { eksClient, scenarioPath } from "./helpers.js";

describe("node mirror (sandbox)", function () {
  this.timeout(240_000);
  let nodes: V1Node[];

  before(async () => {
    await resetSandbox({ scenario: scenarioPath("default") });
    nodes = (await sandboxKubeConfig().makeApiClient(CoreV1Api).listNode()).items;
  });

  it("makes one Node per running instance, with an aws:/// providerID naming the instance and its zone", async () => {
    const autoscaling = new AutoScalingClient(sandboxAwsClientConfig());
    const groups = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
    const instanceIds = groups.flatMap((group) => group.Instances?.map((instance) => instance.InstanceId!) ?? []).sort();
    assert.equal(instanceIds.length, 5);
    const fromNodes = nodes.map((node) => /^aws:\/\/\/([a-z0-9-]+)\/(i-[0-9a-f]+)$/.exec(node.spec?.providerID ?? "")).map((match) => {
      assert.ok(match, "providerID has the aws:///<zone>/<instance-id> form");
      return match;
    });
    assert.deepEqual(fromNodes.map((match) => match[2]).sort(), instanceIds);
    for (const [index, node] of nodes.entries()) {
      assert.equal(node.metadata?.labels?.["topology.kubernetes.io/zone"], fromNodes[index][1]);
      assert.equal(node.metadata?.labels?.["node.kubernetes.io/instance-type"], "m5.large");
    }
    const ec2 = new EC2Client(sandboxAwsClientConfig());
    const instances = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }))).Reservations!.flatMap((r) => r.Instances!);
    assert.deepEqual(nodes.map((node) => node.metadata?.name).sort(), instances.map((instance) => instance.PrivateDnsName).sort());
  });

  it("labels managed nodes with their node group and AMI, spread over the group's zones, at the group's kubelet version", async () => {
    const managed = nodes.filter((node) => node.metadata?.labels?.["eks.amazonaws.com/nodegroup"] === "general");
    assert.equal(managed.length, 3);
    const group = (await eksClient().send(new DescribeNodegroupCommand({ clusterName: "demo", nodegroupName: "general" }))).nodegroup!;
    const ec2 = new EC2Client(sandboxAwsClientConfig());
    const instanceIds = managed.map((node) => node.spec!.providerID!.split("/").pop()!);
    const images = new Set(
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }))).Reservations!.flatMap((r) => r.Instances!.map((i) => i.ImageId)),
    );
    assert.equal(images.size, 1);
    for (const node of managed) {
      assert.equal(node.metadata?.labels?.["eks.amazonaws.com/nodegroup-image"], [...images][0]);
      assert.equal(node.metadata?.labels?.["workload-class"], "general");
      assert.equal(node.status?.nodeInfo?.kubeletVersion, `v${group.releaseVersion!.replace(/-(\d{8})$/, "-eks-$1")}`);
      assert.match(node.status?.nodeInfo?.kubeletVersion ?? "", /^v1\.29\./);
    }
    const zones = new Set(managed.map((node) => node.metadata?.labels?.["topology.kubernetes.io/zone"]));
    assert.equal(zones.size, 3, "three nodes over three subnets land in three zones");
  });

  it("marks self-managed nodes with their Auto Scaling group, not as a managed node group", () => {
    const legacy = nodes.filter((node) => node.metadata?.labels?.["sandbox.eks-upgrade-operator.io/auto-scaling-group"] === "demo-legacy");
    assert.equal(legacy.length, 2);
    for (const node of legacy) {
      assert.equal(node.metadata?.labels?.["eks.amazonaws.com/nodegroup"], undefined);
      assert.equal(node.metadata?.labels?.["workload-class"], "legacy");
      assert.match(node.status?.nodeInfo?.kubeletVersion ?? "", /^v1\.29\./);
    }
  });

  it("hands every Node to kwok, which reports it Ready", () => {
    for (const node of nodes) {
      assert.equal(node.metadata?.annotations?.["kwok.x-k8s.io/node"], "fake");
      assert.ok(node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True"), node.metadata?.name);
    }
  });
});
