import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import {
  CreateAddonCommand,
  CreateClusterCommand,
  CreateNodegroupCommand,
  DescribeAddonCommand,
  DescribeAddonVersionsCommand,
  DescribeClusterCommand,
  DescribeInsightCommand,
  DescribeUpdateCommand,
  EKSClient,
  InvalidParameterException,
  InvalidRequestException,
  ListInsightsCommand,
  ListTagsForResourceCommand,
  ListUpdatesCommand,
  BadRequestException,
  NotFoundException,
  TagResourceCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateAddonCommand,
  UpdateClusterVersionCommand,
  type Update,
} from "@aws-sdk/client-eks";
import { createClock } from "../../../sandbox/eks-emulator/clock.js";
import { AwsEks } from "../../../src/cloud/aws/eks.js";
import type { EmulatorCloud } from "../../../sandbox/eks-emulator/context.js";
import { EksEmulator } from "../../../sandbox/eks-emulator/emulator.js";
import { silentLogger } from "../../../sandbox/eks-emulator/log.js";
import type { ObservedSubnet } from "../../../sandbox/eks-emulator/network-check.js";
import { startServer } from "../../../sandbox/eks-emulator/server.js";
import { EmulatorState } from "../../../sandbox/eks-emulator/state.js";

/** moto as far as the EKS operations see it: subnets and groups the test can starve or delete. */
class FakeCloud implements EmulatorCloud {
  readonly subnets = new Map<string, ObservedSubnet>([
    ["subnet-a", { subnetId: "subnet-a", availabilityZone: "us-east-1a", availableIpAddressCount: 200 }],
    ["subnet-b", { subnetId: "subnet-b", availabilityZone: "us-east-1b", availableIpAddressCount: 200 }],
    ["subnet-solo", { subnetId: "subnet-solo", availabilityZone: "us-east-1a", availableIpAddressCount: 200 }],
  ]);
  readonly groups = new Set(["sg-1"]);
  readonly calls: string[] = [];

  observeSubnets(ids: readonly string[]): Promise<Map<string, ObservedSubnet>> {
    return Promise.resolve(new Map(ids.filter((id) => this.subnets.has(id)).map((id) => [id, { ...this.subnets.get(id)! }])));
  }
  subnetVpcs(ids: readonly string[]): Promise<Map<string, string>> {
    return Promise.resolve(new Map(ids.map((id) => [id, "vpc-1"])));
  }
  existingSecurityGroups(ids: readonly string[]): Promise<Set<string>> {
    return Promise.resolve(new Set(ids.filter((id) => this.groups.has(id))));
  }
  createSecurityGroup(): Promise<string> {
    this.calls.push("createSecurityGroup");
    return Promise.resolve("sg-cluster");
  }
  ensureAmi(release: { version: string; date: string }): Promise<string> {
    return Promise.resolve(`ami-${release.version}-${release.date}`);
  }
  createLaunchTemplate(): Promise<{ id: string; version: string }> {
    this.calls.push("createLaunchTemplate");
    return Promise.resolve({ id: "lt-1", version: "1" });
  }
  addLaunchTemplateVersion(): Promise<string> {
    return Promise.resolve("2");
  }
  async deleteLaunchTemplate(): Promise<void> {}
  createGroup(input: { name: string }): Promise<void> {
    this.calls.push(`createGroup ${input.name}`);
    return Promise.resolve();
  }
  async updateGroup(): Promise<void> {}
  async deleteGroup(): Promise<void> {}
}

