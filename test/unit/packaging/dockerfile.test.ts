import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { validate } from "dockerfile-utils";
import { OPERATOR_BUNDLE_MAIN } from "../../../scripts/bundle.js";
import { checkDockerfile, execForm, nodeRelease, parseDockerfile } from "./dockerfile-rules.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const dockerfile = readFileSync(path.join(root, "Dockerfile"), "utf8");
const packageJson = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  main: string;
  scripts: Record<string, string>;
  engines?: { node?: string };
};

/** Whether a release such as "26.12.1" meets a lower bound such as ">=22" or ">=22.12.0", the only form package.json uses. */
function meetsLowerBound(release: string, range: string): boolean {
  const bound = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  assert.ok(bound, `engines.node "${range}" is not a single ">=" bound; extend this check if a range is really needed`);
  const wanted = bound.slice(1).map((part) => Number(part ?? 0));
  const actual = release.split(".").map(Number);
  for (let index = 0; index < 3; index++) {
    if ((actual[index] ?? 0) !== wanted[index]) return (actual[index] ?? 0) > (wanted[index] ?? 0);
  }
  return true;
}

describe("Dockerfile", () => {
  it("has no syntax problem that dockerfile-utils reports", () => {
    const diagnostics = validate(dockerfile).map((diagnostic) => {
      const message = typeof diagnostic.message === "string" ? diagnostic.message : diagnostic.message.value;
      return `line ${diagnostic.range.start.line + 1}: ${message}`;
    });
    assert.deepEqual(diagnostics, []);
  });

  it("follows the project's image rules", () => {
    assert.deepEqual(checkDockerfile(dockerfile, OPERATOR_BUNDLE_MAIN), []);
  });

  it("runs a Node.js release that package.json's engines allows, and the one docs/install.md names", () => {
    const final = parseDockerfile(dockerfile).at(-1)!;
    const release = nodeRelease(final.image);
    assert.ok(release, `${final.image} is not pinned to an exact release`);
    assert.ok(packageJson.engines?.node, "package.json has no engines.node");
    assert.ok(meetsLowerBound(release, packageJson.engines.node), `the image runs Node.js ${release}, which engines.node "${packageJson.engines.node}" excludes`);
    const installDoc = readFileSync(path.join(root, "docs/install.md"), "utf8");
    assert.ok(installDoc.includes(final.image.replace(/@sha256:.*$/, "")), `docs/install.md does not name the base image ${final.image}`);
  });

  it("reads engines bounds the way npm does", () => {
    assert.equal(meetsLowerBound("26.12.1", ">=22"), true);
    assert.equal(meetsLowerBound("22.0.0", ">=22"), true);
    assert.equal(meetsLowerBound("20.19.5", ">=22"), false);
    assert.equal(meetsLowerBound("22.11.9", ">=22.12.0"), false);
    assert.equal(meetsLowerBound("22.12.0", ">=22.12"), true);
    assert.throws(() => meetsLowerBound("22.12.0", "^22 || ^24"), /not a single ">=" bound/);
  });

  it("runs the operator bundle, which the build script produces after compiling", () => {
    const final = parseDockerfile(dockerfile).at(-1)!;
    const entrypoint = final.instructions.find((instruction) => instruction.keyword === "ENTRYPOINT")!;
    assert.deepEqual(execForm(entrypoint.args), ["node", "dist/operator/main.js"]);
    assert.equal(OPERATOR_BUNDLE_MAIN, "dist/operator/main.js");
    assert.match(packageJson.scripts.build ?? "", /^tsc -p tsconfig\.build\.json && node --import tsx scripts\/bundle\.ts$/);
  });

  it("copies the bundle, and nothing else, from the stage that builds it", () => {
    const stages = parseDockerfile(dockerfile);
    const final = stages.at(-1)!;
    const copies = final.instructions.filter((instruction) => instruction.keyword === "COPY" || instruction.keyword === "ADD");
    assert.deepEqual(
      copies.map((instruction) => instruction.args.replace(/--from=\S+\s+/, "")),
      ["/app/dist/operator ./dist/operator"],
    );
    const from = /--from=(\S+)/.exec(copies[0].args)?.[1];
    const builder = stages.find((stage) => stage.name === from);
    assert.ok(builder, `the bundle comes from an unknown stage ${from}`);
    assert.ok(builder.instructions.some((instruction) => instruction.keyword === "RUN" && /npm run build/.test(instruction.args)));
    assert.ok(builder.instructions.some((instruction) => instruction.keyword === "COPY" && /scripts\/bundle\.ts/.test(instruction.args)), "the build stage lacks scripts/bundle.ts");
    // The packages inside the bundle are invisible to scanners that read node_modules: their SBOM
    // travels with it, made as docs/install.md makes the release's.
    assert.ok(
      builder.instructions.some((instruction) => instruction.keyword === "RUN" && /npm sbom --sbom-format cyclonedx --omit dev --package-lock-only > dist\/operator\/eks-upgrade-operator\.cdx\.json/.test(instruction.args)),
      "the build stage does not put the SBOM next to the bundle",
    );
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
    // scripts/ is left out except the bundler the build runs; the exception must follow the exclusion.
    assert.ok(ignored.indexOf("!scripts/bundle.ts") > ignored.indexOf("scripts"), ".dockerignore leaves out scripts/bundle.ts, which the build runs");
  });
});

