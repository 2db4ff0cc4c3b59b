// `kubectl eksupgrade why`: the one thing that holds an upgrade, in the order a human deals with
// them, and the command that moves it on.
import assert from "node:assert/strict";
import type { ClusterUpgrade, ClusterUpgradeStatus, Condition, NodeGroupStatus } from "../../../src/api/v1alpha1/types.js";
import { explainHold, inspectCommand, renderHold } from "../../../src/cli/kubectl-eksupgrade/why.js";

const AT = "2026-11-29T10:00:00Z";

function condition(type: string, status: Condition["status"], reason: string, message = ""): Condition {
  return { type, status, reason, message, lastTransitionTime: AT };
}

function upgrade(status: ClusterUpgradeStatus | undefined, spec: Partial<ClusterUpgrade["spec"]> = {}): ClusterUpgrade {
  return {
    apiVersion: "eksupgrade.io/v1alpha1",
    kind: "ClusterUpgrade",
    metadata: { name: "prod", namespace: "ops", annotations: {} },
    spec: { cluster: { name: "prod" }, targetVersion: "1.31", ...spec },
    status,
  };
}

const pdbFinding = {
  code: "PDB002",
  severity: "Blocking" as const,
  resource: "PodDisruptionBudget/payments/api",
  message: "allows 0 disruptions",
  remediation: "scale payments/api to 2 replicas",
};

function group(nodes: NodeGroupStatus["nodes"]): NodeGroupStatus {
  return { name: "workers", kind: "SelfManaged", total: 3, upgraded: 1, inFlight: 1, state: "InProgress", nodes };
}

