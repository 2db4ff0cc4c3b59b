// helm and promtool, built from the Go module proxy into the sandbox's cache on first use
// (sandbox/build/build-binaries.sh, which holds the cache's lock), then reused.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildDir, toolPath, type ToolName } from "./config.js";

/**
 * The tool's path, building it first when the cache lacks it (minutes, once per machine and
 * version). Synchronous, so a test's before hook can call it plainly; the build's progress goes to
 * stderr.
 */
export function ensureTool(tool: ToolName): string {
  const path = toolPath(tool);
  if (existsSync(path)) return path;
  try {
    execFileSync("bash", [join(buildDir, "build-binaries.sh"), tool], { stdio: ["ignore", "ignore", "inherit"] });
  } catch (error) {
    throw new Error(`building ${tool} with sandbox/build/build-binaries.sh failed (see its output above): ${(error as Error).message}`, { cause: error });
  }
  if (!existsSync(path)) throw new Error(`sandbox/build/build-binaries.sh ${tool} finished but ${path} is missing`);
  return path;
}
