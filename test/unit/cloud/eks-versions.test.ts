// DescribeClusterVersions through the EKS adapter: all pages read, the answer kept for an hour.
import assert from "node:assert/strict";
import type { EKSClient } from "@aws-sdk/client-eks";
import { AwsEks, CLUSTER_VERSIONS_CACHE_MS } from "../../../src/cloud/aws/eks.js";

describe("AwsEks.listClusterVersions", () => {
  it("reads every page and asks EKS again only after an hour", async () => {
    const inputs: unknown[] = [];
    const pages = [
      { clusterVersions: [{ clusterVersion: "1.34" }, { clusterVersion: "1.33" }], nextToken: "t" },
      { clusterVersions: [{ clusterVersion: "1.32" }] },
    ];
    let page = 0;
    const client = {
      send: (command: { input: unknown }) => {
        inputs.push(command.input);
        return Promise.resolve(pages[page++ % pages.length]);
      },
    } as unknown as EKSClient;
    let now = 0;
    const eks = new AwsEks(client, () => now);
    assert.deepEqual(await eks.listClusterVersions(), ["1.34", "1.33", "1.32"]);
    assert.deepEqual(inputs, [{ clusterType: "eks" }, { clusterType: "eks", nextToken: "t" }]);
    now = CLUSTER_VERSIONS_CACHE_MS - 1;
    await eks.listClusterVersions();
    assert.equal(inputs.length, 2, "cached");
    now = CLUSTER_VERSIONS_CACHE_MS;
    await eks.listClusterVersions();
    assert.equal(inputs.length, 4, "read again after an hour");
  });
});
