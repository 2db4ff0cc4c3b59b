// Verification, rollback and its restarts on the sandbox: the operator runs as its own process
// against the real kube-apiserver, the EKS emulator (which implements VersionRollback) and moto.
// Control-plane updates are shortened with the emulator's per-cluster setting: these tests are
// about the order of the calls and the way back, not about how long EKS takes.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeClusterCommand, DescribeUpdateCommand, EKSClient } from "@aws-sdk/client-eks";
import { sandboxAwsClientConfig, sandboxEnv } from "../support/global-sandbox.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { condition, emulatorCalls, UpgradeWorld } from "../support/upgrades.js";
import { waitUntil } from "../support/wait.js";

const CHANGES = new Set(["UpdateClusterVersion", "UpdateNodegroupVersion", "UpdateAddon"]);

/** The update calls EKS answered 200, as "cp 1.30", "general 1.29", "kube-proxy v1.29.3-eksbuild.2". */
async function changes(): Promise<string[]> {
  return (await emulatorCalls("demo"))
    .filter((call) => CHANGES.has(call.operation) && call.status === 200)
    .map((call) => {
      const request = call.request as { version?: string; addonVersion?: string };
      if (call.operation === "UpdateClusterVersion") return `cp ${request.version}`;
      if (call.operation === "UpdateAddon") return `${call.addonName} ${request.addonVersion}`;
      return `${call.nodegroupName} ${request.version}`;
    });
}

/** The self-managed group of the default scenario: its template version, sizes and the AMI of each instance. */
async function legacyGroup(): Promise<{ templateId: string; templateVersion: string; size: [number, number, number]; images: string[] }> {
  const autoscaling = new AutoScalingClient(sandboxAwsClientConfig());
  const group = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["demo-legacy"] }))).AutoScalingGroups![0];
  const ids = (group.Instances ?? []).filter((instance) => !instance.LifecycleState?.startsWith("Terminat")).map((instance) => instance.InstanceId!);
  const reservations = ids.length ? (await new EC2Client(sandboxAwsClientConfig()).send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations ?? [] : [];
  return {
    templateId: group.LaunchTemplate!.LaunchTemplateId!,
    templateVersion: group.LaunchTemplate!.Version!,
    size: [group.MinSize!, group.MaxSize!, group.DesiredCapacity!],
    images: reservations.flatMap((reservation) => (reservation.Instances ?? []).map((instance) => instance.ImageId!)).sort(),
  };
}

/** Every instance EC2 ever launched from one launch template version, terminated ones included (by the tags EC2 puts on them). */
async function launchedFrom(templateId: string, version: string): Promise<number> {
  const filters = [
    { Name: "tag:aws:ec2launchtemplate:id", Values: [templateId] },
    { Name: "tag:aws:ec2launchtemplate:version", Values: [version] },
  ];
  const reservations = (await new EC2Client(sandboxAwsClientConfig()).send(new DescribeInstancesCommand({ Filters: filters }))).Reservations ?? [];
  return reservations.reduce((count, reservation) => count + (reservation.Instances ?? []).length, 0);
}

async function setControlPlaneSeconds(seconds: number): Promise<void> {
  const response = await fetch(`${sandboxEnv().emulatorAdminUrl}/clusters/demo/settings`, { method: "PUT", body: JSON.stringify({ controlPlaneUpdateSeconds: seconds }) });
  assert.equal(response.status, 200);
}

