import assert from "node:assert/strict";
import { batchesOf, nextWave, orderForRoll } from "../../../src/drain/batches.js";

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

describe("self-managed roll waves", () => {
  const settings = { originalDesired: 4, originalMin: 4, originalMax: 6, maxSurge: 1, maxUnavailable: 0, maxParallelNodes: 1 };

  it("surges before draining, so capacity never dips below the original with maxUnavailable 0", () => {
    const wave = nextWave(4, settings);
    assert.deepEqual(wave, { surge: 1, drain: 1, size: { min: 4, max: 6, desired: 5 } });
    assert.ok(wave.size.desired - wave.drain >= settings.originalDesired);
  });

  it("drains surge + maxUnavailable nodes at once, bounded by maxParallelNodes, and lowers min so decrements are allowed", () => {
    const wide = { ...settings, maxSurge: 2, maxUnavailable: 1, maxParallelNodes: 10 };
    assert.deepEqual(nextWave(4, wide), { surge: 2, drain: 3, size: { min: 3, max: 6, desired: 6 } });
    assert.deepEqual(nextWave(1, wide), { surge: 1, drain: 1, size: { min: 4, max: 6, desired: 5 } });
    assert.equal(nextWave(4, { ...wide, maxParallelNodes: 2 }).drain, 2);
    // Without surge, one node at a time leaves and comes back when the group is restored.
    assert.deepEqual(nextWave(4, { ...settings, maxSurge: 0, maxUnavailable: 1 }), { surge: 0, drain: 1, size: { min: 3, max: 6, desired: 4 } });
    // max grows when the surge needs room.
    assert.equal(nextWave(4, { ...settings, originalMax: 4, maxSurge: 2 }).size.max, 6);
  });

  it("keeps every wave's capacity at or above original - maxUnavailable", () => {
    for (let surge = 0; surge <= 3; surge++) {
      for (let unavailable = surge === 0 ? 1 : 0; unavailable <= 3; unavailable++) {
        for (let remaining = 1; remaining <= 6; remaining++) {
          const wave = nextWave(remaining, { ...settings, originalDesired: 6, originalMin: 0, maxSurge: surge, maxUnavailable: unavailable, maxParallelNodes: 5 });
          assert.ok(wave.size.desired - wave.drain >= 6 - unavailable, `surge ${surge} unavailable ${unavailable} remaining ${remaining}`);
          assert.ok(wave.drain >= 1 && wave.drain <= remaining);
        }
      }
    }
  });
});
