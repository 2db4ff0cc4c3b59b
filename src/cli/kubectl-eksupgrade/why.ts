// `kubectl eksupgrade why`: from a ClusterUpgrade as read, the one thing that holds it now and the
// command that moves it on. Pure, so every branch is unit-tested; the order of the checks is the
// order in which a human should deal with them (a paused upgrade is held by the pause, whatever
// else is wrong with it).
import type { ClusterUpgrade, Condition, Finding, NodeGroupStatus, NodeInFlight, PodHold } from "../../api/v1alpha1/types.js";
import { BREAK_CLAIM_ANNOTATION, ConditionType, Reason } from "../../api/v1alpha1/types.js";

export type HoldKind =
  | "Done"
  | "NoStatus"
  | "InvalidSpec"
  | "Paused"
  | "Aborting"
  | "Claim"
  | "Finding"
  | "Failure"
  | "Approval"
  | "TrafficStep"
  | "Drain"
  | "Window"
  | "DryRun"
  | "Nothing";

export interface Hold {
  kind: HoldKind;
  phase: string;
  /** One line: what holds the upgrade. */
  summary: string;
  /** The thing named as holding it: a finding's resource, a pod, a claim holder. */
  subject?: string;
  /** The message of the condition, finding or pod hold, as the operator wrote it. */
  detail?: string;
  /** What to do about it, in words. */
  fix?: string;
  /** The command that does it (or, where only a human can decide, shows what to decide on). */
  command?: string;
}

function conditionOf(upgrade: ClusterUpgrade, type: string): Condition | undefined {
  return upgrade.status?.conditions?.find((entry) => entry.type === type);
}

function conditionIs(upgrade: ClusterUpgrade, type: string, status: string, reason?: string): Condition | undefined {
  const found = conditionOf(upgrade, type);
  return found?.status === status && (reason === undefined || found.reason === reason) ? found : undefined;
}

/** `kubectl describe` for a finding's resource when it is a Kubernetes object (Kind/namespace/name). */
export function inspectCommand(resource: string): string | undefined {
  const first = resource.split(",")[0];
  const parts = first.split("/");
  const kinds: Record<string, string> = { PodDisruptionBudget: "pdb", Deployment: "deployment", StatefulSet: "statefulset", DaemonSet: "daemonset", Pod: "pod", ReplicaSet: "replicaset", Job: "job" };
  if (parts.length === 3 && kinds[parts[0]]) return `kubectl describe ${kinds[parts[0]]} ${parts[2]} -n ${parts[1]}`;
  if (parts.length === 2 && parts[0] === "Node") return `kubectl describe node ${parts[1]}`;
  return undefined;
}

function firstBlocking(findings: readonly Finding[]): Finding | undefined {
  return findings.find((finding) => finding.severity === "Blocking") ?? findings[0];
}

interface HeldNode {
  group: NodeGroupStatus;
  node: NodeInFlight;
  hold: PodHold;
}

/** The node in flight longest with a pod still on it: the drain the roll waits for. */
function longestHeldNode(groups: readonly NodeGroupStatus[]): HeldNode | undefined {
  const held = groups.flatMap((group) => (group.nodes ?? []).filter((node) => node.podsLeft?.length).map((node) => ({ group, node, hold: node.podsLeft![0] })));
  return held.sort((a, b) => Date.parse(a.node.since) - Date.parse(b.node.since) || a.node.name.localeCompare(b.node.name))[0];
}