describe("rollback end to end (sandbox)", function () {
  this.timeout(8 * 60_000);
  let world: UpgradeWorld;
  let eks: EKSClient;
  let probe: Server;
  let probeStatus = 200;
  let probeUrl = "";
  const operators: OperatorProcess[] = [];

  /** Waits until an Event of the "manual" upgrade with that reason and text is stored. */
  async function eventStored(reason: string, text: string): Promise<void> {
    const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await waitUntil(
      `a ${reason} Event with "${text}"`,
      async () => (await core.listNamespacedEvent({ namespace: "e2e", fieldSelector: "involvedObject.name=manual" })).items.some((event) => event.reason === reason && (event.message ?? "").includes(text)),
      60_000,
      200,
    );
  }

  function operator(): OperatorProcess {
    // A Lease that outlasts a few seconds of a loaded machine: these tests are not about leadership,
    // and an operator that lost it stops. A killed operator's successor waits out at most 15 s.
    const started = startOperatorProcess({ LEASE_DURATION_SECONDS: "15", LEASE_RENEW_DEADLINE_SECONDS: "10", LEASE_RETRY_PERIOD_SECONDS: "2" });
    operators.push(started);
    return started;
  }

  before(async () => {
    eks = new EKSClient({ ...sandboxAwsClientConfig(), endpoint: sandboxEnv().eksEndpointUrl });
    probe = createServer((_request, response) => {
      response.statusCode = probeStatus;
      response.end(String(probeStatus));
    });
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    probeUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/healthz`;
  });

  after(async () => {
    await new Promise((resolve) => probe.close(resolve));
  });

  beforeEach(async function () {
    this.timeout(3 * 60_000);
    probeStatus = 200;
    world = await UpgradeWorld.prepare("default");
    await setControlPlaneSeconds(120);
  });

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((running) => running.stop()));
  });

  it("a gate failing after hop 1's control plane: the nodes never moved and the control plane is back on 1.29", async () => {
    probeStatus = 500;
    operator();
    await world.apply("gated", {
      cluster: { name: "demo" },
      targetVersion: "1.31",
      verification: { httpProbes: [{ url: probeUrl, timeoutSeconds: 2 }], checkInterval: "1s", failureThreshold: 2 },
      rollback: { policy: "Automatic" },
    });
    const done = await world.waitForPhase("gated", "RolledBack");
    assert.deepEqual(await changes(), ["cp 1.30", "cp 1.29"], "no add-on and no node group was touched");
    assert.equal((await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster?.version, "1.29");
    const rollback = done.status!.rollback!;
    assert.equal(rollback.trigger, "Automatic");
    assert.match(rollback.reason, /HttpProbe .*healthz: HTTP 500/);
    const update = (await eks.send(new DescribeUpdateCommand({ name: "demo", updateId: rollback.controlPlane!.updateId! }))).update!;
    assert.equal(update.type, "VersionRollback");
    assert.equal(condition(done, "RolledBack")?.status, "True");
    assert.equal(condition(done, "Claimed")?.reason, "ClaimsReleased");
  });

  it("a requested rollback after the nodes moved goes managed nodes, self-managed nodes back to their launch template version, control plane, then the add-on built for 1.30, through two SIGKILLs with one VersionRollback call", async function () {
    this.timeout(15 * 60_000);
    const before = await legacyGroup();
    const first = operator();
    await world.apply("manual", {
      cluster: { name: "demo" },
      targetVersion: "1.30",
      nodeGroups: { order: ["general", "demo-legacy"], selfManaged: [{ autoScalingGroupName: "demo-legacy" }], maxSurge: 1, maxUnavailable: 0 },
      // The shop's cache keeps only a scratch copy in its emptyDir (see sandbox/demo/clusterupgrade.yaml).
      drain: { deleteEmptyDirData: true, evictionRetryInterval: "2s" },
    });
    const upgraded = await world.waitForPhase("manual", "Succeeded", 10 * 60_000);
    const forward = (await changes()).length;
    const moved = await legacyGroup();
    assert.notEqual(moved.templateVersion, before.templateVersion, "the forward roll moved demo-legacy to a new template version");
    assert.deepEqual(upgraded.status?.nodeGroups?.find((group) => group.name === "demo-legacy")?.previousLaunchTemplate, { id: before.templateId, version: before.templateVersion });
    const [oldImage] = before.images;
    const versionBefore = (await new EC2Client(sandboxAwsClientConfig()).send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: before.templateId, Versions: [before.templateVersion] }))).LaunchTemplateVersions![0];
    assert.equal(versionBefore.LaunchTemplateData?.ImageId, oldImage);
    const launchedBefore = await launchedFrom(before.templateId, before.templateVersion);
    // A slow control-plane rollback leaves time to kill the operator while it runs.
    await setControlPlaneSeconds(1500);
    await world.patchSpec("manual", { rollback: { requested: true } });
    // Killed once the self-managed group is turned around (or already back): its roll resumes from status.
    await world.waitFor("manual", "the self-managed group's rollback recorded", (upgrade) =>
      ["InProgress", "Succeeded"].includes(upgrade.status?.rollback?.items?.find((item) => item.name === "demo-legacy")?.state ?? ""),
    );
    await first.kill();
    const second = operator();
    await world.waitFor("manual", "the control-plane rollback recorded", (upgrade) => Boolean(upgrade.status?.rollback?.controlPlane?.updateId));
    // A pass writes its Events after its status (controller.ts), so a SIGKILL right after the
    // status can take that pass's Event with it, as it would in a cluster. The kill waits for the
    // Event: what is tested here is the resumption, and the Events are checked below.
    await eventStored("ControlPlaneRollbackStarted", "1.30 -> 1.29");
    await second.kill();
    operator();
    const done = await world.waitForPhase("manual", "RolledBack", 10 * 60_000);
    const back = (await changes()).slice(forward);
    // kube-proxy is the one add-on whose 1.30 version does not run on 1.29 (the emulator's catalog);
    // built per minor, it can only go back once the control plane is on 1.29. The self-managed
    // group makes no EKS call: it is rolled by the operator.
    assert.deepEqual(back, ["general 1.29", "cp 1.29", "kube-proxy v1.29.3-eksbuild.2"]);
    assert.equal((await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster?.version, "1.29");
    assert.equal(done.status?.rollback?.trigger, "Manual");
    assert.deepEqual(done.status?.rollback?.items?.map((item) => [item.kind, item.name, item.state]), [
      ["NodeGroup", "general", "Succeeded"],
      ["SelfManagedGroup", "demo-legacy", "Succeeded"],
      ["Addon", "kube-proxy", "Succeeded"],
    ]);
    // demo-legacy is back on the template version and AMI it had, at its sizes, with 1.29 kubelets;
    // one new instance per node, so the restarted roll surged nothing twice.
    const after = await legacyGroup();
    assert.deepEqual(after, { ...before, images: after.images });
    assert.deepEqual(after.images, before.images.map(() => oldImage));
    assert.equal((await launchedFrom(before.templateId, before.templateVersion)) - launchedBefore, before.images.length);
    const nodes = (await world.kubeConfig.makeApiClient(k8s.CoreV1Api).listNode({ labelSelector: "workload-class=legacy" })).items;
    assert.deepEqual(
      nodes.filter((node) => !node.metadata?.deletionTimestamp).map((node) => [node.status?.nodeInfo?.kubeletVersion?.startsWith("v1.29."), Boolean(node.spec?.unschedulable)]),
      before.images.map(() => [true, false]),
    );
    // The order, as the Events tell it (in the order the API server stored them).
    const events = (await world.kubeConfig.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({ namespace: "e2e", fieldSelector: "involvedObject.name=manual" })).items.sort(
      (a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion),
    );
    const at = (reason: string, text: string): number => events.findIndex((event) => event.reason === reason && (event.message ?? "").includes(text));
    const order = [
      at("RollbackStepDone", "node group general back at 1.29"),
      at("RollbackStepStarted", "self-managed group demo-legacy 1.30 -> 1.29"),
      at("RollbackStepDone", "self-managed group demo-legacy back at 1.29"),
      at("ControlPlaneRollbackStarted", "1.30 -> 1.29"),
      at("RollbackStepDone", "add-on kube-proxy back at"),
      at("RolledBack", "rolled back 1.30 -> 1.29"),
    ];
    assert.ok(order.every((index) => index >= 0), `every step has its Event: ${JSON.stringify(order)}`);
    assert.deepEqual([...order].sort((a, b) => a - b), order, "managed nodes, self-managed nodes, control plane, add-on");
  });

  it("respects pause and maintenance windows during a rollback", async () => {
    probeStatus = 500;
    operator();
    // Manual policy: the failed gate holds the upgrade until a rollback is asked for.
    await world.apply("held", { cluster: { name: "demo" }, targetVersion: "1.30", verification: { httpProbes: [{ url: probeUrl, timeoutSeconds: 2 }], checkInterval: "1s", failureThreshold: 1 } });
    await world.waitFor("held", "the failed gate holding the upgrade", (upgrade) => condition(upgrade, "Verified")?.reason === "VerificationFailed");
    await world.patchSpec("held", { paused: true, rollback: { requested: true } });
    const paused = await world.waitFor("held", "paused at the new generation", (upgrade) => upgrade.status?.phase === "Paused" && upgrade.status.observedGeneration === upgrade.metadata.generation);
    assert.equal(paused.status?.rollback, undefined, "nothing decided while paused");
    // A window that opens twelve hours from now: closed for the whole test.
    const closedHour = (new Date().getUTCHours() + 12) % 24;
    await world.patchSpec("held", { paused: false, maintenanceWindows: [{ schedule: `0 ${closedHour} * * *`, duration: "1h" }] });
    const waiting = await world.waitFor("held", "waiting for the window at the new generation", (upgrade) => upgrade.status?.phase === "WaitingForWindow" && upgrade.status.observedGeneration === upgrade.metadata.generation);
    // The rollback may be decided meanwhile (the hop counts as work in flight), but nothing is started.
    assert.equal(waiting.status?.rollback?.controlPlane?.clientRequestToken, undefined, "no control-plane rollback started outside the window");
    assert.deepEqual(await changes(), ["cp 1.30"]);
    await world.patchSpec("held", { maintenanceWindows: null });
    await world.waitForPhase("held", "RolledBack");
    assert.deepEqual(await changes(), ["cp 1.30", "cp 1.29"]);
  });
});
