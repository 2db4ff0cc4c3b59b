// The subcommands of `kubectl eksupgrade`, each a function of the parsed invocation and its
// surroundings (the API, the two output streams, a prompt, the clock) returning the exit code.
// Results go to stdout, everything else (progress notes, errors) to stderr, so that `-o json`
// output can be piped as it is.
import { parse } from "yaml";
import type { ClusterUpgrade, ClusterUpgradeSpec } from "../../api/v1alpha1/types.js";
import { KIND } from "../../api/v1alpha1/types.js";
import { APPROVE_STEP_ANNOTATION, approvedThrough } from "../../bluegreen/cutover.js";
import { formatDuration } from "../../api/v1alpha1/duration.js";
import type { Invocation } from "./args.js";
import { COMMANDS, helpText, UsageError } from "./args.js";
import type { ClusterUpgrades, ConnectionOptions } from "./client.js";
import { ServerError } from "./client.js";
import { renderPlanResult, renderStatus, serialize } from "./render.js";
import { explainHold, renderHold } from "./why.js";

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
/** plan: the dry run found blocking findings, so the upgrade as planned would not start. */
export const EXIT_PLAN_BLOCKED = 3;

export interface Surroundings {
  connect: (options: ConnectionOptions) => ClusterUpgrades;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Asks a yes/no question on the terminal; undefined when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
  readFile: (path: string) => string;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Runs `cleanup` if the user interrupts (Ctrl-C) before the returned release is called. */
  onInterrupt?: (cleanup: () => Promise<void>) => () => void;
  version: string;
}

/** Phases a dry run ends in: nothing more is computed after them. */
const PLAN_SETTLED = new Set(["Planned", "Blocked", "InvalidSpec", "Failed", "Succeeded"]);
const PLAN_POLL_MS = 1000;

type Run<C extends Invocation["command"]> = (invocation: Extract<Invocation, { command: C }>, around: Surroundings) => Promise<number>;

function print(around: Surroundings, format: "table" | "json" | "yaml", value: unknown, table: () => string): void {
  around.out(format === "table" ? table() : serialize(value, format));
}

/** A name kubectl would accept as the start of metadata.generateName, from an EKS cluster name. */
export function planNamePrefix(cluster: string): string {
  const label = cluster.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  return `${label || "cluster"}-plan-`;
}

/** The spec the dry run applies: from -f FILE and/or CLUSTER --to VERSION, always with dryRun. */
export function planSpec(invocation: Extract<Invocation, { command: "plan" }>, readFile: (path: string) => string): ClusterUpgradeSpec {
  let spec: Partial<ClusterUpgradeSpec> = {};
  if (invocation.file) {
    const manifest = parse(readFile(invocation.file)) as Partial<ClusterUpgrade> | null;
    if (manifest?.kind !== KIND || typeof manifest.spec !== "object" || manifest.spec === null) throw new UsageError(`-f ${invocation.file} is not a ClusterUpgrade manifest (kind: ${KIND} with a spec)`);
    spec = structuredClone(manifest.spec);
  }
  const name = invocation.cluster ?? spec.cluster?.name;
  if (!name) throw new UsageError(`-f ${invocation.file}: spec.cluster.name is missing; give the cluster as an argument: kubectl eksupgrade plan CLUSTER -f ${invocation.file}`);
  const cluster = { ...spec.cluster, name, ...(invocation.region ? { region: invocation.region } : {}) };
  const targetVersion = invocation.targetVersion ?? spec.targetVersion;
  if (!targetVersion) throw new UsageError(`-f ${invocation.file}: spec.targetVersion is missing; add --to VERSION`);
  return { ...spec, cluster, targetVersion, ...(invocation.strategy ? { strategy: invocation.strategy } : {}), dryRun: true };
}

