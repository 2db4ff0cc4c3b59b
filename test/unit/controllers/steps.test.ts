import assert from "node:assert/strict";
import { chooseAddonVersion, compareAddonVersions, orderAddons } from "../../../src/controllers/clusterupgrade/steps/addons.js";
import { orderNodeGroups } from "../../../src/controllers/clusterupgrade/steps/nodegroups.js";
import { failureBackoffMs, remediationFor } from "../../../src/controllers/clusterupgrade/steps/tracked-update.js";
import { derivePhase, describeProgress, endingConditions, errorReason, readyWhileRunning } from "../../../src/controllers/clusterupgrade/status.js";
import { classifyAwsError, classifyKubeError } from "../../../src/util/classify.js";
import { TimedOutError } from "../../../src/util/errors.js";
import type { Condition } from "../../../src/api/v1alpha1/types.js";

describe("add-on version choice", () => {
  const versions = [
    { version: "v1.19.0-eksbuild.1", isDefault: true },
    { version: "v1.19.2-eksbuild.3", isDefault: false },
    { version: "v1.18.9-eksbuild.1", isDefault: false },
  ];

  it("compares eksbuild versions numerically", () => {
    assert.ok(compareAddonVersions("v1.19.10-eksbuild.1", "v1.19.9-eksbuild.2") > 0);
    assert.equal(compareAddonVersions("v1.19.0-eksbuild.1", "v1.19.0-eksbuild.1"), 0);
  });

  it("takes the default, the latest, or a compatible pin", () => {
    assert.equal(chooseAddonVersion(versions, "Default"), "v1.19.0-eksbuild.1");
    assert.equal(chooseAddonVersion(versions, "Latest"), "v1.19.2-eksbuild.3");
    assert.equal(chooseAddonVersion(versions, "Default", "v1.18.9-eksbuild.1"), "v1.18.9-eksbuild.1");
    assert.equal(chooseAddonVersion(versions, "Default", "v1.17.0-eksbuild.1"), undefined);
    assert.equal(chooseAddonVersion([], "Default"), undefined);
  });

  it("updates the network plugin first, then DNS, then the rest by name", () => {
    assert.deepEqual(orderAddons(["aws-ebs-csi-driver", "coredns", "snapshot-controller", "vpc-cni"]), ["vpc-cni", "coredns", "aws-ebs-csi-driver", "snapshot-controller"]);
  });
});

describe("node group order", () => {
  it("follows spec order, then the rest by name, never the excluded", () => {
    assert.deepEqual(orderNodeGroups(["c", "a", "b", "d", "x"], ["d", "missing", "b"], ["x"]), { ordered: ["d", "b", "a", "c"], unordered: ["a", "c"] });
  });
});

describe("failed update handling", () => {
  it("backs off exponentially up to a cap", () => {
    assert.deepEqual([1, 2, 3, 10].map((attempt) => failureBackoffMs(attempt, 60_000, 900_000)), [60_000, 120_000, 240_000, 900_000]);
  });

  it("tells the user what to do for EKS's error codes", () => {
    assert.match(remediationFor([{ errorCode: "SubnetNotFound", errorMessage: "" }]), /restore the subnets/);
    assert.match(remediationFor([{ errorCode: "PodEvictionFailure", errorMessage: "" }]), /PodDisruptionBudgets/);
  });
});

describe("phase and progress", () => {
  const condition = (type: string, status: "True" | "False" | "Unknown", reason: string): Condition => ({ type, status, reason, message: "", lastTransitionTime: "2026-11-22T00:00:00Z" });

  it("derives the phase from the conditions", () => {
    assert.equal(derivePhase({ conditions: [condition("Ready", "True", "Succeeded")] }), "Succeeded");
    assert.equal(derivePhase({ conditions: [condition("SpecValid", "False", "InvalidSpec")] }), "InvalidSpec");
    assert.equal(derivePhase({ conditions: [condition("PreflightPassed", "False", "BlockingFindings")] }), "Blocked");
    assert.equal(derivePhase({ conditions: [condition("PreflightPassed", "True", "ChecksPassed"), condition("Progressing", "True", "UpgradingNodeGroups")] }), "UpgradingNodeGroups");
    assert.equal(derivePhase({ conditions: [condition("PreflightPassed", "True", "ChecksPassed"), condition("MaintenanceWindowOpen", "False", "OutsideWindow"), condition("Progressing", "True", "UpgradingAddons")] }), "WaitingForWindow");
    assert.equal(derivePhase({ conditions: [condition("Paused", "True", "UserPaused"), condition("PreflightPassed", "False", "BlockingFindings")] }), "Paused");
    assert.equal(derivePhase({ conditions: [] }), "Preflight");
  });

  it("summarises progress for the printer column", () => {
    assert.equal(
      describeProgress({
        hops: [{ from: "1.29", version: "1.30", state: "Succeeded" }, { from: "1.30", version: "1.31", state: "InProgress" }],
        nodeGroups: [{ name: "a", kind: "Managed", total: 3, upgraded: 3, inFlight: 0, state: "Succeeded" }, { name: "b", kind: "Managed", total: 4, upgraded: 0, inFlight: 1, state: "InProgress" }],
      }),
      "cp 1/2, nodes 3/7",
    );
  });

  it("counts a control-plane hop as done once its hop has moved past the control plane", () => {
    assert.equal(
      describeProgress({
        hops: [
          { from: "1.29", version: "1.30", state: "Succeeded", stage: "Done" },
          { from: "1.30", version: "1.31", state: "InProgress", stage: "Addons" },
        ],
      }),
      "cp 2/2",
    );
    assert.equal(describeProgress({ hops: [{ from: "1.31", version: "1.31", state: "InProgress", stage: "Addons" }] }), "");
  });
});

