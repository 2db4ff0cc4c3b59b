import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { validate } from "dockerfile-utils";
import { checkDockerfile, execForm, parseDockerfile } from "./dockerfile-rules.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const dockerfile = readFileSync(path.join(root, "Dockerfile"), "utf8");
const packageJson = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  main: string;
  scripts: Record<string, string>;
};

describe("Dockerfile", () => {
  it("has no syntax problem that dockerfile-utils reports", () => {
    const diagnostics = validate(dockerfile).map((diagnostic) => {
      const message = typeof diagnostic.message === "string" ? diagnostic.message : diagnostic.message.value;
      return `line ${diagnostic.range.start.line + 1}: ${message}`;
    });
    assert.deepEqual(diagnostics, []);
  });

  it("follows the project's image rules", () => {
    assert.deepEqual(checkDockerfile(dockerfile, packageJson.main), []);
  });

  it("runs the file that package.json names as main, which the build script produces", () => {
    const final = parseDockerfile(dockerfile).at(-1)!;
    const entrypoint = final.instructions.find((instruction) => instruction.keyword === "ENTRYPOINT")!;
    assert.deepEqual(execForm(entrypoint.args), ["node", "dist/src/main.js"]);
    assert.equal(packageJson.main, "dist/src/main.js");
    assert.match(packageJson.scripts.build ?? "", /tsc -p tsconfig\.build\.json/);
  });

  it("copies the compiled code from the stage that builds it, and package.json for the module type", () => {
    const stages = parseDockerfile(dockerfile);
    const final = stages.at(-1)!;
    const copyDist = final.instructions.find((instruction) => instruction.keyword === "COPY" && /\bdist\b/.test(instruction.args));
    assert.ok(copyDist, "the final stage does not copy dist/");
    const from = /--from=(\S+)/.exec(copyDist.args)?.[1];
    const builder = stages.find((stage) => stage.name === from);
    assert.ok(builder, `dist/ comes from an unknown stage ${from}`);
    assert.ok(builder.instructions.some((instruction) => instruction.keyword === "RUN" && /npm run build/.test(instruction.args)));
    assert.ok(final.instructions.some((instruction) => instruction.keyword === "COPY" && /\bpackage\.json\b/.test(instruction.args)));
  });

  it("exposes the port of the health and metrics server", () => {
    const final = parseDockerfile(dockerfile).at(-1)!;
    const exposed = final.instructions.filter((instruction) => instruction.keyword === "EXPOSE").flatMap((instruction) => instruction.args.split(/\s+/));
    assert.deepEqual(exposed, ["8080"]);
  });

  it("keeps local state, tests and docs out of the build context", () => {
    const ignored = readFileSync(path.join(root, ".dockerignore"), "utf8")
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
    for (const entry of ["node_modules", ".sandbox", "dist", "test", "docs", ".git"]) {
      assert.ok(ignored.includes(entry), `.dockerignore lacks ${entry}`);
    }
    for (const needed of ["src", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"]) {
      assert.ok(!ignored.includes(needed), `.dockerignore excludes ${needed}, which the build needs`);
    }
  });
});

describe("Dockerfile rules", () => {
  const good = [
    "# syntax=docker/dockerfile:1",
    "FROM node:26-bookworm-slim AS build",
    "RUN npm ci",
    "RUN npm run build",
    "FROM node:26-bookworm-slim",
    "ENV NODE_ENV=production",
    "RUN npm ci --omit=dev \\",
    "    && npm cache clean --force",
    "COPY --from=build /app/dist ./dist",
    "USER 65532:65532",
    'ENTRYPOINT ["node", "dist/src/main.js"]',
  ].join("\n");

  function variant(from: string, to: string): string {
    assert.ok(good.includes(from), `the base Dockerfile has no "${from}"`);
    return good.replace(from, to);
  }

  it("accepts the reference Dockerfile", () => {
    assert.deepEqual(checkDockerfile(good, "dist/src/main.js"), []);
  });

  const refusals: { name: string; dockerfile: () => string; expected: RegExp }[] = [
    {
      name: "a single stage",
      dockerfile: () => good.split("\n").filter((line) => !/AS build|npm run build|^RUN npm ci$|--from=build/.test(line)).join("\n"),
      expected: /not a multi-stage build/,
    },
    { name: "an odd (non-LTS) Node major", dockerfile: () => good.replaceAll("node:26-", "node:25-"), expected: /not a Node\.js LTS line/ },
    { name: "an LTS line older than the minimum", dockerfile: () => good.replaceAll("node:26-", "node:22-"), expected: /not a Node\.js LTS line/ },
    { name: "an unpinned image", dockerfile: () => variant("FROM node:26-bookworm-slim\n", "FROM node:latest\n"), expected: /pinned to a major version/ },
    { name: "npm install", dockerfile: () => variant("RUN npm ci\n", "RUN npm install\n"), expected: /uses npm install/ },
    { name: "dev dependencies in the runtime stage", dockerfile: () => variant("npm ci --omit=dev", "npm ci"), expected: /lacks --omit=dev|must install production dependencies/ },
    { name: "no USER", dockerfile: () => variant("USER 65532:65532\n", ""), expected: /no USER/ },
    { name: "USER root", dockerfile: () => variant("USER 65532:65532", "USER root"), expected: /runs as root/ },
    { name: "USER 0", dockerfile: () => variant("USER 65532:65532", "USER 0:0"), expected: /runs as root/ },
    { name: "a user name", dockerfile: () => variant("USER 65532:65532", "USER node"), expected: /not numeric/ },
    { name: "a shell-form ENTRYPOINT", dockerfile: () => variant('ENTRYPOINT ["node", "dist/src/main.js"]', "ENTRYPOINT node dist/src/main.js"), expected: /shell form/ },
    { name: "another entry file", dockerfile: () => variant('"dist/src/main.js"]', '"dist/main.js"]'), expected: /does not run node dist\/src\/main\.js/ },
    { name: "no NODE_ENV", dockerfile: () => variant("ENV NODE_ENV=production\n", ""), expected: /NODE_ENV=production/ },
    { name: "a download through ADD", dockerfile: () => variant("USER 65532", "ADD https://example.com/tool /usr/local/bin/tool\nUSER 65532"), expected: /downloads from a URL/ },
    {
      name: "node_modules copied from a stage with dev dependencies",
      dockerfile: () => variant("RUN npm ci --omit=dev \\\n    && npm cache clean --force", "COPY --from=build /app/node_modules ./node_modules"),
      expected: /copies node_modules from a stage that did not run npm ci --omit=dev/,
    },
  ];

  for (const refusal of refusals) {
    it(`refuses ${refusal.name}`, () => {
      const problems = checkDockerfile(refusal.dockerfile(), "dist/src/main.js");
      assert.ok(problems.some((problem) => refusal.expected.test(problem)), `expected ${String(refusal.expected)}, got ${JSON.stringify(problems)}`);
    });
  }

  it("joins continuation lines and skips comments inside them", () => {
    const [stage] = parseDockerfile("FROM node:26-bookworm-slim\nRUN a \\\n  # note\n  && b\n");
    assert.deepEqual(stage?.instructions.map((instruction) => instruction.args.replace(/\s+/g, " ")), ["a && b"]);
  });
});
