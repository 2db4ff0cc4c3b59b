import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Environment variables the operator reads: `process.env.X` anywhere, `env.X` in the config reader. */
function variablesReadBySource(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles(path.join(root, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/\b(?:process\.)?env\.([A-Z][A-Z0-9_]*)\b/g)) names.add(match[1]);
  }
  return names;
}

/** Variables the AWS SDK and the Kubernetes client read on their own, documented too. */
const READ_BY_LIBRARIES = new Set(["KUBECONFIG", "AWS_PROFILE"]);

describe("docs/install.md", () => {
  const install = readFileSync(path.join(root, "docs/install.md"), "utf8");
  const configurationSection = install.slice(install.indexOf("\n## Configuration\n"), install.indexOf("\n## What the manifests contain\n"));

  it("documents every environment variable the operator reads", () => {
    const read = variablesReadBySource();
    assert.ok(read.has("AWS_REGION") && read.has("POD_NAMESPACE"), "the scan found no configuration: has the config reader moved?");
    const undocumented = [...read].filter((name) => !configurationSection.includes(`| \`${name}\` |`));
    assert.deepEqual(undocumented, []);
  });

  it("documents no variable the operator ignores", () => {
    const known = new Set([...variablesReadBySource(), ...READ_BY_LIBRARIES]);
    const documented = [...configurationSection.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((match) => match[1]);
    assert.ok(documented.length > 5);
    assert.deepEqual(documented.filter((name) => !known.has(name)), []);
  });

  it("sets in the Deployment only variables the operator reads", () => {
    const manager = parse(readFileSync(path.join(root, "config/manager/manager.yaml"), "utf8")) as {
      spec: { template: { spec: { containers: { env?: { name: string }[] }[] } } };
    };
    const read = variablesReadBySource();
    const set = manager.spec.template.spec.containers.flatMap((container) => container.env ?? []).map((variable) => variable.name);
    assert.deepEqual(set.filter((name) => !read.has(name)), []);
  });

  it("marks the image registry as a placeholder", () => {
    assert.match(install, /ghcr\.io\/eks-upgrade-operator\/eks-upgrade-operator` in the manifests is a \*\*placeholder\*\*/);
  });
});
