// The operator through the sandbox's fault proxies (test/support/faults.ts): moto and the EKS
// emulator answer it with seeded throttling and server errors, while this test reads both
// directly. EKSUP_FAULT_SEED replays another seed.
import assert from "node:assert/strict";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient, ListMetricsCommand, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeInstancesCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetChangeCommand, ListResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { startAwsFaults, type AwsFaults } from "../support/faults.js";
import { sandboxAwsClientConfig, sandboxEnv } from "../support/global-sandbox.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { emulatorCalls, UpgradeWorld } from "../support/upgrades.js";

const seed = process.env.EKSUP_FAULT_SEED ?? "e2e-faults-1";

describe("AWS faults end to end (sandbox)", function () {
  this.timeout(10 * 60_000);
  let world: UpgradeWorld;
  let faults: AwsFaults | undefined;
  const operators: OperatorProcess[] = [];

  beforeEach(async function () {
    this.timeout(3 * 60_000);
    world = await UpgradeWorld.prepare("default");
  });

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((running) => running.stop()));
    await faults?.close();
    faults = undefined;
  });

  it("passes moto's and the emulator's answers through unchanged at rate 0", async () => {
    faults = await startAwsFaults({ seed, rates: {} });
    const direct = sandboxAwsClientConfig();
    const proxied = { ...direct, endpoint: faults.env.AWS_ENDPOINT_URL };
    const both = <T>(make: (config: typeof direct) => Promise<T>): Promise<[T, T]> => Promise.all([make(direct), make(proxied)]);
    const strip = <T extends { $metadata?: unknown }>(output: T): Omit<T, "$metadata"> => {
      const { $metadata: _ignored, ...rest } = output;
      return rest;
    };

    const [subnetsDirect, subnetsProxied] = await both((config) => new EC2Client(config).send(new DescribeSubnetsCommand({})));
    assert.ok((subnetsDirect.Subnets ?? []).length > 0);
    assert.deepEqual(strip(subnetsProxied), strip(subnetsDirect));
    const [instancesDirect, instancesProxied] = await both((config) => new EC2Client(config).send(new DescribeInstancesCommand({})));
    assert.deepEqual(strip(instancesProxied), strip(instancesDirect));
    const [groupsDirect, groupsProxied] = await both((config) => new AutoScalingClient(config).send(new DescribeAutoScalingGroupsCommand({})));
    assert.ok((groupsDirect.AutoScalingGroups ?? []).length > 0);
    assert.deepEqual(strip(groupsProxied), strip(groupsDirect));

    // Route53 through the proxy only: a zone, a weighted change (an XML request body), its change
    // and the records it left.
    const route53 = new Route53Client(proxied);
    const zone = await route53.send(new CreateHostedZoneCommand({ Name: "faults.example.com", CallerReference: `faults-${Date.now()}` }));
    const zoneId = zone.HostedZone!.Id!;
    const change = await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: ["blue", "green"].map((color, index) => ({
            Action: "UPSERT" as const,
            ResourceRecordSet: { Name: "app.faults.example.com", Type: "CNAME" as const, SetIdentifier: color, Weight: index === 0 ? 90 : 10, TTL: 60, ResourceRecords: [{ Value: `${color}.faults.example.com` }] },
          })),
        },
      }),
    );
    assert.equal((await route53.send(new GetChangeCommand({ Id: change.ChangeInfo!.Id! }))).ChangeInfo?.Status, "INSYNC");
    const [recordsDirect, recordsProxied] = await both((config) => new Route53Client(config).send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId })));
    assert.deepEqual(
      recordsProxied.ResourceRecordSets?.filter((record) => record.SetIdentifier).map((record) => [record.SetIdentifier, record.Weight]),
      [["blue", 90], ["green", 10]],
    );
    assert.deepEqual(strip(recordsProxied), strip(recordsDirect));

    const cloudWatch = new CloudWatchClient(proxied);
    await cloudWatch.send(new PutMetricDataCommand({ Namespace: "Faults/Test", MetricData: [{ MetricName: "Probe", Value: 1, Unit: "Count" }] }));
    const metrics = await cloudWatch.send(new ListMetricsCommand({ Namespace: "Faults/Test" }));
    assert.deepEqual(metrics.Metrics?.map((metric) => metric.MetricName), ["Probe"]);

    const eksConfig = (endpoint: string) => ({ ...direct, endpoint });
    const [clusterDirect, clusterProxied] = await Promise.all(
      [sandboxEnv().eksEndpointUrl, faults.env.AWS_ENDPOINT_URL_EKS].map((endpoint) => new EKSClient(eksConfig(endpoint)).send(new DescribeClusterCommand({ name: "demo" }))),
    );
    assert.deepEqual(clusterProxied.cluster, clusterDirect.cluster);

    const stats = faults.stats();
    assert.deepEqual([stats.moto.faults, stats.eks.faults], [[], []]);
    assert.equal(stats.moto.upstreamErrors + stats.eks.upstreamErrors, 0);
    assert.deepEqual(Object.keys(stats.moto.byService).sort(), ["autoscaling", "cloudwatch", "ec2", "route53"]);
  });

  it("upgrades demo one hop, both node groups, through 10 % throttling and 6 % server errors, with one update call per hop and group", async () => {
    faults = await startAwsFaults({ seed, rates: { default: { throttle: 0.1, error500: 0.03, error503: 0.03 } } });
    const autoscaling = new AutoScalingClient(sandboxAwsClientConfig());
    const legacySize = async (): Promise<number[]> => {
      const group = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["demo-legacy"] }))).AutoScalingGroups?.[0];
      return [group?.MinSize ?? -1, group?.MaxSize ?? -1, group?.DesiredCapacity ?? -1];
    };
    const sizeBefore = await legacySize();
    operators.push(startOperatorProcess(faults.env));
    // The demo's own spec at one hop: the self-managed group is rolled by the operator through
    // Auto Scaling and EC2 (moto's proxy), the managed one by EKS (the emulator's proxy).
    await world.apply("faulty", {
      cluster: { name: "demo" },
      targetVersion: "1.30",
      nodeGroups: { order: ["demo-legacy", "general"], selfManaged: [{ autoScalingGroupName: "demo-legacy" }], maxSurge: 1, maxUnavailable: 0 },
      drain: { evictionRetryInterval: "2s", deleteEmptyDirData: true },
    });
    const done = await world.waitForPhase("faulty", "Succeeded");
    assert.equal(done.status?.currentVersion, "1.30");
    assert.deepEqual(done.status?.hops?.map((hop) => [hop.version, hop.state]), [["1.30", "Succeeded"]]);
    assert.equal(done.status?.nodeGroups?.find((group) => group.name === "general")?.version, "1.30");
    assert.equal(done.status?.nodeGroups?.find((group) => group.name === "demo-legacy")?.upgraded, 2);
    const updates = await emulatorCalls("demo", "UpdateClusterVersion");
    assert.deepEqual(updates.map((call) => call.request.version), ["1.30"], "exactly one UpdateClusterVersion for the hop");
    assert.equal((await emulatorCalls("demo", "UpdateNodegroupVersion")).length, 1, "exactly one UpdateNodegroupVersion for the managed group");
    assert.deepEqual(await legacySize(), sizeBefore, "the self-managed group back at its size");

    // The faults did reach the operator; moto's proxy carried its Auto Scaling and EC2 calls.
    const stats = faults.stats();
    const summary = JSON.stringify({
      moto: { requests: stats.moto.requests, byKind: stats.moto.byKind, byService: stats.moto.byService },
      eks: { requests: stats.eks.requests, byKind: stats.eks.byKind },
    });
    assert.ok((stats.moto.byService.ec2 ?? 0) > 0 && (stats.moto.byService.autoscaling ?? 0) > 0, summary);
    assert.ok(stats.eks.faults.length + stats.moto.faults.length > 0, summary);
    assert.equal(stats.moto.upstreamErrors + stats.eks.upstreamErrors, 0, summary);
    assert.ok(stats.eks.faults.every((fault) => fault.service === "eks" && ["ThrottlingException", "ServerException", "ServiceUnavailableException"].includes(fault.code ?? "")), summary);
    process.stdout.write(`      faults (seed ${seed}): ${summary}\n`);
  });
});
