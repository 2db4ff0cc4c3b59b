// The subcommands over a fake API: what plan applies, how long it waits, what it deletes and the
// exit codes; pause, resume, abort and approve as merge patches; kubectl-style error lines.
import assert from "node:assert/strict";
import type { ClusterUpgrade, ClusterUpgradeSpec } from "../../../src/api/v1alpha1/types.js";
import { parseInvocation } from "../../../src/cli/kubectl-eksupgrade/args.js";
import { ServerError, type ClusterUpgrades } from "../../../src/cli/kubectl-eksupgrade/client.js";
import { EXIT_ERROR, EXIT_OK, EXIT_PLAN_BLOCKED, planNamePrefix, run, type Surroundings } from "../../../src/cli/kubectl-eksupgrade/commands.js";

const AT = "2026-11-29T10:00:00Z";

class FakeUpgrades implements ClusterUpgrades {
  readonly namespace = "ops";
  readonly objects = new Map<string, ClusterUpgrade>();
  readonly calls: string[] = [];
  /** Called on every get: lets a test play the operator writing status. */
  onGet: (upgrade: ClusterUpgrade, gets: number) => void = () => undefined;
  private gets = 0;

  get(name: string): Promise<ClusterUpgrade> {
    this.calls.push(`get ${name}`);
    const found = this.objects.get(name);
    if (!found) return Promise.reject(new ServerError(404, "NotFound", `clusterupgrades.eksupgrade.io "${name}" not found`));
    this.onGet(found, ++this.gets);
    return Promise.resolve(structuredClone(found));
  }

  create(metadata: { generateName?: string; name?: string }, spec: ClusterUpgradeSpec): Promise<ClusterUpgrade> {
    const name = metadata.name ?? `${metadata.generateName}x7k2p`;
    this.calls.push(`create ${name}`);
    const upgrade: ClusterUpgrade = { apiVersion: "eksupgrade.io/v1alpha1", kind: "ClusterUpgrade", metadata: { name, namespace: this.namespace, annotations: {} }, spec };
    this.objects.set(name, upgrade);
    return Promise.resolve(structuredClone(upgrade));
  }

  mergePatch(name: string, patch: Record<string, unknown>): Promise<ClusterUpgrade> {
    this.calls.push(`patch ${name} ${JSON.stringify(patch)}`);
    const found = this.objects.get(name)!;
    const { spec, metadata } = patch as { spec?: Partial<ClusterUpgradeSpec>; metadata?: { annotations?: Record<string, string> } };
    Object.assign(found.spec, spec ?? {});
    Object.assign((found.metadata.annotations ??= {}), metadata?.annotations ?? {});
    return Promise.resolve(structuredClone(found));
  }

  delete(name: string): Promise<void> {
    this.calls.push(`delete ${name}`);
    this.objects.delete(name);
    return Promise.resolve();
  }
}

interface Harness {
  api: FakeUpgrades;
  out: string[];
  err: string[];
  around: Surroundings;
}

function harness(confirmAnswer?: boolean): Harness {
  const api = new FakeUpgrades();
  const out: string[] = [];
  const err: string[] = [];
  let clock = 0;
  const around: Surroundings = {
    connect: () => api,
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    confirm: confirmAnswer === undefined ? undefined : () => Promise.resolve(confirmAnswer),
    readFile: (path) => {
      if (path === "bg.yaml") return "apiVersion: eksupgrade.io/v1alpha1\nkind: ClusterUpgrade\nmetadata: {name: bg}\nspec:\n  cluster: {name: blue}\n  targetVersion: '1.30'\n  strategy: BlueGreen\n";
      if (path === "pod.yaml") return "kind: Pod\nspec: {}\n";
      throw new Error(`ENOENT: ${path}`);
    },
    sleep: (ms) => {
      clock += ms;
      return Promise.resolve();
    },
    now: () => clock,
    version: "0.0.0-test",
  };
  return { api, out, err, around };
}

function existing(api: FakeUpgrades, spec: Partial<ClusterUpgradeSpec> = {}, status: ClusterUpgrade["status"] = { phase: "Blocked" }): void {
  api.objects.set("prod", { apiVersion: "eksupgrade.io/v1alpha1", kind: "ClusterUpgrade", metadata: { name: "prod", namespace: "ops", annotations: {} }, spec: { cluster: { name: "prod" }, targetVersion: "1.31", ...spec }, status });
}

function plannedBy(gets: number, blocking: number): (upgrade: ClusterUpgrade, count: number) => void {
  return (upgrade, count) => {
    if (count < gets) return;
    upgrade.status = {
      phase: "Planned",
      conditions: [{ type: "PreflightPassed", status: blocking ? "False" : "True", reason: blocking ? "BlockingFindings" : "ChecksPassed", message: "", lastTransitionTime: AT }],
      plan: { computedAt: AT, hops: [{ from: "1.30", to: "1.31", controlPlane: true, addons: [], nodeGroups: [] }] },
      preflight: { blocking, warnings: 0, findings: blocking ? [{ code: "PDB002", severity: "Blocking", resource: "PodDisruptionBudget/a/b", message: "m", remediation: "r" }] : [] },
    };
  };
}