describe("EKS emulator API through @aws-sdk/client-eks (moto faked)", function () {
  this.timeout(20_000);
  let server: Server;
  let cloud: FakeCloud;
  let emulator: EksEmulator;
  let eks: EKSClient;
  let endpoint: string;

  beforeEach(async () => {
    cloud = new FakeCloud();
    // 1/10000: the 480 EKS seconds of an update last 48 ms.
    emulator = new EksEmulator({ state: new EmulatorState(), cloud: cloud, clock: createClock(0.0001), region: "us-east-1", log: silentLogger });
    server = await startServer(emulator, 0, silentLogger);
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    eks = new EKSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    await eks.send(
      new CreateClusterCommand({
        name: "demo",
        version: "1.29",
        roleArn: "arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig: { subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-1"] },
      }),
    );
  });

  afterEach(async () => {
    await emulator.reset();
    await new Promise((resolve) => server.close(resolve));
  });

  async function waitForUpdate(updateId: string, extra: { nodegroupName?: string; addonName?: string } = {}): Promise<Update> {
    const seen: string[] = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const update = (await eks.send(new DescribeUpdateCommand({ name: "demo", updateId, ...extra }))).update!;
      seen.push(update.status!);
      if (update.status !== "InProgress") return update;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`update ${updateId} never finished: ${seen.join(",")}`);
  }

  it("answers DescribeClusterVersions with the versions it runs, through the operator's adapter", async () => {
    const versions = await new AwsEks(eks).listClusterVersions();
    assert.equal(versions[0], "1.34", "newest first");
    assert.ok(versions.includes("1.25") && versions.includes("1.31"));
    assert.ok(!versions.includes("1.35"));
  });

  it("refuses a cluster whose subnets are all in one zone", async () => {
    await assert.rejects(
      eks.send(
        new CreateClusterCommand({
          name: "one-zone",
          roleArn: "arn:aws:iam::123456789012:role/eks",
          resourcesVpcConfig: { subnetIds: ["subnet-a", "subnet-solo"] },
        }),
      ),
      (error: unknown) => error instanceof InvalidParameterException && /two different AZs/.test(error.message),
    );
  });

  it("runs a version update InProgress then Successful, and only then bumps the version", async () => {
    const started = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" }))).update!;
    assert.equal(started.status, "InProgress");
    assert.equal(started.type, "VersionUpdate");
    assert.ok(started.createdAt instanceof Date);
    assert.deepEqual(started.params?.find((param) => param.type === "Version")?.value, "1.30");
    assert.equal((await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster?.version, "1.29");
    const finished = await waitForUpdate(started.id!);
    assert.equal(finished.status, "Successful");
    assert.deepEqual(finished.errors, []);
    const cluster = (await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster!;
    assert.equal(cluster.version, "1.30");
    assert.equal(cluster.status, "ACTIVE");
    assert.deepEqual((await eks.send(new ListUpdatesCommand({ name: "demo" }))).updateIds, [started.id]);
  });

  it("rejects a request that skips a minor with InvalidParameterException", async () => {
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.31" })),
      (error: unknown) => error instanceof InvalidParameterException && /1\.29 to 1\.31/.test(error.message) && error.$metadata.httpStatusCode === 400,
    );
  });

  async function putJson(path: string, body: unknown): Promise<Response> {
    return fetch(`${endpoint}${path}`, { method: "PUT", body: JSON.stringify(body) });
  }

  it("rolls a control plane back one minor with an update of type VersionRollback, once per upgrade", async () => {
    const up = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" }))).update!;
    await waitForUpdate(up.id!);
    const back = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.29", clientRequestToken: "back-1.29" }))).update!;
    assert.equal(back.type, "VersionRollback");
    assert.equal(back.params?.find((param) => param.type === "Version")?.value, "1.29");
    const again = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.29", clientRequestToken: "back-1.29" }))).update!;
    assert.equal(again.id, back.id, "the same token answers with the same rollback");
    assert.equal((await waitForUpdate(back.id!)).status, "Successful");
    assert.equal((await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster?.version, "1.29");
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.28" })),
      (error: unknown) => error instanceof InvalidRequestException && /not upgraded from 1\.28 to 1\.29/.test(error.message),
    );
  });

  it("refuses a rollback more than one minor back, or after 7 days of emulator time", async () => {
    for (const version of ["1.30", "1.31"]) {
      const up = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version }))).update!;
      await waitForUpdate(up.id!);
    }
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.29" })),
      (error: unknown) => error instanceof InvalidParameterException && /allowed: 1\.30/.test(error.message),
    );
    const aged = await putJson("/sandbox/clusters/demo/settings", { lastUpgradeAgeSeconds: 7 * 24 * 3600 + 60 });
    assert.equal(aged.status, 200);
    const lastUpgrade = ((await aged.json()) as { lastUpgrade: { from: string; to: string; ageSeconds: number } }).lastUpgrade;
    assert.deepEqual([lastUpgrade.from, lastUpgrade.to], ["1.30", "1.31"]);
    // The answer reads the age after the write, on a clock that runs a hundred times faster than the
    // wall: each real second between the two is a hundred EKS seconds more.
    assert.ok(lastUpgrade.ageSeconds >= 7 * 24 * 3600 + 60 && lastUpgrade.ageSeconds < 7 * 24 * 3600 + 660, `age ${lastUpgrade.ageSeconds} s`);
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" })),
      (error: unknown) => error instanceof InvalidRequestException && /within 7 days/.test(error.message),
    );
    assert.equal((await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster?.version, "1.31");
  });

  it("refuses a rollback on ROLLBACK_READINESS findings in ERROR unless forced; they do not block upgrades", async () => {
    const insights = await putJson("/sandbox/clusters/demo/insights", {
      insights: [{ id: "rb-1", name: "Cluster health for rollback", category: "ROLLBACK_READINESS", kubernetesVersion: "1.29", status: "ERROR" }],
    });
    assert.equal(insights.status, 200);
    const up = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" }))).update!;
    await waitForUpdate(up.id!);
    await eks.send(
      new CreateNodegroupCommand({
        clusterName: "demo",
        nodegroupName: "new",
        version: "1.30",
        subnets: ["subnet-a", "subnet-b"],
        nodeRole: "arn:aws:iam::123456789012:role/node",
        scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 },
      }),
    );
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.29" })),
      (error: unknown) =>
        error instanceof InvalidRequestException &&
        /ROLLBACK_READINESS/.test(error.message) &&
        /Cluster health for rollback/.test(error.message) &&
        /node group new runs 1\.30, newer than 1\.29/.test(error.message),
    );
    const forced = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.29", force: true }))).update!;
    assert.equal(forced.type, "VersionRollback");
    assert.equal((await waitForUpdate(forced.id!)).status, "Successful");
  });

  it("returns the same update for the same clientRequestToken, even after it finished", async () => {
    const first = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "hop-1.30" }))).update!;
    const again = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "hop-1.30" }))).update!;
    assert.equal(again.id, first.id);
    await waitForUpdate(first.id!);
    const late = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "hop-1.30" }))).update!;
    assert.equal(late.id, first.id);
    assert.equal(late.status, "Successful");
    assert.equal((await eks.send(new ListUpdatesCommand({ name: "demo" }))).updateIds?.length, 1);
  });

  it("answers ResourceInUseException while another update runs", async () => {
    await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "a" }));
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "b" })),
      (error: unknown) => error instanceof ResourceInUseException && error.$metadata.httpStatusCode === 409,
    );
  });

  it("fails the update with InsufficientFreeAddresses when the subnets are starved, keeping the version", async () => {
    cloud.subnets.get("subnet-a")!.availableIpAddressCount = 2;
    cloud.subnets.get("subnet-b")!.availableIpAddressCount = 2;
    const started = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" }))).update!;
    const finished = await waitForUpdate(started.id!);
    assert.equal(finished.status, "Failed");
    assert.equal(finished.errors?.[0]?.errorCode, "InsufficientFreeAddresses");
    assert.deepEqual(finished.errors?.[0]?.resourceIds, ["subnet-a", "subnet-b"]);
    assert.equal((await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster?.version, "1.29");
  });

  it("fails the update with SubnetNotFound and SecurityGroupNotFound after they were deleted", async () => {
    cloud.subnets.delete("subnet-b");
    cloud.groups.delete("sg-1");
    const started = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" }))).update!;
    const finished = await waitForUpdate(started.id!);
    assert.deepEqual(finished.errors?.map((error) => error.errorCode), ["SubnetNotFound", "SecurityGroupNotFound"]);
  });

  it("is blocked by an ERROR insight for the target version unless forced", async () => {
    const response = await fetch(`${endpoint}/sandbox/clusters/demo/insights`, {
      method: "PUT",
      body: JSON.stringify({
        insights: [
          { id: "apis-1-30", name: "Deprecated APIs removed in v1.30", kubernetesVersion: "1.30", status: "ERROR", reason: "flowcontrol v1beta2 in use" },
          { id: "skew-1-31", name: "Kubelet skew", kubernetesVersion: "1.31", status: "PASSING" },
        ],
      }),
    });
    assert.equal(response.status, 200);
    const listed = await eks.send(new ListInsightsCommand({ clusterName: "demo", filter: { statuses: ["ERROR"] } }));
    assert.deepEqual(listed.insights?.map((insight) => [insight.id, insight.insightStatus?.status]), [["apis-1-30", "ERROR"]]);
    const described = await eks.send(new DescribeInsightCommand({ clusterName: "demo", id: "apis-1-30" }));
    assert.equal(described.insight?.insightStatus?.reason, "flowcontrol v1beta2 in use");
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" })),
      (error: unknown) => error instanceof InvalidRequestException && /Deprecated APIs removed in v1\.30/.test(error.message),
    );
    const forced = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", force: true }))).update!;
    assert.equal(forced.status, "InProgress");
  });

  it("refuses a control-plane hop while a managed node group lags behind it", async () => {
    await eks.send(
      new CreateNodegroupCommand({
        clusterName: "demo",
        nodegroupName: "old",
        version: "1.28",
        subnets: ["subnet-a", "subnet-b"],
        nodeRole: "arn:aws:iam::123456789012:role/node",
        scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 },
      }),
    );
    assert.ok(cloud.calls.some((call) => call.startsWith("createGroup eks-old-")));
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" })),
      (error: unknown) => error instanceof InvalidRequestException && /old/.test(error.message),
    );
  });

  it("updates an add-on only to a version compatible with the cluster, and reports it by add-on name", async () => {
    await eks.send(new CreateAddonCommand({ clusterName: "demo", addonName: "kube-proxy", addonVersion: "v1.29.0-eksbuild.1" }));
    // 20000 EKS seconds at 1/10000: the update stays UPDATING for two seconds, long enough to see.
    await fetch(`${endpoint}/sandbox/clusters/demo/settings`, { method: "PUT", body: JSON.stringify({ addonUpdateSeconds: 20_000 }) });
    await assert.rejects(
      eks.send(new UpdateAddonCommand({ clusterName: "demo", addonName: "kube-proxy", addonVersion: "v1.30.3-eksbuild.2" })),
      (error: unknown) => error instanceof InvalidParameterException && /not supported on Kubernetes 1\.29/.test(error.message),
    );
    const started = (await eks.send(new UpdateAddonCommand({ clusterName: "demo", addonName: "kube-proxy", addonVersion: "v1.29.3-eksbuild.2" }))).update!;
    assert.equal(started.type, "AddonUpdate");
    assert.equal((await eks.send(new DescribeAddonCommand({ clusterName: "demo", addonName: "kube-proxy" }))).addon?.status, "UPDATING");
    const finished = await waitForUpdate(started.id!, { addonName: "kube-proxy" });
    assert.equal(finished.status, "Successful");
    const addon = (await eks.send(new DescribeAddonCommand({ clusterName: "demo", addonName: "kube-proxy" }))).addon!;
    assert.equal(addon.addonVersion, "v1.29.3-eksbuild.2");
    assert.equal(addon.status, "ACTIVE");
    await assert.rejects(eks.send(new DescribeUpdateCommand({ name: "demo", updateId: started.id! })), ResourceNotFoundException);
  });

  it("lists add-on versions compatible with a Kubernetes version, with its default marked", async () => {
    const answer = await eks.send(new DescribeAddonVersionsCommand({ addonName: "vpc-cni", kubernetesVersion: "1.31" }));
    const versions = answer.addons?.[0]?.addonVersions ?? [];
    assert.deepEqual(versions.map((version) => version.addonVersion), ["v1.20.0-eksbuild.1", "v1.19.2-eksbuild.1", "v1.18.3-eksbuild.1"]);
    assert.deepEqual(versions.map((version) => version.compatibilities?.[0]?.defaultVersion), [false, true, false]);
    const old = await eks.send(new DescribeAddonVersionsCommand({ addonName: "vpc-cni", kubernetesVersion: "1.26" }));
    assert.deepEqual(old.addons?.[0]?.addonVersions?.map((version) => version.addonVersion), ["v1.18.3-eksbuild.1", "v1.16.0-eksbuild.1"]);
  });

  it("with creation times set, keeps a new cluster CREATING and refuses node groups and add-ons on it until it is ACTIVE", async () => {
    // 1/10000 of 15,000 EKS seconds: 1.5 s, long enough that both refusals below land while it is
    // CREATING even on a loaded machine.
    emulator.configureSandbox({ clusterSeconds: 15_000, nodegroupSeconds: 240, addonSeconds: 60 });
    const created = await eks.send(
      new CreateClusterCommand({ name: "slow", version: "1.31", roleArn: "arn:aws:iam::123456789012:role/eks", resourcesVpcConfig: { subnetIds: ["subnet-a", "subnet-b"] } }),
    );
    assert.equal(created.cluster?.status, "CREATING");
    await assert.rejects(
      eks.send(new CreateNodegroupCommand({ clusterName: "slow", nodegroupName: "workers", nodeRole: "arn:aws:iam::123456789012:role/nodes", subnets: ["subnet-a"] })),
      (error: unknown) => error instanceof InvalidRequestException && /not in ACTIVE status/.test(error.message),
    );
    await assert.rejects(eks.send(new CreateAddonCommand({ clusterName: "slow", addonName: "coredns" })), InvalidRequestException);
    const deadline = Date.now() + 30_000;
    let status: string | undefined = created.cluster?.status;
    while (status !== "ACTIVE" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await eks.send(new DescribeClusterCommand({ name: "slow" }))).cluster?.status;
    }
    assert.equal(status, "ACTIVE");
    const addon = await eks.send(new CreateAddonCommand({ clusterName: "slow", addonName: "coredns" }));
    assert.equal(addon.addon?.status, "CREATING");
    await emulator.reset();
    assert.deepEqual(emulator.configureSandbox({}), { creation: { clusterSeconds: 0, nodegroupSeconds: 0, addonSeconds: 0 } }, "a reset forgets the creation times");
  });

  it("maps unknown resources to ResourceNotFoundException", async () => {
    await assert.rejects(eks.send(new DescribeClusterCommand({ name: "missing" })), ResourceNotFoundException);
    await assert.rejects(eks.send(new DescribeUpdateCommand({ name: "demo", updateId: "nope" })), ResourceNotFoundException);
  });

  it("counts the calls it received, per operation and with the requested version", async () => {
    await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "t" }));
    await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30", clientRequestToken: "t" }));
    await eks.send(new DescribeClusterCommand({ name: "demo" }));
    const report = (await (await fetch(`${endpoint}/sandbox/calls?operation=UpdateClusterVersion`)).json()) as {
      counts: Record<string, number>;
      calls: Array<{ request: { version?: string }; status: number }>;
    };
    assert.deepEqual(report.counts, { UpdateClusterVersion: 2 });
    assert.deepEqual(report.calls.map((call) => [call.request.version, call.status]), [["1.30", 200], ["1.30", 200]]);
    await fetch(`${endpoint}/sandbox/reset`, { method: "POST" });
    const empty = (await (await fetch(`${endpoint}/sandbox/calls`)).json()) as { total: number };
    assert.equal(empty.total, 0);
    await assert.rejects(eks.send(new DescribeClusterCommand({ name: "demo" })), ResourceNotFoundException);
  });

  it("tags a cluster by its ARN (TagResource, UntagResource, ListTagsForResource) as the operator's claims do", async () => {
    const adapter = new AwsEks(eks);
    const cluster = await adapter.describeCluster("demo");
    assert.match(cluster.arn ?? "", /^arn:aws:eks:us-east-1:\d{12}:cluster\/demo$/);
    const claim = "uid=8f1c2d0e-5b7a-4c1e-9d2f-0a1b2c3d4e5f operator=mgmt-1 since=2026-11-22T12:00:00Z upgrade=default/first";
    await adapter.tagCluster(cluster.arn!, { "eksupgrade.io/claimed-by": claim });
    assert.equal((await adapter.describeCluster("demo")).tags?.["eksupgrade.io/claimed-by"], claim);
    assert.deepEqual((await eks.send(new ListTagsForResourceCommand({ resourceArn: cluster.arn }))).tags, { "eksupgrade.io/claimed-by": claim });
    await adapter.untagCluster(cluster.arn!, ["eksupgrade.io/claimed-by"]);
    assert.equal((await adapter.describeCluster("demo")).tags?.["eksupgrade.io/claimed-by"], undefined);
    // EKS's own rules: no semicolons in values, and an unknown ARN is NotFoundException.
    await assert.rejects(eks.send(new TagResourceCommand({ resourceArn: cluster.arn, tags: { k: "a;b" } })), BadRequestException);
    await assert.rejects(eks.send(new TagResourceCommand({ resourceArn: cluster.arn!.replace("demo", "missing"), tags: { k: "v" } })), NotFoundException);
    const report = (await (await fetch(`${endpoint}/sandbox/calls?clusterName=demo&operation=TagResource`)).json()) as { total: number };
    assert.equal(report.total, 2, "tag calls are logged under the cluster named in the ARN");
  });
});
