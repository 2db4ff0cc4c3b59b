import assert from "node:assert/strict";
import { checkClusterState, checkControlPlaneNetwork, type ControlPlaneSnapshot } from "../../../src/preflight/cluster-checks.js";
import { applyPolicy } from "../../../src/preflight/findings.js";

function snapshot(overrides: Partial<ControlPlaneSnapshot> = {}): ControlPlaneSnapshot {
  return {
    cluster: { name: "prod", version: "1.29", status: "ACTIVE", subnetIds: ["subnet-a", "subnet-b", "subnet-c"], securityGroupIds: ["sg-1"] },
    subnets: [
      { id: "subnet-a", availabilityZone: "us-east-1a", availableIpAddressCount: 5, cidrBlock: "10.0.0.0/28" },
      { id: "subnet-b", availabilityZone: "us-east-1b", availableIpAddressCount: 5, cidrBlock: "10.0.0.16/28" },
      { id: "subnet-c", availabilityZone: "us-east-1c", availableIpAddressCount: 0, cidrBlock: "10.0.0.32/28" },
    ],
    existingSecurityGroupIds: ["sg-1"],
    ownUpdateInFlight: false,
    ...overrides,
  };
}

describe("control-plane preflight checks", () => {
  it("passes with two zones at exactly five free addresses", () => {
    assert.deepEqual(checkControlPlaneNetwork(snapshot()), []);
    assert.deepEqual(checkClusterState(snapshot()), []);
  });

  it("blocks when fewer than two zones have five free addresses, naming the starved subnets", () => {
    const starved = snapshot();
    starved.subnets[1].availableIpAddressCount = 4;
    const [finding] = checkControlPlaneNetwork(starved);
    assert.equal(finding?.code, "IP001");
    assert.equal(finding?.severity, "Blocking");
    assert.equal(finding?.resource, "Subnet/subnet-b,Subnet/subnet-c");
    assert.match(finding.message, /subnet-b \(us-east-1b, 4 free\)/);
  });

  it("two roomy subnets in one zone count as one zone", () => {
    const sameZone = snapshot();
    sameZone.subnets[1].availabilityZone = "us-east-1a";
    assert.equal(checkControlPlaneNetwork(sameZone)[0]?.code, "IP001");
  });

  it("reports deleted subnets and security groups by id", () => {
    const findings = checkControlPlaneNetwork(snapshot({ subnets: snapshot().subnets.slice(0, 2), existingSecurityGroupIds: [] }));
    assert.deepEqual(findings.map((finding) => [finding.code, finding.resource]), [
      ["NET001", "Subnet/subnet-c"],
      ["NET002", "SecurityGroup/sg-1"],
    ]);
  });

  it("blocks on a cluster that is not ACTIVE, unless the update is the operator's own", () => {
    const updating = snapshot();
    updating.cluster.status = "UPDATING";
    assert.equal(checkClusterState(updating)[0]?.code, "CLU002");
    assert.deepEqual(checkClusterState({ ...updating, ownUpdateInFlight: true }), []);
    updating.cluster.status = "FAILED";
    assert.equal(checkClusterState(updating)[0]?.code, "CLU001");
  });

  it("applies ignore and warningsBlock policies", () => {
    const findings = [
      { code: "IP001", severity: "Blocking" as const, resource: "Subnet/a", message: "m", remediation: "r" },
      { code: "WRK001", severity: "Warning" as const, resource: "Deployment/x", message: "m", remediation: "r" },
    ];
    assert.deepEqual(applyPolicy(findings, { ignore: [{ code: "IP001" }], warningsBlock: false }).map((finding) => finding.code), ["WRK001"]);
    assert.equal(applyPolicy(findings, { ignore: [], warningsBlock: true })[1]?.severity, "Blocking");
  });
});