describe("kubectl eksupgrade commands", () => {
  it("plan applies a dry run, waits for the operator's plan, prints it and deletes the dry run", async () => {
    const { api, out, err, around } = harness();
    api.onGet = plannedBy(3, 0);
    const code = await run(parseInvocation(["plan", "Prod_EU", "--to", "1.31", "--region", "eu-west-1"]), around);
    assert.equal(code, EXIT_OK);
    const created = api.calls[0];
    assert.equal(created, "create prod-eu-plan-x7k2p");
    assert.deepEqual(api.calls.filter((call) => call.startsWith("get")).length, 3);
    assert.equal(api.calls.at(-1), "delete prod-eu-plan-x7k2p");
    assert.match(out.join("\n"), /^1\.30 -> 1\.31\s+upgrade/m);
    assert.match(out.join("\n"), /No findings: preflight passed\./);
    assert.match(out.join("\n"), /^Verdict:\s+preflight passes: the upgrade can start$/m);
    assert.match(err.join("\n"), /created in ops \(dry run\)/);
  });

  it("plan exits 3 and says so when preflight would block the upgrade, and keeps the dry run with --keep", async () => {
    const { api, around, err, out } = harness();
    api.onGet = plannedBy(1, 1);
    const code = await run(parseInvocation(["plan", "prod", "--to", "1.31", "--keep"]), around);
    assert.equal(code, EXIT_PLAN_BLOCKED);
    assert.match(out.join("\n"), /^Verdict:\s+preflight would stop this upgrade \(1 blocking finding\(s\)\)$/m);
    assert.ok(!api.calls.some((call) => call.startsWith("delete")));
    assert.match(err.join("\n"), /kept \(--keep\)/);
  });

  it("plan gives up after --timeout, says the operator wrote nothing, and still deletes the dry run", async () => {
    const { api, around, err } = harness();
    const code = await run(parseInvocation(["plan", "prod", "--to", "1.31", "--timeout", "10s"]), around);
    assert.equal(code, EXIT_ERROR);
    assert.match(err.join("\n"), /no plan for clusterupgrade prod-plan-x7k2p after 10s: the operator wrote no status: is it running/);
    assert.equal(api.calls.at(-1), "delete prod-plan-x7k2p");
  });

  it("plan deletes the dry run when interrupted while it waits, and stops listening once done", async () => {
    const { api, around } = harness();
    const registered: (() => Promise<void>)[] = [];
    let released = 0;
    around.onInterrupt = (cleanup) => {
      registered.push(cleanup);
      return () => released++;
    };
    api.onGet = (upgrade, count) => {
      // The user presses Ctrl-C during the first wait.
      if (count === 1) void registered[0]();
      plannedBy(2, 0)(upgrade, count);
    };
    await run(parseInvocation(["plan", "prod", "--to", "1.31"]), around);
    assert.equal(registered.length, 1);
    assert.equal(released, 1);
    assert.ok(api.calls.includes("delete prod-plan-x7k2p"));
    const kept = harness();
    kept.around.onInterrupt = (cleanup) => {
      registered.push(cleanup);
      return () => undefined;
    };
    kept.api.onGet = plannedBy(1, 0);
    await run(parseInvocation(["plan", "prod", "--to", "1.31", "--keep"]), kept.around);
    assert.equal(registered.length, 1, "--keep registers no cleanup");
  });

  it("plan -f takes the manifest's spec, overrides it from the command line and forces dryRun", async () => {
    const { api, around } = harness();
    api.onGet = plannedBy(1, 0);
    await run(parseInvocation(["plan", "-f", "bg.yaml", "--to", "1.31"]), around);
    const created = [...api.objects.values()];
    assert.equal(created.length, 0, "deleted after the plan");
    const { around: second, api: secondApi } = harness();
    secondApi.onGet = plannedBy(1, 0);
    await run(parseInvocation(["plan", "-f", "bg.yaml", "--to", "1.31", "--keep"]), second);
    const kept = [...secondApi.objects.values()][0];
    assert.deepEqual(kept.spec, { cluster: { name: "blue" }, targetVersion: "1.31", strategy: "BlueGreen", dryRun: true });
    assert.equal(kept.metadata.name, "blue-plan-x7k2p");
  });

  it("plan -f refuses a file that is not a ClusterUpgrade", async () => {
    const { around, err } = harness();
    assert.equal(await run(parseInvocation(["plan", "-f", "pod.yaml"]), around), EXIT_ERROR);
    assert.match(err.join("\n"), /-f pod\.yaml is not a ClusterUpgrade manifest/);
  });

  it("prints a missing object as kubectl does, on stderr, with exit code 1", async () => {
    const { around, out, err } = harness();
    assert.equal(await run(parseInvocation(["status", "nope"]), around), EXIT_ERROR);
    assert.deepEqual(out, []);
    assert.deepEqual(err, [`Error from server (NotFound): clusterupgrades.eksupgrade.io "nope" not found`]);
  });

  it("pause and resume set spec.paused by merge patch and say (no change) when it already is", async () => {
    const { api, around, out } = harness();
    existing(api);
    assert.equal(await run(parseInvocation(["pause", "prod"]), around), EXIT_OK);
    assert.ok(api.calls.includes(`patch prod {"spec":{"paused":true}}`));
    assert.equal(await run(parseInvocation(["pause", "prod"]), around), EXIT_OK);
    assert.equal(await run(parseInvocation(["resume", "prod"]), around), EXIT_OK);
    assert.ok(api.calls.includes(`patch prod {"spec":{"paused":false}}`));
    assert.deepEqual(out, ["clusterupgrade.eksupgrade.io/prod paused", "clusterupgrade.eksupgrade.io/prod paused (no change)", "clusterupgrade.eksupgrade.io/prod resumed"]);
  });

  it("abort needs --yes without a terminal, asks on one, and patches spec.abort only when confirmed", async () => {
    const noTerminal = harness();
    existing(noTerminal.api);
    assert.equal(await run(parseInvocation(["abort", "prod"]), noTerminal.around), EXIT_ERROR);
    assert.match(noTerminal.err.join("\n"), /stdin is not a terminal: add --yes/);
    const declined = harness(false);
    existing(declined.api);
    assert.equal(await run(parseInvocation(["abort", "prod"]), declined.around), EXIT_ERROR);
    assert.ok(!declined.api.calls.some((call) => call.startsWith("patch")));
    const confirmed = harness(true);
    existing(confirmed.api);
    assert.equal(await run(parseInvocation(["abort", "prod"]), confirmed.around), EXIT_OK);
    assert.ok(confirmed.api.calls.includes(`patch prod {"spec":{"abort":true}}`));
    const yes = harness();
    existing(yes.api);
    assert.equal(await run(parseInvocation(["abort", "prod", "--yes", "-o", "json"]), yes.around), EXIT_OK);
    assert.equal((JSON.parse(yes.out[0]) as ClusterUpgrade).spec.abort, true);
  });

  it("approve sets the approve-step annotation to the step the operator waits for", async () => {
    const { api, around, out } = harness();
    existing(api, { strategy: "BlueGreen", blueGreen: { manualApproval: true } as ClusterUpgradeSpec["blueGreen"] }, { phase: "ShiftingTraffic", cutover: { state: "AwaitingApproval", step: 2, steps: 4, blueWeight: 75, greenWeight: 25, split: "75/25", failures: 0 } });
    assert.equal(await run(parseInvocation(["approve", "prod"]), around), EXIT_OK);
    assert.ok(api.calls.includes(`patch prod {"metadata":{"annotations":{"eksupgrade.io/approve-step":"3"}}}`));
    assert.equal(out[0], "clusterupgrade.eksupgrade.io/prod approved through step 3");
    assert.equal(await run(parseInvocation(["approve", "prod", "--step", "2"]), around), EXIT_OK);
    assert.match(out[1], /step 2 already approved \(eksupgrade\.io\/approve-step=3\) \(no change\)/);
  });

  it("approve refuses an upgrade that waits for no approval", async () => {
    const inPlace = harness();
    existing(inPlace.api);
    assert.equal(await run(parseInvocation(["approve", "prod"]), inPlace.around), EXIT_ERROR);
    assert.match(inPlace.err[0], /no steps to approve: approvals are for strategy BlueGreen with spec\.blueGreen\.manualApproval true/);
    const shifting = harness();
    existing(shifting.api, { strategy: "BlueGreen", blueGreen: { manualApproval: true } as ClusterUpgradeSpec["blueGreen"] }, { phase: "ShiftingTraffic", cutover: { state: "Shifting", step: 1, blueWeight: 90, greenWeight: 10, split: "90/10", failures: 0 } });
    assert.equal(await run(parseInvocation(["approve", "prod"]), shifting.around), EXIT_ERROR);
    assert.match(shifting.err[0], /is not waiting for an approval \(cutover Shifting, step 1\)/);
  });

  it("why -o json carries the object's name with the hold", async () => {
    const { api, around, out } = harness();
    existing(api, { paused: true }, { phase: "Paused", conditions: [{ type: "Paused", status: "True", reason: "UserPaused", message: "paused", lastTransitionTime: AT }] });
    assert.equal(await run(parseInvocation(["why", "prod", "-o", "json"]), around), EXIT_OK);
    const hold = JSON.parse(out[0]) as Record<string, unknown>;
    assert.equal(hold.name, "prod");
    assert.equal(hold.namespace, "ops");
    assert.equal(hold.kind, "Paused");
  });

  it("names dry runs from the EKS cluster name as a valid generateName", () => {
    assert.equal(planNamePrefix("Prod_EU.west"), "prod-eu-west-plan-");
    assert.equal(planNamePrefix("___"), "cluster-plan-");
    assert.ok(planNamePrefix("a".repeat(100)).length <= 63 - 5);
  });
});
