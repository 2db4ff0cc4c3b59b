// Preflight on the sandbox's scenarios: an IP-starved cluster, a PDB trap, a healthy cluster, and
// a dry run that must leave AWS and Kubernetes exactly as they were.
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DeleteNetworkInterfaceCommand, DescribeInstancesCommand, DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeAddonCommand, DescribeClusterCommand, DescribeNodegroupCommand, EKSClient, ListAddonsCommand } from "@aws-sdk/client-eks";
import { sandboxAwsClientConfig, sandboxEnv } from "../support/global-sandbox.js";
import { startOperatorProcess, type OperatorProcess } from "../support/operator.js";
import { isDeepStrictEqual } from "node:util";
import { condition, emulatorCalls, UpgradeWorld, type EmulatorCall } from "../support/upgrades.js";
import { waitUntil } from "../support/wait.js";

/** EKS calls that change something; a dry run or a blocked upgrade must send none of them. */
const MUTATING = /^(Update|Create|Delete|Tag|Untag|Associate|Disassociate)/;

/**
 * Calls that change the cluster, leaving out the claim: an upgrade tags the cluster it will change
 * (eksupgrade.io/claimed-by) before preflight, so that a second upgrade waits for it; the tag marks
 * ownership and changes nothing about the cluster.
 */
async function changesTo(cluster: string): Promise<string[]> {
  const claimKey = "eksupgrade.io/claimed-by";
  const isClaim = (call: EmulatorCall): boolean =>
    (call.operation === "TagResource" && isDeepStrictEqual(Object.keys(call.request.tags ?? {}), [claimKey])) ||
    (call.operation === "UntagResource" && call.request.tagKeys === claimKey);
  return (await emulatorCalls(cluster)).filter((call) => MUTATING.test(call.operation) && !isClaim(call)).map((call) => call.operation);
}

