// Builds the one configuration file kwok reads: the Stage documents that decide how the fake
// kubelets behave. They come from the kwok module itself (copied into the cache by the build),
// except the pod deletion stage, which the sandbox replaces (see kwok/pod-delete-after-grace.yaml).
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));

/** node/fast: Ready at once; heartbeat-with-lease: a Lease renewed every few seconds keeps it Ready. */
const stageSets = ["node/fast", "node/heartbeat-with-lease", "pod/general"] as const;
const replacedStages = new Set(["pod-delete"]);

export function buildKwokConfig(stagesDir: string, outputFile: string): string[] {
  const documents: string[] = [];
  const names: string[] = [];
  const add = (text: string, source: string): void => {
    for (const document of parseAllDocuments(text)) {
      const value = document.toJS() as { kind?: string; metadata?: { name?: string } } | null;
      if (value?.kind !== "Stage") continue;
      const name = value.metadata?.name;
      if (!name) throw new Error(`a Stage without a name in ${source}`);
      if (source !== "sandbox" && replacedStages.has(name)) continue;
      names.push(name);
      documents.push(document.toString());
    }
  };
  for (const set of stageSets) {
    const dir = join(stagesDir, set);
    if (!existsSync(dir)) throw new Error(`kwok stage set ${set} is missing from ${stagesDir}; rerun the build`);
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith(".yaml") || file === "kustomization.yaml") continue;
      add(readFileSync(join(dir, file), "utf8"), join(dir, file));
    }
  }
  add(readFileSync(join(here, "kwok", "pod-delete-after-grace.yaml"), "utf8"), "sandbox");
  writeFileSync(outputFile, documents.join("---\n"));
  return names;
}
