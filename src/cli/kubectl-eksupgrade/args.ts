// Command-line parsing for `kubectl eksupgrade`. kubectl hands a plugin its arguments untouched,
// so the plugin itself honours kubectl's global flags (--kubeconfig, --context, -n, -o). Pure:
// every mistake becomes a UsageError naming the flag or argument and what to write instead.
import { parseArgs } from "node:util";
import { parseDuration } from "../../api/v1alpha1/duration.js";
import { parseMinor } from "../../api/v1alpha1/version.js";
import type { Strategy } from "../../api/v1alpha1/types.js";

export const COMMANDS = ["plan", "status", "approve", "pause", "resume", "abort", "why"] as const;
export type CommandName = (typeof COMMANDS)[number];
export type OutputFormat = "table" | "json" | "yaml";

/** A mistake on the command line: exit code 1 with the message and a pointer to --help. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  /** As given with -n; undefined means the kubeconfig context's namespace, then "default". */
  namespace?: string;
  output: OutputFormat;
}

export type Invocation =
  | { command: "help"; topic?: CommandName }
  | { command: "version" }
  | ({ command: "plan"; cluster?: string; targetVersion?: string; strategy?: Strategy; region?: string; file?: string; keep: boolean; timeoutMs: number } & GlobalOptions)
  | (Named<"approve"> & { step?: number })
  | (Named<"abort"> & { yes: boolean })
  | Named<"status">
  | Named<"pause">
  | Named<"resume">
  | Named<"why">;

/** A subcommand that acts on one ClusterUpgrade, named by its argument. */
type Named<C extends CommandName> = { command: C; name: string } & GlobalOptions;

const OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  namespace: { type: "string", short: "n" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
  to: { type: "string" },
  strategy: { type: "string" },
  region: { type: "string" },
  filename: { type: "string", short: "f" },
  keep: { type: "boolean" },
  timeout: { type: "string" },
  step: { type: "string" },
  yes: { type: "boolean", short: "y" },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL_OPTIONS: readonly OptionName[] = ["kubeconfig", "context", "namespace", "output", "help"];
/** Options each subcommand takes besides the global ones. */
const COMMAND_OPTIONS: Record<CommandName, readonly OptionName[]> = {
  plan: ["to", "strategy", "region", "filename", "keep", "timeout"],
  status: [],
  approve: ["step"],
  pause: [],
  resume: [],
  abort: ["yes"],
  why: [],
};

export const DEFAULT_PLAN_TIMEOUT = "3m";

function isCommand(word: string | undefined): word is CommandName {
  return (COMMANDS as readonly string[]).includes(word ?? "");
}

function flag(name: OptionName): string {
  const short = (OPTIONS[name] as { short?: string }).short;
  return short ? `-${short}/--${name}` : `--${name}`;
}

function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === "" || value === "wide") return "table";
  if (value === "json" || value === "yaml") return value;
  throw new UsageError(`-o/--output "${value}" is not supported: use -o json or -o yaml (or leave it out for a table)`);
}

function strategyOf(value: string | undefined): Strategy | undefined {
  if (value === undefined) return undefined;
  const match = ["InPlace", "BlueGreen"].find((strategy) => strategy.toLowerCase() === value.toLowerCase());
  if (!match) throw new UsageError(`--strategy "${value}" is not a strategy: use --strategy InPlace or --strategy BlueGreen`);
  return match as Strategy;
}

/** `-o=json` reaches parseArgs as the value "=json"; kubectl's flag library reads it as "json". */
function unequal(value: string | undefined): string | undefined {
  return value?.startsWith("=") ? value.slice(1) : value;
}

function oneName(command: CommandName, names: string[]): string {
  if (names.length === 0) throw new UsageError(`${command} needs the name of a ClusterUpgrade: kubectl eksupgrade ${command} NAME [-n NAMESPACE]`);
  if (names.length > 1) throw new UsageError(`${command} takes one ClusterUpgrade name, got ${names.length}: ${names.join(" ")}`);
  return names[0];
}

/** Parses argv (without node and the script) into what to do. Throws UsageError on any mistake. */
export function parseInvocation(argv: readonly string[]): Invocation {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  const { values, positionals } = parsed;
  const [word, ...rest] = positionals;
  if (word === "help") return { command: "help", topic: isCommand(rest[0]) ? rest[0] : undefined };
  if (word === "version") return { command: "version" };
  if (values.help || word === undefined) return { command: "help", topic: isCommand(word) ? word : undefined };
  if (!isCommand(word)) throw new UsageError(`unknown command "${word}": use one of ${COMMANDS.join(", ")}`);
  const allowed = new Set<OptionName>([...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[word]]);
  for (const name of Object.keys(values) as OptionName[]) {
    if (!allowed.has(name)) throw new UsageError(`${flag(name)} does not apply to ${word}`);
  }
  const namespace = unequal(values.namespace);
  if (namespace === "") throw new UsageError("-n/--namespace needs a namespace name");
  const global: GlobalOptions = {
    kubeconfig: values.kubeconfig,
    context: values.context,
    namespace,
    output: outputFormat(unequal(values.output)),
  };
  switch (word) {
    case "plan":
      return { command: "plan", ...global, ...planOptions(values, rest) };
    case "approve": {
      const step = values.step === undefined ? undefined : Number(values.step);
      if (step !== undefined && !(Number.isInteger(step) && step >= 1)) throw new UsageError(`--step "${values.step}" is not a step number: steps count from 1`);
      return { command: "approve", ...global, name: oneName(word, rest), step };
    }
    case "abort":
      return { command: "abort", ...global, name: oneName(word, rest), yes: Boolean(values.yes) };
    default:
      return { command: word, ...global, name: oneName(word, rest) };
  }
}

