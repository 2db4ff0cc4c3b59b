// Where a sandbox's "auto" ports come from: a block of 1000 below the kernel's ephemeral range,
// one block per lane of the suite, so that lanes starting together never choose the same port.
import assert from "node:assert/strict";
import { portBlock } from "../../../sandbox/runtime/supervisor.js";

describe("sandbox port blocks", () => {
  it("takes the lane's block from EKSUP_SANDBOX_PORT_BLOCK", () => {
    assert.equal(portBlock("0"), 0);
    assert.equal(portBlock("7"), 7);
  });

  it("draws one of the blocks no lane uses when the variable is unset", () => {
    assert.equal(portBlock(undefined, () => 0), 8);
    assert.equal(portBlock("", () => 0.999), 11);
  });

  it("refuses a block outside the range, naming the variable", () => {
    for (const raw of ["12", "-1", "1.5", "lane"]) assert.throws(() => portBlock(raw), /EKSUP_SANDBOX_PORT_BLOCK must be a whole number from 0 to 11/);
  });
});
