#!/usr/bin/env node
// Entry point of `kubectl eksupgrade`: kubectl runs any executable named kubectl-* on PATH as a
// plugin, and npm links this file (compiled to dist/) as the package's kubectl-eksupgrade bin.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline/promises";
import { fileURLToPath } from "node:url";
import { describeError, EXIT_ERROR, run, type Surroundings } from "./commands.js";
import { parseInvocation } from "./args.js";
import { connect } from "./client.js";

/** The package's version, from the package.json above this file (src/ or dist/src/). */
function packageVersion(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, "package.json");
    if (existsSync(candidate)) return (JSON.parse(readFileSync(candidate, "utf8")) as { version?: string }).version ?? "unknown";
    const parent = dirname(directory);
    if (parent === directory) return "unknown";
    directory = parent;
  }
}

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

const surroundings: Surroundings = {
  connect,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  confirm: process.stdin.isTTY ? confirm : undefined,
  readFile: (path) => readFileSync(path, "utf8"),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  onInterrupt: (cleanup) => {
    const interrupted = (): void => {
      void cleanup().finally(() => process.exit(130));
    };
    process.once("SIGINT", interrupted);
    process.once("SIGTERM", interrupted);
    return () => {
      process.off("SIGINT", interrupted);
      process.off("SIGTERM", interrupted);
    };
  },
  version: packageVersion(),
};

async function main(): Promise<number> {
  let invocation;
  try {
    invocation = parseInvocation(process.argv.slice(2));
  } catch (error) {
    surroundings.err(describeError(error, process.argv[2]));
    return EXIT_ERROR;
  }
  return run(invocation, surroundings);
}

process.exitCode = await main();