describe("Dockerfile rules", () => {
  const good = [
    "# syntax=docker/dockerfile:1",
    "FROM node:26.12.1-bookworm-slim AS build",
    "RUN npm ci",
    "RUN npm run build",
    "FROM node:26.12.1-bookworm-slim",
    "ENV NODE_ENV=production",
    "COPY --from=build /app/dist/operator ./dist/operator",
    "USER 65532:65532",
    'ENTRYPOINT ["node", "dist/operator/main.js"]',
  ].join("\n");

  function variant(from: string, to: string): string {
    assert.ok(good.includes(from), `the base Dockerfile has no "${from}"`);
    return good.replace(from, to);
  }

  it("accepts the reference Dockerfile", () => {
    assert.deepEqual(checkDockerfile(good, OPERATOR_BUNDLE_MAIN), []);
  });

  const refusals: { name: string; dockerfile: () => string; expected: RegExp }[] = [
    {
      name: "a single stage",
      dockerfile: () => good.split("\n").filter((line) => !/AS build|npm run build|^RUN npm ci$|--from=build/.test(line)).join("\n"),
      expected: /not a multi-stage build/,
    },
    { name: "an odd (non-LTS) Node major", dockerfile: () => good.replaceAll("node:26.12.1-", "node:25.9.0-"), expected: /not a Node\.js LTS line/ },
    { name: "an LTS line older than the minimum", dockerfile: () => good.replaceAll("node:26.12.1-", "node:22.23.5-"), expected: /not a Node\.js LTS line/ },
    { name: "a floating major tag", dockerfile: () => good.replaceAll("node:26.12.1-", "node:26-"), expected: /node:26-bookworm-slim is a floating tag: pin an exact release/ },
    { name: "a floating variant tag", dockerfile: () => good.replaceAll("node:26.12.1-bookworm-slim", "node:lts-bookworm-slim"), expected: /not based on an official node image/ },
    { name: "an unpinned image", dockerfile: () => variant("FROM node:26.12.1-bookworm-slim\n", "FROM node:latest\n"), expected: /not based on an official node image/ },
    { name: "a build stage on another release", dockerfile: () => variant("node:26.12.1-bookworm-slim AS build", "node:26.11.0-bookworm-slim AS build"), expected: /stages use different node images/ },
    { name: "npm install", dockerfile: () => variant("RUN npm ci\n", "RUN npm install\n"), expected: /uses npm install/ },
    { name: "an install in the runtime stage", dockerfile: () => variant("USER 65532", "RUN npm ci --omit=dev\nUSER 65532"), expected: /the final stage installs packages \("npm ci --omit=dev"\)/ },
    { name: "no USER", dockerfile: () => variant("USER 65532:65532\n", ""), expected: /no USER/ },
    { name: "USER root", dockerfile: () => variant("USER 65532:65532", "USER root"), expected: /runs as root/ },
    { name: "USER 0", dockerfile: () => variant("USER 65532:65532", "USER 0:0"), expected: /runs as root/ },
    { name: "a user name", dockerfile: () => variant("USER 65532:65532", "USER node"), expected: /not numeric/ },
    { name: "a shell-form ENTRYPOINT", dockerfile: () => variant('ENTRYPOINT ["node", "dist/operator/main.js"]', "ENTRYPOINT node dist/operator/main.js"), expected: /shell form/ },
    { name: "the unbundled entry file", dockerfile: () => variant('"dist/operator/main.js"]', '"dist/src/main.js"]'), expected: /does not run node dist\/operator\/main\.js/ },
    { name: "no NODE_ENV", dockerfile: () => variant("ENV NODE_ENV=production\n", ""), expected: /NODE_ENV=production/ },
    { name: "a download through ADD", dockerfile: () => variant("USER 65532", "ADD https://example.com/tool /usr/local/bin/tool\nUSER 65532"), expected: /downloads from a URL/ },
    {
      name: "node_modules copied into the runtime stage",
      dockerfile: () => variant("USER 65532", "COPY --from=build /app/node_modules ./node_modules\nUSER 65532"),
      expected: /the final stage copies node_modules \(line 8\)/,
    },
  ];

  for (const refusal of refusals) {
    it(`refuses ${refusal.name}`, () => {
      const problems = checkDockerfile(refusal.dockerfile(), OPERATOR_BUNDLE_MAIN);
      assert.ok(problems.some((problem) => refusal.expected.test(problem)), `expected ${String(refusal.expected)}, got ${JSON.stringify(problems)}`);
    });
  }

  it("accepts a release pinned by digest as well", () => {
    const digest = "a".repeat(64);
    assert.deepEqual(checkDockerfile(good.replaceAll("node:26.12.1-bookworm-slim", `node:26.12.1-bookworm-slim@sha256:${digest}`), OPERATOR_BUNDLE_MAIN), []);
    assert.equal(nodeRelease(`node:26.12.1-bookworm-slim@sha256:${digest}`), "26.12.1");
    assert.equal(nodeRelease("node:26-bookworm-slim@sha256:" + digest), undefined);
  });

  it("joins continuation lines and skips comments inside them", () => {
    const [stage] = parseDockerfile("FROM node:26-bookworm-slim\nRUN a \\\n  # note\n  && b\n");
    assert.deepEqual(stage?.instructions.map((instruction) => instruction.args.replace(/\s+/g, " ")), ["a && b"]);
  });
});