function drainHold(held: HeldNode): Pick<Hold, "fix" | "command"> {
  const [podNamespace, podName] = held.hold.pod.includes("/") ? held.hold.pod.split("/", 2) : [undefined, held.hold.pod];
  const namespaceFlag = podNamespace ? ` -n ${podNamespace}` : "";
  if (held.hold.evictionDenied) {
    return {
      fix: "the eviction was denied (RBAC or an admission webhook), so the drain timeout will never delete this pod: fix what denies it, or move the pod yourself",
      command: `kubectl describe pod ${podName}${namespaceFlag}`,
    };
  }
  const budget = /PodDisruptionBudget ([^/\s]+)\/([^\s(]+)/.exec(held.hold.heldBy);
  if (budget) {
    return {
      fix: "the drain goes on by itself once the budget allows a disruption: scale the workload up, or relax the budget if it can never allow one",
      command: `kubectl describe pdb ${budget[2]} -n ${budget[1]}`,
    };
  }
  return { fix: "the drain goes on by itself once the pod is gone; spec.drain.timeout and spec.drain.onTimeout decide what happens if it never goes", command: `kubectl describe pod ${podName}${namespaceFlag}` };
}

/** The one thing holding `upgrade` now. */
export function explainHold(upgrade: ClusterUpgrade): Hold {
  const { name, namespace } = upgrade.metadata;
  const target = `clusterupgrade ${name} -n ${namespace}`;
  const status = upgrade.status;
  const phase = status?.phase ?? "Pending";
  const ready = conditionOf(upgrade, ConditionType.Ready);
  if (!status?.conditions?.length) {
    return {
      kind: "NoStatus",
      phase,
      summary: "the operator has not written a status yet",
      fix: "check that the operator runs and watches this namespace (its logs say why it skips an object)",
      command: "kubectl get pods -n eks-upgrade-system",
    };
  }
  if (phase === "Succeeded") return { kind: "Done", phase, summary: `nothing: the cluster runs ${status.currentVersion ?? upgrade.spec.targetVersion} everywhere`, detail: ready?.message };
  if (phase === "Aborted") return { kind: "Done", phase, summary: "nothing: the upgrade was aborted", detail: status.released?.length ? `released: ${status.released.join(", ")}` : conditionOf(upgrade, ConditionType.Progressing)?.message };

  const invalid = conditionIs(upgrade, ConditionType.SpecValid, "False");
  if (invalid) return { kind: "InvalidSpec", phase, summary: `the spec is refused (${invalid.reason})`, detail: invalid.message, fix: "correct the fields the message names", command: `kubectl edit ${target}` };

  if (phase === "Aborting") return { kind: "Aborting", phase, summary: "the abort is giving back what the upgrade holds", detail: conditionOf(upgrade, ConditionType.Progressing)?.message };

  const paused = conditionIs(upgrade, ConditionType.Paused, "True");
  if (upgrade.spec.paused || paused) {
    return { kind: "Paused", phase, summary: "it is paused (spec.paused)", detail: paused?.message, fix: "resume it", command: `kubectl eksupgrade resume ${name} -n ${namespace}` };
  }

  const waiting = status.claims?.find((claim) => claim.state === "Waiting");
  if (waiting) {
    return {
      kind: "Claim",
      phase,
      summary: `another upgrade holds ${waiting.resource}`,
      subject: waiting.heldBy,
      detail: conditionOf(upgrade, ConditionType.Claimed)?.message,
      fix: "it goes on by itself once that upgrade ends; only if that upgrade no longer exists anywhere, break its claim",
      command: waiting.heldByUid ? `kubectl annotate ${target} ${BREAK_CLAIM_ANNOTATION}=${waiting.heldByUid}` : undefined,
    };
  }

  const preflight = conditionIs(upgrade, ConditionType.PreflightPassed, "False");
  const finding = preflight ? firstBlocking(status.preflight?.findings ?? []) : undefined;
  if (preflight && finding) {
    // blocking + warnings count every finding, also those status.preflight.omitted leaves out.
    const others = (status.preflight ? status.preflight.blocking + status.preflight.warnings : 1) - 1;
    return {
      kind: "Finding",
      phase,
      summary: `preflight finding ${finding.code} (${finding.severity}) on ${finding.resource}${others ? ` and ${others} more (kubectl eksupgrade status ${name} -n ${namespace})` : ""}`,
      subject: finding.resource,
      detail: finding.message,
      fix: `${finding.remediation}; the operator checks again by itself`,
      command: inspectCommand(finding.resource),
    };
  }
  if (preflight) return { kind: "Finding", phase, summary: `preflight did not pass (${preflight.reason})`, detail: preflight.message };

  for (const type of [ConditionType.ControlPlaneUpgraded, ConditionType.AddonsUpgraded, ConditionType.NodeGroupsUpgraded]) {
    const failed = conditionIs(upgrade, type, "False", Reason.HopFailed);
    if (failed) {
      const retry = [...(status.hops ?? []), ...(status.addons ?? []), ...(status.nodeGroups ?? [])].map((step) => step.nextAttemptAt).find(Boolean);
      return {
        kind: "Failure",
        phase,
        summary: `${type} failed`,
        detail: failed.message,
        fix: `act on the EKS error codes in the message${retry ? `; the operator tries again at ${retry}` : "; the operator tries again with backoff"}`,
        command: `kubectl eksupgrade status ${name} -n ${namespace}`,
      };
    }
  }
  const rolledBack = conditionIs(upgrade, ConditionType.TrafficShifted, "False", Reason.RolledBack);
  if (rolledBack) {
    return {
      kind: "Failure",
      phase,
      summary: `traffic was sent back to blue${status.cutover?.failedGate ? ` by gate ${status.cutover.failedGate}` : ""}`,
      subject: status.cutover?.failedGate,
      detail: rolledBack.message,
      fix: "find out why green failed the gate; a rolled-back cutover does not start again by itself: delete this ClusterUpgrade and apply a new one",
      command: `kubectl eksupgrade status ${name} -n ${namespace}`,
    };
  }
  const greenFailed = conditionIs(upgrade, ConditionType.GreenCreated, "False", Reason.GreenCreationFailed);
  if (greenFailed) return { kind: "Failure", phase, summary: "the green cluster could not be created", detail: greenFailed.message, fix: status.green?.message };

  if (status.cutover?.state === "AwaitingApproval") {
    const step = status.cutover.step + 1;
    return {
      kind: "Approval",
      phase,
      summary: `traffic step ${step}${status.cutover.steps ? ` of ${status.cutover.steps}` : ""} waits for approval (now ${status.cutover.split} blue/green)`,
      detail: conditionOf(upgrade, ConditionType.TrafficShifted)?.message,
      fix: "check green, then approve the step",
      command: `kubectl eksupgrade approve ${name} -n ${namespace}`,
    };
  }
  for (const type of [ConditionType.TrafficShifted, ConditionType.NodeGroupsUpgraded]) {
    const unavailable = conditionIs(upgrade, type, "False", Reason.StepUnavailable);
    if (unavailable) return { kind: "TrafficStep", phase, summary: `${type}: a step cannot go on`, detail: unavailable.message, fix: "act on what the message names; the operator tries again by itself" };
  }

  const held = longestHeldNode(status.nodeGroups ?? []);
  if (held) {
    const more = (held.node.podsLeft?.length ?? 1) - 1;
    return {
      kind: "Drain",
      phase,
      summary: `node ${held.node.name} (group ${held.group.name}) is ${held.node.phase.toLowerCase()} since ${held.node.since}: pod ${held.hold.pod} stays${more ? ` (and ${more} more)` : ""}`,
      subject: held.hold.pod,
      detail: held.hold.heldBy,
      ...drainHold(held),
    };
  }

  const window = conditionIs(upgrade, ConditionType.MaintenanceWindowOpen, "False");
  if (phase === "WaitingForWindow" && window) {
    return {
      kind: "Window",
      phase,
      summary: `outside its maintenance windows${status.window?.nextStart ? `: the next opens at ${status.window.nextStart}` : ""}`,
      detail: window.message,
      fix: "it starts by itself when a window opens; to start sooner, add a window or end the blackout",
      command: `kubectl edit ${target}`,
    };
  }

  if (phase === "Planned" || upgrade.spec.dryRun) {
    return {
      kind: "DryRun",
      phase,
      summary: "it is a dry run: it plans and changes nothing",
      detail: ready?.message,
      fix: "to run it, set spec.dryRun to false",
      command: `kubectl patch ${target} --type merge -p '{"spec":{"dryRun":false}}'`,
    };
  }

  const progressing = conditionIs(upgrade, ConditionType.Progressing, "True");
  return { kind: "Nothing", phase, summary: progressing ? `nothing: it is working (${progressing.reason})` : "nothing the operator reports", detail: progressing?.message ?? ready?.message };
}

export function renderHold(upgrade: ClusterUpgrade, hold: Hold): string {
  const lines = [`${upgrade.metadata.namespace}/${upgrade.metadata.name} (${hold.phase}): ${hold.summary}`];
  if (hold.detail) lines.push(`  ${hold.detail}`);
  if (hold.fix) lines.push(`Fix: ${hold.fix}`);
  if (hold.command) lines.push(`  ${hold.command}`);
  return lines.join("\n");
}
