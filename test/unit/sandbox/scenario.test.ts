import assert from "node:assert/strict";
import type { V1Deployment } from "@kubernetes/client-node";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseScenarioText, ScenarioError, subnetCapacity } from "../../../sandbox/scenario/schema.js";
import { buildWorkloads, DO_NOT_DISRUPT_ANNOTATION, expandCopies } from "../../../sandbox/scenario/workloads.js";

const scenariosDir = join(import.meta.dirname, "..", "..", "..", "sandbox", "scenarios");

function problemsOf(text: string): string[] {
  try {
    parseScenarioText(text, "test.yaml");
  } catch (error) {
    if (error instanceof ScenarioError) return error.problems;
    throw error;
  }
  assert.fail("the scenario was expected to be rejected");
}

const minimal = `
name: t
clusters:
  - name: c
    version: "1.30"
    vpc:
      cidr: 10.0.0.0/16
      subnets:
        - { name: a, zone: a, cidr: 10.0.1.0/24 }
        - { name: b, zone: b, cidr: 10.0.2.0/24 }
`;

describe("scenario files", () => {
  it("ships the default, PDB trap, IP-starved, 100-node, mixed-roll, blue/green, chaos and Karpenter scenarios, all valid", () => {
    const files = readdirSync(scenariosDir).filter((file) => file.endsWith(".yaml")).sort();
    assert.deepEqual(files, ["blue-green.yaml", "chaos.yaml", "default.yaml", "ip-starved.yaml", "karpenter.yaml", "large-100-nodes.yaml", "mixed-roll.yaml", "pdb-trap.yaml"]);
    for (const file of files) parseScenarioText(readFileSync(join(scenariosDir, file), "utf8"), file);
  });

  it("reads each shipped scenario exactly as the hand-written validator did (fixture captured from it)", () => {
    const expected = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "scenarios-parsed.json"), "utf8")) as Record<string, unknown>;
    const files = readdirSync(scenariosDir).filter((file) => file.endsWith(".yaml")).sort();
    assert.deepEqual(Object.keys(expected).sort(), files, "one fixture entry per scenario file");
    for (const file of files) {
      const parsed = parseScenarioText(readFileSync(join(scenariosDir, file), "utf8"), file);
      // Through JSON as the fixture was: absent and undefined fields compare alike.
      assert.deepEqual(JSON.parse(JSON.stringify(parsed)), expected[file], file);
    }
  });

  it("the 100-node scenario has 100 nodes and about 3,000 pods", () => {
    const scenario = parseScenarioText(readFileSync(join(scenariosDir, "large-100-nodes.yaml"), "utf8"));
    const cluster = scenario.clusters[0];
    assert.equal(cluster.nodeGroups.reduce((sum, group) => sum + group.size.desired, 0), 100);
    const pods = buildWorkloads(scenario.name, cluster.name, cluster.workloads).expectedPods + 100;
    assert.ok(pods >= 2900 && pods <= 3100, `${pods} pods`);
  });

  it("the IP-starved scenario leaves fewer than 5 free addresses in the control-plane subnets", () => {
    const scenario = parseScenarioText(readFileSync(join(scenariosDir, "ip-starved.yaml"), "utf8"));
    const controlPlane = scenario.clusters[0].subnets.filter((subnet) => subnet.controlPlane);
    assert.ok(controlPlane.reduce((sum, subnet) => sum + (subnet.freeIps ?? 999), 0) < 5);
  });

  it("the blue/green scenario has two clusters and a weighted record set", () => {
    const scenario = parseScenarioText(readFileSync(join(scenariosDir, "blue-green.yaml"), "utf8"));
    assert.deepEqual(scenario.clusters.map((cluster) => [cluster.name, cluster.mirrorNodes]), [["blue", true], ["green", false]]);
    const weighted = scenario.hostedZones[0].records.filter((record) => record.setIdentifier !== undefined);
    assert.deepEqual(weighted.map((record) => [record.setIdentifier, record.weight]), [["blue", 100], ["green", 0]]);
  });
});