const plan: Run<"plan"> = async (invocation, around) => {
  const spec = planSpec(invocation, around.readFile);
  const api = around.connect(invocation);
  const created = await api.create({ generateName: planNamePrefix(spec.cluster.name), labels: { "app.kubernetes.io/managed-by": "kubectl-eksupgrade" } }, spec);
  const name = created.metadata.name;
  around.err(`clusterupgrade.eksupgrade.io/${name} created in ${api.namespace} (dry run); waiting for the operator's plan`);
  let upgrade = created;
  // Ctrl-C during the wait must not leave a dry run behind for someone else to find.
  const release = invocation.keep ? undefined : around.onInterrupt?.(() => deletePlan(api, name, around));
  try {
    const deadline = around.now() + invocation.timeoutMs;
    while (!PLAN_SETTLED.has(upgrade.status?.phase ?? "")) {
      if (around.now() >= deadline) {
        const ready = upgrade.status?.conditions?.find((condition) => condition.type === "Ready");
        const where = upgrade.status?.phase ? `it is ${upgrade.status.phase}${ready ? `: ${ready.message}` : ""}` : "the operator wrote no status: is it running and watching this namespace? (kubectl get pods -n eks-upgrade-system)";
        throw new Error(`no plan for clusterupgrade ${name} after ${formatDuration(invocation.timeoutMs)}: ${where}`);
      }
      await around.sleep(PLAN_POLL_MS);
      upgrade = await api.get(name);
    }
  } finally {
    release?.();
    if (invocation.keep) around.err(`clusterupgrade.eksupgrade.io/${name} kept (--keep); delete it with: kubectl delete clusterupgrade ${name} -n ${api.namespace}`);
    else await deletePlan(api, name, around);
  }
  const phase = upgrade.status?.phase;
  if (phase === "InvalidSpec") {
    const invalid = upgrade.status?.conditions?.find((condition) => condition.type === "SpecValid");
    around.err(`error: the operator refused the spec: ${invalid?.message ?? "(no message)"}`);
    return EXIT_ERROR;
  }
  const blocked = planBlocked(upgrade);
  print(around, invocation.output, upgrade, () => renderPlanResult(upgrade, blocked));
  if (phase === "Failed") return EXIT_ERROR;
  return blocked ? EXIT_PLAN_BLOCKED : EXIT_OK;
};

/**
 * A dry run's phase stays Planned even when preflight fails (the dry-run condition wins), so
 * whether the real upgrade would start is read from the preflight itself.
 */
export function planBlocked(upgrade: ClusterUpgrade): boolean {
  const preflight = upgrade.status?.conditions?.find((condition) => condition.type === "PreflightPassed");
  return upgrade.status?.phase === "Blocked" || preflight?.status === "False" || (upgrade.status?.preflight?.blocking ?? 0) > 0;
}

async function deletePlan(api: ClusterUpgrades, name: string, around: Surroundings): Promise<void> {
  try {
    await api.delete(name);
    around.err(`clusterupgrade.eksupgrade.io/${name} deleted`);
  } catch (error) {
    if (error instanceof ServerError && error.statusCode === 404) return;
    around.err(`warning: the dry run clusterupgrade ${name} could not be deleted (${(error as Error).message}); delete it with: kubectl delete clusterupgrade ${name} -n ${api.namespace}`);
  }
}

const status: Run<"status"> = async (invocation, around) => {
  const upgrade = await around.connect(invocation).get(invocation.name);
  print(around, invocation.output, upgrade, () => renderStatus(upgrade));
  return EXIT_OK;
};

const why: Run<"why"> = async (invocation, around) => {
  const upgrade = await around.connect(invocation).get(invocation.name);
  const hold = explainHold(upgrade);
  print(around, invocation.output, { name: upgrade.metadata.name, namespace: upgrade.metadata.namespace, ...hold }, () => renderHold(upgrade, hold));
  return EXIT_OK;
};

