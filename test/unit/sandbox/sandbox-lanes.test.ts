import assert from "node:assert/strict";
import { assignLanes, judgeLanes } from "../../sandbox-lanes.js";
import type { LaneReport } from "../../support/global-sandbox.js";

function report(files: string[], used: string[], extra: Partial<LaneReport> = {}): LaneReport {
  return { files, filters: [], failed: 0, requests: used.length, used, usedNotGranted: [], denied: [], fileSeconds: {}, ...extra };
}

describe("sandbox suite lanes", () => {
  it("puts every file in exactly one lane, longest first onto the lane that ends soonest", () => {
    const expected = { "a.test.ts": 300, "b.test.ts": 200, "c.test.ts": 150, "d.test.ts": 100 };
    const lanes = assignLanes(["d.test.ts", "c.test.ts", "b.test.ts", "a.test.ts"], 2, expected);
    assert.deepEqual(lanes, [
      ["a.test.ts", "d.test.ts"],
      ["b.test.ts", "c.test.ts"],
    ]);
    assert.deepEqual(lanes.flat().sort(), ["a.test.ts", "b.test.ts", "c.test.ts", "d.test.ts"]);
  });

  it("opens no empty lane when there are fewer files than lanes", () => {
    assert.deepEqual(assignLanes(["only.test.ts"], 3, {}), [["only.test.ts"]]);
  });

  it("judges unused grants over the union of the lanes, as one run over the whole suite would", () => {
    const granted = new Set(["/pods list", "/nodes patch", "/pods/eviction create"]);
    const all = ["one.test.ts", "two.test.ts"];
    assert.deepEqual(judgeLanes([report(["one.test.ts"], ["/pods list", "/nodes patch"]), report(["two.test.ts"], ["/pods/eviction create"])], all, granted), []);
    const problems = judgeLanes([report(["one.test.ts"], ["/pods list"]), report(["two.test.ts"], ["/pods/eviction create"])], all, granted);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /never used by the whole sandbox suite.*\/nodes patch/);
  });

  it("does not judge unused grants when a file ran in no lane or a lane was filtered, and says which", () => {
    const granted = new Set(["/pods list", "/nodes patch"]);
    const partial = judgeLanes([report(["one.test.ts"], ["/pods list"])], ["one.test.ts", "two.test.ts"], granted);
    assert.deepEqual(partial, ["spec files no lane ran (so unused grants cannot be judged): two.test.ts"]);
    assert.deepEqual(judgeLanes([report(["one.test.ts"], ["/pods list"], { filters: ["--grep"] })], ["one.test.ts"], granted), []);
  });

  it("reports what any lane used without a grant and what the API server refused", () => {
    const problems = judgeLanes(
      [report(["one.test.ts"], ["/pods list"], { usedNotGranted: ["/secrets list"] }), report(["two.test.ts"], ["/pods list"], { denied: ["/secrets list in e2e (2x)"] })],
      ["one.test.ts", "two.test.ts"],
      new Set(["/pods list"]),
    );
    assert.deepEqual(problems, ["used but not granted by config/rbac (refused in a real cluster): /secrets list", "refused by the API server (403): /secrets list in e2e (2x)"]);
  });
});
