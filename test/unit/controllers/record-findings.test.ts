// Thousands of findings (every budget of a large cluster refusing) must not make the status too
// large for etcd or flood Events: the list is capped, the counts stay exact, every code is seen.
import assert from "node:assert/strict";
import type { ClusterUpgradeStatus, Finding } from "../../../src/api/v1alpha1/types.js";
import type { StepContext } from "../../../src/controllers/clusterupgrade/context.js";
import { MAX_RECORDED_FINDINGS, pickRecorded, recordFindings } from "../../../src/controllers/clusterupgrade/steps/record-findings.js";

function finding(code: string, index: number, severity: Finding["severity"] = "Blocking"): Finding {
  return { code, severity, resource: `PodDisruptionBudget/team-${index}/web`, message: `budget team-${index}/web allows no disruption`, remediation: "raise maxUnavailable" };
}

/** Only what recordFindings reads and writes of a step context. */
function context(status: ClusterUpgradeStatus = {}) {
  const events: string[] = [];
  const conditions: { type: string; status: string; message: string }[] = [];
  const stub = {
    status,
    now: new Date("2026-11-29T12:00:00Z"),
    spec: { preflight: { ignore: [] } },
    event: (_type: string, _reason: string, message: string) => void events.push(message),
    setCondition: (type: string, conditionStatus: string, _reason: string, message: string) => void conditions.push({ type, status: conditionStatus, message }),
  };
  return { stub: stub as unknown as StepContext, events, conditions, status };
}

describe("recorded preflight findings", () => {
  it("keeps every finding when there are few", () => {
    const findings = [finding("PDB001", 1), finding("EKS002", 2, "Warning")];
    assert.deepEqual(pickRecorded(findings), { kept: findings });
  });

  it("caps the list, blocking first and every code represented, and counts the rest by code", () => {
    const findings = [
      ...Array.from({ length: 2000 }, (_, index) => finding("PDB001", index)),
      finding("NET001", 0),
      ...Array.from({ length: 50 }, (_, index) => finding("SKW001", index, "Warning")),
    ];
    const { kept, omitted } = pickRecorded(findings);
    assert.equal(kept.length, MAX_RECORDED_FINDINGS);
    assert.ok(kept.some((entry) => entry.code === "NET001"), "a rare blocking code is not hidden by a noisy one");
    assert.ok(kept.every((entry) => entry.severity === "Blocking"), "blocking findings fill the list before warnings");
    assert.deepEqual(omitted, { count: 2051 - MAX_RECORDED_FINDINGS, codes: [{ code: "PDB001", count: 2000 - 99 }, { code: "SKW001", count: 50 }] });
  });

  it("stores exact counts, one Event per listed finding plus one for the rest, and a bounded condition message", () => {
    const world = context();
    const findings = Array.from({ length: 2000 }, (_, index) => finding("PDB001", index));
    const blocking = recordFindings(world.stub, findings, [], "");
    assert.equal(blocking.length, 2000);
    assert.equal(world.status.preflight?.blocking, 2000);
    assert.equal(world.status.preflight?.findings.length, MAX_RECORDED_FINDINGS);
    assert.equal(world.status.preflight?.omitted?.count, 1900);
    assert.equal(world.events.length, MAX_RECORDED_FINDINGS + 1);
    assert.match(world.events.at(-1)!, /^1900 more finding\(s\) not listed in status \(PDB001 x1900\)$/);
    const message = world.conditions.find((condition) => condition.type === "PreflightPassed")!.message;
    assert.match(message, /blocked by 2000 finding\(s\) \[PDB001\]/);
    assert.match(message, /and 1990 more \(status\.preflight\)$/);
    assert.ok(Buffer.byteLength(JSON.stringify(world.status)) < 100_000, "the status stays far below etcd's limit");

    // The next pass with the same findings sends no Event again.
    const again = context(world.status);
    recordFindings(again.stub, findings, [], "");
    assert.deepEqual(again.events, []);
  });
});
