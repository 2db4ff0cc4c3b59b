import assert from "node:assert/strict";
import {
  PENDING_REASON,
  conditionsEqual,
  ensureConditions,
  formatConditionTime,
  getCondition,
  isFalse,
  isTrue,
  isUnknown,
  removeCondition,
  setCondition,
  MAX_MESSAGE_LENGTH,
  type Condition,
} from "../../../src/kube/conditions.js";
import { ValidationError } from "../../../src/util/errors.js";

const t0 = new Date("2025-03-01T10:00:00.123Z");
const t1 = new Date("2025-03-01T10:05:00.000Z");
const t2 = new Date("2025-03-01T10:09:00.000Z");

describe("conditions", () => {
  it("adds a new condition with lastTransitionTime at second precision", () => {
    const list = setCondition([], { type: "Ready", status: "False", reason: "Upgrading", message: "hop 1/2", observedGeneration: 3 }, t0);
    assert.deepEqual(list, [
      { type: "Ready", status: "False", reason: "Upgrading", message: "hop 1/2", observedGeneration: 3, lastTransitionTime: "2025-03-01T10:00:00Z" },
    ]);
  });

  it("keeps lastTransitionTime when only reason, message or generation change", () => {
    const first = setCondition([], { type: "Ready", status: "False", reason: "Upgrading", message: "hop 1/2", observedGeneration: 1 }, t0);
    const second = setCondition(first, { type: "Ready", status: "False", reason: "DrainingNodes", message: "hop 2/2", observedGeneration: 2 }, t1);
    const ready = getCondition(second, "Ready")!;
    assert.equal(ready.lastTransitionTime, "2025-03-01T10:00:00Z");
    assert.equal(ready.reason, "DrainingNodes");
    assert.equal(ready.message, "hop 2/2");
    assert.equal(ready.observedGeneration, 2);
  });

  it("moves lastTransitionTime when the status changes", () => {
    let list = setCondition([], { type: "Ready", status: "False", reason: "Upgrading", message: "" }, t0);
    list = setCondition(list, { type: "Ready", status: "True", reason: "Succeeded", message: "done" }, t1);
    assert.equal(getCondition(list, "Ready")!.lastTransitionTime, "2025-03-01T10:05:00Z");
    list = setCondition(list, { type: "Ready", status: "True", reason: "Succeeded", message: "still done" }, t2);
    assert.equal(getCondition(list, "Ready")!.lastTransitionTime, "2025-03-01T10:05:00Z");
  });

  it("does not mutate its input and keeps the order of existing conditions", () => {
    const original: Condition[] = [
      { type: "A", status: "True", reason: "Fine", message: "", lastTransitionTime: "2025-01-01T00:00:00Z" },
      { type: "B", status: "True", reason: "Fine", message: "", lastTransitionTime: "2025-01-01T00:00:00Z" },
    ];
    const frozen = structuredClone(original);
    const updated = setCondition(original, { type: "A", status: "False", reason: "Broken", message: "x" }, t0);
    assert.deepEqual(original, frozen);
    assert.deepEqual(updated.map((condition) => condition.type), ["A", "B"]);
    assert.deepEqual(setCondition(updated, { type: "C", status: "True", reason: "Fine", message: "" }, t0).map((c) => c.type), ["A", "B", "C"]);
  });

  it("refuses reasons that are not CamelCase", () => {
    for (const reason of ["", "upgrading", "Node drain", "Waiting_For_PDB", "Bad-Reason", "Ready!"]) {
      assert.throws(() => setCondition([], { type: "Ready", status: "False", reason, message: "" }, t0), ValidationError, reason);
    }
    for (const reason of ["Upgrading", "PDBBlocked", "Hop2Started"]) {
      assert.doesNotThrow(() => setCondition([], { type: "Ready", status: "False", reason, message: "" }, t0));
    }
  });

  it("refuses invalid statuses and types", () => {
    assert.throws(() => setCondition([], { type: "Ready", status: "Maybe" as never, reason: "Fine", message: "" }, t0), ValidationError);
    assert.throws(() => setCondition([], { type: "has space", status: "True", reason: "Fine", message: "" }, t0), ValidationError);
    assert.throws(() => setCondition([], { type: "Ready", status: "True", reason: "Fine", message: "", observedGeneration: -1 }, t0), ValidationError);
  });

  it("cuts messages the API server would refuse", () => {
    const list = setCondition([], { type: "Ready", status: "False", reason: "Blocked", message: "x".repeat(MAX_MESSAGE_LENGTH + 10) }, t0);
    assert.equal(list[0].message.length, MAX_MESSAGE_LENGTH);
    assert.ok(list[0].message.endsWith("..."));
  });

  it("ensureConditions adds missing known types as Unknown/Pending and leaves present ones alone", () => {
    const existing = setCondition([], { type: "Ready", status: "False", reason: "Upgrading", message: "m" }, t0);
    const list = ensureConditions(existing, ["SpecValid", "Ready", "PreflightPassed"], t1, 4);
    assert.deepEqual(list.map((condition) => condition.type), ["Ready", "SpecValid", "PreflightPassed"]);
    assert.deepEqual(getCondition(list, "Ready"), existing[0]);
    const specValid = getCondition(list, "SpecValid")!;
    assert.equal(specValid.status, "Unknown");
    assert.equal(specValid.reason, PENDING_REASON);
    assert.equal(specValid.observedGeneration, 4);
    assert.equal(specValid.lastTransitionTime, "2025-03-01T10:05:00Z");
    assert.deepEqual(ensureConditions(list, ["SpecValid", "Ready", "PreflightPassed"], t2, 5), list, "a second call changes nothing");
  });

  it("answers isTrue/isFalse/isUnknown, treating a missing condition as Unknown", () => {
    let list = setCondition([], { type: "A", status: "True", reason: "Fine", message: "" }, t0);
    list = setCondition(list, { type: "B", status: "False", reason: "Broken", message: "" }, t0);
    list = setCondition(list, { type: "C", status: "Unknown", reason: "Pending", message: "" }, t0);
    assert.deepEqual([isTrue(list, "A"), isFalse(list, "A"), isUnknown(list, "A")], [true, false, false]);
    assert.deepEqual([isTrue(list, "B"), isFalse(list, "B"), isUnknown(list, "B")], [false, true, false]);
    assert.deepEqual([isTrue(list, "C"), isFalse(list, "C"), isUnknown(list, "C")], [false, false, true]);
    assert.deepEqual([isTrue(list, "Missing"), isFalse(list, "Missing"), isUnknown(list, "Missing")], [false, false, true]);
    assert.equal(isTrue(undefined, "A"), false);
  });

  it("conditionsEqual ignores order and sees every field", () => {
    const a = setCondition(setCondition([], { type: "A", status: "True", reason: "Fine", message: "" }, t0), { type: "B", status: "False", reason: "Broken", message: "" }, t0);
    const reversed = [a[1], a[0]];
    assert.equal(conditionsEqual(a, reversed), true);
    assert.equal(conditionsEqual(a, setCondition(a, { type: "A", status: "True", reason: "Fine", message: "changed" }, t0)), false);
    assert.equal(conditionsEqual(a, setCondition(a, { type: "A", status: "True", reason: "Fine", message: "" }, t1)), true, "re-setting the same values is a no-op");
    assert.equal(conditionsEqual(a, removeCondition(a, "B")), false);
    assert.equal(conditionsEqual(undefined, []), true);
  });

  it("formats times like metav1.Time", () => {
    assert.equal(formatConditionTime(new Date("2025-12-31T23:59:59.999Z")), "2025-12-31T23:59:59Z");
  });
});