describe("scenario validation", () => {
  it("applies defaults: first cluster mirrored, managed groups, a control-plane security group", () => {
    const scenario = parseScenarioText(minimal);
    const cluster = scenario.clusters[0];
    assert.equal(cluster.mirrorNodes, true);
    assert.deepEqual(cluster.securityGroups, ["c-control-plane"]);
    assert.equal(scenario.waitForPods, true);
    assert.equal(cluster.subnets[0].controlPlane, true);
  });

  it("reports every problem with its path", () => {
    const problems = problemsOf(`
name: t
clusters:
  - name: c
    version: "1.3x"
    vpc:
      cidr: 10.0.0.0/16
      subnets:
        - { name: a, zone: a, cidr: 10.0.1.0/24, freeIps: 300 }
        - { name: b, zone: a, cidr: 10.1.2.0/24 }
    nodeGroups:
      - { name: ng, instanceType: z9.huge, size: { min: 3, max: 2, desired: 2 }, subnets: [nope] }
    workloads:
      - { kind: Deployment, name: Web, replicas: -1, pdb: { minAvailable: 1, maxUnavailable: 1 } }
      - { kind: DaemonSet, name: agent, replicas: 2 }
`);
    const expected = [
      /clusters\[0\]\.version: must be a Kubernetes minor version/,
      /clusters\[0\]\.vpc\.subnets\[0\]\.freeIps: a \/24 subnet has at most 251 free addresses/,
      /clusters\[0\]\.vpc\.subnets: EKS needs control-plane subnets in at least two availability zones/,
      /clusters\[0\]\.vpc\.subnets\[1\]\.cidr: 10\.1\.2\.0\/24 is outside the VPC/,
      /clusters\[0\]\.nodeGroups\[0\]\.instanceType: unknown instance type z9\.huge/,
      /clusters\[0\]\.nodeGroups\[0\]\.subnets\[0\]: no subnet named nope/,
      /clusters\[0\]\.nodeGroups\[0\]\.size: must satisfy min <= desired <= max/,
      /clusters\[0\]\.workloads\[0\]\.name: must be a DNS label/,
      /clusters\[0\]\.workloads\[0\]\.replicas: must be an integer >= 0/,
      /clusters\[0\]\.workloads\[0\]\.pdb: set exactly one of minAvailable and maxUnavailable/,
      /clusters\[0\]\.workloads\[1\]\.replicas: a DaemonSet has no replicas/,
    ];
    for (const pattern of expected) assert.ok(problems.some((problem) => pattern.test(problem)), `missing ${pattern} in:\n${problems.join("\n")}`);
  });

  it("refuses unknown fields, a kubelet newer than the control plane and two mirrored clusters", () => {
    const problems = problemsOf(`
name: t
clusters:
  - name: c
    version: "1.30"
    replicas: 3
    vpc: { cidr: 10.0.0.0/16, subnets: [{ name: a, zone: a, cidr: 10.0.1.0/24 }, { name: b, zone: b, cidr: 10.0.2.0/24 }] }
    nodeGroups: [{ name: ng, version: "1.31", size: 1 }]
  - name: d
    version: "1.30"
    mirrorNodes: true
    vpc: { cidr: 10.0.0.0/16, subnets: [{ name: a, zone: a, cidr: 10.0.1.0/24 }, { name: b, zone: b, cidr: 10.0.2.0/24 }] }
`);
    assert.ok(problems.some((problem) => /clusters\[0\]\.replicas: unknown field/.test(problem)), problems.join("\n"));
    assert.ok(problems.some((problem) => /nodeGroups\[0\]\.version: a kubelet must never be newer/.test(problem)), problems.join("\n"));
    assert.ok(problems.some((problem) => /only one cluster can be mirrored/.test(problem)), problems.join("\n"));
  });

  it("refuses an add-on version that does not support the cluster version", () => {
    const problems = problemsOf(`${minimal}    addons: [{ name: kube-proxy, version: v1.29.3-eksbuild.2 }]\n`);
    assert.ok(problems.some((problem) => /kube-proxy v1\.29\.3-eksbuild\.2 does not support Kubernetes 1\.30/.test(problem)));
  });

  it("refuses weights outside 0-255 and a weight without a set identifier", () => {
    const problems = problemsOf(`${minimal}hostedZones:
  - name: example.com
    records:
      - { name: www.example.com, type: CNAME, setIdentifier: a, weight: 256, values: [a.example.com] }
      - { name: www.example.com, type: CNAME, weight: 10, values: [b.example.com] }
`);
    assert.ok(problems.some((problem) => /records\[0\]\.weight: must be an integer between 0 and 255/.test(problem)), problems.join("\n"));
    assert.ok(problems.some((problem) => /records\[1\]: a weighted record needs both weight and setIdentifier/.test(problem)));
  });

  it("words schema problems for the reader: the file, the path and the fix, without repeating them as rule problems", () => {
    const text = `${minimal}    nodeGroups:
      - { name: s, kind: self-managed, maxUnavailable: 2, size: 2 }
      - { name: m, maxUnavailable: 2, maxUnavailablePercentage: 5, size: "3", labels: { a: [1] } }
      - { name: n, size: { desired: 1, extra: 1 }, taints: [{ effect: Sometimes }] }
    workloads:
      - { kind: DaemonSet, name: d, pdb: { minAvailable: 150% } }
    podDisruptionBudgets:
      - { name: e, matchLabels: {}, maxUnavailable: 1 }
`.replace("- { name: b, zone: b, cidr: 10.0.2.0/24 }", "- { name: b, zone: b }");
    let message = "";
    try {
      parseScenarioText(text, "bad.yaml");
    } catch (error) {
      message = error instanceof ScenarioError ? error.message : "";
    }
    assert.match(message, /^invalid scenario bad\.yaml:/);
    const problems = problemsOf(text);
    assert.deepEqual(problems.filter((problem) => problem.startsWith("clusters[0].vpc.subnets[1].cidr")), ["clusters[0].vpc.subnets[1].cidr: is required"]);
    const expected = [
      "clusters[0].nodeGroups[0].maxUnavailable: applies to managed node groups only (Auto Scaling rolls self-managed ones); remove it",
      "clusters[0].nodeGroups[1]: set maxUnavailable or maxUnavailablePercentage, not both",
      "clusters[0].nodeGroups[1].size: must be a node count or a mapping of min, max and desired",
      "clusters[0].nodeGroups[1].labels.a: must be a string",
      "clusters[0].nodeGroups[2].size.extra: unknown field (expected one of: desired, min, max)",
      "clusters[0].nodeGroups[2].taints[0].key: is required",
      "clusters[0].nodeGroups[2].taints[0].effect: must be one of NoSchedule, NoExecute, PreferNoSchedule",
      "clusters[0].workloads[0].pdb: DaemonSet pods are not drained; a PDB on them tests nothing",
      "clusters[0].workloads[0].pdb.minAvailable: must be an integer >= 0 or a percentage such as 50%",
      "clusters[0].podDisruptionBudgets[0].matchLabels: must name a label (a PDB selecting nothing tests nothing)",
    ];
    for (const line of expected) assert.ok(problems.includes(line), `missing "${line}" in:\n${problems.join("\n")}`);
  });

  it("names the top level's own fields and refuses a document that is not a mapping", () => {
    assert.deepEqual(problemsOf("clusters: []"), ["name: is required", "clusters: at least one cluster is required"]);
    assert.deepEqual(problemsOf("- a"), ["scenario: must be a mapping"]);
  });

  it("reports YAML syntax errors as scenario errors", () => {
    assert.throws(() => parseScenarioText("name: [unclosed", "broken.yaml"), (error: unknown) => error instanceof ScenarioError && /broken\.yaml/.test(error.message));
  });

  it("knows how many addresses a subnet offers", () => {
    assert.equal(subnetCapacity(24), 251);
    assert.equal(subnetCapacity(28), 11);
  });
});

