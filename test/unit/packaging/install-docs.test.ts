import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments, stringify } from "yaml";
import { SECRET_READER, secretReaderFor } from "../../../sandbox/runtime/operator-identity.js";

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

/** The yaml code block of the document whose first line is the given comment. */
function yamlBlock(markdown: string, firstLine: string): string {
  const blocks = [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
  const block = blocks.find((candidate) => candidate.startsWith(firstLine));
  assert.ok(block, `docs/install.md has no yaml block starting with "${firstLine}"`);
  return block;
}

interface Built {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: { image?: string; env?: { name: string; value?: string }[] }[] } } };
}

/** Variables the AWS SDK, the Kubernetes client, Node and glibc's malloc read on their own, documented too. */
const READ_BY_LIBRARIES = new Set(["KUBECONFIG", "AWS_PROFILE", "NODE_OPTIONS", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX"]);

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

  it("sets in the Deployment only variables the operator, its libraries or Node read", () => {
    const manager = parse(readFileSync(path.join(root, "config/manager/manager.yaml"), "utf8")) as {
      spec: { template: { spec: { containers: { env?: { name: string }[] }[] } } };
    };
    const read = variablesReadBySource();
    const set = manager.spec.template.spec.containers.flatMap((container) => container.env ?? []).map((variable) => variable.name);
    assert.deepEqual(set.filter((name) => !read.has(name) && !READ_BY_LIBRARIES.has(name)), []);
  });

  it("shows an overlay that builds, with the image, region and IRSA role it sets", function () {
    this.timeout(60_000);
    const overlay = parse(yamlBlock(install, "# my-operator/kustomization.yaml")) as { resources: string[]; patches: unknown[] };
    // The Role and RoleBinding the docs give for another namespace that holds ClusterUpgrades.
    overlay.resources.push("secret-reader-payments.yaml");
    // The overlay refers to the repository as ../eks-upgrade-operator, as a checkout next to it would be.
    const workspace = mkdtempSync(path.join(tmpdir(), "overlay-"));
    try {
      symlinkSync(root, path.join(workspace, "eks-upgrade-operator"));
      mkdirSync(path.join(workspace, "my-operator"));
      writeFileSync(path.join(workspace, "my-operator", "kustomization.yaml"), stringify(overlay));
      writeFileSync(path.join(workspace, "my-operator", "secret-reader-payments.yaml"), yamlBlock(install, "# secret-reader-payments.yaml"));
      const output = execFileSync("kubectl", ["kustomize", path.join(workspace, "my-operator")], { encoding: "utf8", timeout: 60_000 });
      const objects = parseAllDocuments(output).map((document) => document.toJS() as Built);
      const deployment = objects.find((object) => object.kind === "Deployment");
      const container = deployment?.spec?.template?.spec?.containers?.[0];
      assert.equal(container?.image, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/eks-upgrade-operator:0.1.0");
      assert.equal(container.env?.find((variable) => variable.name === "AWS_REGION")?.value, "eu-west-1");
      const account = objects.find((object) => object.kind === "ServiceAccount");
      assert.match(account?.metadata.annotations?.["eks.amazonaws.com/role-arn"] ?? "", /^arn:aws:iam::\d{12}:role\//);
      const bindings = objects.filter((object) => object.kind === "ClusterRoleBinding").map((object) => object.metadata.name);
      assert.deepEqual(bindings, ["eks-upgrade-operator"]);
      const secretReaders = objects
        .filter((object) => object.metadata.name === SECRET_READER)
        .map((object) => `${object.kind} ${(object.metadata as { namespace?: string }).namespace}`)
        .sort();
      assert.deepEqual(secretReaders, ["Role eks-upgrade-system", "Role payments", "RoleBinding eks-upgrade-system", "RoleBinding payments"]);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });

  it("gives for other namespaces exactly the shipped secret reader Role and RoleBinding, moved there", () => {
    const documented = parseAllDocuments(yamlBlock(install, "# secret-reader-payments.yaml")).map((document) => document.toJS() as object);
    assert.deepEqual(documented, secretReaderFor("payments"));
  });

  it("marks the image registry as a placeholder", () => {
    assert.match(install, /ghcr\.io\/eks-upgrade-operator\/eks-upgrade-operator` in the manifests is a \*\*placeholder\*\*/);
  });
});
