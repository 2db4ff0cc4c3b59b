import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { buildKwokConfig, NODE_VERSION_ANNOTATION, withAnnotatedKubeletVersion } from "../../../sandbox/runtime/kwok-stages.js";
import { karpenterObjects } from "../../../sandbox/scenario/karpenter.js";
import { parseScenarioText, ScenarioError } from "../../../sandbox/scenario/schema.js";

const scenario = (karpenter: string, workloads = ""): string => `
name: k
clusters:
  - name: c
    version: "1.30"
    vpc: { subnets: [{ name: a, zone: a, cidr: 10.0.1.0/24 }, { name: b, zone: b, cidr: 10.0.2.0/24 }] }
${karpenter}
${workloads}
`;

function problems(text: string): string[] {
  try {
    parseScenarioText(text, "k.yaml");
  } catch (error) {
    assert.ok(error instanceof ScenarioError, String(error));
    return error.problems;
  }
  return [];
}

describe("Karpenter in scenarios", () => {
  it("builds a KWOKNodeClass and NodePools carrying the cluster label, the version annotation and the budgets", () => {
    const parsed = parseScenarioText(
      scenario(`    karpenter:
      nodePools:
        - name: web
          instanceFamilies: [c]
          budgets:
            - { nodes: "1" }
            - { nodes: "0", reasons: [Underutilized], schedule: "0 9 * * mon-fri", duration: 8h }`),
    );
    interface PoolSpec {
      template: {
        metadata: { labels: Record<string, string>; annotations: Record<string, string> };
        spec: { nodeClassRef: unknown; requirements: unknown[] };
      };
      disruption: { budgets: unknown[] };
    }
    const objects = karpenterObjects("k", parsed.clusters[0]) as unknown as { kind: string; metadata: { name: string }; spec?: PoolSpec }[];
    assert.deepEqual(objects.map((object) => `${object.kind}/${object.metadata.name}`), ["KWOKNodeClass/default", "NodePool/web"]);
    const pool = objects[1].spec!;
    assert.equal(pool.template.metadata.annotations[NODE_VERSION_ANNOTATION], "1.30");
    assert.equal(pool.template.metadata.labels["sandbox.eks-upgrade-operator.io/cluster"], "c");
    assert.deepEqual(pool.template.spec.nodeClassRef, { group: "karpenter.kwok.sh", kind: "KWOKNodeClass", name: "default" });
    assert.deepEqual(pool.template.spec.requirements.at(-1), { key: "karpenter.kwok.sh/instance-family", operator: "In", values: ["c"] });
    assert.deepEqual(pool.disruption.budgets[1], { nodes: "0", reasons: ["Underutilized"], schedule: "0 9 * * mon-fri", duration: "8h" });
  });

  it("refuses a scheduled budget without a duration, and a pod selecting a NodePool that is not declared", () => {
    const found = problems(
      scenario(
        `    karpenter:
      nodePools:
        - name: web
          budgets: [{ nodes: "0", schedule: "0 9 * * *" }]`,
        `    workloads:
      - { kind: Deployment, name: api, nodeSelector: { karpenter.sh/nodepool: batch } }`,
      ),
    );
    assert.ok(found.some((line) => /budgets\[0\].*schedule and duration/.test(line)), found.join("\n"));
    assert.ok(found.some((line) => /workloads\[0\]\.nodeSelector: selects NodePool batch, which karpenter.nodePools does not declare \(declared: web\)/.test(line)), found.join("\n"));
  });

  it("makes kwok report the annotated version as the kubelet version of nodes created without one", () => {
    const template = "nodeInfo:\n  kubeletVersion: {{ or $nodeInfo.kubeletVersion $kwokVersion }}\nphase: Running";
    const changed = withAnnotatedKubeletVersion(template);
    assert.match(changed, /index \. "eksupgrade\.io\/kubernetes-version"/);
    assert.match(changed, /kubeletVersion: \{\{ or \$nodeInfo\.kubeletVersion \$annotated \$kwokVersion \}\}/);
    assert.throws(() => withAnnotatedKubeletVersion("nodeInfo: {}"), /no longer sets kubeletVersion/);

    const dir = mkdtempSync(join(tmpdir(), "eksup-kwok-node-"));
    for (const set of ["node/fast", "node/heartbeat-with-lease", "pod/general"]) mkdirSync(join(dir, set), { recursive: true });
    writeFileSync(
      join(dir, "node/fast/node-initialize.yaml"),
      `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: { name: node-initialize }
spec:
  resourceRef: { apiGroup: v1, kind: Node }
  next:
    statusTemplate: |
      nodeInfo:
        kubeletVersion: {{ or $nodeInfo.kubeletVersion $kwokVersion }}
`,
    );
    buildKwokConfig(dir, join(dir, "kwok.yaml"));
    const stages = parseAllDocuments(readFileSync(join(dir, "kwok.yaml"), "utf8")).map((document) => document.toJS() as { metadata?: { name: string }; spec: { next: { statusTemplate: string } } });
    const initialize = stages.find((stage) => stage.metadata?.name === "node-initialize");
    assert.match(initialize!.spec.next.statusTemplate, /\$annotated \$kwokVersion/);
  });
});