describe("the summary conditions", () => {
  const condition = (type: string, status: "True" | "False" | "Unknown", reason: string, message = ""): Condition => ({ type, status, reason, message, lastTransitionTime: "2026-11-22T00:00:00Z" });

  it("ends with Ready and Progressing together, Ready True only on success", () => {
    const [ready, progressing] = endingConditions("Succeeded", "cluster c runs 1.31");
    assert.deepEqual(ready, { type: "Ready", status: "True", reason: "Succeeded", message: "cluster c runs 1.31" });
    assert.equal(progressing.status, "False");
    assert.equal(progressing.reason, "Succeeded");
    for (const ending of ["Aborted", "RolledBack", "RollbackRefused", "DryRun"] as const) {
      const [endReady, endProgressing] = endingConditions(ending, "why");
      assert.equal(endReady.status, "False", ending);
      assert.equal(endReady.reason, ending);
      assert.equal(endProgressing.reason, ending);
    }
    assert.match(endingConditions("Aborted", "aborted at 1.30", "Released: group a.")[1].message, /nothing more is changed\. Released: group a\.$/);
  });

  it("keeps Ready as every ending wrote it, a refused rollback included", () => {
    for (const reason of ["Succeeded", "Aborted", "RolledBack", "RollbackRefused", "DryRun"]) {
      const status = reason === "Succeeded" ? "True" : "False";
      assert.equal(readyWhileRunning({ conditions: [condition("Ready", status, reason), condition("RolledBack", "False", "RollbackRefused", "too late")] }, "1.31", undefined), undefined, reason);
    }
  });

  it("names what holds a running upgrade, and the kind of error that ended the pass", () => {
    const conditions = [condition("Ready", "False", "Reconciling"), condition("Paused", "False", "Resumed"), condition("PreflightPassed", "False", "BlockingFindings", "2 blocking findings")];
    assert.deepEqual(readyWhileRunning({ conditions }, "1.31", undefined), { type: "Ready", status: "False", reason: "Reconciling", message: "PreflightPassed: 2 blocking findings" });
    assert.equal(readyWhileRunning({ conditions }, "1.31", "Throttled")?.reason, "Throttled");
    assert.equal(readyWhileRunning({ conditions: [] }, "1.31", undefined)?.message, "upgrading to 1.31");
  });
});

describe("the reason a failed pass gives", () => {
  const aws = (name: string, status: number): Error => Object.assign(new Error(`${name} happened`), { name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status } });

  it("names the kind of failure, whichever service it came from, through wrapping", () => {
    const cases: [unknown, string][] = [
      [classifyAwsError(aws("ThrottlingException", 429), "DescribeCluster"), "Throttled"],
      [classifyKubeError({ code: 429, body: { message: "too many requests" } }, "listing pods"), "Throttled"],
      [classifyAwsError(aws("ServiceUnavailableException", 503), "DescribeUpdate"), "ServiceUnavailable"],
      [classifyAwsError(aws("AccessDeniedException", 403), "UpdateClusterVersion"), "AccessDenied"],
      [classifyKubeError({ code: 403, body: { message: "forbidden" } }, "evicting a pod"), "AccessDenied"],
      [classifyAwsError(aws("ResourceNotFoundException", 404), "DescribeNodegroup"), "NotFound"],
      [classifyAwsError(aws("InvalidParameterException", 400), "UpdateNodegroupVersion"), "RequestRefused"],
      [new Error("reading node groups", { cause: classifyAwsError(aws("ThrottlingException", 429), "ListNodegroups") }), "Throttled"],
      [new TimedOutError("describing EKS cluster prod: timed out after 60 s"), "TimedOut"],
      [new TypeError("x is undefined"), "UnexpectedError"],
      ["a thrown string", "UnexpectedError"],
    ];
    for (const [error, reason] of cases) assert.equal(errorReason(error), reason, String(error));
  });
});
