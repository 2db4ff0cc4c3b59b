// Preflight for Karpenter: its version against every hop, NodePool budgets against the upgrade's
// maintenance windows, do-not-disrupt pods and nodes, and the settings that force pods off.
import assert from "node:assert/strict";
import type * as k8s from "@kubernetes/client-node";
import type { V1Deployment, V1Node, V1Pod } from "@kubernetes/client-node";
import { listNodePools, slimNodePool, type PreflightNodePool } from "../../../src/kube/karpenter-objects.js";
import { slimDeployment } from "../../../src/kube/slim.js";
import { checkDoNotDisrupt, checkDriftBudgets as checkBudgets, checkForcedTermination, checkKarpenter, checkKarpenterVersion, KARPENTER_COMPATIBILITY, versionFromImage, type KarpenterCheckInput } from "../../../src/preflight/karpenter.js";
import { emptySnapshot } from "../../support/fakes/cloud.js";

/** A Monday, in winter (New York is UTC-5). */
const NOW = new Date("2026-01-05T00:00:00Z");

function controller(image: string, labels: Record<string, string> = {}): V1Deployment {
  return {
    metadata: { namespace: "karpenter", name: "karpenter", labels: { "app.kubernetes.io/name": "karpenter", ...labels } },
    spec: { selector: {}, template: { spec: { containers: [{ name: "controller", image }] } } },
  };
}

function karpenterNode(name: string, pool: string, options: { created?: string; doNotDisrupt?: boolean } = {}): V1Node {
  return {
    metadata: {
      name,
      labels: { "karpenter.sh/nodepool": pool },
      ...(options.created ? { creationTimestamp: new Date(options.created) } : {}),
      annotations: options.doNotDisrupt ? { "karpenter.sh/do-not-disrupt": "true" } : {},
    },
    spec: { providerID: `aws:///us-east-1a/i-${name}` },
  };
}

function pod(name: string, nodeName: string, options: { doNotDisrupt?: boolean; grace?: number; app?: string } = {}): V1Pod {
  return {
    metadata: { namespace: "shop", name, labels: { app: options.app ?? name }, annotations: options.doNotDisrupt ? { "karpenter.sh/do-not-disrupt": "true" } : {} },
    spec: { nodeName, containers: [], ...(options.grace !== undefined ? { terminationGracePeriodSeconds: options.grace } : {}) },
  };
}

function input(overrides: Partial<KarpenterCheckInput> & { nodePools?: PreflightNodePool[]; nodes?: V1Node[]; pods?: V1Pod[]; deployments?: V1Deployment[] } = {}): KarpenterCheckInput {
  const snapshot = emptySnapshot();
  snapshot.nodes = overrides.nodes ?? [];
  snapshot.pods = overrides.pods ?? [];
  snapshot.deployments = overrides.deployments ?? [];
  if (overrides.nodePools) snapshot.nodePools = overrides.nodePools;
  return { snapshot, hops: overrides.hops ?? ["1.33"], windows: overrides.windows ?? [], now: overrides.now ?? NOW, drainTimeout: overrides.drainTimeout ?? "30m" };
}

const codes = (findings: { code: string }[]): string[] => findings.map((finding) => finding.code);
const weekdays = (hour: number, duration: string, timeZone = "UTC") => ({ schedule: `0 ${hour} * * 1-5`, duration, timeZone });