/** pause, resume and abort: one spec field set by merge patch, "(no change)" when it already was. */
async function setSpecFlag(invocation: Extract<Invocation, { command: "pause" | "resume" | "abort" }>, around: Surroundings, field: "paused" | "abort", value: boolean, verb: string): Promise<number> {
  const api = around.connect(invocation);
  const before = await api.get(invocation.name);
  if (invocation.command === "abort" && !invocation.yes) {
    const question = `Abort clusterupgrade ${invocation.name} in ${api.namespace} (cluster ${before.spec.cluster.name}, ${before.status?.phase ?? "Pending"})? What it cordoned is uncordoned and blue/green traffic goes back to blue; a control-plane hop already sent to EKS stays. [y/N] `;
    if (!around.confirm) throw new UsageError("abort asks for confirmation and stdin is not a terminal: add --yes");
    if (!(await around.confirm(question))) {
      around.err("not aborted");
      return EXIT_ERROR;
    }
  }
  const unchanged = Boolean(before.spec[field]) === value;
  const after = unchanged ? before : await api.mergePatch(invocation.name, { spec: { [field]: value } });
  print(around, invocation.output, after, () => `clusterupgrade.eksupgrade.io/${invocation.name} ${verb}${unchanged ? " (no change)" : ""}`);
  return EXIT_OK;
}

const approve: Run<"approve"> = async (invocation, around) => {
  const api = around.connect(invocation);
  const upgrade = await api.get(invocation.name);
  const cutover = upgrade.status?.cutover;
  if (upgrade.spec.strategy !== "BlueGreen" || !upgrade.spec.blueGreen?.manualApproval) {
    throw new Error(`clusterupgrade ${invocation.name} has no steps to approve: approvals are for strategy BlueGreen with spec.blueGreen.manualApproval true`);
  }
  const waitingFor = cutover?.state === "AwaitingApproval" ? cutover.step + 1 : undefined;
  const step = invocation.step ?? waitingFor;
  if (step === undefined) throw new Error(`clusterupgrade ${invocation.name} is not waiting for an approval (cutover ${cutover?.state ?? "not started"}, step ${cutover?.step ?? 0}); name a later step with --step N to approve it ahead`);
  const already = approvedThrough(upgrade.metadata.annotations);
  if (already >= step) {
    print(around, invocation.output, upgrade, () => `clusterupgrade.eksupgrade.io/${invocation.name} step ${step} already approved (${APPROVE_STEP_ANNOTATION}=${already}) (no change)`);
    return EXIT_OK;
  }
  const after = await api.mergePatch(invocation.name, { metadata: { annotations: { [APPROVE_STEP_ANNOTATION]: String(step) } } });
  print(around, invocation.output, after, () => `clusterupgrade.eksupgrade.io/${invocation.name} approved through step ${step}`);
  return EXIT_OK;
};

/** Runs one invocation; every error is reported on stderr and turned into the exit code. */
export async function run(invocation: Invocation, around: Surroundings): Promise<number> {
  try {
    switch (invocation.command) {
      case "help":
        around.out(helpText(invocation.topic));
        return EXIT_OK;
      case "version":
        around.out(`kubectl-eksupgrade ${around.version}`);
        return EXIT_OK;
      case "plan":
        return await plan(invocation, around);
      case "status":
        return await status(invocation, around);
      case "why":
        return await why(invocation, around);
      case "approve":
        return await approve(invocation, around);
      case "pause":
        return await setSpecFlag(invocation, around, "paused", true, "paused");
      case "resume":
        return await setSpecFlag(invocation, around, "paused", false, "resumed");
      case "abort":
        return await setSpecFlag(invocation, around, "abort", true, "aborted");
    }
  } catch (error) {
    around.err(describeError(error, invocation.command));
    return EXIT_ERROR;
  }
}

export function describeError(error: unknown, command?: string): string {
  const topic = (COMMANDS as readonly string[]).includes(command ?? "") ? ` ${command}` : "";
  if (error instanceof UsageError) return `error: ${error.message}\nSee 'kubectl eksupgrade help${topic}'.`;
  if (error instanceof ServerError && error.statusCode !== undefined) return `Error from server (${error.reason ?? error.statusCode}): ${error.message}`;
  return `error: ${(error as Error).message ?? String(error)}`;
}
