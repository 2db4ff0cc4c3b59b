// Whole in-place upgrades on the sandbox: the operator runs as its own process against the real
// kube-apiserver, the EKS emulator and moto, and is killed and restarted mid-flight.
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { CreateNetworkInterfaceCommand, DeleteNetworkInterfaceCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { sandboxAwsClientConfig } from "../support/global-sandbox.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { condition, emulatorCalls, emulatorClusterSettings, UpgradeWorld } from "../support/upgrades.js";
import { waitUntil } from "../support/wait.js";

describe("in-place upgrade end to end (sandbox)", function () {
  this.timeout(10 * 60_000);
  let world: UpgradeWorld;
  const operators: OperatorProcess[] = [];

  function operator(extraEnv: Record<string, string> = {}): OperatorProcess {
    const started = startOperatorProcess(extraEnv);
    operators.push(started);
    return started;
  }

  beforeEach(async function () {
    this.timeout(3 * 60_000);
    world = await UpgradeWorld.prepare("default");
  });

  afterEach(async () => {
    await Promise.all(operators.splice(0).map((running) => running.stop()));
  });

  it("takes cluster demo from 1.29 to 1.31 in two hops with add-ons and its managed node group", async () => {
    operator();
    await world.apply("two-hops", { cluster: { name: "demo" }, targetVersion: "1.31", nodeGroups: { order: ["general"] } });
    const done = await world.waitForPhase("two-hops", "Succeeded");
    const status = done.status!;
    assert.equal(status.currentVersion, "1.31");
    assert.deepEqual(status.hops?.map((hop) => [hop.from, hop.version, hop.state, hop.stage]), [
      ["1.29", "1.30", "Succeeded", "Done"],
      ["1.30", "1.31", "Succeeded", "Done"],
    ]);
    assert.ok(status.hops?.every((hop) => hop.updateId && hop.startedAt && hop.finishedAt && hop.controlPlaneSeconds !== undefined));
    // kube-proxy goes after the nodes, every add-on ends on a version made for 1.31.
    assert.deepEqual(status.addons?.filter((addon) => addon.hop === "1.31").map((addon) => addon.name), ["vpc-cni", "coredns", "kube-proxy"]);
    assert.equal(status.nodeGroups?.find((group) => group.name === "general")?.version, "1.31");
    assert.equal(status.progress, "cp 2/2, addons 6/6, nodes 3/3");
    const updates = await emulatorCalls("demo", "UpdateClusterVersion");
    assert.deepEqual(updates.map((call) => call.request.version), ["1.30", "1.31"], "exactly one UpdateClusterVersion per hop");
    // The managed group's nodes were replaced by 1.31 kubelets; the self-managed group was left alone.
    const nodes = await world.kubeConfig.makeApiClient(k8s.CoreV1Api).listNode();
    const kubelets = (group: string): string[] =>
      nodes.items.filter((node) => node.metadata?.labels?.["eks.amazonaws.com/nodegroup"] === group).map((node) => node.status?.nodeInfo?.kubeletVersion ?? "");
    assert.ok(kubelets("general").length >= 3);
    assert.ok(kubelets("general").every((version) => version.startsWith("v1.31")), `general kubelets: ${kubelets("general").join(", ")}`);
    assert.equal(nodes.items.filter((node) => node.spec?.unschedulable).length, 0, "no node left cordoned");
    assert.match(condition(done, "Ready")!.message, /runs 1.31: 2 control-plane hop\(s\)/);
  });

  it("a target raised mid-upgrade stops the operator with IntentChanged until it is set back, then it ends at the frozen target", async () => {
    operator();
    await world.apply("raised", { cluster: { name: "demo" }, targetVersion: "1.31", nodeGroups: { order: ["general"] } });
    const started = await world.waitFor("raised", "the first hop's update recorded", (upgrade) => Boolean(upgrade.status?.hops?.[0]?.updateId));
    assert.equal(started.status?.frozenIntent?.targetVersion, "1.31", "the API server kept status.frozenIntent");
    assert.equal(started.status?.frozenIntent?.cluster.name, "demo");
    const api = world.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const target = { group: "eksupgrade.io", version: "v1alpha1", namespace: world.namespace, plural: "clusterupgrades", name: "raised" };
    const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
    await api.patchNamespacedCustomObject({ ...target, body: { spec: { targetVersion: "1.32" } } }, mergePatch);
    const refused = await world.waitForPhase("raised", "InvalidSpec");
    assert.equal(condition(refused, "SpecValid")?.reason, "IntentChanged");
    assert.match(condition(refused, "SpecValid")!.message, /spec\.targetVersion 1\.31 -> 1\.32.*Set spec\.targetVersion to 1\.31 to continue this upgrade, or abort it/);
    await api.patchNamespacedCustomObject({ ...target, body: { spec: { targetVersion: "1.31" } } }, mergePatch);
    const done = await world.waitForPhase("raised", "Succeeded");
    assert.equal(done.status?.currentVersion, "1.31");
    assert.match(condition(done, "Ready")!.message, /runs 1\.31/);
    const updates = await emulatorCalls("demo", "UpdateClusterVersion");
    assert.deepEqual(updates.map((call) => call.request.version), ["1.30", "1.31"], "nothing was started for 1.32");
  });

  it("killed with SIGKILL during a control-plane update, a new operator finishes with still one call per hop", async () => {
    const first = operator();
    await world.apply("killed", { cluster: { name: "demo" }, targetVersion: "1.31", nodeGroups: { order: ["general"] } });
    await world.waitFor("killed", "the first hop's update recorded", (upgrade) => Boolean(upgrade.status?.hops?.[0]?.updateId));
    await first.kill();
    operator();
    const done = await world.waitForPhase("killed", "Succeeded");
    assert.equal(done.status?.currentVersion, "1.31");
    const updates = await emulatorCalls("demo", "UpdateClusterVersion");
    assert.deepEqual(updates.map((call) => call.request.version), ["1.30", "1.31"]);
  });

  it("surfaces an update EKS fails when free IPs run out mid-flight, and resumes by itself once they are freed", async () => {
    const ec2 = new EC2Client(sandboxAwsClientConfig());
    // A slower control plane leaves time to starve the subnets while the update runs.
    await emulatorClusterSettings("demo", { controlPlaneUpdateSeconds: 1500 });
    operator();
    // A short recheck interval: the test waits for the blocked preflight to notice the freed addresses.
    await world.apply("starved", { cluster: { name: "demo" }, targetVersion: "1.30", nodeGroups: { order: ["general"] }, preflight: { recheckInterval: "5s" } });
    await world.waitFor("starved", "the control-plane update running", (upgrade) => upgrade.status?.hops?.[0]?.state === "InProgress");
    const clusterSubnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "cidr-block", Values: ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"] }] }))).Subnets ?? [];
    const held: string[] = [];
    for (const subnet of clusterSubnets) {
      let free = subnet.AvailableIpAddressCount ?? 0;
      // The emulator fails the update below 5 free addresses across the cluster's subnets.
      while (free > 1) {
        const take = Math.min(free - 1, 50);
        const created = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet.SubnetId, SecondaryPrivateIpAddressCount: take - 1 || undefined, Description: "test: starve the control plane" }));
        held.push(created.NetworkInterface!.NetworkInterfaceId!);
        free -= take;
      }
    }
    const failed = await world.waitFor("starved", "the hop to fail", (upgrade) => upgrade.status?.hops?.[0]?.state === "Failed", 3 * 60_000);
    assert.equal(condition(failed, "ControlPlaneUpgraded")?.reason, "HopFailed");
    assert.match(condition(failed, "ControlPlaneUpgraded")!.message, /InsufficientFreeAddresses|IpNotAvailable/);
    assert.match(condition(failed, "ControlPlaneUpgraded")!.message, /free IP addresses/);
    // While the cause is there, the retry waits on the preflight check instead of calling EKS again.
    const blocked = await world.waitForPhase("starved", "Blocked", 60_000);
    assert.match(condition(blocked, "PreflightPassed")!.message, /IP001/);
    assert.equal((await emulatorCalls("demo", "UpdateClusterVersion")).length, 1);
    for (const id of held) await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
    const done = await world.waitForPhase("starved", "Succeeded", 5 * 60_000);
    assert.equal(done.status?.currentVersion, "1.30");
    assert.equal(done.status?.hops?.[0]?.attempts, 2);
    assert.equal((await emulatorCalls("demo", "UpdateClusterVersion")).length, 2);
  });

  it("runs as two replicas: only the Lease holder works, and the standby takes over when it is killed", async () => {
    const lease = { namespace: "eks-upgrade-system", name: "eks-upgrade-operator" };
    const coordination = world.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    const holder = async (): Promise<string | undefined> => {
      try {
        return (await coordination.readNamespacedLease(lease)).spec?.holderIdentity ?? undefined;
      } catch {
        return undefined;
      }
    };
    // A previous test's operator may have left a released Lease: wait for a live holder.
    const a = operator();
    const b = operator();
    const first = await waitUntil("a Lease holder", async () => {
      const identity = await holder();
      return identity && (identity.startsWith(`test-operator-`) ? identity : undefined);
    }, 60_000);
    const [leader, standby] = first.endsWith(`-${a.child.pid}`) ? [a, b] : [b, a];
    assert.ok(first.endsWith(`-${leader.child.pid}`), `holder ${first} is neither operator`);
    await world.apply("replicas", { cluster: { name: "demo" }, targetVersion: "1.30", nodeGroups: { order: ["general"] } });
    await world.waitFor("replicas", "the control-plane update running", (upgrade) => upgrade.status?.hops?.[0]?.state === "InProgress");
    const mentions = (path: string): number => readFileSync(path, "utf8").split("\n").filter((line) => line.includes('"clusterUpgrade":"e2e/replicas"')).length;
    assert.ok(mentions(leader.logPath) > 0, "the leader logged its reconciles");
    assert.equal(mentions(standby.logPath), 0, "the standby reconciled nothing while it was not leading");
    await leader.kill();
    const killedAt = Date.now();
    const next = await waitUntil("the standby to take the Lease", async () => {
      const identity = await holder();
      return identity?.endsWith(`-${standby.child.pid}`) ? identity : undefined;
    }, 30_000);
    // LEASE_DURATION_SECONDS is 4 for test operators; allow polling and scheduling slack.
    assert.ok(Date.now() - killedAt < 12_000, `takeover took ${Date.now() - killedAt} ms`);
    assert.ok(next);
    const done = await world.waitForPhase("replicas", "Succeeded");
    assert.equal(done.status?.currentVersion, "1.30");
    assert.equal((await emulatorCalls("demo", "UpdateClusterVersion")).length, 1);
  });

  it("applied during a blackout inside its maintenance window, waits and starts when the blackout ends", async () => {
    // The window is open all day; a blackout that ends 15 s from now closes it until then. The cron
    // arithmetic of windows is covered by the unit tests; this one proves the real requeue. (The
    // compiled operator writes its first status within a few seconds, well inside the 15.)
    const ends = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000);
    operator();
    await world.apply("windowed", {
      cluster: { name: "demo" },
      targetVersion: "1.30",
      nodeGroups: { order: ["general"] },
      maintenanceWindows: [{ schedule: "0 0 * * *", duration: "24h", timeZone: "UTC" }],
      blackouts: [{ start: new Date(Date.now() - 60_000).toISOString(), end: ends.toISOString(), reason: "quarter-end freeze" }],
    });
    const waiting = await world.waitForPhase("windowed", "WaitingForWindow", 14_000);
    assert.equal(waiting.status?.window?.reason, "Blackout");
    assert.equal(waiting.status?.window?.nextStart, ends.toISOString());
    assert.match(condition(waiting, "MaintenanceWindowOpen")!.message, /quarter-end freeze/);
    assert.equal((await emulatorCalls("demo", "UpdateClusterVersion")).length, 0);
    const started = await world.waitFor("windowed", "the control-plane update started", (upgrade) => Boolean(upgrade.status?.hops?.[0]?.updateId), 2 * 60_000);
    assert.ok(Date.parse(started.status!.hops![0].startedAt!) >= ends.getTime(), "nothing started before the blackout ended");
    await world.waitForPhase("windowed", "Succeeded");
  });

  it("pauses every upgrade while the global stop ConfigMap says stop, and resumes when it is removed", async () => {
    const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
    const stop = { metadata: { name: "eks-upgrade-operator-stop" }, data: { stop: "true" } };
    await core.createNamespacedConfigMap({ namespace: "eks-upgrade-system", body: stop });
    try {
      operator();
      await world.apply("frozen", { cluster: { name: "demo" }, targetVersion: "1.30", nodeGroups: { order: ["general"] } });
      const paused = await world.waitForPhase("frozen", "Paused", 60_000);
      assert.match(condition(paused, "Paused")!.message, /operator-wide stop switch/);
      assert.equal((await emulatorCalls("demo", "UpdateClusterVersion")).length, 0);
    } finally {
      await core.deleteNamespacedConfigMap({ namespace: "eks-upgrade-system", name: "eks-upgrade-operator-stop" });
    }
    const done = await world.waitForPhase("frozen", "Succeeded");
    assert.equal(done.status?.currentVersion, "1.30");
  });

  it("refuses a cluster that does not exist with InvalidSpec, calls nothing that changes, and tells the webhook kept in a Secret", async () => {
    const received: { phase?: string; failure?: boolean; text?: string }[] = [];
    const hook = createServer((request, response) => {
      let raw = "";
      request.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      request.on("end", () => {
        received.push(JSON.parse(raw) as { phase?: string });
        response.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    try {
      operator();
      const webhookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/notify`;
      // Read with the operator's own rights: the secret reader Role bound in this namespace.
      await world.kubeConfig.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
        namespace: world.namespace,
        body: { metadata: { name: "upgrade-webhook" }, stringData: { url: webhookUrl } },
      });
      await world.apply("missing", { cluster: { name: "no-such-cluster" }, targetVersion: "1.31", notifications: { webhookSecretRef: { name: "upgrade-webhook", key: "url" } } });
      const upgrade = await world.waitForPhase("missing", "InvalidSpec", 60_000);
      assert.equal(condition(upgrade, "SpecValid")?.reason, "ClusterNotFound");
      assert.match(condition(upgrade, "SpecValid")!.message, /no-such-cluster was not found/);
      assert.equal((await emulatorCalls("demo", "UpdateClusterVersion")).length, 0);
      const notice = await waitUntil("the webhook notification", () => Promise.resolve(received.find((body) => body.phase === "InvalidSpec")), 30_000);
      assert.equal(notice.failure, true);
      assert.match(notice.text ?? "", /e2e\/missing.*-> InvalidSpec.*no-such-cluster was not found/);
    } finally {
      await new Promise((resolve) => hook.close(resolve));
    }
  });
});
