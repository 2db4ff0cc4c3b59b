// The Auto Scaling, EC2 launch template and Route53 adapters against moto in the sandbox, through the real SDK clients.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { AutoScalingClient, CreateAutoScalingGroupCommand } from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from "@aws-sdk/client-route-53";
import { AwsAutoScaling } from "../../../src/cloud/aws/autoscaling.js";
import { AwsEc2 } from "../../../src/cloud/aws/ec2.js";
import { AwsRoute53 } from "../../../src/cloud/aws/route53.js";
import { isNotFound } from "../../../src/util/errors.js";
import { CLAIM_TAG, formatHolder, ownershipRecordName, parseHolder, quoteTxt, unquoteTxt } from "../../../src/claims/holder.js";
import { sandboxAwsClientConfig } from "../../support/global-sandbox.js";

const suffix = randomBytes(3).toString("hex");

describe("AWS adapters against moto (sandbox)", function () {
  this.timeout(60_000);

  it("Auto Scaling: describes, resizes, tags a group and terminates an instance with decrement", async () => {
    const config = sandboxAwsClientConfig();
    const ec2 = new EC2Client(config);
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.99.0.0/16" }));
    const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: "10.99.1.0/24", AvailabilityZone: `${config.region}a` }));
    const template = `adapter-test-${suffix}`;
    await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: template, LaunchTemplateData: { ImageId: "ami-0123456789abcdef0", InstanceType: "m5.large" } }));
    const name = `adapter-asg-${suffix}`;
    await new AutoScalingClient(config).send(
      new CreateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: 1, MaxSize: 3, DesiredCapacity: 2, VPCZoneIdentifier: subnet.Subnet!.SubnetId!, LaunchTemplate: { LaunchTemplateName: template, Version: "$Latest" } }),
    );
    const port = new AwsAutoScaling(new AutoScalingClient(config));
    const group = await port.describeGroup(name);
    assert.deepEqual(group.size, { min: 1, max: 3, desired: 2 });
    assert.equal(group.instances.length, 2);
    assert.deepEqual(group.subnetIds, [subnet.Subnet!.SubnetId!]);
    await port.setSize(name, { min: 1, max: 5, desired: 3 });
    assert.deepEqual((await port.describeGroup(name)).size, { min: 1, max: 5, desired: 3 });
    await port.tagGroup(name, { "eksupgrade.io/original-size": "1/3/2" });
    assert.equal((await port.describeGroup(name)).tags["eksupgrade.io/original-size"], "1/3/2");
    const victim = (await port.describeGroup(name)).instances[0].id;
    await port.terminateInstance(victim, true);
    const after = await port.describeGroup(name);
    assert.equal(after.size.desired, 2);
    assert.ok(!after.instances.some((instance) => instance.id === victim && instance.lifecycleState === "InService"));
    await assert.rejects(port.describeGroup(`missing-${suffix}`), (error: unknown) => isNotFound(error));
  });

  it("EC2: adds a launch template version with another AMI and finds it again by the token in its description", async () => {
    const config = sandboxAwsClientConfig();
    const ec2 = new EC2Client(config);
    const created = await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: `adapter-lt-${suffix}`, LaunchTemplateData: { ImageId: "ami-0123456789abcdef0", InstanceType: "m5.large" } }));
    const templateId = created.LaunchTemplate!.LaunchTemplateId!;
    const port = new AwsEc2(ec2);
    const token = `token-${suffix}`;
    assert.equal(await port.findLaunchTemplateVersion(templateId, token), undefined);
    const version = await port.createLaunchTemplateVersion({ templateId, sourceVersion: "1", imageId: "ami-0fedcba9876543210", description: `Kubernetes 1.31 [${token}]`, clientToken: token });
    assert.equal(version, "2");
    assert.equal(await port.findLaunchTemplateVersion(templateId, token), "2");
    assert.equal(await port.findLaunchTemplateVersion(templateId, "another-token"), undefined);
    // As in EC2, a repeat with the same ClientToken (an SDK retry after a reset) adds no version.
    const again = await port.createLaunchTemplateVersion({ templateId, sourceVersion: "1", imageId: "ami-0fedcba9876543210", description: `Kubernetes 1.31 [${token}]`, clientToken: token });
    assert.equal(again, "2");
    const other = await port.createLaunchTemplateVersion({ templateId, sourceVersion: "1", imageId: "ami-0fedcba9876543210", description: "another", clientToken: `other-${suffix}` });
    assert.equal(other, "3");
  });

  it("Route53: reads weighted records, moves the weights in one change and reads them back", async () => {
    const client = new Route53Client(sandboxAwsClientConfig());
    const zone = await client.send(new CreateHostedZoneCommand({ Name: `adapter-${suffix}.example.com`, CallerReference: suffix }));
    const zoneId = zone.HostedZone!.Id!.replace("/hostedzone/", "");
    const name = `app.adapter-${suffix}.example.com`;
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: ["blue", "green"].map((id) => ({
            Action: "CREATE" as const,
            ResourceRecordSet: { Name: name, Type: "CNAME" as const, SetIdentifier: id, Weight: id === "blue" ? 255 : 0, TTL: 60, ResourceRecords: [{ Value: `${id}.elb.example.com` }] },
          })),
        },
      }),
    );
    const port = new AwsRoute53(client);
    const before = await port.weightedRecords(zoneId, name, "CNAME");
    assert.deepEqual(before.map((record) => [record.setIdentifier, record.weight, record.ttl]).sort(), [["blue", 255, 60], ["green", 0, 60]]);
    const changeId = await port.setWeights(zoneId, name, "CNAME", { blue: 229, green: 26 });
    assert.equal(await port.changeStatus(changeId), "INSYNC");
    const after = await port.weightedRecords(zoneId, name, "CNAME");
    assert.deepEqual(after.map((record) => [record.setIdentifier, record.weight, record.values[0]]).sort(), [["blue", 229, "blue.elb.example.com"], ["green", 26, "green.elb.example.com"]]);
    await assert.rejects(port.setWeights(zoneId, name, "CNAME", { purple: 1 }), /no weighted CNAME record/);
  });

  it("Route53: reads the TXT values at a name, weighted or not, and nothing at a name without TXT", async () => {
    const client = new Route53Client(sandboxAwsClientConfig());
    const zone = await client.send(new CreateHostedZoneCommand({ Name: `txt-${suffix}.example.com`, CallerReference: `txt-${suffix}` }));
    const zoneId = zone.HostedZone!.Id!.replace("/hostedzone/", "");
    const name = `www.txt-${suffix}.example.com`;
    const ownership = '"heritage=external-dns,external-dns/owner=blue,external-dns/resource=ingress/shop/storefront"';
    await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            { Action: "CREATE", ResourceRecordSet: { Name: name, Type: "CNAME", SetIdentifier: "blue", Weight: 255, TTL: 60, ResourceRecords: [{ Value: "blue.elb.example.com" }] } },
            // external-dns's newer format: the type-prefixed name, weighted like the record it owns.
            { Action: "CREATE", ResourceRecordSet: { Name: `cname-${name}`, Type: "TXT", SetIdentifier: "blue", Weight: 255, TTL: 300, ResourceRecords: [{ Value: ownership }] } },
            { Action: "CREATE", ResourceRecordSet: { Name: `other-${name}`, Type: "TXT", TTL: 300, ResourceRecords: [{ Value: '"v=spf1 -all"' }] } },
          ],
        },
      }),
    );
    const port = new AwsRoute53(client);
    assert.deepEqual(await port.txtValues(zoneId, `cname-${name}`), [ownership]);
    assert.deepEqual(await port.txtValues(zoneId, name), [], "the CNAME itself has no TXT record");
    assert.deepEqual(await port.txtValues(zoneId, `other-${name}`), ['"v=spf1 -all"']);
  });

  it("Auto Scaling: a claim tag written, read back with the group, overwritten by the last writer, and removed", async () => {
    const config = sandboxAwsClientConfig();
    const ec2 = new EC2Client(config);
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.98.0.0/16" }));
    const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: "10.98.1.0/24", AvailabilityZone: `${config.region}a` }));
    const template = `claim-test-${suffix}`;
    await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: template, LaunchTemplateData: { ImageId: "ami-0123456789abcdef0", InstanceType: "m5.large" } }));
    const name = `claim-asg-${suffix}`;
    await new AutoScalingClient(config).send(
      new CreateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: 0, MaxSize: 1, DesiredCapacity: 0, VPCZoneIdentifier: subnet.Subnet!.SubnetId!, LaunchTemplate: { LaunchTemplateName: template, Version: "$Latest" } }),
    );
    const port = new AwsAutoScaling(new AutoScalingClient(config));
    const ours = formatHolder({ uid: "uid-ours", operator: "mgmt-1", since: "2026-11-29T08:00:00Z", upgrade: "default/first" });
    const theirs = formatHolder({ uid: "uid-theirs", operator: "mgmt-2", since: "2026-11-29T08:00:01Z", upgrade: "infra/second" });
    await port.tagGroup(name, { [CLAIM_TAG]: ours });
    assert.equal(parseHolder((await port.describeGroup(name)).tags[CLAIM_TAG])?.uid, "uid-ours");
    // Tags are last-writer-wins: that is why a claim is read back after the settle time.
    await port.tagGroup(name, { [CLAIM_TAG]: theirs });
    assert.equal(parseHolder((await port.describeGroup(name)).tags[CLAIM_TAG])?.uid, "uid-theirs");
    await port.untagGroup(name, [CLAIM_TAG]);
    assert.equal((await port.describeGroup(name)).tags[CLAIM_TAG], undefined);
  });

  it("Route53: the ownership TXT record is created, swapped in one DELETE + CREATE batch of the exact value read, and deleted", async () => {
    const client = new Route53Client(sandboxAwsClientConfig());
    const zone = await client.send(new CreateHostedZoneCommand({ Name: `claim-${suffix}.example.com`, CallerReference: `claim-${suffix}` }));
    const zoneId = zone.HostedZone!.Id!.replace("/hostedzone/", "");
    const name = ownershipRecordName(`app.claim-${suffix}.example.com`, "CNAME");
    const port = new AwsRoute53(client);
    const ours = { ttl: 300, values: [quoteTxt(formatHolder({ uid: "uid-ours", operator: "mgmt-1", since: "2026-11-29T08:00:00Z", upgrade: "default/first" }))] };
    const theirs = { ttl: 300, values: [quoteTxt(formatHolder({ uid: "uid-theirs", operator: "mgmt-2", since: "2026-11-29T08:00:01Z", upgrade: "infra/second" }))] };
    assert.equal(await port.txtRecord(zoneId, name), undefined);
    assert.equal(await port.replaceTxtRecord(zoneId, name, undefined, ours), true);
    const read = await port.txtRecord(zoneId, name);
    assert.deepEqual(read, ours);
    assert.equal(parseHolder(unquoteTxt(read.values[0]))?.uid, "uid-ours");
    // The same CREATE again is refused (InvalidChangeBatch) and reported as a lost swap, not an error.
    // moto refuses only an identical CREATE; Route53 refuses any CREATE at a name that has the record
    // (docs/sandbox.md), which is why a claim is also read back after the settle time.
    assert.equal(await port.replaceTxtRecord(zoneId, name, undefined, ours), false);
    // Breaking a claim: DELETE of the exact value read plus CREATE of the new one, in one batch.
    assert.equal(await port.replaceTxtRecord(zoneId, name, ours, theirs), true);
    assert.deepEqual(await port.txtRecord(zoneId, name), theirs);
    assert.equal(await port.replaceTxtRecord(zoneId, name, theirs, undefined), true);
    assert.equal(await port.txtRecord(zoneId, name), undefined);
  });
});
