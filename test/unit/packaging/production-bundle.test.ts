// What ships, built the way it is built, in directories that have never seen a dev dependency.
// - The image's operator (scripts/bundle.ts): the compiled operator bundled into dist/operator,
//   copied alone into an empty directory, then `node dist/operator/main.js`, with no node_modules
//   anywhere above it.
// - The npm package (the kubectl plugin and the compiled sources): `npm pack` of the compiled
//   package, unpacked, `npm ci --omit=dev` against the lockfile, then `node dist/src/main.js`.
// Every module the operator imports at start is loaded before main() runs (static ESM imports), so
// reaching main()'s configuration error proves that nothing it loads at start is missing. The
// install uses the npm cache first and the registry for whatever the cache lacks.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bundleOperator, OPERATOR_BUNDLE_MAIN, type BundleResult } from "../../../scripts/bundle.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const run = promisify(execFile);
const packageJson = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  name: string;
  version: string;
  main: string;
  dependencies: Record<string, string>;
};
const locked = (JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string; dev?: boolean }> }).packages;
/** Install locations (node_modules/...) that only dev dependencies need, as the lockfile records them. */
const devOnly = Object.entries(locked)
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

/** The operator's start in `cwd` with no configuration but a kubeconfig path that does not exist. */
async function startWithoutKubeconfig(entry: string, cwd: string, workspace: string): Promise<void> {
  const kubeconfig = path.join(workspace, "no-such-kubeconfig");
  // No KUBERNETES_SERVICE_HOST and a HOME without .kube: the only configuration is the missing file.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: workspace, KUBECONFIG: kubeconfig, NODE_ENV: "production", HTTP_PORT: "0" };
  const result = await finish(process.execPath, [entry], { cwd, env, timeout: 120_000 });
  const output = `${result.stderr}${result.stdout}`;
  assert.doesNotMatch(output, /ERR_MODULE_NOT_FOUND|Cannot find (module|package)|Dynamic require/, output);
  assert.equal(result.code, 1, output);
  const line = result.stderr.split("\n").find((text) => text.includes("operator failed to start"));
  assert.ok(line, `no start-up error in:\n${output}`);
  const logged = JSON.parse(line) as { level: string; error: string };
  assert.equal(logged.level, "error");
  assert.match(logged.error, new RegExp(`ENOENT.*${kubeconfig.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
}

describe("what ships: the image's operator bundle and the npm package", function () {
  this.timeout(600_000);
  let workspace: string;
  let app: string;
  let image: string;
  let bundled: BundleResult;
  let packedFiles: string[];

  before(async () => {
    workspace = mkdtempSync(path.join(tmpdir(), "eksup-bundle-"));
    const stage = path.join(workspace, "stage");
    app = path.join(workspace, "app");
    image = path.join(workspace, "image");
    mkdirSync(stage);
    mkdirSync(app);
    for (const file of ["package.json", "README.md"]) copyFileSync(path.join(root, file), path.join(stage, file));
    mkdirSync(path.join(stage, "crds"));
    copyFileSync(path.join(root, "crds/eksupgrade.io_clusterupgrades.yaml"), path.join(stage, "crds/eksupgrade.io_clusterupgrades.yaml"));
    // The npm package's production install needs package.json and the lockfile alone, so it runs
    // while the compiler builds dist/.
    copyFileSync(path.join(root, "package.json"), path.join(app, "package.json"));
    copyFileSync(path.join(root, "package-lock.json"), path.join(app, "package-lock.json"));
    await Promise.all([
      succeed(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", path.join(root, "tsconfig.build.json"), "--outDir", path.join(stage, "dist")], { cwd: root, timeout: 300_000 }),
      succeed("npm", ["ci", "--omit=dev", "--prefer-offline", ...npmQuiet], { cwd: app, timeout: 300_000 }),
    ]);
    // The image's build: the bundle from what tsc emitted, then only dist/operator copied on.
    bundled = await bundleOperator(path.join(stage, "dist", "src", "main.js"), path.join(workspace, "bundle", "dist", "operator"));
    cpSync(path.join(workspace, "bundle", "dist", "operator"), path.join(image, "dist", "operator"), { recursive: true });
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

  describe("the operator bundle (dist/operator, what the image runs)", () => {
    it("starts from a directory with nothing else in it: every module loads and main() stops at the missing kubeconfig", async () => {
      assert.deepEqual(readdirSync(image), ["dist"]);
      for (let dir = image; ; dir = path.dirname(dir)) {
        assert.ok(!existsSync(path.join(dir, "node_modules")), `${dir}/node_modules exists: the bundle could load packages from it`);
        if (path.dirname(dir) === dir) break;
      }
      await startWithoutKubeconfig(OPERATOR_BUNDLE_MAIN, image, workspace);
    });

    it("leaves to run time only the optional imports that no production package provides", () => {
      // debug tries supports-color and does without; a new entry here must be as optional.
      assert.deepEqual(bundled.leftOut, ["supports-color"]);
    });

    it("holds production packages only, at the lockfile's versions, with the license of each", () => {
      const licenses = readFileSync(path.join(image, "dist", "operator", "THIRD_PARTY_LICENSES.txt"), "utf8");
      assert.ok(bundled.packages.some((entry) => entry.startsWith("@kubernetes/client-node@")));
      assert.ok(bundled.packages.some((entry) => entry.startsWith("@aws-sdk/client-ec2@")));
      for (const entry of bundled.packages) {
        const at = entry.lastIndexOf("@");
        const [name, version] = [entry.slice(0, at), entry.slice(at + 1)];
        const locations = Object.entries(locked).filter(([location, lock]) => (location === `node_modules/${name}` || location.endsWith(`/node_modules/${name}`)) && lock.version === version);
        assert.ok(locations.length > 0, `${entry} is bundled but the lockfile has no such package`);
        assert.ok(locations.some(([, lock]) => lock.dev !== true), `${entry} is bundled but the lockfile marks it as a dev dependency`);
        assert.ok(licenses.includes(`\n${entry} (`), `THIRD_PARTY_LICENSES.txt does not name ${entry}`);
      }
    });

    it("leaves the AWS clients the operator loads on first use out of what it loads at start", () => {
      const outputs = bundled.metafile.outputs;
      const entry = Object.keys(outputs).find((file) => outputs[file]?.entryPoint !== undefined);
      assert.ok(entry, "esbuild reported no entry output");
      // Everything reached from the entry through static imports is loaded at start.
      const atStart = new Set<string>();
      const pending = [entry];
      while (pending.length > 0) {
        const file = pending.pop()!;
        if (atStart.has(file)) continue;
        atStart.add(file);
        for (const imported of outputs[file]?.imports ?? []) if (imported.kind === "import-statement" && !imported.external) pending.push(imported.path);
      }
      const inputsAtStart = [...atStart].flatMap((file) => Object.keys(outputs[file]?.inputs ?? {}));
      assert.ok(inputsAtStart.some((input) => input.includes("node_modules/@kubernetes/client-node/")));
      for (const client of ["client-eks", "client-ec2", "client-auto-scaling", "client-route-53", "client-cloudwatch"]) {
        assert.deepEqual(inputsAtStart.filter((input) => input.includes(`node_modules/@aws-sdk/${client}/`)), [], `@aws-sdk/${client} is loaded at start`);
        const lazy = Object.keys(outputs).filter((file) => !atStart.has(file) && Object.keys(outputs[file]?.inputs ?? {}).some((input) => input.includes(`node_modules/@aws-sdk/${client}/`)));
        assert.equal(lazy.length, 1, `@aws-sdk/${client} is in ${lazy.length} chunks loaded later`);
      }
    });

    it("has a source map for each of its files", () => {
      const files = readdirSync(path.join(image, "dist", "operator"));
      const scripts = files.filter((file) => file.endsWith(".js"));
      assert.ok(scripts.includes("main.js"));
      for (const script of scripts) {
        assert.ok(files.includes(`${script}.map`), `${script} has no source map`);
        assert.ok(readFileSync(path.join(image, "dist", "operator", script), "utf8").trimEnd().endsWith(`//# sourceMappingURL=${script}.map`), `${script} does not name its map`);
      }
    });
  });

  describe("the npm package (npm pack, npm ci --omit=dev)", () => {
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
      await startWithoutKubeconfig(packageJson.main, app, workspace);
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
});
