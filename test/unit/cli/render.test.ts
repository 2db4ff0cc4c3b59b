// The tables `plan` and `status` print, in kubectl's layout, and the -o json|yaml forms.
import assert from "node:assert/strict";
import { parse } from "yaml";
import type { ClusterUpgrade } from "../../../src/api/v1alpha1/types.js";
import { renderFindings, renderPlan, renderStatus, serialize } from "../../../src/cli/kubectl-eksupgrade/render.js";
import { table } from "../../../src/cli/kubectl-eksupgrade/table.js";

const AT = "2026-11-29T10:00:00Z";

describe("kubectl eksupgrade output", () => {
  it("lays out columns three spaces apart with <none> for empty cells and one line per row", () => {
    assert.equal(table(["name", "state", "message"], [["general", "InProgress", "a\nb"], ["system", undefined, ""]]), ["NAME      STATE        MESSAGE", "general   InProgress   a b", "system    <none>       <none>"].join("\n"));
  });

  it("prints the plan's hops, add-ons and one row per node batch", () => {
    const text = renderPlan({
      computedAt: AT,
      hops: [
        {
          from: "1.29",
          to: "1.30",
          controlPlane: true,
          addons: [{ name: "vpc-cni", from: "v1.18.0", to: "v1.18.3" }],
          nodeGroups: [{ name: "general", kind: "Managed", nodeCount: 3, batches: [["n-1", "n-2"], ["n-3"]] }],
        },
      ],
      unorderedNodeGroups: ["spare"],
      otherNodes: [
        { kind: "Fargate", nodeCount: 1, nodes: ["fargate-ip-1"], action: "restart them", restart: ["Deployment shop/web"] },
        { kind: "Karpenter", nodePool: "default", nodeCount: 2, nodes: ["k-1", "k-2"], action: "drift" },
      ],
    });
    assert.equal(
      text,
      [
        "HOP            CONTROL PLANE   ADD-ONS   NODE GROUPS   NODES",
        "1.29 -> 1.30   upgrade         1         1             3",
        "",
        "HOP    ADD-ON    FROM      TO",
        "1.30   vpc-cni   v1.18.0   v1.18.3",
        "",
        "HOP    NODE GROUP   KIND      BATCH   NODES",
        "1.30   general      Managed   1/2     n-1,n-2",
        "1.30   general      Managed   2/2     n-3",
        "",
        "Node groups not in spec.nodeGroups.order, rolled after it: spare",
        "",
        "NOT ROLLED   NODEPOOL   NODES   WHAT HAPPENS",
        "Fargate      <none>     1       restart them; restart: Deployment shop/web",
        "Karpenter    default    2       drift",
      ].join("\n"),
    );
  });

  it("lists blocking findings before warnings, then their remediations", () => {
    const text = renderFindings([
      { code: "WRK001", severity: "Warning", resource: "Deployment/web/front", message: "one replica", remediation: "add a replica" },
      { code: "IP001", severity: "Blocking", resource: "subnet-1", message: "2 free addresses", remediation: "free addresses" },
    ]);
    const lines = text.split("\n");
    assert.match(lines[0], /^SEVERITY\s+CODE\s+RESOURCE\s+MESSAGE$/);
    assert.match(lines[1], /^Blocking\s+IP001\s+subnet-1\s+2 free addresses$/);
    assert.match(lines[2], /^Warning\s+WRK001\s+Deployment\/web\/front\s+one replica$/);
    assert.match(text, /^IP001\s+subnet-1\s+free addresses$/m);
    assert.equal(renderFindings([]), "No findings: preflight passed.");
  });

  it("shows status with progress, the nodes in flight and what holds each", () => {
    const upgrade: ClusterUpgrade = {
      apiVersion: "eksupgrade.io/v1alpha1",
      kind: "ClusterUpgrade",
      metadata: { name: "prod", namespace: "ops" },
      spec: { cluster: { name: "prod", region: "eu-west-1" }, targetVersion: "1.31", paused: true },
      status: {
        phase: "Paused",
        currentVersion: "1.30",
        conditions: [{ type: "Paused", status: "True", reason: "UserPaused", message: "paused by spec.paused", lastTransitionTime: AT }],
        hops: [{ version: "1.31", from: "1.30", state: "InProgress", stage: "NodeGroups", startedAt: AT }],
        nodeGroups: [
          {
            name: "workers",
            kind: "SelfManaged",
            total: 4,
            upgraded: 1,
            inFlight: 1,
            state: "InProgress",
            version: "1.30",
            targetVersion: "1.31",
            nodes: [{ name: "node-a", phase: "Draining", since: AT, evictions: 2, podsLeft: [{ pod: "payments/api-1", heldBy: "PodDisruptionBudget payments/api allows 0 disruption(s) now" }, { pod: "payments/api-2", heldBy: "waiting" }] }],
          },
        ],
      },
    };
    const text = renderStatus(upgrade);
    assert.match(text, /^Cluster:\s+prod \(eu-west-1\)$/m);
    assert.match(text, /^Phase:\s+Paused \(spec\.paused\)$/m);
    assert.match(text, /^Progress:\s+cp 1\/1, nodes 1\/4$/m);
    assert.match(text, /^1\.30 -> 1\.31\s+InProgress\s+NodeGroups\s/m);
    assert.match(text, /^workers\s+SelfManaged\s+1\.30\s+1\.31\s+1\/4\s+1\s+InProgress\s+<none>$/m);
    assert.match(text, /^node-a\s+workers\s+Draining\s+2026-11-29T10:00:00Z\s+2\s+2\s+payments\/api-1: PodDisruptionBudget payments\/api allows 0 disruption\(s\) now \(\+1 more\)$/m);
    assert.match(text, /^Paused\s+True\s+UserPaused\s+paused by spec\.paused$/m);
  });

  it("shows each Karpenter NodePool with its counts and the first thing holding it", () => {
    const upgrade: ClusterUpgrade = {
      apiVersion: "eksupgrade.io/v1alpha1",
      kind: "ClusterUpgrade",
      metadata: { name: "prod", namespace: "ops" },
      spec: { cluster: { name: "prod" }, targetVersion: "1.31" },
      status: {
        karpenter: {
          nodePools: [
            { name: "batch", nodeClass: "EC2NodeClass/default", targetVersion: "1.31", state: "InProgress", total: 3, atVersion: 2, drifted: 1, replaced: 2, blockers: ["pod jobs/report on node n-1 is annotated karpenter.sh/do-not-disrupt=true", "NodePool batch disruption budget 0 (nodes: 0) allows no drift"] },
            { name: "web", nodeClass: "EC2NodeClass/default", targetVersion: "1.31", state: "Succeeded", total: 3, atVersion: 3, drifted: 0, replaced: 3, message: "all 3 node(s) run 1.31" },
          ],
          changes: [],
        },
      },
    };
    const text = renderStatus(upgrade);
    assert.match(text, /^NODEPOOL\s+NODE CLASS\s+TARGET\s+AT VERSION\s+DRIFTED\s+REPLACED\s+STATE\s+HELD BY$/m);
    assert.match(text, /^batch\s+EC2NodeClass\/default\s+1\.31\s+2\/3\s+1\s+2\s+InProgress\s+pod jobs\/report on node n-1 is annotated karpenter\.sh\/do-not-disrupt=true \(\+1 more\)$/m);
    assert.match(text, /^web\s+EC2NodeClass\/default\s+1\.31\s+3\/3\s+0\s+3\s+Succeeded\s+all 3 node\(s\) run 1\.31$/m);
  });

  it("serializes as JSON or YAML that read back to the same value", () => {
    const value = { metadata: { name: "prod" }, spec: { targetVersion: "1.31" } };
    assert.deepEqual(JSON.parse(serialize(value, "json")), value);
    assert.deepEqual(parse(serialize(value, "yaml")), value);
  });
});
