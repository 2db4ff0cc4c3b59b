// One full collection after a large read, only when the process exposes gc and the read was large.
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { collectAfterLargeRead, LARGE_READ_OBJECTS } from "../../../src/runtime/garbage.js";

describe("collectAfterLargeRead", () => {
  it("asks for one collection on the next turn after a large read, not before", async () => {
    let collections = 0;
    assert.equal(
      collectAfterLargeRead(LARGE_READ_OBJECTS, () => collections++),
      true,
    );
    assert.equal(collections, 0, "not while the caller's frames still hold the read");
    await nextTurn();
    assert.equal(collections, 1);
  });

  it("leaves a small read to V8, and does nothing without an exposed gc", async () => {
    let collections = 0;
    assert.equal(
      collectAfterLargeRead(LARGE_READ_OBJECTS - 1, () => collections++),
      false,
    );
    assert.equal(collectAfterLargeRead(66_000, undefined), false);
    await nextTurn();
    assert.equal(collections, 0);
  });
});
