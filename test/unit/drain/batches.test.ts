import assert from "node:assert/strict";
import { batchesOf, orderForRoll } from "../../../src/drain/batches.js";

const nodes = ["a", "b", "c", "d", "e", "f"].map((name, index) => ({ name, uid: `uid-${name}`, zone: ["z1", "z2", "z3"][index % 3] }));

describe("node roll order and batches", () => {
  it("is the same for the same upgrade, whatever the input order", () => {
    const first = orderForRoll(nodes, "upgrade-1").map((node) => node.name);
    const again = orderForRoll([...nodes].reverse(), "upgrade-1").map((node) => node.name);
    assert.deepEqual(first, again);
    assert.deepEqual([...first].sort(), ["a", "b", "c", "d", "e", "f"]);
  });

  it("differs between upgrades, so the same nodes do not always go first", () => {
    const orders = new Set(["u1", "u2", "u3", "u4", "u5", "u6"].map((uid) => orderForRoll(nodes, uid).map((node) => node.name).join("")));
    assert.ok(orders.size > 1);
  });

  it("interleaves zones so a batch spreads across them", () => {
    const zones = orderForRoll(nodes, "upgrade-1").map((node) => node.zone);
    assert.deepEqual(zones.slice(0, 3).sort(), ["z1", "z2", "z3"]);
    assert.deepEqual(zones.slice(3).sort(), ["z1", "z2", "z3"]);
  });

  it("cuts batches of the given size", () => {
    assert.deepEqual(batchesOf([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(batchesOf([1, 2], 0), [[1], [2]]);
  });
});