function planOptions(values: Partial<Record<OptionName, string | boolean>>, rest: string[]): { cluster?: string; targetVersion?: string; strategy?: Strategy; region?: string; file?: string; keep: boolean; timeoutMs: number } {
  const file = unequal(values.filename as string | undefined);
  if (rest.length > 1) throw new UsageError(`plan takes one EKS cluster name, got ${rest.length}: ${rest.join(" ")}`);
  const cluster = rest[0];
  const targetVersion = values.to as string | undefined;
  if (!file && !cluster) throw new UsageError("plan needs the EKS cluster to plan for: kubectl eksupgrade plan CLUSTER --to VERSION (or -f FILE with a ClusterUpgrade)");
  if (!file && !targetVersion) throw new UsageError("plan needs --to VERSION, the Kubernetes version to plan for (e.g. --to 1.31)");
  if (targetVersion !== undefined) {
    try {
      parseMinor(targetVersion);
    } catch {
      throw new UsageError(`--to "${targetVersion}" is not a Kubernetes version: write it as 1.31`);
    }
  }
  const timeout = (values.timeout as string | undefined) ?? DEFAULT_PLAN_TIMEOUT;
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(timeout);
  } catch {
    throw new UsageError(`--timeout "${timeout}" is not a duration: write it as 90s, 5m or 1h`);
  }
  return { cluster, targetVersion, strategy: strategyOf(values.strategy as string | undefined), region: values.region as string | undefined, file, keep: Boolean(values.keep), timeoutMs };
}

const COMMAND_HELP: Record<CommandName, string> = {
  plan: `Plan an upgrade without changing anything: applies a ClusterUpgrade with spec.dryRun true,
waits for the operator's preflight and plan, prints them and deletes the dry run again.

Usage:
  kubectl eksupgrade plan CLUSTER --to VERSION [--strategy InPlace|BlueGreen] [--region REGION]
  kubectl eksupgrade plan -f FILE [CLUSTER] [--to VERSION]

Options:
  --to VERSION         the Kubernetes version to reach, e.g. 1.31
  --strategy NAME      InPlace (default) or BlueGreen (BlueGreen needs -f with spec.blueGreen)
  --region REGION      the cluster's AWS region, when the operator's default is not it
  -f, --filename FILE  a ClusterUpgrade manifest to plan; CLUSTER and --to override its spec
  --keep               keep the dry-run ClusterUpgrade instead of deleting it
  --timeout DURATION   how long to wait for the operator's plan (default ${DEFAULT_PLAN_TIMEOUT})

Exit status: 0 when preflight passes, 3 when blocking findings would stop the upgrade, 1 on error.`,
  status: `Show where an upgrade stands: hops, add-ons, node groups, the nodes in flight and what holds them.

Usage:
  kubectl eksupgrade status NAME [-n NAMESPACE] [-o json|yaml]`,
  approve: `Approve the next blue/green traffic step the operator waits for (spec.blueGreen.manualApproval).

Usage:
  kubectl eksupgrade approve NAME [--step N] [-n NAMESPACE]

Options:
  --step N   approve up to step N (default: the step the operator is waiting for)`,
  pause: `Pause an upgrade (spec.paused: true). Nodes being drained finish first; nothing new starts.

Usage:
  kubectl eksupgrade pause NAME [-n NAMESPACE]`,
  resume: `Resume a paused upgrade (spec.paused: false).

Usage:
  kubectl eksupgrade resume NAME [-n NAMESPACE]`,
  abort: `Abort an upgrade (spec.abort: true): the operator uncordons what it cordoned, gives Auto Scaling
groups their sizes back and, for blue/green, sends traffic back to blue. A control-plane hop
already sent to EKS cannot be undone.

Usage:
  kubectl eksupgrade abort NAME [--yes] [-n NAMESPACE]

Options:
  -y, --yes   do not ask for confirmation (needed when stdin is not a terminal)`,
  why: `Say the one thing holding an upgrade now, and the command that fixes it.

Usage:
  kubectl eksupgrade why NAME [-n NAMESPACE] [-o json|yaml]`,
};

export function helpText(topic?: CommandName): string {
  if (topic) return `${COMMAND_HELP[topic]}\n\n${GLOBAL_HELP}`;
  return `kubectl eksupgrade drives ClusterUpgrades of the eks-upgrade-operator.

Commands:
  plan CLUSTER --to VERSION   dry-run an upgrade and print its plan and preflight findings
  status NAME                 hops, add-ons, node groups, nodes in flight and what holds them
  why NAME                    the one thing holding an upgrade now, with the command to fix it
  approve NAME                approve the next blue/green traffic step
  pause NAME | resume NAME    pause or resume an upgrade
  abort NAME                  abort an upgrade and give back what it holds

${GLOBAL_HELP}

Run "kubectl eksupgrade help COMMAND" for a command's options.`;
}

const GLOBAL_HELP = `Global options:
  --kubeconfig PATH        the kubeconfig to use (default $KUBECONFIG, then ~/.kube/config)
  --context NAME           the kubeconfig context to use
  -n, --namespace NAME     the ClusterUpgrade's namespace (default: the context's, then "default")
  -o, --output json|yaml   print the object instead of tables`;
