// The production bundle, built the way the image builds it, in a directory that has never seen a
// dev dependency: `npm pack` of the compiled package, unpacked, `npm ci --omit=dev` against the
// lockfile, then `node dist/src/main.js`. Every module the operator imports is loaded before
// main() runs (static ESM imports), so reaching main()'s configuration error proves that nothing
// at run time still needs typescript, tsx or another dev dependency. The install uses the npm
// cache first and the registry for whatever the cache lacks.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const run = promisify(execFile);
const packageJson = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  name: string;
  version: string;
  main: string;
  dependencies: Record<string, string>;
};
/** Install locations (node_modules/...) that only dev dependencies need, as the lockfile records them. */
const devOnly = Object.entries(
  (JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> }).packages,
)
  .filter(([, entry]) => entry.dev === true)
  .map(([location]) => location);
const npmQuiet = ["--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"];

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end and hands back its exit code and output instead of throwing on failure. */
async function finish(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout: number }): Promise<Finished> {
  try {
    const { stdout, stderr } = await run(command, args, { ...options, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string; killed?: boolean };
    if (failed.killed) throw new Error(`${command} ${args.join(" ")} timed out after ${options.timeout} ms`);
    return { code: typeof failed.code === "number" ? failed.code : null, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

async function succeed(command: string, args: string[], options: { cwd: string; timeout: number }): Promise<string> {
  const result = await finish(command, args, options);
  assert.equal(result.code, 0, `${command} ${args.join(" ")} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

describe("the production bundle (npm pack, npm ci --omit=dev)", function () {
  this.timeout(600_000);
  let workspace: string;
  let app: string;
  let packedFiles: string[];

  before(async () => {
    workspace = mkdtempSync(path.join(tmpdir(), "eksup-bundle-"));
    const stage = path.join(workspace, "stage");
    app = path.join(workspace, "app");
    mkdirSync(stage);
    mkdirSync(app);
    for (const file of ["package.json", "README.md"]) copyFileSync(path.join(root, file), path.join(stage, file));
    mkdirSync(path.join(stage, "crds"));
    copyFileSync(path.join(root, "crds/eksupgrade.io_clusterupgrades.yaml"), path.join(stage, "crds/eksupgrade.io_clusterupgrades.yaml"));
    // The image installs production dependencies from package.json and the lockfile alone, so the
    // install can run while the compiler builds dist/.
    copyFileSync(path.join(root, "package.json"), path.join(app, "package.json"));
    copyFileSync(path.join(root, "package-lock.json"), path.join(app, "package-lock.json"));
    await Promise.all([
      succeed(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", path.join(root, "tsconfig.build.json"), "--outDir", path.join(stage, "dist")], { cwd: root, timeout: 300_000 }),
      succeed("npm", ["ci", "--omit=dev", "--prefer-offline", ...npmQuiet], { cwd: app, timeout: 300_000 }),
    ]);
    const packed = JSON.parse(await succeed("npm", ["pack", "--json", "--pack-destination", workspace, ...npmQuiet], { cwd: stage, timeout: 120_000 })) as {
      filename: string;
      files: { path: string }[];
    }[];
    const [tarball] = packed;
    assert.ok(tarball, "npm pack reported no tarball");
    packedFiles = tarball.files.map((file) => file.path);
    await succeed("tar", ["-xzf", path.join(workspace, tarball.filename), "-C", app, "--strip-components=1"], { cwd: workspace, timeout: 60_000 });
  });

  after(() => {
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it("packs the compiled operator and the CRD, and no sources, tests or source maps", () => {
    assert.ok(packedFiles.includes(packageJson.main), `the tarball lacks ${packageJson.main}: ${packedFiles.join(", ")}`);
    assert.ok(packedFiles.includes("crds/eksupgrade.io_clusterupgrades.yaml"));
    const unexpected = packedFiles.filter((file) => !/^(dist\/src\/.*\.js|crds\/[^/]+\.yaml|package\.json|README\.md)$/.test(file));
    assert.deepEqual(unexpected, []);
  });

  it("installs every production dependency and nothing the lockfile marks as dev-only", () => {
    const missing = Object.keys(packageJson.dependencies).filter((name) => !existsSync(path.join(app, "node_modules", name, "package.json")));
    assert.deepEqual(missing, []);
    assert.ok(devOnly.length > 50 && devOnly.includes("node_modules/typescript") && devOnly.includes("node_modules/tsx"));
    const present = devOnly.filter((location) => existsSync(path.join(app, location)));
    assert.deepEqual(present, [], "dev dependencies reached the production install");
  });

  it("starts: every module loads and main() stops at the missing kubeconfig, not at a missing module", async () => {
    const kubeconfig = path.join(workspace, "no-such-kubeconfig");
    // No KUBERNETES_SERVICE_HOST and a HOME without .kube: the only configuration is the missing file.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: workspace, KUBECONFIG: kubeconfig, NODE_ENV: "production", HTTP_PORT: "0" };
    const result = await finish(process.execPath, [packageJson.main], { cwd: app, env, timeout: 120_000 });
    const output = `${result.stderr}${result.stdout}`;
    assert.doesNotMatch(output, /ERR_MODULE_NOT_FOUND|Cannot find (module|package)/, output);
    assert.equal(result.code, 1, output);
    const line = result.stderr.split("\n").find((text) => text.includes("operator failed to start"));
    assert.ok(line, `no start-up error in:\n${output}`);
    const logged = JSON.parse(line) as { level: string; error: string };
    assert.equal(logged.level, "error");
    assert.match(logged.error, new RegExp(`ENOENT.*${kubeconfig.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  });

  it("has a CycloneDX SBOM of exactly the production dependencies (npm sbom, as docs/install.md shows)", async () => {
    const sbom = JSON.parse(
      await succeed("npm", ["sbom", "--sbom-format", "cyclonedx", "--omit", "dev", "--package-lock-only", "--loglevel=error"], { cwd: app, timeout: 120_000 }),
    ) as { bomFormat: string; components: { name: string; version: string; purl: string }[] };
    assert.equal(sbom.bomFormat, "CycloneDX");
    const names = new Set(sbom.components.map((component) => component.name));
    assert.deepEqual(Object.keys(packageJson.dependencies).filter((name) => !names.has(name)), []);
    for (const tool of ["typescript", "tsx", "mocha", "eslint"]) assert.ok(!names.has(tool), `${tool} is in the SBOM`);
    assert.ok(sbom.components.every((component) => component.purl.startsWith("pkg:npm/")));
  });
});