describe("preflight checks end to end (sandbox)", function () {
  this.timeout(10 * 60_000);
  let world: UpgradeWorld;
  let operator: OperatorProcess | undefined;

  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
  });

  it("blocks an IP-starved cluster naming its subnets, and proceeds by itself once addresses are freed", async () => {
    world = await UpgradeWorld.prepare("ip-starved");
    const ec2 = new EC2Client(sandboxAwsClientConfig());
    const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "cidr-block", Values: ["10.0.0.0/28", "10.0.0.16/28"] }] }))).Subnets ?? [];
    assert.equal(subnets.length, 2);
    operator = startOperatorProcess();
    // A short recheck interval: the test waits for the blocked preflight to notice the freed addresses.
    await world.apply("starved", { cluster: { name: "starved" }, targetVersion: "1.31", preflight: { recheckInterval: "5s" } });
    const blocked = await world.waitForPhase("starved", "Blocked", 2 * 60_000);
    const message = condition(blocked, "PreflightPassed")!.message;
    assert.match(message, /IP001/);
    for (const subnet of subnets) assert.ok(message.includes(subnet.SubnetId!), `${subnet.SubnetId} not named in: ${message}`);
    assert.deepEqual(await changesTo("starved"), []);
    // Someone frees the addresses (the scenario holds them with network interfaces).
    const holders = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "subnet-id", Values: subnets.map((subnet) => subnet.SubnetId!) }] }));
    for (const held of holders.NetworkInterfaces ?? []) await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: held.NetworkInterfaceId! }));
    const done = await world.waitForPhase("starved", "Succeeded", 5 * 60_000);
    assert.equal(done.status?.currentVersion, "1.31");
  });

  it("blocks a PDB trap naming the budgets, the workloads and the pods", async () => {
    world = await UpgradeWorld.prepare("pdb-trap");
    operator = startOperatorProcess();
    await world.apply("trap", { cluster: { name: "trap" }, targetVersion: "1.31" });
    const blocked = await world.waitForPhase("trap", "Blocked", 2 * 60_000);
    const findings = blocked.status?.preflight?.findings ?? [];
    const byCode = (code: string): typeof findings => findings.filter((finding) => finding.code === code);
    assert.equal(byCode("PDB002")[0]?.resource, "PodDisruptionBudget/payments/payments");
    assert.match(byCode("PDB002")[0].message, /Deployment\/payments\/payments/);
    assert.match(byCode("PDB002")[0].message, /payments\/payments-[a-z0-9-]+ on /);
    assert.equal(byCode("PDB003")[0]?.resource, "PodDisruptionBudget/payments/ledger,PodDisruptionBudget/payments/ledger-tier");
    assert.match(byCode("POD002")[0].message, /jobs\/batch-/);
    assert.match(condition(blocked, "PreflightPassed")!.message, /PDB002.*PDB003|PDB003.*PDB002/);
    assert.deepEqual(await changesTo("trap"), []);
    // The operator sends its Events after it writes status, so the Event can follow the phase by a moment.
    const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await waitUntil("a PreflightFinding Event for PDB002", async () => {
      const events = await core.listNamespacedEvent({ namespace: "e2e", fieldSelector: "involvedObject.name=trap,reason=PreflightFinding" });
      return events.items.some((event) => event.message?.startsWith("PDB002"));
    }, 30_000);
  });

  it("a dry run on a healthy cluster plans every hop and leaves AWS and Kubernetes exactly as they were", async () => {
    world = await UpgradeWorld.prepare("default");
    const before = await observeWorld(world);
    operator = startOperatorProcess();
    await world.apply("dry", { cluster: { name: "demo" }, targetVersion: "1.31", dryRun: true });
    const planned = await world.waitForPhase("dry", "Planned", 2 * 60_000);
    assert.equal(condition(planned, "PreflightPassed")?.status, "True");
    const plan = planned.status!.plan!;
    assert.deepEqual(plan.hops.map((hop) => [hop.from, hop.to]), [["1.29", "1.30"], ["1.30", "1.31"]]);
    assert.deepEqual(plan.hops[1].addons.map((addon) => addon.name), ["vpc-cni", "coredns", "kube-proxy"]);
    assert.ok(plan.hops.every((hop) => hop.addons.every((addon) => addon.from && addon.to)));
    const general = plan.hops[0].nodeGroups.find((group) => group.name === "general");
    assert.equal(general?.nodeCount, 3);
    assert.equal(general?.batches.flat().length, 3);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    assert.deepEqual(await observeWorld(world), before);
    const mutating = (await emulatorCalls("demo")).filter((call) => MUTATING.test(call.operation));
    assert.deepEqual(mutating, []);
  });

  it("plans Auto Mode, Fargate, hybrid and Karpenter nodes as left alone, checks their kubelets, and reads NodePools on a cluster without Karpenter", async () => {
    world = await UpgradeWorld.prepare("default");
    const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
    // Nodes as EKS labels them; none is an instance of the scenario's groups, so the node mirror leaves them be.
    const extra: [string, Record<string, string>, string][] = [
      ["auto-node-1", { "eks.amazonaws.com/compute-type": "auto", "karpenter.sh/nodepool": "general-purpose" }, "v1.29.8"],
      ["fargate-ip-10-0-9-9.ec2.internal", { "eks.amazonaws.com/compute-type": "fargate" }, "v1.27.16"],
      ["mi-0123456789abcdef0", { "eks.amazonaws.com/compute-type": "hybrid" }, "v1.29.8"],
      ["karpenter-node-1", { "karpenter.sh/nodepool": "default" }, "v1.29.8"],
    ];
    for (const [name, labels, kubelet] of extra) {
      await core.createNode({ body: { metadata: { name, labels } } });
      await core.patchNodeStatus({ name, body: { status: { nodeInfo: { kubeletVersion: kubelet } } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
    }
    await core.createNamespacedPod({ namespace: "e2e", body: { metadata: { name: "report-job" }, spec: { nodeName: "fargate-ip-10-0-9-9.ec2.internal", containers: [{ name: "main", image: "busybox" }] } } });
    try {
      operator = startOperatorProcess();
      await world.apply("kinds", { cluster: { name: "demo" }, targetVersion: "1.31", dryRun: true });
      const planned = await world.waitForPhase("kinds", "Planned", 2 * 60_000);
      const others = planned.status!.plan!.otherNodes ?? [];
      assert.deepEqual(others.map((entry) => [entry.kind, entry.nodePool, entry.nodes]), [
        ["AutoMode", "general-purpose", ["auto-node-1"]],
        ["Fargate", undefined, ["fargate-ip-10-0-9-9.ec2.internal"]],
        ["Hybrid", undefined, ["mi-0123456789abcdef0"]],
        ["Karpenter", "default", ["karpenter-node-1"]],
      ]);
      assert.deepEqual(others.find((entry) => entry.kind === "Fargate")?.restart, ["Pod e2e/report-job"]);
      const findings = planned.status?.preflight?.findings ?? [];
      const skew = findings.filter((finding) => finding.code === "VER001");
      assert.deepEqual(skew.map((finding) => finding.resource), ["Nodes/Fargate"]);
      assert.match(skew[0].remediation, /rollout restart/);
      // No NodePool resource in this API server (404), but a Karpenter node: its version is unknown, and said so.
      const karpenter = findings.filter((finding) => finding.code.startsWith("KAR"));
      assert.deepEqual(karpenter.map((finding) => [finding.code, finding.severity]), [["KAR002", "Warning"]]);
      assert.match(karpenter[0].message, /nodes labelled karpenter.sh\/nodepool/);
    } finally {
      await core.deleteNamespacedPod({ namespace: "e2e", name: "report-job", gracePeriodSeconds: 0 });
      for (const [name] of extra) await core.deleteNode({ name });
    }
  });
});

/** What an upgrade could change, in a form that compares equal when nothing changed. */
async function observeWorld(world: UpgradeWorld): Promise<unknown> {
  const config = sandboxAwsClientConfig();
  const ec2 = new EC2Client(config);
  const autoscaling = new AutoScalingClient(config);
  const core = world.kubeConfig.makeApiClient(k8s.CoreV1Api);
  const policy = world.kubeConfig.makeApiClient(k8s.PolicyV1Api);
  const eks = new EKSClient({ region: config.region, credentials: config.credentials, endpoint: sandboxEnv().eksEndpointUrl });
  const cluster = (await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster;
  const nodegroup = (await eks.send(new DescribeNodegroupCommand({ clusterName: "demo", nodegroupName: "general" }))).nodegroup;
  const addons = await Promise.all(((await eks.send(new ListAddonsCommand({ clusterName: "demo" }))).addons ?? []).map(async (addonName) => (await eks.send(new DescribeAddonCommand({ clusterName: "demo", addonName }))).addon?.addonVersion));
  const groups = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? [];
  const instances = (await ec2.send(new DescribeInstancesCommand({}))).Reservations?.flatMap((reservation) => reservation.Instances ?? []) ?? [];
  const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? [];
  const nodes = (await core.listNode()).items;
  const pods = (await core.listPodForAllNamespaces()).items;
  const pdbs = (await policy.listPodDisruptionBudgetForAllNamespaces()).items;
  return {
    cluster: [cluster?.version, cluster?.status],
    nodegroup: [nodegroup?.version, nodegroup?.releaseVersion, nodegroup?.status, JSON.stringify(nodegroup?.scalingConfig)],
    addons: addons.sort(),
    groups: groups.map((group) => [group.AutoScalingGroupName, group.MinSize, group.MaxSize, group.DesiredCapacity, (group.Instances ?? []).map((instance) => instance.InstanceId).sort()]).sort(),
    instances: instances.filter((instance) => instance.State?.Name === "running").map((instance) => instance.InstanceId).sort(),
    subnets: subnets.map((subnet) => [subnet.SubnetId, subnet.AvailableIpAddressCount]).sort(),
    nodes: nodes.map((node) => [node.metadata?.name, Boolean(node.spec?.unschedulable), node.status?.nodeInfo?.kubeletVersion, JSON.stringify(node.metadata?.labels)]).sort(),
    pods: pods.map((pod) => [pod.metadata?.namespace, pod.metadata?.name, pod.spec?.nodeName]).sort(),
    pdbs: pdbs.map((pdb) => [pdb.metadata?.namespace, pdb.metadata?.name, JSON.stringify(pdb.spec)]).sort(),
  };
}