describe("Karpenter preflight", () => {
  describe("without Karpenter", () => {
    it("finds nothing when the NodePool resource is absent and no controller or Karpenter node exists", () => {
      const plain = input({ nodes: [{ metadata: { name: "n", labels: { "eks.amazonaws.com/nodegroup": "ng" } } }] });
      assert.equal(plain.snapshot.nodePools, undefined);
      assert.deepEqual(checkKarpenter(plain), []);
    });

    it("leaves EKS Auto Mode's own NodePools out: EKS keeps that Karpenter in step", () => {
      const autoMode = input({ nodePools: [{ name: "general-purpose", nodeClassGroup: "eks.amazonaws.com", budgets: [{ nodes: "0" }] }] });
      assert.deepEqual(checkKarpenter(autoMode), []);
    });

    it("reads no NodePools, rather than failing, when the API server has no such resource (404)", async () => {
      const missing = { listClusterCustomObject: () => Promise.reject(Object.assign(new Error("HTTP-Code: 404"), { code: 404 })) } as unknown as k8s.CustomObjectsApi;
      assert.equal(await listNodePools(missing), undefined);
      const forbidden = { listClusterCustomObject: () => Promise.reject(Object.assign(new Error("HTTP-Code: 403"), { code: 403 })) } as unknown as k8s.CustomObjectsApi;
      await assert.rejects(listNodePools(forbidden), /403/);
    });

    it("reads NodePools page by page, keeping only the fields the checks use", async () => {
      const requests: unknown[] = [];
      const pages = [
        { items: [{ metadata: { name: "a", managedFields: [{}] }, spec: { disruption: { budgets: [{ nodes: "0", reasons: ["Drifted"], schedule: "0 9 * * *", duration: "8h" }] }, template: { spec: { expireAfter: "Never", nodeClassRef: { group: "karpenter.k8s.aws" } } } } }], metadata: { continue: "t1" } },
        { items: [{ metadata: { name: "b" }, spec: { template: { spec: { terminationGracePeriod: "1h" } } } }], metadata: {} },
      ];
      const api = { listClusterCustomObject: (request: unknown) => (requests.push(request), Promise.resolve(pages[requests.length - 1])) } as unknown as k8s.CustomObjectsApi;
      assert.deepEqual(await listNodePools(api), [
        { name: "a", budgets: [{ nodes: "0", reasons: ["Drifted"], schedule: "0 9 * * *", duration: "8h" }], expireAfter: "Never", nodeClassGroup: "karpenter.k8s.aws" },
        { name: "b", terminationGracePeriod: "1h" },
      ]);
      assert.deepEqual(requests, [
        { group: "karpenter.sh", version: "v1", plural: "nodepools", limit: 500 },
        { group: "karpenter.sh", version: "v1", plural: "nodepools", limit: 500, _continue: "t1" },
      ]);
      assert.deepEqual(slimNodePool({ metadata: { name: "c" }, spec: { disruption: { budgets: [{ nodes: 3 }] } } }), { name: "c", budgets: [{ nodes: "3" }] });
    });
  });

  describe("version (KAR001-KAR003)", () => {
    it("blocks when the controller is older than a hop needs, naming every such hop and the release to reach", () => {
      const findings = checkKarpenterVersion(input({ deployments: [controller("public.ecr.aws/karpenter/controller:1.4.0@sha256:0123")], hops: ["1.32", "1.33", "1.34"] }));
      assert.deepEqual(codes(findings), ["KAR001"]);
      assert.equal(findings[0].severity, "Blocking");
      assert.equal(findings[0].resource, "Deployment/karpenter/karpenter");
      assert.match(findings[0].message, /Karpenter 1\.4\.0 \(Deployment karpenter\/karpenter\) does not support Kubernetes 1\.33 \(needs 1\.5\.0 or later\), 1\.34 \(needs 1\.6\.0 or later\)/);
      assert.match(findings[0].remediation, /upgrade Karpenter to 1\.6\.0 or later/);
      assert.deepEqual(checkKarpenterVersion(input({ deployments: [controller("public.ecr.aws/karpenter/controller:v1.6.2")], hops: ["1.32", "1.33", "1.34"] })), []);
    });

    it("reads the version label when the image tag is no version, and compares patch releases", () => {
      assert.deepEqual(checkKarpenterVersion(input({ deployments: [controller("registry.local/karpenter:stable", { "app.kubernetes.io/version": "1.6.0" })], hops: ["1.34"] })), []);
      assert.deepEqual(codes(checkKarpenterVersion(input({ deployments: [controller("registry.local:5000/karpenter/controller:1.0.4")], hops: ["1.31"] }))), ["KAR001"]);
      assert.deepEqual(checkKarpenterVersion(input({ deployments: [controller("registry.local:5000/karpenter/controller:1.0.5")], hops: ["1.31"] })), []);
      assert.equal(versionFromImage("registry.local:5000/karpenter"), undefined);
      assert.equal(versionFromImage("karpenter:latest"), undefined);
    });

    it("warns past the end of the table instead of passing silently", () => {
      const last = KARPENTER_COMPATIBILITY.at(-1)!;
      const beyond = `1.${Number(last.kubernetes.split(".")[1]) + 1}`;
      const findings = checkKarpenterVersion(input({ deployments: [controller(`k/controller:${last.minimum}`)], hops: [last.kubernetes, beyond] }));
      assert.deepEqual(codes(findings), ["KAR003"]);
      assert.match(findings[0].message, new RegExp(`ends at Kubernetes ${last.kubernetes.replace(".", "\\.")}: whether Karpenter .* supports ${beyond.replace(".", "\\.")} is not checked`));
    });

    it("says how to make the version known when it cannot be read", () => {
      const noController = checkKarpenterVersion(input({ nodePools: [{ name: "default" }] }));
      assert.deepEqual(codes(noController), ["KAR002"]);
      assert.equal(noController[0].severity, "Warning");
      assert.match(noController[0].message, /NodePools default\) but its version cannot be read: no Deployment labelled app.kubernetes.io\/name=karpenter was found/);
      assert.match(noController[0].remediation, /app.kubernetes.io\/version=<its version>/);
      const untagged = checkKarpenterVersion(input({ deployments: [controller("k/controller:latest")] }));
      assert.match(untagged[0].message, /Deployment karpenter\/karpenter has no version in its image tag or app.kubernetes.io\/version label/);
      // Karpenter nodes alone (NodePools unreadable through some other path) still count as Karpenter.
      assert.deepEqual(codes(checkKarpenterVersion(input({ nodes: [karpenterNode("k1", "default")] }))), ["KAR002"]);
    });

    it("keeps the controller's image through the snapshot's slimming, and no other image", () => {
      const kept = slimDeployment(controller("k/controller:1.6.0"));
      assert.equal(kept.spec?.template.spec?.containers[0].image, "k/controller:1.6.0");
      const other = slimDeployment({ ...controller("shop/web:1"), metadata: { name: "web", namespace: "shop" } });
      assert.equal(other.spec?.template.spec?.containers[0].image, undefined);
    });
  });

  describe("drift budgets against the maintenance windows (KAR010-KAR012)", () => {
    const pool = (name: string, budgets: PreflightNodePool["budgets"]): PreflightNodePool => ({ name, budgets });
    /** Every NodePool given gets a node, as the check looks only at NodePools with nodes. */
    const checkDriftBudgets = (given: KarpenterCheckInput): ReturnType<typeof checkBudgets> => {
      given.snapshot.nodes = (given.snapshot.nodePools ?? []).map((candidate) => karpenterNode(`${candidate.name}-1`, candidate.name));
      return checkBudgets(given);
    };

    it("looks only at NodePools that have nodes", () => {
      const empty = input({ nodePools: [pool("empty", [{ nodes: "0" }])], nodes: [karpenterNode("other-1", "other")] });
      assert.deepEqual(checkBudgets(empty), []);
    });

    it("blocks a NodePool whose budget closes drift at all times, naming the budget", () => {
      const findings = checkDriftBudgets(input({ nodePools: [pool("steady", [{ nodes: "0", reasons: ["Drifted"] }])], windows: [{ schedule: "0 22 * * *", duration: "4h", timeZone: "UTC" }] }));
      assert.deepEqual(codes(findings), ["KAR010"]);
      assert.equal(findings[0].resource, "NodePool/steady");
      assert.match(findings[0].message, /NodePool steady allows no drift disruption in any of the upgrade's windows .*NodePool steady spec\.disruption\.budgets\[0\] \(nodes 0, reasons Drifted, always\)/);
      assert.match(findings[0].remediation, /spec\.disruption\.budgets\[0\] of NodePool steady/);
    });

    it("blocks when a scheduled budget covers every window, and passes when an hour of a window is free", () => {
      const office = [pool("office", [{ nodes: "0", schedule: "0 9 * * 1-5", duration: "8h" }])];
      assert.deepEqual(codes(checkDriftBudgets(input({ nodePools: office, windows: [weekdays(10, "2h")] }))), ["KAR010"]);
      assert.deepEqual(checkDriftBudgets(input({ nodePools: office, windows: [weekdays(16, "2h")] })), []);
    });

    it("reads the windows in their time zone and the budgets in UTC", () => {
      const office = [pool("office", [{ nodes: "0%", schedule: "0 9 * * 1-5", duration: "8h" }])];
      // 09:00 in New York is 14:00 UTC in January: inside the budget.
      assert.deepEqual(codes(checkDriftBudgets(input({ nodePools: office, windows: [weekdays(9, "2h", "America/New_York")] }))), ["KAR010"]);
      // 18:00 in New York is 23:00 UTC: free.
      assert.deepEqual(checkDriftBudgets(input({ nodePools: office, windows: [weekdays(18, "2h", "America/New_York")] })), []);
    });

    it("joins budgets that close drift one after the other, and budgets across midnight", () => {
      const relay = [pool("relay", [{ nodes: "0", schedule: "0 9 * * *", duration: "4h" }, { nodes: "0", schedule: "0 13 * * *", duration: "4h" }])];
      assert.deepEqual(codes(checkDriftBudgets(input({ nodePools: relay, windows: [{ schedule: "0 10 * * *", duration: "6h", timeZone: "UTC" }] }))), ["KAR010"]);
      const night = [pool("night", [{ nodes: "0", schedule: "0 22 * * *", duration: "10h" }])];
      assert.deepEqual(codes(checkDriftBudgets(input({ nodePools: night, windows: [{ schedule: "0 1 * * *", duration: "3h", timeZone: "UTC" }] }))), ["KAR010"]);
      assert.deepEqual(checkDriftBudgets(input({ nodePools: night, windows: [{ schedule: "0 7 * * *", duration: "3h", timeZone: "UTC" }] })), []);
    });

    it("ignores budgets that leave drift open: other reasons, or nodes above zero", () => {
      const open = [pool("open", [{ nodes: "0", reasons: ["Underutilized", "Empty"] }, { nodes: "1" }, { nodes: "10%" }])];
      assert.deepEqual(checkDriftBudgets(input({ nodePools: open, windows: [weekdays(10, "2h")] })), []);
    });

    it("warns when drift is closed in some windows only, naming them", () => {
      const office = [pool("office", [{ nodes: "0", schedule: "0 9 * * 1-5", duration: "8h" }])];
      const findings = checkDriftBudgets(input({ nodePools: office, windows: [weekdays(10, "2h"), { schedule: "0 10 * * 6", duration: "2h", timeZone: "UTC" }] }));
      assert.deepEqual(codes(findings), ["KAR011"]);
      assert.match(findings[0].message, /during spec\.maintenanceWindows\[0\] at 2026-01-05T10:00:00\.000Z/);
      assert.doesNotMatch(findings[0].message, /maintenanceWindows\[1\]/);
    });

    it("counts a window already open from now on, and with no windows looks at the next week", () => {
      // A one-off window (15:00-18:00 on 5 January) already open at 16:30, and a budget closing
      // drift from 16:30 to 18:30 that day: what is left of the window is closed, although the
      // window's first hour and a half, already past, was not.
      const late = new Date("2026-01-05T16:30:00Z");
      const oneOff = [pool("one-off", [{ nodes: "0", schedule: "30 16 5 1 *", duration: "2h" }])];
      const window = [{ schedule: "0 15 5 1 *", duration: "3h", timeZone: "UTC" }];
      assert.deepEqual(codes(checkDriftBudgets(input({ nodePools: oneOff, windows: window, now: late }))), ["KAR010"]);
      assert.deepEqual(checkDriftBudgets(input({ nodePools: oneOff, windows: window, now: new Date("2026-01-05T14:00:00Z") })), []);
      const office = [pool("office", [{ nodes: "0", schedule: "0 9 * * 1-5", duration: "8h" }])];
      const always = [pool("always", [{ nodes: "0" }])];
      const anyTime = checkDriftBudgets(input({ nodePools: always }));
      assert.deepEqual(codes(anyTime), ["KAR010"]);
      assert.match(anyTime[0].message, /the next 7 days \(no spec\.maintenanceWindows\)/);
      assert.deepEqual(checkDriftBudgets(input({ nodePools: office })), []);
    });

    it("reports a budget it cannot read rather than guessing", () => {
      const broken = [pool("broken", [{ nodes: "0", schedule: "not a cron", duration: "8h" }])];
      const findings = checkDriftBudgets(input({ nodePools: broken, windows: [weekdays(10, "2h")] }));
      assert.deepEqual(codes(findings), ["KAR012"]);
      assert.match(findings[0].message, /NodePool broken spec\.disruption\.budgets\[0\]/);
    });
  });

  describe("do-not-disrupt (KAR020, KAR021)", () => {
    it("names each marked pod on a Karpenter node with its node, NodePool and how long it holds", () => {
      const findings = checkDoNotDisrupt(
        input({
          nodePools: [{ name: "batch", terminationGracePeriod: "2h" }],
          nodes: [karpenterNode("k1", "batch"), karpenterNode("k2", "batch", { doNotDisrupt: true }), { metadata: { name: "m1", labels: { "eks.amazonaws.com/nodegroup": "ng" } } }],
          pods: [pod("trainer", "k1", { doNotDisrupt: true }), pod("web", "k1"), pod("on-managed", "m1", { doNotDisrupt: true })],
        }),
      );
      assert.deepEqual(codes(findings), ["KAR020", "KAR021"]);
      assert.equal(findings[0].resource, "Pod/shop/trainer");
      assert.match(findings[0].message, /pod shop\/trainer carries karpenter.sh\/do-not-disrupt=true on node k1 \(NodePool batch\): .*until its terminationGracePeriod of 2h runs out/);
      assert.match(findings[0].remediation, /kubectl annotate pod -n shop trainer karpenter.sh\/do-not-disrupt-/);
      assert.match(findings[1].message, /node\(s\) k2 of NodePool batch carry karpenter.sh\/do-not-disrupt=true/);
    });
  });

  describe("forced termination (KAR030, KAR031)", () => {
    it("warns when terminationGracePeriod is shorter than the drain timeout while budgets hold pods, or shorter than a pod's own grace period", () => {
      const snapshot = input({
        nodePools: [{ name: "short", terminationGracePeriod: "5m" }, { name: "long", terminationGracePeriod: "2h" }, { name: "unset" }],
        nodes: [karpenterNode("s1", "short", { created: "2026-01-04T00:00:00Z" }), karpenterNode("l1", "long", { created: "2026-01-04T00:00:00Z" }), karpenterNode("u1", "unset", { created: "2026-01-04T00:00:00Z" })],
        pods: [pod("api", "s1", { app: "api" }), pod("slow", "s1", { grace: 600 }), pod("api-2", "l1", { app: "api" }), pod("api-3", "u1", { app: "api" })],
      });
      snapshot.snapshot.pdbs = [{ metadata: { namespace: "shop", name: "api" }, spec: { selector: { matchLabels: { app: "api" } }, maxUnavailable: 1 } }];
      const findings = checkForcedTermination(snapshot);
      assert.deepEqual(codes(findings), ["KAR030"]);
      assert.equal(findings[0].resource, "NodePool/short");
      assert.match(findings[0].message, /shorter than spec\.drain\.timeout 30m, so shop\/api .* are deleted/);
      assert.match(findings[0].message, /shop\/slow ask for a longer termination grace period/);
      assert.match(findings[0].remediation, /at least 30m/);
    });

    it("warns when nodes expire inside a window, with Karpenter's default of 720h when unset, and not with Never", () => {
      // Created 29 days 22 hours before NOW: expires at 22:00 UTC on Monday 5 January.
      const created = new Date(NOW.getTime() - (720 - 22) * 3_600_000).toISOString();
      const fromJson = karpenterNode("old-json", "default");
      (fromJson.metadata as { creationTimestamp?: unknown }).creationTimestamp = created;
      const nodes = [karpenterNode("old", "default", { created }), fromJson, karpenterNode("young", "default", { created: "2026-01-04T00:00:00Z" }), karpenterNode("kept", "forever", { created })];
      const nodePools = [{ name: "default" }, { name: "forever", expireAfter: "Never" }];
      const inWindow = checkForcedTermination(input({ nodePools, nodes, windows: [{ schedule: "0 21 * * *", duration: "3h", timeZone: "UTC" }] }));
      assert.deepEqual(codes(inWindow), ["KAR031"]);
      assert.match(inWindow[0].message, /NodePool default expires nodes after 720h \(Karpenter's default\), and old at 2026-01-05T22:00:00\.000Z, old-json at 2026-01-05T22:00:00\.000Z expire inside the upgrade's windows/);
      assert.deepEqual(checkForcedTermination(input({ nodePools, nodes, windows: [{ schedule: "0 2 * * *", duration: "3h", timeZone: "UTC" }] })), []);
    });
  });
});