describe("scenario workloads", () => {
  const scenario = parseScenarioText(`${minimal}    workloads:
      - { kind: Deployment, name: web, namespace: shop, replicas: 3, antiAffinity: required, emptyDir: true, doNotDisrupt: true, pdb: { minAvailable: 2 } }
      - { kind: StatefulSet, name: db, namespace: shop, replicas: 2 }
      - { kind: Pod, name: lonely, namespace: jobs }
      - { kind: Deployment, name: fleet, namespace: shop, replicas: 2, copies: 3 }
    podDisruptionBudgets:
      - { name: extra, namespace: shop, matchLabels: { tier: x }, maxUnavailable: 1 }
`);
  const cluster = scenario.clusters[0];
  const built = buildWorkloads(scenario.name, cluster.name, cluster.workloads, cluster.podDisruptionBudgets);
  const find = (kind: string, name: string) => built.objects.find((object) => object.kind === kind && object.metadata?.name === name);

  it("creates the controllers, a headless Service for the StatefulSet and the PDBs", () => {
    assert.deepEqual(built.namespaces, ["jobs", "shop"]);
    assert.ok(find("Deployment", "web"));
    assert.ok(find("Service", "db"));
    assert.ok(find("StatefulSet", "db"));
    assert.ok(find("Pod", "lonely"));
    assert.deepEqual((find("PodDisruptionBudget", "web") as { spec: { minAvailable: number } }).spec.minAvailable, 2);
    assert.deepEqual((find("PodDisruptionBudget", "extra") as { spec: { selector: unknown } }).spec.selector, { matchLabels: { tier: "x" } });
    assert.deepEqual(["fleet-0", "fleet-1", "fleet-2"].map((name) => Boolean(find("Deployment", name))), [true, true, true]);
    assert.equal(built.expectedPods, 3 + 2 + 1 + 6);
    assert.equal(expandCopies(cluster.workloads[3]).length, 3);
  });

  it("pins pods to the mirrored cluster's nodes and carries anti-affinity, emptyDir and do-not-disrupt", () => {
    const template = (find("Deployment", "web") as V1Deployment).spec!.template;
    const spec = template.spec!;
    assert.equal(spec.nodeSelector?.["sandbox.eks-upgrade-operator.io/cluster"], "c");
    assert.equal(spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey, "kubernetes.io/hostname");
    assert.deepEqual(spec.volumes, [{ name: "scratch", emptyDir: {} }]);
    assert.equal(template.metadata?.annotations?.[DO_NOT_DISRUPT_ANNOTATION], "true");
    assert.equal(spec.terminationGracePeriodSeconds, 2);
  });
});
