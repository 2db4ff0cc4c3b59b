// The project's own Dockerfile rules, checked without a Docker engine. dockerfile-utils catches
// syntax errors; these rules catch what a syntactically fine Dockerfile can still get wrong for a
// production operator image.

/**
 * Oldest Node.js major the image may use: the Active LTS line when this was written (Node 26,
 * "Lithium", LTS from October 2026). Raise it when a newer LTS line is adopted.
 */
export const MINIMUM_NODE_LTS_MAJOR = 26;

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions; comments, parser directives and blank lines are dropped. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const first = lines[index] ?? "";
    if (/^\s*(#|$)/.test(first)) continue;
    const startLine = index + 1;
    let joined = first;
    let continues = /\\\s*$/.test(joined);
    while (continues && index + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, " ");
      index++;
      const next = lines[index] ?? "";
      // A comment inside a continued instruction is dropped and does not end it.
      if (/^\s*#/.test(next)) continue;
      joined += next;
      continues = /\\\s*$/.test(next);
    }
    const match = /^\s*(\S+)\s*(.*)$/.exec(joined);
    if (!match) continue;
    const instruction: Instruction = { keyword: (match[1] ?? "").toUpperCase(), args: (match[2] ?? "").trim(), line: startLine };
    if (instruction.keyword === "FROM") {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith("--"));
      const asIndex = words.findIndex((word) => word.toUpperCase() === "AS");
      stages.push({ image: words[0] ?? "", name: asIndex >= 0 ? words[asIndex + 1] : undefined, instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** The JSON array of an exec-form ENTRYPOINT/CMD, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function nodeMajor(image: string): number | undefined {
  const match = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:[.-]|$|@)/.exec(image);
  return match ? Number(match[1]) : undefined;
}

/**
 * The exact Node.js release of an official node image, e.g. "26.12.1" for
 * node:26.12.1-bookworm-slim (optionally @sha256:...); undefined for a floating tag such as
 * node:26-bookworm-slim, which moves to every new release without a change to the Dockerfile.
 */
export function nodeRelease(image: string): string | undefined {
  const match = /^(?:docker\.io\/)?(?:library\/)?node:(\d+\.\d+\.\d+)(?:-[a-z0-9.-]+)?(?:@sha256:[0-9a-f]{64})?$/.exec(image);
  return match?.[1];
}

function runCommands(stage: Stage): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === "RUN").map((instruction) => instruction.args);
}

/**
 * The final stage runs the bundle (scripts/bundle.ts), which carries every package the operator
 * uses: installing or copying node_modules there only adds files, and dev dependencies with them.
 */
function checkFinalStageHasNoPackages(final: Stage): string[] {
  const problems: string[] = [];
  for (const command of runCommands(final)) {
    if (/\bnpm\s+(ci|install|i|add)\b/.test(command)) problems.push(`the final stage installs packages ("${command}"): the bundle already carries them`);
  }
  for (const instruction of final.instructions) {
    if ((instruction.keyword === "COPY" || instruction.keyword === "ADD") && /\bnode_modules\b/.test(instruction.args)) {
      problems.push(`the final stage copies node_modules (line ${instruction.line}): the bundle already carries the packages`);
    }
  }
  return problems;
}

function checkUser(final: Stage): string[] {
  const user = final.instructions.filter((instruction) => instruction.keyword === "USER").at(-1);
  if (!user) return ["the final stage has no USER: the process would run as root"];
  const [name] = user.args.split(":");
  if (name === undefined || name === "root" || name === "0") return [`the final stage runs as root (USER ${user.args})`];
  // Kubernetes can only verify runAsNonRoot for a numeric user.
  if (!/^\d+$/.test(name)) return [`USER ${user.args} is not numeric: Kubernetes cannot verify runAsNonRoot for a user name`];
  return [];
}

function checkEntrypoint(stages: Stage[], final: Stage, expectedMain: string): string[] {
  const problems: string[] = [];
  for (const stage of stages) {
    for (const instruction of stage.instructions) {
      if ((instruction.keyword === "ENTRYPOINT" || instruction.keyword === "CMD") && !execForm(instruction.args)) {
        problems.push(`${instruction.keyword} on line ${instruction.line} uses the shell form: signals would not reach node`);
      }
    }
  }
  const entrypoint = final.instructions.filter((instruction) => instruction.keyword === "ENTRYPOINT").at(-1);
  const command = entrypoint ? execForm(entrypoint.args) : undefined;
  if (!command) problems.push("the final stage has no exec-form ENTRYPOINT");
  else if (command[0] !== "node" || command[1] !== expectedMain) {
    problems.push(`ENTRYPOINT ${entrypoint?.args ?? ""} does not run node ${expectedMain}`);
  }
  return problems;
}

/** Every rule violation found in the Dockerfile; an empty list means it passes. */
export function checkDockerfile(text: string, expectedMain: string): string[] {
  const stages = parseDockerfile(text);
  const final = stages.at(-1);
  if (!final) return ["no FROM instruction"];
  const problems: string[] = [];
  if (stages.length < 2) problems.push("not a multi-stage build: build tools would end up in the image");
  for (const stage of stages) {
    const major = nodeMajor(stage.image);
    if (major === undefined) problems.push(`stage ${stage.name ?? stage.image} is not based on an official node image`);
    else if (nodeRelease(stage.image) === undefined) {
      problems.push(`${stage.image} is a floating tag: pin an exact release, e.g. node:${major}.x.y-bookworm-slim`);
    } else if (major % 2 !== 0 || major < MINIMUM_NODE_LTS_MAJOR) {
      problems.push(`${stage.image} is not a Node.js LTS line (even major >= ${MINIMUM_NODE_LTS_MAJOR})`);
    }
    for (const command of runCommands(stage)) {
      if (/\bnpm\s+(install|i|add)\b/.test(command)) problems.push(`"${command}" uses npm install: use npm ci for a reproducible install`);
    }
    for (const instruction of stage.instructions) {
      if (instruction.keyword === "ADD" && /https?:\/\//.test(instruction.args)) {
        problems.push(`ADD on line ${instruction.line} downloads from a URL without a checksum`);
      }
    }
  }
  const finalMajor = nodeMajor(final.image);
  if (stages.some((stage) => nodeMajor(stage.image) !== finalMajor)) problems.push("stages use different Node.js majors");
  else if (stages.some((stage) => stage.image !== final.image)) problems.push("stages use different node images: build with the release that runs");
  problems.push(...checkFinalStageHasNoPackages(final));
  problems.push(...checkUser(final));
  problems.push(...checkEntrypoint(stages, final, expectedMain));
  const env = final.instructions.filter((instruction) => instruction.keyword === "ENV").map((instruction) => instruction.args);
  if (!env.some((args) => /\bNODE_ENV[= ]"?production"?/.test(args))) problems.push("the final stage does not set NODE_ENV=production");
  return problems;
}
