// The operator as the image ships it: one ES module bundle of the compiled operator and every
// package it imports, minified, in dist/operator/. The AWS SDK clients the operator loads on first
// use (src/cloud/aws/index.ts) stay in chunks of their own, loaded as late as before.
//
// Why a bundle: unbundled, the process holds the full source text of every module it loads, and
// client-node's index alone loads every generated API and model (about 26 MiB of V8 heap before
// the first ClusterUpgrade). Bundled, only what the operator reaches is kept, without comments or
// long names: docs/benchmarks.md ("The operator as one bundle") has the figures.
//
// What else lands in dist/operator/:
// - a package.json that makes the .js files ES modules, so the directory runs on its own;
// - a source map per file (positions in stack traces: run with NODE_OPTIONS=--enable-source-maps);
// - THIRD_PARTY_LICENSES.txt, the license text of every package whose code is in the bundle.
//
//   node --import tsx scripts/bundle.ts [--entry dist/src/main.js] [--outdir dist/operator]
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build, type Metafile, type Plugin } from "esbuild";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/** Where the image runs the operator from, relative to its working directory (and to the repository). */
export const OPERATOR_BUNDLE_MAIN = "dist/operator/main.js";

/**
 * Optional native add-ons that ws tries to load and does without: leaving them out of the bundle
 * keeps them optional (a require that fails is caught by ws).
 */
const OPTIONAL_NATIVE = ["bufferutil", "utf-8-validate"];

/**
 * Leaves out of the bundle every package that only dev dependencies bring, as a production install
 * would: the checkout that builds the bundle has them, the image does not. A package may import one
 * optionally (debug tries supports-color in a try block, and does without when it is missing); the
 * import is left to run time, where it fails as it would in a production install, and reported.
 */
function productionOnly(leftOut: Set<string>): Plugin {
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };
  const devOnly = Object.entries(lock.packages)
    .filter(([location, entry]) => location !== "" && entry.dev === true)
    .map(([location]) => join(repoRoot, location) + sep);
  return {
    name: "production-only",
    setup(builder) {
      builder.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === "production-only" || args.path.startsWith("node:")) return undefined;
        const resolved = await builder.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: "production-only" });
        // Anything else resolves as it would without this plugin.
        if (resolved.errors.length > 0 || resolved.external || !devOnly.some((dir) => resolved.path.startsWith(dir))) return undefined;
        leftOut.add(args.path);
        return { path: args.path, external: true };
      });
    },
  };
}

export interface BundleResult {
  /** The entry file to run with node. */
  main: string;
  /** The npm packages (name@version) whose code the bundle contains. */
  packages: string[];
  /** What esbuild reports of every input and output file. */
  metafile: Metafile;
  /** Imports left to run time because only dev dependencies provide them (see productionOnly). */
  leftOut: string[];
}

/**
 * Bundles `entry` (the compiled src/main.js) into `outdir`, which is emptied first. `require` is
 * defined in each module's scope for the CommonJS dependencies that call it for Node's built-ins.
 */
export async function bundleOperator(entry: string, outdir: string): Promise<BundleResult> {
  rmSync(outdir, { recursive: true, force: true });
  const leftOut = new Set<string>();
  const result = await build({
    entryPoints: { main: entry },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minify: true,
    sourcemap: "linked",
    sourcesContent: false,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    external: OPTIONAL_NATIVE,
    plugins: [productionOnly(leftOut)],
    // Packages resolve from this checkout's node_modules wherever the entry was compiled to, and
    // the metafile's paths are relative to the checkout.
    absWorkingDir: repoRoot,
    nodePaths: [join(repoRoot, "node_modules")],
    banner: { js: 'import{createRequire as __bundleRequire}from"node:module";const require=__bundleRequire(import.meta.url);' },
  });
  writeFileSync(join(outdir, "package.json"), `${JSON.stringify({ type: "module", private: true }, null, 2)}\n`);
  const packages = bundledPackages(result.metafile);
  writeFileSync(join(outdir, "THIRD_PARTY_LICENSES.txt"), licenseText(packages));
  return { main: join(outdir, "main.js"), packages: packages.map((entry) => `${entry.name}@${entry.version}`), metafile: result.metafile, leftOut: [...leftOut].sort() };
}

interface BundledPackage {
  name: string;
  version: string;
  /** The license its package.json declares. */
  license: string;
  dir: string;
}

/** The packages under node_modules that the metafile's inputs come from, sorted by name. */
function bundledPackages(metafile: Metafile): BundledPackage[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const parts = resolve(repoRoot, input).split(sep);
    const at = parts.lastIndexOf("node_modules");
    if (at < 0) continue;
    const depth = parts[at + 1]?.startsWith("@") ? 2 : 1;
    dirs.add(parts.slice(0, at + 1 + depth).join(sep));
  }
  return [...dirs]
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; version: string; license?: string };
      return { name: manifest.name, version: manifest.version, license: manifest.license ?? "unknown", dir };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** Every bundled package's name, version and license file(s), one after another. */
function licenseText(packages: BundledPackage[]): string {
  const sections = packages.map((entry) => {
    const files = readdirSync(entry.dir).filter((file) => /^(licen[sc]e|copying|notice)(\.|$|-)/i.test(file));
    const texts = files.map((file) => readFileSync(join(entry.dir, file), "utf8").trim());
    const body = texts.length > 0 ? texts.join("\n\n") : `License: ${entry.license} (the package ships no license file)`;
    return `${entry.name}@${entry.version} (${entry.license})\n\n${body}\n`;
  });
  return `Packages whose code is in this bundle, with their licenses.\n\n${sections.join(`\n${"-".repeat(78)}\n\n`)}`;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  const { values } = parseArgs({ options: { entry: { type: "string" }, outdir: { type: "string" } } });
  const entry = resolve(values.entry ?? join(repoRoot, "dist", "src", "main.js"));
  const outdir = resolve(values.outdir ?? dirname(join(repoRoot, OPERATOR_BUNDLE_MAIN)));
  if (!existsSync(entry)) {
    process.stderr.write(`${relative(process.cwd(), entry)} does not exist: compile first (tsc -p tsconfig.build.json)\n`);
    process.exit(2);
  }
  mkdirSync(dirname(outdir), { recursive: true });
  const bundled = await bundleOperator(entry, outdir);
  process.stdout.write(`${relative(process.cwd(), bundled.main)}: the operator and ${bundled.packages.length} packages\n`);
}
