// Parsing of `kubectl eksupgrade` command lines: kubectl's global flags, each subcommand's own,
// and a clear refusal naming the flag for every mistake.
import assert from "node:assert/strict";
import { parseInvocation, UsageError } from "../../../src/cli/kubectl-eksupgrade/args.js";

describe("kubectl eksupgrade arguments", () => {
  it("reads plan with its options and kubectl's global flags in any order", () => {
    const invocation = parseInvocation(["-n", "ops", "plan", "prod", "--to", "1.31", "--strategy", "inplace", "--region=eu-west-1", "-o", "yaml", "--keep", "--timeout", "90s", "--context", "admin@prod", "--kubeconfig", "/tmp/config"]);
    assert.deepEqual(invocation, {
      command: "plan",
      kubeconfig: "/tmp/config",
      context: "admin@prod",
      namespace: "ops",
      output: "yaml",
      cluster: "prod",
      targetVersion: "1.31",
      strategy: "InPlace",
      region: "eu-west-1",
      file: undefined,
      keep: true,
      timeoutMs: 90_000,
    });
  });

  it("defaults to tables, no namespace (the context decides) and a three-minute plan timeout", () => {
    const invocation = parseInvocation(["plan", "prod", "--to", "1.31"]);
    assert.equal(invocation.command, "plan");
    if (invocation.command !== "plan") return;
    assert.equal(invocation.output, "table");
    assert.equal(invocation.namespace, undefined);
    assert.equal(invocation.timeoutMs, 180_000);
    assert.equal(invocation.keep, false);
  });

  it("takes -o=json the way kubectl's flag library does", () => {
    const invocation = parseInvocation(["status", "prod-to-1-31", "-o=json"]);
    assert.deepEqual(invocation, { command: "status", kubeconfig: undefined, context: undefined, namespace: undefined, output: "json", name: "prod-to-1-31" });
  });

  it("reads approve --step, abort --yes and the one-name commands", () => {
    assert.deepEqual(parseInvocation(["approve", "bg", "--step", "3"]), { command: "approve", kubeconfig: undefined, context: undefined, namespace: undefined, output: "table", name: "bg", step: 3 });
    assert.equal((parseInvocation(["abort", "bg", "-y"]) as { yes: boolean }).yes, true);
    assert.equal((parseInvocation(["abort", "bg"]) as { yes: boolean }).yes, false);
    for (const command of ["status", "why", "pause", "resume"]) assert.equal(parseInvocation([command, "bg"]).command, command);
  });

  it("answers help for no command, -h, and help COMMAND", () => {
    assert.deepEqual(parseInvocation([]), { command: "help", topic: undefined });
    assert.deepEqual(parseInvocation(["why", "-h"]), { command: "help", topic: "why" });
    assert.deepEqual(parseInvocation(["help", "plan"]), { command: "help", topic: "plan" });
  });

  const refusals: [string[], RegExp][] = [
    [["upgrade", "x"], /unknown command "upgrade": use one of plan, status/],
    [["status"], /status needs the name of a ClusterUpgrade/],
    [["status", "a", "b"], /status takes one ClusterUpgrade name, got 2: a b/],
    [["plan", "--to", "1.31"], /plan needs the EKS cluster/],
    [["plan", "prod"], /plan needs --to VERSION/],
    [["plan", "prod", "--to", "latest"], /--to "latest" is not a Kubernetes version: write it as 1\.31/],
    [["plan", "prod", "--to", "1.31", "--strategy", "Canary"], /--strategy "Canary" is not a strategy: use --strategy InPlace or --strategy BlueGreen/],
    [["plan", "prod", "--to", "1.31", "--timeout", "soon"], /--timeout "soon" is not a duration/],
    [["status", "x", "-o", "wide-json"], /-o\/--output "wide-json" is not supported: use -o json or -o yaml/],
    [["pause", "x", "--keep"], /--keep does not apply to pause/],
    [["status", "x", "--yes"], /-y\/--yes does not apply to status/],
    [["approve", "x", "--step", "0"], /--step "0" is not a step number/],
    [["status", "x", "--watch"], /Unknown option '--watch'/],
  ];
  for (const [argv, message] of refusals) {
    it(`refuses ${argv.join(" ")}`, () => {
      assert.throws(() => parseInvocation(argv), (error: unknown) => error instanceof UsageError && message.test(error.message));
    });
  }
});
