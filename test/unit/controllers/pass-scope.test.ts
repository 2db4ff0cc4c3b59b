// The per-pass scope: reads kept for the pass, and forgotten by the writes that change them.
import assert from "node:assert/strict";
import { PassScope } from "../../../src/controllers/clusterupgrade/scope.js";
import type { CloudPorts } from "../../../src/cloud/ports.js";
import type { WorkloadReader } from "../../../src/kube/workloads.js";
import { isNotFound } from "../../../src/util/errors.js";
import { FakeAutoScaling } from "../../support/fakes/autoscaling.js";
import { healthyWorld, type FakeEks } from "../../support/fakes/cloud.js";
import { FakeCluster } from "../../support/fakes/cluster.js";

interface World {
  scope: PassScope;
  ports: CloudPorts;
  eks: FakeEks;
  autoscaling: FakeAutoScaling;
  cluster: FakeCluster;
  opened: { regions: string[]; readers: number; greenReaders: number };
  /** The scope of the next pass, over the same fakes. */
  nextPass: () => PassScope;
}

function world(): World {
  const base = healthyWorld("1.29");
  const autoscaling = new FakeAutoScaling();
  autoscaling.addGroup("legacy", { min: 1, max: 4, desired: 2 }, { id: "lt-legacy", version: "1" });
  const cluster = new FakeCluster(base.snapshot);
  const opened = { regions: [] as string[], readers: 0, greenReaders: 0 };
  const newScope = (): PassScope => new PassScope(
    (region) => {
      opened.regions.push(region);
      return { ...base.ports, autoscaling };
    },
    () => {
      opened.readers++;
      return Promise.resolve(cluster);
    },
    () => {
      opened.greenReaders++;
      return Promise.resolve<WorkloadReader>(cluster);
    },
  );
  const scope = newScope();
  return { scope, ports: scope.cloudIn("us-east-1"), eks: base.eks, autoscaling, cluster, opened, nextPass: newScope };
}

