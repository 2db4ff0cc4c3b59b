// UpdateNodegroupVersion plays EKS's rolling update against moto's Auto Scaling group and the
// sandbox's real kube-apiserver: surge, cordon, evictions that respect PDBs, terminate, shrink back.
import assert from "node:assert/strict";
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import {
  DescribeNodegroupCommand,
  EKSClient,
  ResourceInUseException,
  UpdateClusterVersionCommand,
  UpdateNodegroupVersionCommand,
} from "@aws-sdk/client-eks";
import { resetSandbox, sandboxAwsClientConfig, sandboxKubeConfig } from "../../support/global-sandbox.js";
import { waitUntil } from "../../support/wait.js";
import { eksClient, scenarioPath, waitForUpdateEnd } from "./helpers.js";

const NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup";

describe("managed node group version update (sandbox)", function () {
  this.timeout(300_000);
  let eks: EKSClient;

  before(() => {
    eks = eksClient();
  });

  describe("on the default scenario", () => {
    before(async () => {
      await resetSandbox({ scenario: scenarioPath("default") });
    });

    it("replaces every node with one of the new version while the PDBs hold, then restores the sizes", async () => {
      const core = sandboxKubeConfig().makeApiClient(CoreV1Api);
      const apps = sandboxKubeConfig().makeApiClient(AppsV1Api);
      const hop = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" }))).update!;
      await waitForUpdateEnd(eks, { name: "demo", updateId: hop.id! });

      const oldNodes = (await core.listNode({ labelSelector: `${NODEGROUP_LABEL}=general` })).items.map((node) => node.metadata!.name!);
      assert.equal(oldNodes.length, 3);
      const started = (await eks.send(new UpdateNodegroupVersionCommand({ clusterName: "demo", nodegroupName: "general" }))).update!;
      assert.equal(started.status, "InProgress");
      await assert.rejects(
        eks.send(new UpdateNodegroupVersionCommand({ clusterName: "demo", nodegroupName: "general" })),
        ResourceInUseException,
      );
      assert.equal((await eks.send(new DescribeNodegroupCommand({ clusterName: "demo", nodegroupName: "general" }))).nodegroup?.status, "UPDATING");

      // web has minAvailable 2 of 3: sample it while the roll runs.
      let lowestReadyWeb = Number.POSITIVE_INFINITY;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const web = await apps.readNamespacedDeployment({ namespace: "shop", name: "web" });
          lowestReadyWeb = Math.min(lowestReadyWeb, web.status?.readyReplicas ?? 0);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const { update } = await waitForUpdateEnd(eks, { name: "demo", updateId: started.id!, nodegroupName: "general" }, 240_000);
      sampling = false;
      await sampler;
      assert.equal(update.status, "Successful", JSON.stringify(update.errors));
      assert.ok(lowestReadyWeb >= 2, `web dropped to ${lowestReadyWeb} ready replicas, below its PDB`);

      const group = (await eks.send(new DescribeNodegroupCommand({ clusterName: "demo", nodegroupName: "general" }))).nodegroup!;
      assert.equal(group.version, "1.30");
      assert.equal(group.status, "ACTIVE");
      const newNodes = (await core.listNode({ labelSelector: `${NODEGROUP_LABEL}=general` })).items;
      assert.equal(newNodes.length, 3);
      for (const node of newNodes) {
        assert.ok(!oldNodes.includes(node.metadata!.name!), `${node.metadata!.name} is an old node`);
        assert.match(node.status?.nodeInfo?.kubeletVersion ?? "", /^v1\.30\./);
        assert.notEqual(node.spec?.unschedulable, true);
      }
      const asg = (
        await new AutoScalingClient(sandboxAwsClientConfig()).send(
          new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group.resources!.autoScalingGroups![0].name!] }),
        )
      ).AutoScalingGroups![0];
      assert.deepEqual([asg.MinSize, asg.MaxSize, asg.DesiredCapacity], [3, 6, 3]);
      // The update ends once the last pods are gone; their replacements start on the new nodes.
      await waitUntil(
        "web back to 3 ready replicas",
        async () => (await apps.readNamespacedDeployment({ namespace: "shop", name: "web" })).status?.readyReplicas === 3,
        60_000,
      );
    });
  });

  describe("on the PDB trap scenario", () => {
    before(async () => {
      await resetSandbox({ scenario: scenarioPath("pdb-trap") });
    });

    it("fails with PodEvictionFailure when a PDB never allows the eviction, then succeeds with force", async () => {
      const first = (await eks.send(new UpdateNodegroupVersionCommand({ clusterName: "trap", nodegroupName: "workers" }))).update!;
      const { update: failed } = await waitForUpdateEnd(eks, { name: "trap", updateId: first.id!, nodegroupName: "workers" }, 240_000);
      assert.equal(failed.status, "Failed");
      assert.equal(failed.errors?.[0]?.errorCode, "PodEvictionFailure");
      assert.match(failed.errors?.[0]?.errorMessage ?? "", /payments\/payments-/);
      const group = (await eks.send(new DescribeNodegroupCommand({ clusterName: "trap", nodegroupName: "workers" }))).nodegroup!;
      assert.equal(group.releaseVersion, "1.30.4-20241201", "a failed update leaves the release");
      assert.equal(group.status, "ACTIVE");

      const forced = (await eks.send(new UpdateNodegroupVersionCommand({ clusterName: "trap", nodegroupName: "workers", force: true }))).update!;
      const { update: done } = await waitForUpdateEnd(eks, { name: "trap", updateId: forced.id!, nodegroupName: "workers" }, 240_000);
      assert.equal(done.status, "Successful", JSON.stringify(done.errors));
      const after = (await eks.send(new DescribeNodegroupCommand({ clusterName: "trap", nodegroupName: "workers" }))).nodegroup!;
      assert.equal(after.releaseVersion, "1.30.4-20250115");
    });
  });
});
