import assert from "node:assert/strict";
import { compareMinor, minorsBehind, parseMinor, planHops } from "../../../src/api/v1alpha1/version.js";

describe("Kubernetes minor versions", () => {
  it("parses EKS and kubelet version forms", () => {
    assert.deepEqual(parseMinor("1.31"), { major: 1, minor: 31 });
    assert.deepEqual(parseMinor("v1.29.10-eks-94953ac"), { major: 1, minor: 29 });
    assert.throws(() => parseMinor("latest"), /not a Kubernetes version/);
  });

  it("plans one hop per minor, never skipping one", () => {
    assert.deepEqual(planHops("1.29", "1.32"), ["1.30", "1.31", "1.32"]);
    assert.deepEqual(planHops("1.31", "1.31"), []);
    assert.deepEqual(planHops("1.31", "1.30"), []);
  });

  it("compares minors numerically, not as strings", () => {
    assert.ok(compareMinor("1.9", "1.10") < 0);
    assert.equal(minorsBehind("1.28", "1.31"), 3);
    assert.equal(minorsBehind("1.31", "1.28"), 0);
  });
});
