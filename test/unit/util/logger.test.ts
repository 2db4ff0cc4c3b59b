import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { createLogger, forClusterUpgrade, resolveLogLevel } from "../../../src/util/logger.js";

describe("logger", () => {
  it("writes JSON lines carrying the ClusterUpgrade key from a child logger", async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
    const root = createLogger({ stream, level: "info", defaultMeta: { component: "test" } });
    forClusterUpgrade(root, "team-a", "prod-eu").info("control plane update started", { updateId: "u-1" });
    root.debug("not shown at info");
    await new Promise((resolve) => setImmediate(resolve));
    const lines = chunks.join("").split("\n").filter(Boolean);
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(line.clusterUpgrade, "team-a/prod-eu");
    assert.equal(line.message, "control plane update started");
    assert.equal(line.updateId, "u-1");
    assert.equal(line.component, "test");
    assert.equal(line.level, "info");
    assert.equal(typeof line.timestamp, "string");
  });

  it("takes the level from LOG_LEVEL and refuses unknown levels", () => {
    assert.equal(resolveLogLevel(undefined), "info");
    assert.equal(resolveLogLevel(" DEBUG "), "debug");
    assert.throws(() => resolveLogLevel("loud"), /unknown log level "loud"/);
  });
});
