import assert from "node:assert/strict";
import type { V1Deployment, V1StatefulSet } from "@kubernetes/client-node";
import { checkAlarmsExist, checkGreenCluster, checkGreenWorkloads, checkWeightedRecords, type GreenObservation } from "../../../src/bluegreen/green-checks.js";
import { emptySnapshot } from "../../support/fakes/cloud.js";

function deployment(namespace: string, name: string, replicas: number, available: number): V1Deployment {
  return { metadata: { namespace, name }, spec: { replicas, selector: {}, template: {} }, status: { availableReplicas: available } };
}

function statefulSet(namespace: string, name: string, replicas: number, ready: number): V1StatefulSet {
  return { metadata: { namespace, name }, spec: { replicas, selector: {}, serviceName: name, template: {} }, status: { replicas, readyReplicas: ready } };
}

function observation(overrides: Partial<GreenObservation> = {}): GreenObservation {
  return {
    clusterName: "green",
    targetVersion: "1.31",
    cluster: { name: "green", version: "1.31", status: "ACTIVE", subnetIds: [], securityGroupIds: [] },
    nodeGroups: [{ name: "workers", version: "1.31", status: "ACTIVE", autoScalingGroupNames: [], desiredSize: 2, minSize: 1, maxSize: 3, instanceTypes: [], subnetIds: [], healthIssues: [] }],
    snapshot: { ...emptySnapshot(), deployments: [deployment("shop", "storefront", 2, 2)] },
    verify: { workloads: [{ kind: "Deployment", namespace: "shop", name: "storefront" }] },
    ...overrides,
  };
}

describe("green verification", () => {
  it("passes a green cluster ACTIVE at the target with its workloads available", () => {
    assert.deepEqual([...checkGreenCluster(observation()), ...checkGreenWorkloads(observation())], []);
  });

  it("blocks on a missing green cluster, a wrong version, a cluster or node group not ACTIVE", () => {
    assert.deepEqual(checkGreenCluster(observation({ cluster: undefined })).map((finding) => finding.code), ["BG001"]);
    const lagging = observation({ cluster: { name: "green", version: "1.30", status: "UPDATING", subnetIds: [], securityGroupIds: [] } });
    const findings = checkGreenCluster({ ...lagging, nodeGroups: [{ ...lagging.nodeGroups[0], status: "DEGRADED" }] });
    assert.deepEqual(findings.map((finding) => finding.code), ["BG002", "BG003", "BG004"]);
    assert.match(findings[1].message, /runs 1\.30, not the target 1\.31/);
    assert.match(findings[2].resource, /NodeGroup\/green\/workers/);
  });

  it("blocks on a named workload that is missing or short of available replicas", () => {
    const missing = checkGreenWorkloads(observation({ verify: { workloads: [{ kind: "StatefulSet", namespace: "shop", name: "carts" }] } }));
    assert.deepEqual(missing.map((finding) => [finding.code, finding.resource]), [["BG005", "StatefulSet/shop/carts"]]);
    const short = checkGreenWorkloads(observation({ snapshot: { ...emptySnapshot(), deployments: [deployment("shop", "storefront", 3, 1)] } }));
    assert.deepEqual(short.map((finding) => finding.code), ["BG006"]);
    assert.match(short[0].message, /has 1 of 3 replicas available/);
  });

  it("checks every Deployment and StatefulSet of a named namespace", () => {
    const snapshot = { ...emptySnapshot(), deployments: [deployment("shop", "storefront", 2, 2)], statefulSets: [statefulSet("shop", "carts", 3, 2), statefulSet("other", "db", 1, 0)] };
    const findings = checkGreenWorkloads(observation({ snapshot, verify: { namespaces: ["shop", "empty"] } }));
    assert.deepEqual(findings.map((finding) => [finding.code, finding.resource]), [
      ["BG006", "StatefulSet/shop/carts"],
      ["BG005", "Namespace/empty"],
    ]);
  });

  it("warns when the spec names nothing to verify", () => {
    const findings = checkGreenWorkloads(observation({ verify: undefined }));
    assert.deepEqual(findings.map((finding) => [finding.code, finding.severity]), [["BG005", "Warning"]]);
  });

  it("blocks when a weighted record or an alarm gate is missing", () => {
    const route = { hostedZoneId: "Z1", recordName: "www.example.com", recordType: "CNAME", blueSetIdentifier: "blue", greenSetIdentifier: "green" };
    assert.deepEqual(checkWeightedRecords([{ setIdentifier: "blue", weight: 255, values: ["b"] }], route).map((finding) => finding.resource), ["Route53Record/www.example.com/green"]);
    assert.deepEqual(checkAlarmsExist(["a", "b"], { a: "OK" }).map((finding) => [finding.code, finding.resource]), [["BG009", "CloudWatchAlarm/b"]]);
  });
});