describe("kubectl eksupgrade why", () => {
  it("an upgrade with no status yet points at the operator", () => {
    const hold = explainHold(upgrade(undefined));
    assert.equal(hold.kind, "NoStatus");
    assert.equal(hold.command, "kubectl get pods -n eks-upgrade-system");
  });

  it("a blocked preflight names its first blocking finding, its remediation and how to inspect the budget", () => {
    const warning = { ...pdbFinding, code: "WRK001", severity: "Warning" as const, resource: "Deployment/web/front" };
    const hold = explainHold(upgrade({ phase: "Blocked", conditions: [condition("PreflightPassed", "False", "BlockingFindings", "PDB002 ...")], preflight: { blocking: 1, warnings: 1, findings: [warning, pdbFinding] } }));
    assert.equal(hold.kind, "Finding");
    assert.equal(hold.subject, "PodDisruptionBudget/payments/api");
    assert.equal(hold.detail, "allows 0 disruptions");
    assert.match(hold.summary, /^preflight finding PDB002 \(Blocking\) on PodDisruptionBudget\/payments\/api and 1 more/);
    assert.equal(hold.fix, "scale payments/api to 2 replicas; the operator checks again by itself");
    assert.equal(hold.command, "kubectl describe pdb api -n payments");
  });

  it("the pause comes before anything else that holds the upgrade", () => {
    const hold = explainHold(upgrade({ phase: "Paused", conditions: [condition("Paused", "True", "UserPaused", "paused by spec.paused"), condition("PreflightPassed", "False", "BlockingFindings")], preflight: { blocking: 1, warnings: 0, findings: [pdbFinding] } }, { paused: true }));
    assert.equal(hold.kind, "Paused");
    assert.equal(hold.command, "kubectl eksupgrade resume prod -n ops");
  });

  it("an invalid spec comes before the pause, and says to edit the object", () => {
    const hold = explainHold(upgrade({ phase: "InvalidSpec", conditions: [condition("SpecValid", "False", "InvalidSpec", "spec.targetVersion: must be a minor version")] }, { paused: true }));
    assert.equal(hold.kind, "InvalidSpec");
    assert.equal(hold.detail, "spec.targetVersion: must be a minor version");
    assert.equal(hold.command, "kubectl edit clusterupgrade prod -n ops");
  });

  it("a claim held by another upgrade gives the break-claim annotation with the holder's UID", () => {
    const hold = explainHold(upgrade({ phase: "Blocked", conditions: [condition("Claimed", "False", "HeldByAnother", "held")], claims: [{ resource: "EKSCluster/eu-west-1/prod", state: "Waiting", heldBy: "ops/other (uid-1)", heldByUid: "uid-1" }] }));
    assert.equal(hold.kind, "Claim");
    assert.equal(hold.subject, "ops/other (uid-1)");
    assert.equal(hold.command, "kubectl annotate clusterupgrade prod -n ops eksupgrade.io/break-claim=uid-1");
  });

  it("a drain names the node in flight longest, its pod and the budget holding it", () => {
    const newer = { name: "node-b", phase: "Draining" as const, since: "2026-11-29T10:05:00Z", podsLeft: [{ pod: "web/front-1", heldBy: "waiting" }] };
    const older = { name: "node-a", phase: "Draining" as const, since: "2026-11-29T10:01:00Z", podsLeft: [{ pod: "payments/api-7d9f", heldBy: "PodDisruptionBudget payments/api allows 0 disruption(s) now" }, { pod: "payments/api-8e1a", heldBy: "waiting" }] };
    const hold = explainHold(upgrade({ phase: "UpgradingNodeGroups", conditions: [condition("Progressing", "True", "UpgradingNodeGroups")], nodeGroups: [group([newer, older])] }));
    assert.equal(hold.kind, "Drain");
    assert.equal(hold.summary, "node node-a (group workers) is draining since 2026-11-29T10:01:00Z: pod payments/api-7d9f stays (and 1 more)");
    assert.equal(hold.detail, "PodDisruptionBudget payments/api allows 0 disruption(s) now");
    assert.equal(hold.command, "kubectl describe pdb api -n payments");
  });

  it("a pod whose eviction is denied is said never to be deleted by the timeout", () => {
    const node = { name: "node-a", phase: "Draining" as const, since: AT, podsLeft: [{ pod: "kube-system/guard-1", heldBy: "eviction denied (HTTP 403): webhook", evictionDenied: true }] };
    const hold = explainHold(upgrade({ phase: "UpgradingNodeGroups", conditions: [condition("Progressing", "True", "UpgradingNodeGroups")], nodeGroups: [group([node])] }));
    assert.match(hold.fix ?? "", /never delete/);
    assert.equal(hold.command, "kubectl describe pod guard-1 -n kube-system");
  });

  it("a blue/green step awaiting approval gives the approve command", () => {
    const hold = explainHold(upgrade({ phase: "ShiftingTraffic", conditions: [condition("TrafficShifted", "False", "AwaitingApproval", "step 2 waits")], cutover: { state: "AwaitingApproval", step: 1, steps: 4, blueWeight: 90, greenWeight: 10, split: "90/10", failures: 0 } }, { strategy: "BlueGreen" }));
    assert.equal(hold.kind, "Approval");
    assert.equal(hold.summary, "traffic step 2 of 4 waits for approval (now 90/10 blue/green)");
    assert.equal(hold.command, "kubectl eksupgrade approve prod -n ops");
  });

  it("a failed hop gives the EKS errors' message and when the operator tries again", () => {
    const hold = explainHold(upgrade({ phase: "Failed", conditions: [condition("ControlPlaneUpgraded", "False", "HopFailed", "1.30: Ec2SubnetInvalidConfiguration")], hops: [{ version: "1.30", from: "1.29", state: "Failed", nextAttemptAt: "2026-11-29T10:30:00Z" }] }));
    assert.equal(hold.kind, "Failure");
    assert.equal(hold.detail, "1.30: Ec2SubnetInvalidConfiguration");
    assert.match(hold.fix ?? "", /tries again at 2026-11-29T10:30:00Z/);
  });

  it("a closed window says when the next one opens", () => {
    const hold = explainHold(upgrade({ phase: "WaitingForWindow", conditions: [condition("MaintenanceWindowOpen", "False", "OutsideWindow", "next window 22:00")], window: { open: false, nextStart: "2026-11-29T22:00:00Z" } }));
    assert.equal(hold.kind, "Window");
    assert.equal(hold.summary, "outside its maintenance windows: the next opens at 2026-11-29T22:00:00Z");
  });

  it("a passing dry run gives the patch that runs it", () => {
    const hold = explainHold(upgrade({ phase: "Planned", conditions: [condition("Ready", "False", "DryRun", "dry run: 2 hop(s)"), condition("PreflightPassed", "True", "ChecksPassed")] }, { dryRun: true }));
    assert.equal(hold.kind, "DryRun");
    assert.equal(hold.command, `kubectl patch clusterupgrade prod -n ops --type merge -p '{"spec":{"dryRun":false}}'`);
  });

  it("a working upgrade and a finished one are held by nothing", () => {
    const working = explainHold(upgrade({ phase: "UpgradingControlPlane", conditions: [condition("Progressing", "True", "UpgradingControlPlane", "hop 1.30 in progress")] }));
    assert.equal(working.kind, "Nothing");
    assert.equal(working.detail, "hop 1.30 in progress");
    const done = explainHold(upgrade({ phase: "Succeeded", currentVersion: "1.31", conditions: [condition("Ready", "True", "Succeeded")] }));
    assert.equal(done.kind, "Done");
    assert.equal(done.summary, "nothing: the cluster runs 1.31 everywhere");
  });

  it("renders the hold as lines: summary, detail, fix and command", () => {
    const subject = upgrade({ phase: "Paused", conditions: [condition("Paused", "True", "UserPaused", "paused by spec.paused")] }, { paused: true });
    assert.equal(renderHold(subject, explainHold(subject)), ["ops/prod (Paused): it is paused (spec.paused)", "  paused by spec.paused", "Fix: resume it", "  kubectl eksupgrade resume prod -n ops"].join("\n"));
  });

  it("inspects Kubernetes resources only, the first of a list", () => {
    assert.equal(inspectCommand("PodDisruptionBudget/payments/ledger,PodDisruptionBudget/payments/ledger-tier"), "kubectl describe pdb ledger -n payments");
    assert.equal(inspectCommand("Node/ip-10-0-1-5"), "kubectl describe node ip-10-0-1-5");
    assert.equal(inspectCommand("subnet-0abc"), undefined);
  });
});