describe("PassScope", () => {
  it("describes a cluster once per pass, and again after an update it starts or sees end", async () => {
    const { ports, eks } = world();
    await ports.eks.describeCluster("prod");
    await ports.eks.describeCluster("prod");
    assert.equal(eks.count("describeCluster"), 1);
    const update = await ports.eks.startClusterVersionUpdate({ clusterName: "prod", clientRequestToken: "t-1", version: "1.30", force: false });
    assert.equal((await ports.eks.describeCluster("prod")).status, "UPDATING", "read again after the write");
    assert.equal(eks.count("describeCluster"), 2);
    // The fake ends an update on its second DescribeUpdate, changing the cluster behind our back.
    await ports.eks.describeUpdate("prod", update.id);
    const done = await ports.eks.describeUpdate("prod", update.id);
    assert.equal(done.status, "Successful");
    const after = await ports.eks.describeCluster("prod");
    assert.deepEqual([after.version, after.status], ["1.30", "ACTIVE"]);
  });

  it("keeps node groups and their list until a node group is updated, created or deleted", async () => {
    const { ports, eks } = world();
    await Promise.all([ports.eks.listNodegroups("prod"), ports.eks.listNodegroups("prod")]);
    await ports.eks.describeNodegroup("prod", "workers");
    await ports.eks.describeNodegroup("prod", "workers");
    assert.deepEqual([eks.count("listNodegroups"), eks.count("describeNodegroup")], [1, 1]);
    await ports.eks.startNodegroupVersionUpdate({ clusterName: "prod", nodegroupName: "workers", clientRequestToken: "t-2", version: "1.29", force: false });
    await ports.eks.describeNodegroup("prod", "workers");
    assert.equal(eks.count("describeNodegroup"), 2);
    await ports.eks.deleteNodegroup("prod", "workers");
    assert.equal((await ports.eks.describeNodegroup("prod", "workers")).status, "DELETING");
    await ports.eks.listNodegroups("prod");
    assert.deepEqual([eks.count("listNodegroups"), eks.count("describeNodegroup")], [2, 3]);
  });

  it("a cluster tag written in the pass reads back at once (the claim's read-back)", async () => {
    const { ports } = world();
    const before = await ports.eks.describeCluster("prod");
    await ports.eks.tagCluster(before.arn!, { "eksupgrade.io/claim": "mine" });
    assert.equal((await ports.eks.describeCluster("prod")).tags?.["eksupgrade.io/claim"], "mine");
    await ports.eks.untagCluster(before.arn!, ["eksupgrade.io/claim"]);
    assert.equal((await ports.eks.describeCluster("prod")).tags?.["eksupgrade.io/claim"], undefined);
  });

  it("does not keep a failed read: a caller that handles it may ask again", async () => {
    const { ports, eks } = world();
    await assert.rejects(ports.eks.describeCluster("green"), (error) => isNotFound(error));
    eks.clusters.set("green", { name: "green", version: "1.31", status: "ACTIVE", subnetIds: [], securityGroupIds: [] });
    assert.equal((await ports.eks.describeCluster("green")).version, "1.31");
  });

  it("describes an Auto Scaling group once, and again after each change to it", async () => {
    const { ports, autoscaling } = world();
    await ports.autoscaling.describeGroup("legacy");
    await ports.autoscaling.describeGroup("legacy");
    assert.equal(autoscaling.count("describeGroup"), 1);
    await ports.autoscaling.setSize("legacy", { min: 1, max: 4, desired: 3 });
    const grown = await ports.autoscaling.describeGroup("legacy");
    assert.deepEqual([grown.size.desired, grown.instances.length], [3, 3], "the size just set, and the instance it launched");
    await ports.autoscaling.terminateInstance(grown.instances[0].id, true);
    assert.equal((await ports.autoscaling.describeGroup("legacy")).instances.length, 2, "the group of a terminated instance is read again");
    await ports.autoscaling.tagGroup("legacy", { "eksupgrade.io/rolling": "x" });
    assert.equal((await ports.autoscaling.describeGroup("legacy")).tags["eksupgrade.io/rolling"], "x");
    assert.equal(autoscaling.count("describeGroup"), 4);
  });

  it("opens the cluster's reader once, lists nodes once, and lists them again after a cordon", async () => {
    const { scope, cluster, opened } = world();
    const first = await scope.workloads();
    const second = await scope.workloads();
    assert.equal(first, second);
    assert.equal(opened.readers, 1, "one Secret read per pass");
    await first.listNodes();
    await second.listNodes();
    assert.equal(cluster.count("listNodes"), 1);
    await first.patchNode("workers-0", { unschedulable: true });
    const nodes = await second.listNodes();
    assert.equal(nodes.find((node) => node.metadata?.name === "workers-0")?.spec?.unschedulable, true);
    assert.equal(cluster.count("listNodes"), 2);
    // The snapshot is the one read the scope does not keep (the preflight labels its copy in place).
    await first.snapshot();
    await first.snapshot();
    assert.equal(cluster.count("snapshot"), 2);
  });

  it("puts the drain guard in front of the cluster: a Karpenter node is never cordoned, a managed one is", async () => {
    const { scope, cluster } = world();
    cluster.state.nodes.push({ metadata: { name: "karpenter-0", labels: { "karpenter.sh/nodepool": "default" } } });
    const nodes = await scope.workloads();
    await assert.rejects(nodes.patchNode("karpenter-0", { unschedulable: true }), /refusing to cordon on node karpenter-0: it is a Karpenter node/);
    await nodes.patchNode("workers-0", { unschedulable: true });
    assert.deepEqual(cluster.patches.map((patch) => patch.node), ["workers-0"]);
  });

  it("opens green's reader once, and builds each region's ports once", async () => {
    const { scope, opened } = world();
    await scope.greenWorkloads();
    await scope.greenWorkloads();
    assert.equal(opened.greenReaders, 1);
    assert.equal(scope.cloudIn("us-east-1"), scope.cloudIn("us-east-1"));
    assert.notEqual(scope.cloudIn("eu-west-1"), scope.cloudIn("us-east-1"));
    assert.deepEqual(opened.regions, ["us-east-1", "eu-west-1"]);
  });

  it("sees a change made by someone else only in the next pass", async () => {
    const { ports, eks, nextPass } = world();
    await ports.eks.describeCluster("prod");
    eks.clusters.get("prod")!.version = "1.30";
    assert.equal((await ports.eks.describeCluster("prod")).version, "1.29", "within the pass, what was read stands");
    assert.equal((await nextPass().cloudIn("us-east-1").eks.describeCluster("prod")).version, "1.30");
    assert.equal(eks.count("describeCluster"), 2);
  });
});
