// What one reconcile pass of a ClusterUpgrade sees and may change. Steps read the snapshot and the
// live cluster, and write only to `status` (a working copy) and through the cloud ports; the
// controller writes the status once at the end of the pass.
import type { ResolvedSpec } from "../../api/v1alpha1/defaults.js";
import type { IntentChange } from "../../api/v1alpha1/intent.js";
import type {
  ClusterUpgrade,
  ClusterUpgradeStatus,
  ConditionStatus,
  ConditionTypeName,
  ReasonName,
} from "../../api/v1alpha1/types.js";
import type { CloudPorts, ClusterInfo } from "../../cloud/ports.js";
import type { HttpProbe } from "../../bluegreen/gates.js";
import type { OutboundPolicy } from "../../net/outbound.js";
import type { ClusterAccess, WorkloadReader } from "../../kube/workloads.js";
import type { Logger } from "winston";
import type { Ending } from "./status.js";

export interface ControllerTimings {
  /** How often a running control-plane update is polled (DescribeUpdate). */
  controlPlanePollMs: number;
  /** How often a running add-on or node-group update is polled. */
  updatePollMs: number;
  /** First wait after EKS reports a failed update; doubles per attempt up to failedUpdateMaxBackoffMs. */
  failedUpdateBackoffMs: number;
  failedUpdateMaxBackoffMs: number;
  /** Re-read interval while waiting on something outside the operator (a paused spec, a blocked check, another upgrade's claim). */
  idleRecheckMs: number;
  /** How long a claim just written must still read as ours before the upgrade relies on it (a racing writer shows up within it). */
  claimSettleMs: number;
}

/** Production timings: EKS control-plane updates take 8-15 minutes, so a 30 s poll is plenty. */
export const DEFAULT_TIMINGS: ControllerTimings = {
  controlPlanePollMs: 30_000,
  updatePollMs: 20_000,
  failedUpdateBackoffMs: 60_000,
  failedUpdateMaxBackoffMs: 15 * 60_000,
  idleRecheckMs: 60_000,
  claimSettleMs: 5_000,
};

/** What the claim protocol needs to know about this operator. */
export interface ClaimEnvironment {
  /** The management cluster this operator runs in (OPERATOR_IDENTITY, by default the kube-system namespace UID). */
  operator: string;
  /** False when no stable identity could be found: then no holder is ever judged gone automatically. */
  identityStable: boolean;
  /** The concrete region for a region field that may be empty. */
  regionOf: (region: string | undefined) => string;
  /** The UID of ClusterUpgrade namespace/name in this management cluster, undefined when it does not exist; throws when it cannot tell. */
  upgradeUid: (namespace: string, name: string) => Promise<string | undefined>;
}

export type EventType = "Normal" | "Warning";

export interface StepContext {
  /** The object, with the frozen intent put back into its spec when the spec strays from it. */
  readonly upgrade: ClusterUpgrade;
  readonly spec: ResolvedSpec;
  /** Frozen fields whose value the spec has changed since the intent was recorded (status.frozenIntent). */
  readonly intentChanges: readonly IntentChange[];
  readonly status: ClusterUpgradeStatus;
  readonly now: Date;
  readonly cloud: CloudPorts;
  readonly log: Logger;
  readonly timings: ControllerTimings;
  /** Reads and changes nodes, pods and budgets of the upgraded cluster (only when a step needs them). */
  workloads(): Promise<ClusterAccess>;
  /** BlueGreen: reads green's workloads (spec.blueGreen.greenCluster.kubeconfigSecretRef). */
  greenWorkloads(): Promise<WorkloadReader>;
  /** The cloud ports of another region (green's); undefined means spec.cluster's region. */
  cloudIn(region: string | undefined): CloudPorts;
  /** BlueGreen HTTP probe gates. */
  readonly probeHttp: HttpProbe;
  /** Who this operator is, for the claims it writes and reads. */
  readonly claims: ClaimEnvironment;
  /** What URLs from the spec may point at; the validate step refuses the rest at once. */
  readonly outbound: OutboundPolicy;
  /** The live EKS cluster, once the cluster step has read it. */
  cluster?: ClusterInfo;
  /** True while the operator-wide stop switch is on (every ClusterUpgrade behaves as paused). */
  readonly globalStop: boolean;
  /** The stop switch's ConfigMap, named in the Paused message so the reader knows what to delete. */
  readonly stopSwitchName: string;
  /** False outside maintenance windows: updates already started are followed, none is started. */
  newWorkAllowed: boolean;
  /** When the current maintenance window closes, if windows are declared and one is open. */
  windowClosesAt?: Date;
  setCondition(type: ConditionTypeName, status: ConditionStatus, reason: ReasonName, message: string): void;
  /**
   * Ends the upgrade (or the dry run): Ready and Progressing together, from status.ts, with
   * `message` on Ready and `detail` added to Progressing's. Nothing after an ending changes them.
   */
  end(ending: Ending, message: string, detail?: string): void;
  event(type: EventType, reason: string, message: string): void;
}

/** continue: the step's work is done, go on; wait: stop here and come back; stop: nothing more to do. */
export type StepResult =
  | { outcome: "continue" }
  | { outcome: "wait"; requeueAfterMs: number; reason?: string }
  | { outcome: "stop" };

export const CONTINUE: StepResult = { outcome: "continue" };
export const STOP: StepResult = { outcome: "stop" };
export function waitFor(requeueAfterMs: number, reason?: string): StepResult {
  return { outcome: "wait", requeueAfterMs, ...(reason ? { reason } : {}) };
}

export interface Step {
  name: string;
  run(context: StepContext): Promise<StepResult>;
}
