// Blue/green cutovers on the sandbox: the operator runs as its own process against the real
// kube-apiserver, the EKS emulator and moto's Route53 and CloudWatch. Weights are read back from
// moto, gates are a local HTTP server and a moto alarm, and the operator is killed mid-step.
// The scenario's weighted records have a TTL of 5 s so each step bakes in seconds.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import * as k8s from "@kubernetes/client-node";
import type { AddressInfo } from "node:net";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from "@aws-sdk/client-auto-scaling";
import { DescribeClusterCommand, DescribeNodegroupCommand, EKSClient } from "@aws-sdk/client-eks";
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { ChangeResourceRecordSetsCommand, GetChangeCommand, ListHostedZonesByNameCommand, ListResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import type { ClusterUpgrade } from "../../src/api/v1alpha1/types.js";
import { sandboxAwsClientConfig, sandboxEnv } from "../support/global-sandbox.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { condition, emulatorCalls, UpgradeWorld } from "../support/upgrades.js";
import { waitUntil } from "../support/wait.js";

const RECORD = "www.shop.example.com";
/** The scenario's TTL (5 s) is longer than the step intervals below, so each step bakes 5 s. */
const SCENARIO_TTL_MS = 5_000;

describe("blue/green cutover end to end (sandbox)", function () {
  this.timeout(4 * 60_000);
  let world: UpgradeWorld;
  let zoneId: string;
  const route53 = (): Route53Client => new Route53Client(sandboxAwsClientConfig());
  const operators: OperatorProcess[] = [];
  const servers: Server[] = [];

  function operator(): OperatorProcess {
    const started = startOperatorProcess();
    operators.push(started);
    return started;
  }

  /** A local server standing in for green's health endpoint; `answer` is its status code. */
  async function healthServer(): Promise<{ url: string; answer: { status: number } }> {
    const answer = { status: 200 };
    const server = createServer((_request, response) => {
      response.statusCode = answer.status;
      response.end(String(answer.status));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`, answer };
  }

  async function weights(): Promise<Record<string, number>> {
    const sets = (await route53().send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ?? [];
    return Object.fromEntries(sets.filter((set) => set.Name === `${RECORD}.` && set.SetIdentifier).map((set) => [set.SetIdentifier!, set.Weight!]));
  }

  /** EKS is the sandbox's emulator, not moto. */
  function emulatorEks(): EKSClient {
    return new EKSClient({ ...sandboxAwsClientConfig(), endpoint: sandboxEnv().eksEndpointUrl });
  }

  async function blueNodes(): Promise<number> {
    const nodes = await world.kubeConfig.makeApiClient(k8s.CoreV1Api).listNode({ labelSelector: "eks.amazonaws.com/nodegroup=blue-workers" });
    return nodes.items.length;
  }

  async function blueAutoScalingGroup(): Promise<AutoScalingGroup> {
    const group = await emulatorEks().send(new DescribeNodegroupCommand({ clusterName: "blue", nodegroupName: "blue-workers" }));
    const name = group.nodegroup!.resources!.autoScalingGroups![0].name!;
    const found = await new AutoScalingClient(sandboxAwsClientConfig()).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    return found.AutoScalingGroups![0];
  }

  function spec(blueGreen: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cluster: { name: "blue" },
      targetVersion: "1.31",
      strategy: "BlueGreen",
      blueGreen: {
        greenCluster: { name: "green" },
        // The sandbox has one kube-apiserver: green's workload check reads the Deployment seeded there.
        verify: { workloads: [{ kind: "Deployment", namespace: "shop", name: "storefront" }] },
        route53: { hostedZoneId: zoneId, recordName: RECORD, blueSetIdentifier: "blue", greenSetIdentifier: "green" },
        stepInterval: "2s",
        ...blueGreen,
      },
    };
  }

  beforeEach(async function () {
    this.timeout(3 * 60_000);
    world = await UpgradeWorld.prepare("blue-green");
    const zones = await route53().send(new ListHostedZonesByNameCommand({ DNSName: "shop.example.com" }));
    zoneId = zones.HostedZones!.find((zone) => zone.Name === "shop.example.com.")!.Id!.replace("/hostedzone/", "");
  });

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((running) => running.stop()));
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it("promotes green 10 -> 25 -> 50 -> 100 %, each change INSYNC and baked before the next, ending at 0/100 in Route53", async () => {
    const health = await healthServer();
    operator();
    await world.apply("promote", spec({ gates: { httpProbes: [{ url: health.url, timeoutSeconds: 2 }], checkInterval: "1s" } }));
    const shifting = await world.waitForPhase("promote", "ShiftingTraffic", 90_000);
    assert.match(condition(shifting, "TrafficShifted")!.message, /step \d\/4/);
    const done = await world.waitForPhase("promote", "Succeeded", 120_000);
    assert.deepEqual(await weights(), { blue: 0, green: 255 });
    const cutover = done.status!.cutover!;
    assert.equal(cutover.split, "0/100");
    assert.equal(cutover.state, "Promoted");
    assert.deepEqual(cutover.changes!.map((change) => [change.step, change.blueWeight, change.greenWeight]), [
      [1, 229, 26],
      [2, 191, 64],
      [3, 127, 128],
      [4, 0, 255],
    ]);
    for (const [index, change] of cutover.changes!.entries()) {
      assert.ok(change.changeId, `step ${change.step} carries the Route53 change id`);
      const status = (await route53().send(new GetChangeCommand({ Id: change.changeId }))).ChangeInfo?.Status;
      assert.equal(status, "INSYNC", `moto knows change ${change.changeId}`);
      assert.ok(change.inSyncAt, `step ${change.step} was seen INSYNC`);
      if (index > 0) {
        const previous = cutover.changes![index - 1];
        assert.ok(Date.parse(change.sentAt) - Date.parse(previous.inSyncAt!) >= SCENARIO_TTL_MS, `step ${change.step} waited for step ${previous.step}'s INSYNC plus its bake`);
      }
    }
    assert.ok(cutover.gates?.every((gate) => gate.healthy && gate.value === "HTTP 200"));
    assert.equal(condition(done, "TrafficShifted")?.reason, "Promoted");
    assert.equal(done.status?.hops, undefined, "blue was not upgraded in place");
  });

  it("rolls back to 100/0 within one step interval once the HTTP probe starts answering 500", async () => {
    const health = await healthServer();
    operator();
    await world.apply("probe-rollback", spec({ stepInterval: "8s", gates: { httpProbes: [{ url: health.url, timeoutSeconds: 2 }], checkInterval: "1s", failureThreshold: 2 } }));
    await world.waitFor("probe-rollback", "step 2 in effect", (upgrade) => upgrade.status?.cutover?.step === 2 && Boolean(upgrade.status.cutover.changeInSyncAt), 90_000);
    assert.deepEqual(await weights(), { blue: 191, green: 64 });
    health.answer.status = 500;
    const failedAt = Date.now();
    await waitUntil("all traffic back on blue in moto", async () => {
      const now = await weights();
      return now.blue === 255 && now.green === 0;
    }, 10_000, 200);
    const elapsed = Date.now() - failedAt;
    assert.ok(elapsed < 8_000, `rolled back ${elapsed} ms after the probe failed, within the 8 s step interval`);
    const failed = await world.waitForPhase("probe-rollback", "Failed", 30_000);
    const cutover = failed.status!.cutover!;
    assert.equal(cutover.state, "RolledBack");
    assert.match(cutover.failedGate!, /HttpProbe http:\/\/127\.0\.0\.1:\d+\/healthz: HTTP 500/);
    assert.equal(cutover.changes!.filter((change) => change.step === 0).length, 1, "one change sent traffic back");
    assert.equal(cutover.changes!.at(-1)?.blueWeight, 255);
    assert.equal(condition(failed, "TrafficShifted")?.reason, "RolledBack");
    assert.match(condition(failed, "TrafficShifted")!.message, /back on blue \(split 100\/0.*HTTP 500/);
    assert.equal(cutover.changes!.some((change) => change.step === 3), false, "step 3 was never sent");
  });

  it("rolls back to 100/0 within one step interval once a CloudWatch alarm goes to ALARM", async () => {
    const cloudwatch = new CloudWatchClient(sandboxAwsClientConfig());
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: "green-5xx",
        Namespace: "AWS/ApplicationELB",
        MetricName: "HTTPCode_Target_5XX_Count",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 10,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: "green-5xx", StateValue: "OK", StateReason: "test: green healthy" }));
    operator();
    await world.apply("alarm-rollback", spec({ stepInterval: "8s", gates: { cloudWatchAlarms: ["green-5xx"], checkInterval: "1s", failureThreshold: 1 } }));
    await world.waitFor("alarm-rollback", "step 2 in effect", (upgrade) => upgrade.status?.cutover?.step === 2 && Boolean(upgrade.status.cutover.changeInSyncAt), 90_000);
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: "green-5xx", StateValue: "ALARM", StateReason: "test: green answers 5xx" }));
    const alarmedAt = Date.now();
    await waitUntil("all traffic back on blue in moto", async () => {
      const now = await weights();
      return now.blue === 255 && now.green === 0;
    }, 10_000, 200);
    assert.ok(Date.now() - alarmedAt < 8_000, "rolled back within the 8 s step interval");
    const failed = await world.waitForPhase("alarm-rollback", "Failed", 30_000);
    assert.match(failed.status!.cutover!.failedGate!, /CloudWatchAlarm green-5xx: ALARM/);
    assert.equal(condition(failed, "Ready")?.reason, "RolledBack");
  });

  it("killed with SIGKILL while a step bakes, a new operator resumes that step: none skipped, none sent twice", async () => {
    const first = operator();
    await world.apply("killed", spec({ trafficSteps: [25, 50, 100], stepInterval: "8s" }));
    const baking = await world.waitFor("killed", "step 2 baking", (upgrade) => upgrade.status?.cutover?.step === 2 && Boolean(upgrade.status.cutover.changeInSyncAt), 90_000);
    const stepTwo = baking.status!.cutover!.changes!.find((change) => change.step === 2)!;
    // Events are sent after the status write that records the change: the kill waits for step 2's,
    // so that the count below tells a step sent twice from an Event a kill cut short.
    const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await waitUntil("the TrafficStep Event of step 2", async () => {
      const events = await core.listNamespacedEvent({ namespace: "e2e", fieldSelector: "involvedObject.name=killed,reason=TrafficStep" });
      return events.items.some((event) => event.message?.startsWith("step 2/3"));
    }, 30_000);
    await first.kill();
    operator();
    const done: ClusterUpgrade = await world.waitForPhase("killed", "Succeeded", 120_000);
    const changes = done.status!.cutover!.changes!;
    assert.deepEqual(changes.map((change) => change.step), [1, 2, 3], "every step once, in order");
    assert.ok(changes.every((change) => change.changeId && change.inSyncAt), "every step was sent by a recorded change, none adopted after a lost write");
    // moto answers every change with the same id, so the Events say how often each step was sent.
    const events = await core.listNamespacedEvent({ namespace: "e2e", fieldSelector: "involvedObject.name=killed,reason=TrafficStep" });
    const sendsPerStep = new Map<string, number>();
    for (const event of events.items) {
      const step = /^step (\d)\/3/.exec(event.message ?? "")?.[1] ?? "?";
      sendsPerStep.set(step, (sendsPerStep.get(step) ?? 0) + (event.count ?? 1));
    }
    assert.deepEqual([...sendsPerStep.entries()].sort(), [["1", 1], ["2", 1], ["3", 1]], "one TrafficStep Event per step, across both operators");
    assert.deepEqual(changes[1], stepTwo, "step 2's change is the one the killed operator sent");
    assert.ok(Date.parse(changes[2].sentAt) - Date.parse(stepTwo.inSyncAt!) >= 8_000, "step 2 still baked its full interval");
    assert.deepEqual(await weights(), { blue: 0, green: 255 });
  });

  it("spec.abort mid-cutover sends all traffic back to blue in one change, then the phase is Aborted", async () => {
    operator();
    // A long bake keeps the cutover at step 1 while the abort arrives.
    await world.apply("aborted", spec({ trafficSteps: [25, 100], stepInterval: "60s" }));
    await world.waitFor("aborted", "step 1 in effect", (upgrade) => upgrade.status?.cutover?.step === 1 && Boolean(upgrade.status.cutover.changeInSyncAt), 90_000);
    assert.deepEqual(await weights(), { blue: 191, green: 64 });
    await world.patchSpec("aborted", { abort: true });
    const aborted = await world.waitForPhase("aborted", "Aborted", 30_000);
    assert.deepEqual(await weights(), { blue: 255, green: 0 });
    const cutover = aborted.status!.cutover!;
    assert.equal(cutover.state, "Aborted");
    assert.deepEqual(cutover.changes!.map((change) => [change.step, change.greenWeight]), [[1, 64], [0, 0]], "step 1, then one change back to blue");
    assert.match(condition(aborted, "TrafficShifted")!.message, /aborted: all traffic is back on blue \(split 100\/0/);
  });

  it("refuses invalid weight schedules (the CRD what CEL can express, the operator the rest) and a record external-dns owns: nothing moves", async () => {
    await assert.rejects(world.apply("unsorted", spec({ trafficSteps: [10, 50, 25, 100] })), (error: unknown) => /strictly increasing/.test(JSON.stringify(error)));
    await assert.rejects(world.apply("short", spec({ trafficSteps: [10, 50] })), (error: unknown) => /the last traffic step must be 100/.test(JSON.stringify(error)));
    await assert.rejects(world.apply("heavy", spec({ weightSteps: [{ blue: 300, green: 10 }, { blue: 0, green: 255 }] })), (error: unknown) => /weightSteps\[0\]\.blue/.test(JSON.stringify(error)));
    await assert.rejects(world.apply("zeros", spec({ weightSteps: [{ blue: 0, green: 0 }, { blue: 0, green: 255 }] })), (error: unknown) => /both weights to 0/.test(JSON.stringify(error)));
    operator();
    // Green's weight grows (10 -> 20) but its share falls (50% -> 7%): only the operator sees it.
    await world.apply("shrinking-share", spec({ weightSteps: [{ blue: 10, green: 10 }, { blue: 255, green: 20 }, { blue: 0, green: 255 }] }));
    const refused = await world.waitForPhase("shrinking-share", "InvalidSpec", 60_000);
    assert.match(condition(refused, "SpecValid")!.message, /spec\.blueGreen\.weightSteps: step 2 .*green's share \(7%\) must be larger than at step 1 \(50%\)/);
    await assert.rejects(world.apply("green-is-blue", spec({ greenCluster: { name: "blue" } })), (error: unknown) => /greenCluster must name a different cluster than spec\.cluster/.test(JSON.stringify(error)));
    // A valid spec for a record external-dns owns is held back by the preflight.
    await route53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [{ Action: "CREATE", ResourceRecordSet: { Name: `cname-${RECORD}`, Type: "TXT", TTL: 300, ResourceRecords: [{ Value: '"heritage=external-dns,external-dns/owner=shop-blue,external-dns/resource=ingress/shop/storefront"' }] } }],
        },
      }),
    );
    await world.apply("owned", spec());
    const blocked = await world.waitForPhase("owned", "Blocked", 60_000);
    assert.match(condition(blocked, "PreflightPassed")!.message, /BG008 record www\.shop\.example\.com is managed by external-dns \(owner shop-blue\)/);
    assert.equal(blocked.status?.cutover, undefined);
    assert.deepEqual(await weights(), { blue: 100, green: 0 }, "no weight was changed");
  });

  it("keeps blue for keepFor after the promotion, then scales its managed node group to zero in moto and its nodes leave", async () => {
    operator();
    await world.apply("retire", spec({ trafficSteps: [50, 100], blueRetention: { keepFor: "15s", scaleDown: true } }));
    const promoted = await world.waitFor("retire", "promoted and keeping blue", (upgrade) => upgrade.status?.blueRetention?.state === "Keeping", 120_000);
    assert.equal(promoted.status?.phase, "Succeeded");
    assert.equal(condition(promoted, "BlueRetired")?.reason, "RetainingBlue");
    assert.equal((await emulatorCalls("blue", "UpdateNodegroupConfig")).length, 0, "blue untouched while keepFor runs");
    assert.ok((await blueNodes()) >= 2, "blue still has its nodes during keepFor");
    const retired = await world.waitFor("retire", "blue scaled down", (upgrade) => upgrade.status?.blueRetention?.state === "ScaledDown", 90_000);
    const promotedAt = Date.parse(retired.status!.cutover!.promotedAt!);
    const group = retired.status!.blueRetention!.groups![0];
    assert.deepEqual([group.name, group.kind, group.originalSize, group.state], ["blue-workers", "Managed", { min: 2, max: 4, desired: 2 }, "ScaledDown"]);
    const scale = await emulatorCalls("blue", "UpdateNodegroupConfig");
    assert.equal(scale.length, 1);
    assert.deepEqual((scale[0].request as { scalingConfig: unknown }).scalingConfig, { minSize: 0, maxSize: 4, desiredSize: 0 });
    const asg = await blueAutoScalingGroup();
    assert.deepEqual([asg.MinSize, asg.DesiredCapacity, asg.MaxSize], [0, 0, 4], "moto's Auto Scaling group of blue-workers is at zero");
    assert.ok(Date.parse(retired.status!.blueRetention!.finishedAt!) - promotedAt >= 15_000, "scaled only after keepFor");
    await waitUntil("blue's nodes leave the API server", async () => (await blueNodes()) === 0, 60_000, 1_000);
    assert.equal(condition(retired, "BlueRetired")?.status, "True");
    assert.equal((await emulatorCalls("blue", "DeleteCluster")).length, 0, "not deleted without deleteBlue");
  });

  it("with deleteBlue, deletes blue's node group and then the cluster once it is at zero, and stays Succeeded", async () => {
    operator();
    // deleteBlue needs keepFor of at least 1h (the CRD refuses less). The hour is spent by moving the
    // recorded promotion time back two hours (the deadline is read from it), and a keepFor of 90m
    // (still editable mid-upgrade) brings the operator back to read it.
    await world.apply("delete-blue", spec({ trafficSteps: [100], blueRetention: { keepFor: "1h", scaleDown: true, deleteBlue: true } }));
    const keeping = await world.waitFor("delete-blue", "blue kept as the fallback", (upgrade) => upgrade.status?.blueRetention?.state === "Keeping", 150_000);
    assert.match(condition(keeping, "BlueRetired")!.message, /kept untouched as the fallback until/);
    const api = world.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const target = { group: "eksupgrade.io", version: "v1alpha1", namespace: world.namespace, plural: "clusterupgrades", name: "delete-blue" };
    const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
    await api.patchNamespacedCustomObjectStatus({ ...target, body: { status: { cutover: { promotedAt: new Date(Date.now() - 2 * 60 * 60_000).toISOString() } } } }, mergePatch);
    await api.patchNamespacedCustomObject({ ...target, body: { spec: { blueGreen: { blueRetention: { keepFor: "90m" } } } } }, mergePatch);
    const deleted = await world.waitFor("delete-blue", "blue deleted", (upgrade) => upgrade.status?.blueRetention?.state === "Deleted", 150_000);
    assert.equal(deleted.status?.phase, "Succeeded");
    const calls = (await emulatorCalls("blue")).map((call) => call.operation).filter((operation) => ["UpdateNodegroupConfig", "DeleteNodegroup", "DeleteCluster"].includes(operation));
    assert.deepEqual([...new Set(calls)], ["UpdateNodegroupConfig", "DeleteNodegroup", "DeleteCluster"], "scaled to zero, then the node group, then the cluster");
    await assert.rejects(emulatorEks().send(new DescribeClusterCommand({ name: "blue" })), (error: Error) => error.name === "ResourceNotFoundException");
    assert.deepEqual(await weights(), { blue: 0, green: 255 });
    // Passes after the deletion do not mistake blue's absence for a wrong spec.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const later = await world.read("delete-blue");
    assert.equal(later.status?.phase, "Succeeded");
    assert.equal(condition(later, "SpecValid")?.status, "True");
  });

  it("createGreen clones blue at the target version (control plane, node group, add-ons), verifies green, then promotes it", async () => {
    // EKS takes minutes to create a cluster, a node group and an add-on: 10, 4 and 1 EKS minutes here
    // (6, 2.4 and 0.6 s on the sandbox clock), so the operator has to wait for each to be ACTIVE.
    const settings = await fetch(`${sandboxEnv().emulatorAdminUrl}/settings`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ clusterSeconds: 600, nodegroupSeconds: 240, addonSeconds: 60 }) });
    assert.equal(settings.status, 200);
    operator();
    await world.apply("clone", spec({ greenCluster: { name: "green-clone" }, createGreen: true, trafficSteps: [50, 100] }));
    const creating = await world.waitFor("clone", "control plane CREATING", (upgrade) => upgrade.status?.phase === "CreatingGreen" && /EKS reports CREATING/.test(upgrade.status.green?.message ?? ""), 60_000);
    assert.equal(condition(creating, "GreenCreated")?.reason, "CreatingGreen");
    assert.equal(creating.status?.cutover, undefined, "no traffic moves while green is created");
    const done = await world.waitForPhase("clone", "Succeeded", 180_000);
    const green = done.status!.green!;
    assert.equal(green.state, "Ready");
    assert.deepEqual(green.nodeGroups?.map(({ name, status }) => ({ name, status })), [{ name: "blue-workers", status: "ACTIVE" }]);
    assert.ok(green.nodeGroups?.every((group) => group.clientRequestToken), "each node group's token is kept in status");
    assert.deepEqual(green.addons!.map((addon) => addon.name).sort(), ["coredns", "kube-proxy", "vpc-cni"]);
    assert.equal(condition(done, "GreenCreated")?.status, "True");
    const eks = emulatorEks();
    const [blue, clone] = await Promise.all([eks.send(new DescribeClusterCommand({ name: "blue" })), eks.send(new DescribeClusterCommand({ name: "green-clone" }))]);
    assert.equal(clone.cluster!.version, "1.31");
    assert.equal(blue.cluster!.version, "1.30", "blue is not upgraded");
    assert.deepEqual(clone.cluster!.resourcesVpcConfig!.subnetIds, blue.cluster!.resourcesVpcConfig!.subnetIds);
    assert.deepEqual(clone.cluster!.resourcesVpcConfig!.securityGroupIds, blue.cluster!.resourcesVpcConfig!.securityGroupIds);
    assert.equal(clone.cluster!.roleArn, blue.cluster!.roleArn);
    assert.equal(clone.cluster!.tags!["eksupgrade.io/created-by"], "e2e/clone");
    assert.equal(clone.cluster!.tags!["eksupgrade.io/cloned-from"], "blue");
    const group = (await eks.send(new DescribeNodegroupCommand({ clusterName: "green-clone", nodegroupName: "blue-workers" }))).nodegroup!;
    assert.equal(group.version, "1.31");
    assert.deepEqual(group.scalingConfig, { minSize: 2, maxSize: 4, desiredSize: 2 });
    const asg = (await new AutoScalingClient(sandboxAwsClientConfig()).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group.resources!.autoScalingGroups![0].name!] }))).AutoScalingGroups![0];
    assert.equal(asg.Instances?.length, 2, "moto runs green's two instances");
    assert.equal((await emulatorCalls("green-clone", "CreateCluster")).length, 1, "one CreateCluster");
    // Green's workloads were read with an EKS bearer token (the operator's own kubeconfig uses a static token).
    const reviews = ((await (await fetch(`${sandboxEnv().emulatorAdminUrl}/token-reviews`)).json()) as { reviews: { authenticated: boolean; user?: string }[] }).reviews;
    assert.ok(reviews.some((review) => review.authenticated && review.user?.startsWith("arn:aws:")), JSON.stringify(reviews));
    const firstStep = done.status!.cutover!.changes![0];
    assert.ok(Date.parse(firstStep.sentAt) >= Date.parse(green.readyAt!), "no traffic moved before green was ready");
    assert.deepEqual(await weights(), { blue: 0, green: 255 });
  });
});
