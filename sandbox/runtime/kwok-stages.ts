// Builds the one configuration file kwok reads: its options (how many objects it moves at once)
// and the Stage documents that decide how the fake kubelets behave. They come from the kwok module itself (copied into the cache by the build),
// except the pod deletion stage, which the sandbox replaces (see kwok/pod-delete-after-grace.yaml).
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));

/** node/fast: Ready at once; heartbeat-with-lease: a Lease renewed every few seconds keeps it Ready. */
const stageSets = ["node/fast", "node/heartbeat-with-lease", "pod/general"] as const;
const replacedStages = new Set(["pod-delete"]);
/**
 * The stages a new pod goes through on its way to Ready (and a Job's pod to Completed). kwok's
 * own files wait 1 s plus a random jitter of up to 4 s at each, so a pod is Ready 2 to 10 s after
 * it was scheduled, at random. The sandbox gives every one of them the same fixed delay instead.
 */
const podStartStages = new Set(["pod-create", "pod-init-container-running", "pod-init-container-completed", "pod-ready", "pod-complete"]);

/**
 * Milliseconds each pod start stage waits, from SANDBOX_POD_STAGE_MS (default 1000): a pod with no
 * init containers is Running one stage after it is bound and Ready one stage later. Fixed rather
 * than random, so that drains paced by budgets take the same time on every run; the test suite
 * chooses a shorter one. A pod's annotation `<stage>.stage.kwok.x-k8s.io/delay` still overrides it.
 */
export const DEFAULT_POD_STAGE_MS = 1000;

/**
 * How many pods (and nodes) kwok moves through their stages at once. kwok's default of 4 let a
 * seeded world of 15,000 pods reach Ready at about 20 pods a second on this machine, so the
 * budgets of a large benchmark world took many minutes to become healthy. Each stage is one
 * PATCH to the API server, so this trades a short burst of API load for seeding time; the total
 * work is the same.
 */
export const STAGE_PARALLELISM = 16;

export function parsePodStageMs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_POD_STAGE_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 60_000) {
    throw new Error(`SANDBOX_POD_STAGE_MS must be a whole number of milliseconds from 0 to 60000, got "${raw}"`);
  }
  return value;
}

/**
 * The annotation by which a node says which Kubernetes minor it runs when no AMI says it: Karpenter
 * copies a NodePool template's annotations onto its NodeClaims and the kwok provider onto the
 * Nodes it creates, so the annotation plays the part of the image an EC2NodeClass would resolve.
 * The operator writes the same key on NodePools whose node class selects no image (docs/karpenter.md).
 */
export const NODE_VERSION_ANNOTATION = "eksupgrade.io/kubernetes-version";
/** The patch level such a node reports, as the emulator's AMIs do (eks-emulator/amis.ts). */
const ANNOTATED_KUBELET_PATCH = 4;

/**
 * kwok's node-initialize stage leaves a node's kubelet version at "kwok-<version>" unless the node
 * was created with one. Nodes of the EKS emulator are; the Nodes Karpenter's kwok provider creates
 * are not: they take it from NODE_VERSION_ANNOTATION, e.g. "1.31" becomes v1.31.4.
 */
export function withAnnotatedKubeletVersion(statusTemplate: string): string {
  const original = "kubeletVersion: {{ or $nodeInfo.kubeletVersion $kwokVersion }}";
  if (!statusTemplate.includes(original)) throw new Error("kwok's node-initialize stage no longer sets kubeletVersion as the sandbox expects; update kwok-stages.ts");
  const pinned =
    `{{ $annotated := "" }}{{ with .metadata.annotations }}{{ with index . "${NODE_VERSION_ANNOTATION}" }}` +
    `{{ $annotated = printf "v%s.${ANNOTATED_KUBELET_PATCH}" . }}{{ end }}{{ end }}`;
  return statusTemplate.replace(original, `${pinned}\n  kubeletVersion: {{ or $nodeInfo.kubeletVersion $annotated $kwokVersion }}`);
}

export function buildKwokConfig(stagesDir: string, outputFile: string, podStageMs: number = DEFAULT_POD_STAGE_MS): string[] {
  const documents: string[] = [];
  const names: string[] = [];
  const add = (text: string, source: string): void => {
    for (const document of parseAllDocuments(text)) {
      const value = document.toJS() as { kind?: string; metadata?: { name?: string } } | null;
      if (value?.kind !== "Stage") continue;
      const name = value.metadata?.name;
      if (!name) throw new Error(`a Stage without a name in ${source}`);
      if (source !== "sandbox" && replacedStages.has(name)) continue;
      if (name === "node-initialize") {
        const template = document.getIn(["spec", "next", "statusTemplate"]);
        if (typeof template !== "string") throw new Error(`kwok's node-initialize stage in ${source} has no statusTemplate`);
        document.setIn(["spec", "next", "statusTemplate"], withAnnotatedKubeletVersion(template));
      }
      if (podStartStages.has(name) && document.hasIn(["spec", "delay"])) {
        document.setIn(["spec", "delay", "durationMilliseconds"], podStageMs);
        document.setIn(["spec", "delay", "jitterDurationMilliseconds"], podStageMs);
      }
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
  // kwok applies none of its defaults to a configuration it reads from a file, so every option
  // that its defaults would set is written here, with kwok 0.8's default except the two raised.
  const options = {
    podPlayStageParallelism: STAGE_PARALLELISM,
    nodePlayStageParallelism: STAGE_PARALLELISM,
    nodeLeaseParallelism: 4,
    podsOnNodeSyncParallelism: 1,
    manageAllNodes: false,
    enableDebuggingHandlers: true,
    enableContentionProfiling: false,
    enableProfilingHandler: true,
    enablePodsOnNodeSyncListPager: true,
    enablePodsOnNodeSyncStreamWatch: false,
  };
  const configuration = ["apiVersion: config.kwok.x-k8s.io/v1alpha1", "kind: KwokConfiguration", "options:", ...Object.entries(options).map(([key, value]) => `  ${key}: ${value}`), ""].join("\n");
  writeFileSync(outputFile, [configuration, ...documents].join("---\n"));
  return names;
}
