// The ClusterUpgrade API, group eksupgrade.io, version v1alpha1. These types mirror the CRD in
// crds/eksupgrade.io_clusterupgrades.yaml (the schema is the source of truth; a unit test keeps
// both in step). No I/O here.

export const GROUP = "eksupgrade.io";
export const VERSION = "v1alpha1";
export const KIND = "ClusterUpgrade";
export const PLURAL = "clusterupgrades";
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Finalizer that lets the operator release what it holds before a ClusterUpgrade disappears. */
export const FINALIZER = "eksupgrade.io/release";

export type Strategy = "InPlace" | "BlueGreen";
export type DrainTimeoutPolicy = "Wait" | "SkipNode" | "DeletePods";
export type AddonVersionPolicy = "Default" | "Latest";
export type ResolveConflicts = "NONE" | "OVERWRITE" | "PRESERVE";

export interface SecretKeyRef {
  name: string;
  key?: string;
}

export interface ClusterRef {
  name: string;
  region?: string;
  kubeconfigSecretRef?: SecretKeyRef;
}

export interface ControlPlaneSpec {
  expectedHopDuration?: string;
  force?: boolean;
}

export interface SelfManagedGroupSpec {
  autoScalingGroupName: string;
  amiId?: string;
  amiIdsByVersion?: Record<string, string>;
}

export interface ManagedGroupSpec {
  name: string;
  releaseVersion?: string;
  launchTemplateVersion?: string;
  /** updateConfig for EKS's rolling update, set on the node group (UpdateNodegroupConfig) before its version update. */
  maxUnavailable?: number;
  maxUnavailablePercentage?: number;
  updateStrategy?: "DEFAULT" | "MINIMAL";
}

export interface NodeGroupsSpec {
  order?: string[];
  exclude?: string[];
  maxUnavailable?: number;
  maxSurge?: number;
  force?: boolean;
  allowSelfManagedSkew?: boolean;
  selfManaged?: SelfManagedGroupSpec[];
  managed?: ManagedGroupSpec[];
}

export interface DrainSpec {
  timeout?: string;
  onTimeout?: DrainTimeoutPolicy;
  allowForceDelete?: boolean;
  deleteEmptyDirData?: boolean;
  evictUnmanagedPods?: boolean;
  gracePeriodSeconds?: number;
  evictionRetryInterval?: string;
  maxParallelNodes?: number;
}

export interface AddonsSpec {
  policy?: AddonVersionPolicy;
  resolveConflicts?: ResolveConflicts;
  pinned?: { name: string; version: string }[];
  skip?: string[];
}

export interface PreflightSpec {
  warningsBlock?: boolean;
  ignore?: { code: string; reason: string }[];
  insightOverrides?: { insightId: string; reason: string }[];
  criticalNamespaces?: string[];
  recheckInterval?: string;
}

export interface MaintenanceWindowSpec {
  schedule: string;
  duration: string;
  timeZone?: string;
}

export interface BlackoutSpec {
  start: string;
  end: string;
  reason?: string;
}

export interface NotificationsSpec {
  webhookUrl?: string;
  webhookSecretRef?: { name: string; key: string };
}

export interface Route53Spec {
  hostedZoneId: string;
  recordName: string;
  recordType?: "A" | "AAAA" | "CNAME";
  blueSetIdentifier: string;
  greenSetIdentifier: string;
  externalDNS?: "Refuse" | "Coexist";
}

export interface WeightStep {
  blue: number;
  green: number;
}

export interface GatesSpec {
  route53HealthCheckIds?: string[];
  cloudWatchAlarms?: string[];
  httpProbes?: { url: string; timeoutSeconds?: number }[];
  failureThreshold?: number;
  checkInterval?: string;
}

export interface BlueGreenSpec {
  greenCluster: ClusterRef;
  createGreen?: boolean;
  verify?: {
    namespaces?: string[];
    workloads?: { kind: "Deployment" | "StatefulSet" | "DaemonSet"; namespace: string; name: string }[];
  };
  route53: Route53Spec;
  trafficSteps?: number[];
  weightSteps?: WeightStep[];
  stepInterval?: string;
  manualApproval?: boolean;
  gates?: GatesSpec;
  blueRetention?: { keepFor?: string; scaleDown?: boolean; deleteBlue?: boolean };
}

export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet";

/** Gates read after each hop's control plane and again after its node groups (InPlace). */
export interface VerificationSpec {
  cloudWatchAlarms?: string[];
  httpProbes?: { url: string; timeoutSeconds?: number }[];
  workloads?: { kind: WorkloadKind; namespace: string; name: string }[];
  /** Consecutive failed checks that end a verification as failed (then the rollback policy decides). */
  failureThreshold?: number;
  checkInterval?: string;
}

export type RollbackPolicy = "Automatic" | "Manual";

export interface RollbackSpec {
  /** Automatic: a failed verification rolls the hop back by itself; Manual: it holds until spec.rollback.requested. */
  policy?: RollbackPolicy;
  /** Set to true to roll the last control-plane hop back (nodes, then add-ons, then the control plane). */
  requested?: boolean;
  /** Roll back despite ROLLBACK_READINESS findings in ERROR (UpdateClusterVersion force=true); the reason is recorded. */
  overrideReadiness?: { reason: string };
  /** Change it (to any new value) to ask again after a refused rollback; each value is one attempt. */
  attempt?: number;
}

/** Keeps the way back open after each control-plane hop: the nodes stay on the old minor for the duration. */
export interface BakeSpec {
  duration: string;
}

export interface ClusterUpgradeSpec {
  cluster: ClusterRef;
  targetVersion: string;
  strategy?: Strategy;
  paused?: boolean;
  abort?: boolean;
  dryRun?: boolean;
  controlPlane?: ControlPlaneSpec;
  nodeGroups?: NodeGroupsSpec;
  drain?: DrainSpec;
  addons?: AddonsSpec;
  preflight?: PreflightSpec;
  maintenanceWindows?: MaintenanceWindowSpec[];
  blackouts?: BlackoutSpec[];
  notifications?: NotificationsSpec;
  blueGreen?: BlueGreenSpec;
  verification?: VerificationSpec;
  rollback?: RollbackSpec;
  bake?: BakeSpec;
}

// ---- status ----------------------------------------------------------------------------------

// Conditions follow metav1.Condition; the one definition lives with the helpers that set them.
export type { Condition, ConditionStatus } from "../../kube/conditions.js";
import type { Condition } from "../../kube/conditions.js";

export type Severity = "Blocking" | "Warning";

export interface Finding {
  code: string;
  severity: Severity;
  /** The thing concerned, as kind/namespace/name or an AWS id, e.g. "PodDisruptionBudget/payments/api". */
  resource: string;
  message: string;
  remediation: string;
}

export type StepState = "Pending" | "InProgress" | "Succeeded" | "Failed" | "Skipped";

export interface UpdateError {
  errorCode: string;
  errorMessage: string;
  resourceIds?: string[];
}

export interface HopStatus {
  /** The version this hop reaches, e.g. "1.30". */
  version: string;
  from: string;
  state: StepState;
  clientRequestToken?: string;
  updateId?: string;
  startedAt?: string;
  finishedAt?: string;
  attempts?: number;
  errors?: UpdateError[];
  /** After a failed update: when the next attempt may start. */
  nextAttemptAt?: string;
  /** How long EKS took for this hop's control plane; later hops use it to decide whether they fit a window. */
  controlPlaneSeconds?: number;
  /** Where this hop stands: control plane, then add-ons, then node groups, then kube-proxy. */
  stage?: HopStage;
  /** When spec.verification passed after this hop's control plane. */
  controlPlaneVerifiedAt?: string;
  /** When spec.verification passed after this hop's node groups. */
  nodeGroupsVerifiedAt?: string;
  /** spec.bake: the nodes stay on the old version until this time while the gates are watched. */
  bakeUntil?: string;
  /** When the bake ended with every gate passing. */
  bakedAt?: string;
  message?: string;
}

export type HopStage = "ControlPlane" | "Addons" | "NodeGroups" | "LateAddons" | "Done";

/** An EKS update the operator started and follows (steps/tracked-update.ts): its token, id and retries. */
export interface UpdateRecord {
  state: StepState;
  clientRequestToken?: string;
  updateId?: string;
  attempts?: number;
  errors?: UpdateError[];
  nextAttemptAt?: string;
  message?: string;
}

export interface AddonStatus extends UpdateRecord {
  name: string;
  hop: string;
  fromVersion: string;
  toVersion: string;
  /** spec.bake: chosen among the versions that support both minors of the hop, while the control plane bakes. */
  bake?: boolean;
}

export interface PodHold {
  pod: string;
  /** What keeps the pod on the node: a budget with its allowance, a policy, an error. */
  heldBy: string;
  /** Its eviction was denied (RBAC or an admission webhook): the drain timeout never deletes such a pod. */
  evictionDenied?: boolean;
}

export interface NodeInFlight {
  name: string;
  zone?: string;
  /** The EC2 instance behind the node (self-managed groups), terminated once the node is drained. */
  instanceId?: string;
  phase: "Cordoned" | "Draining" | "Drained" | "Terminating";
  /** When the operator cordoned the node: the drain timeout counts from here. */
  since: string;
  /** Evictions the API server accepted for this node so far. */
  evictions?: number;
  podsLeft?: PodHold[];
  message?: string;
}

export interface NodeGroupStatus {
  name: string;
  kind: "Managed" | "SelfManaged";
  total: number;
  upgraded: number;
  inFlight: number;
  state: StepState;
  version?: string;
  /** The version this group is being moved to (one hop at a time). */
  targetVersion?: string;
  clientRequestToken?: string;
  updateId?: string;
  /** EKS update id of the UpdateNodegroupConfig call that sets spec's updateConfig before the version update (managed groups). */
  configUpdateId?: string;
  attempts?: number;
  errors?: UpdateError[];
  nextAttemptAt?: string;
  /** Self-managed groups: the sizes found before the roll, restored at its end and on abort. */
  originalSize?: { min: number; max: number; desired: number };
  /** Self-managed groups: the launch template and version the group used before the roll. */
  originalLaunchTemplate?: { id: string; version: string };
  /** Self-managed groups: the launch template version the group launched from before this hop's roll. Unlike originalLaunchTemplate it stays after the roll: a rollback of the hop goes back to it. */
  previousLaunchTemplate?: { id: string; version: string };
  /** Self-managed groups: the launch template version the roll moves the group to (the one created for this hop; on a rollback, the earlier one). */
  launchTemplateVersion?: string;
  /** Self-managed groups: the idempotency token of that version, stored before it is created. */
  launchTemplateToken?: string;
  imageId?: string;
  /** Nodes cordoned or draining right now, with what holds each. */
  nodes?: NodeInFlight[];
  /** Self-managed groups: since when the roll, with no node in flight, waits for its new nodes to be Ready. */
  waitingForNodesSince?: string;
  /** Nodes left on the old version after their drain timed out with spec.drain.onTimeout SkipNode. */
  skippedNodes?: string[];
  /** Managed groups: the AMI release and launch template version before this hop's update; a rollback goes back to them. */
  previousRelease?: { releaseVersion?: string; launchTemplateVersion?: string };
  message?: string;
}

/**
 * One field of a NodePool or node class that the upgrade changed to make Karpenter drift its nodes,
 * recorded before the write so that an abort or a deletion can put back exactly what was there.
 */
export interface KarpenterChange {
  /** The kind of the changed object. */
  kind: "NodePool" | "EC2NodeClass";
  /** The changed object's name. */
  name: string;
  /** The changed field, e.g. spec.amiSelectorTerms. */
  field: string;
  /** JSON of the value before the upgrade's first write; absent when the field was not set. */
  original?: string;
  /** JSON of the value the upgrade writes (or wrote last). */
  applied: string;
  /** Pending: recorded, not yet written. Applied: written. Kept: the upgrade finished and it stays. Restored or LeftAlone after an abort or deletion. */
  state: "Pending" | "Applied" | "Kept" | "Restored" | "LeftAlone";
  message?: string;
}

/** Progress of one NodePool in the current hop: Karpenter replaces its drifted nodes; the operator only watches. */
export interface NodePoolStatus {
  /** NodePool name. */
  name: string;
  /** Kind/name of the NodePool's node class. */
  nodeClass: string;
  /** The version the NodePool's nodes are moved to in this hop. */
  targetVersion: string;
  /** Progress of this NodePool in the current hop. */
  state: StepState;
  /** Nodes of the NodePool, not counting those being deleted. */
  total: number;
  /** Nodes whose kubelet runs the target version. */
  atVersion: number;
  /** NodeClaims Karpenter marks Drifted. */
  drifted: number;
  /** Old-version nodes gone since the drift began in this hop. */
  replaced: number;
  /** Old-version nodes when the drift began in this hop. */
  outdatedAtStart?: number;
  /** What keeps the remaining old nodes, by name: do-not-disrupt pods and nodes, NodePool budgets, PodDisruptionBudgets. */
  blockers?: string[];
  message?: string;
}

export interface KarpenterStatus {
  /** Progress of each NodePool in the current hop: Karpenter replaces its drifted nodes; the operator only watches. */
  nodePools: NodePoolStatus[];
  /** Fields of NodePools and node classes the upgrade changed to make Karpenter drift its nodes, recorded before each write so that an abort or a deletion puts back exactly what was there. */
  changes: KarpenterChange[];
}

export interface PlanNodeGroup {
  name: string;
  kind: "Managed" | "SelfManaged";
  nodeCount: number;
  batches: string[][];
}

export interface PlanHop {
  from: string;
  to: string;
  controlPlane: boolean;
  addons: { name: string; from: string; to: string }[];
  nodeGroups: PlanNodeGroup[];
  /** spec.bake: how long the control plane bakes with the nodes on the old minor before they move. */
  bake?: string;
}

/** Nodes the operator leaves to whoever manages them, and what becomes of them in the upgrade. */
export interface PlanOtherNodes {
  /** Who manages these nodes. */
  kind: "AutoMode" | "Fargate" | "Hybrid" | "Karpenter" | "Unknown";
  /** The NodePool of Karpenter and Auto Mode nodes (label karpenter.sh/nodepool). */
  nodePool?: string;
  /** How many nodes of this kind (and NodePool) the cluster has. */
  nodeCount: number;
  /** Their names, the first 20. */
  nodes: string[];
  /** What happens to them during the upgrade and what, if anything, to do. */
  action: string;
  /** Fargate: the owners of the pods to restart after each hop (for example Deployment shop/web), the first 50. */
  restart?: string[];
}

export interface Plan {
  computedAt: string;
  hops: PlanHop[];
  /** Node groups present in the cluster but not named in spec.nodeGroups.order, rolled after it. */
  unorderedNodeGroups?: string[];
  /** Nodes this operator does not roll (EKS Auto Mode, Fargate, hybrid, Karpenter, unrecognised), by kind and NodePool, with what happens to them during the upgrade. */
  otherNodes?: PlanOtherNodes[];
}

export interface OmittedFindings {
  /** How many findings are not listed. */
  count: number;
  /** How many of each code are not listed. */
  codes: {
    /** A finding code, e.g. `PDB001`. */
    code: string;
    /** How many findings of that code are not listed. */
    count: number;
  }[];
}

export interface PreflightStatus {
  lastRunAt?: string;
  blocking: number;
  warnings: number;
  /** The findings of the last run, Blocking first, at most 100 of them (status.preflight.omitted counts the rest). */
  findings: Finding[];
  /** Findings left out of status.preflight.findings to keep the object well under etcd's size limit; blocking and warnings still count them. */
  omitted?: OmittedFindings;
  /** Findings ignored and insights overridden by the spec, with the reason it gives. */
  overrides?: { code: string; reason: string; resource?: string }[];
}

export interface GateResult {
  name: string;
  kind: "Route53HealthCheck" | "CloudWatchAlarm" | "HttpProbe" | "WorkloadAvailable";
  healthy: boolean;
  value: string;
  checkedAt: string;
}

/** Where a blue/green cutover stands; Promoted and RolledBack are final. */
export type CutoverState = "Shifting" | "AwaitingApproval" | "Promoted" | "RollingBack" | "RolledBack" | "Aborting" | "Aborted";

/** One weight change sent to Route53, kept so a reader can see each step went INSYNC before the next. */
export interface CutoverChange {
  /** The step it moved to (1-based); 0 for the change that sent traffic back to blue. */
  step: number;
  /** Route53 weight given to blue by this change. */
  blueWeight: number;
  /** Route53 weight given to green by this change. */
  greenWeight: number;
  /** The Route53 change id; absent only in entries written by versions that adopted weights found already set without sending a change. */
  changeId?: string;
  /** When the change was sent. */
  sentAt: string;
  /** When GetChange reported it INSYNC. */
  inSyncAt?: string;
}

export interface CutoverStatus {
  state?: CutoverState;
  /** The step in effect, 1-based; 0 before the first change. */
  step: number;
  /** How many steps the schedule has. */
  steps?: number;
  blueWeight: number;
  greenWeight: number;
  /** "blue/green" percentages, for the printer column. */
  split: string;
  stepStartedAt?: string;
  changeId?: string;
  changeInSyncAt?: string;
  failures: number;
  gates?: GateResult[];
  rolledBack?: boolean;
  message?: string;
  /** When the gates were last read. */
  lastCheckAt?: string;
  /** The gate that sent traffic back to blue, with the value it had. */
  failedGate?: string;
  /** The kubectl command that approves the next step, while manual approval is awaited. */
  approvalCommand?: string;
  /** When green took all traffic. */
  promotedAt?: string;
  /** The longer TTL of the two weighted records, read when the cutover started. */
  recordTtlSeconds?: number;
  /** Every weight change sent during the cutover, in order, with its change id and INSYNC time. */
  changes?: CutoverChange[];
}

/** Where the creation of a green cluster cloned from blue stands (spec.blueGreen.createGreen). */
export interface GreenClusterStatus {
  /** Creating: the control plane; NodeGroups: the managed node groups and add-ons; Ready: all ACTIVE; Failed: EKS refused or failed. */
  state: "Creating" | "NodeGroups" | "Ready" | "Failed";
  /** The cluster green was cloned from (spec.cluster.name). */
  clonedFrom: string;
  /** The Kubernetes version green was created at (spec.targetVersion). */
  version: string;
  /** The idempotency token of CreateCluster, stored before the call: a retry cannot create a second cluster. */
  clientRequestToken: string;
  /** When the operator decided to create green. */
  startedAt: string;
  /** When the control plane, every node group and every add-on were ACTIVE. */
  readyAt?: string;
  /** Managed node groups created on green (cloned from blue's), with their EKS status. */
  nodeGroups?: { name: string; status: string; clientRequestToken?: string }[];
  /** Add-ons created on green at the target version's default version, with their EKS status. */
  addons?: { name: string; version: string; status: string; clientRequestToken?: string }[];
  /** What was not cloned and why (self-managed groups, add-ons with no version for the target). */
  notCloned?: string[];
  /** What the creation is doing or waiting for, or why it failed and how to clean up. */
  message?: string;
}

/** One blue node group as it was before the operator scaled it down, so it can be scaled back. */
export interface RetiredGroup {
  /** The managed node group name, or the Auto Scaling group name of a self-managed group. */
  name: string;
  /** Managed (scaled with UpdateNodegroupConfig) or SelfManaged (scaled with UpdateAutoScalingGroup). */
  kind: "Managed" | "SelfManaged";
  /** The sizes found before the scale-down: scale back to these to bring blue back. */
  originalSize: { min: number; max: number; desired: number };
  /** Pending, ScalingDown, ScaledDown, then with deleteBlue Deleting and Deleted. */
  state: "Pending" | "ScalingDown" | "ScaledDown" | "Deleting" | "Deleted";
  /** The idempotency token of the scale-down UpdateNodegroupConfig call. */
  clientRequestToken?: string;
  /** The EKS update that scales the group down, followed to its end. */
  updateId?: string;
  /** How many scale-down attempts were made. */
  attempts?: number;
  /** The errors of the last failed scale-down. */
  errors?: UpdateError[];
}

/** What happens to blue after the cutover (spec.blueGreen.blueRetention). */
export interface BlueRetentionStatus {
  /** Keeping: waiting out keepFor; ScalingDown, Deleting: in progress; Kept, ScaledDown, Deleted: final. */
  state: "Keeping" | "ScalingDown" | "ScaledDown" | "Deleting" | "Deleted" | "Kept";
  /** The promotion time plus blueRetention.keepFor: blue is untouched until then. */
  keepUntil: string;
  /** Blue's node groups with their sizes before the scale-down, recorded before the first change. */
  groups?: RetiredGroup[];
  /** When blue reached zero (or was deleted). */
  finishedAt?: string;
  /** What is being done to blue, or what holds it back. */
  message?: string;
}

/**
 * One AWS resource this upgrade claims so that no other ClusterUpgrade changes it at the same time
 * (docs/security.md, "One upgrade per cluster"). The claim itself lives on the AWS side: a tag on
 * EKS clusters and Auto Scaling groups, an ownership TXT record beside a Route53 record.
 */
export interface ClaimStatus {
  /** What is claimed: EKSCluster/<region>/<name>, AutoScalingGroup/<region>/<name> or Route53Record/<zone>/<name>/<type>. */
  resource: string;
  /** Taking: written, read back once the settle time has passed; Held: read back as ours; Waiting: another upgrade holds it; Released: given back. */
  state: "Taking" | "Held" | "Waiting" | "Released";
  /** When this upgrade wrote its claim. */
  since?: string;
  /** While Waiting: the holder the claim names (namespace/name, UID, operator, since when). */
  heldBy?: string;
  /** While Waiting: the holder's ClusterUpgrade UID, the value the eksupgrade.io/break-claim annotation must carry to break the claim. */
  heldByUid?: string;
  /** A claim this upgrade broke to take the resource: whose it was, why it was broken and when. */
  broke?: {
    /** The holder whose claim was broken, as its claim named it. */
    holder: string;
    /** Annotation: eksupgrade.io/break-claim named that holder's UID; HolderGone: its ClusterUpgrade no longer exists in this management cluster. */
    how: "Annotation" | "HolderGone";
    /** When the claim was broken. */
    at: string;
  };
  /** When the claim was given back (the upgrade succeeded, was aborted or deleted). */
  releasedAt?: string;
}

/** The last reading of spec.verification's gates. */
export interface VerificationStatus {
  /** What was verified: "<hop> control plane" or "<hop> node groups". */
  subject: string;
  /** Failed checks in a row for this subject. */
  failures: number;
  /** When the gates were last read. */
  lastCheckAt: string;
  gates?: GateResult[];
  /** The gates that failed in the last check, with their values. */
  failing?: string;
}

/** Where a rollback stands; RolledBack is final, Refused until spec.rollback asks again (rollback.ts retryAsked). */
export type RollbackState = "NodeGroups" | "Addons" | "ControlPlane" | "LateAddons" | "RolledBack" | "Refused";

/** One node group or add-on taken back to the old version by a rollback. */
export interface RollbackItem extends UpdateRecord {
  name: string;
  /** Managed node group (through EKS), self-managed Auto Scaling group (rolled by the operator) or add-on. */
  kind: "NodeGroup" | "SelfManagedGroup" | "Addon";
  /** The version found before the rollback moved it. */
  fromVersion: string;
  /** The version it goes back to. */
  toVersion: string;
  /** Node groups: the AMI release version it had before the upgrade, when known. */
  releaseVersion?: string;
  /** Node groups with a launch template: the template version it had before the upgrade. */
  launchTemplateVersion?: string;
  /** Self-managed groups: the launch template of that version. */
  launchTemplateId?: string;
  /** Self-managed groups: the AMI that version launches, which tells the nodes already back from the others. */
  imageId?: string;
  /** Self-managed groups: the group's desired size when the roll back started. */
  total?: number;
  /** Self-managed groups: how many of its nodes run that AMI again. */
  replaced?: number;
}

/** A rollback of the last control-plane hop (spec.rollback): nodes, add-ons that run on both minors, the control plane, then the other add-ons. */
export interface RollbackStatus {
  state: RollbackState;
  /** Who asked: Automatic (a failed verification) or Manual (spec.rollback.requested). */
  trigger: "Automatic" | "Manual";
  /** Why the rollback started, e.g. the gates that failed. */
  reason: string;
  /** The version rolled back from (N). */
  from: string;
  /** The version rolled back to (N-1). */
  to: string;
  /** When it was decided. */
  requestedAt: string;
  /** When the control plane reached the target of the hop, which opens EKS's 7-day window. */
  upgradedAt?: string;
  /** Node groups and add-ons in the order they go back. */
  items?: RollbackItem[];
  /** The VersionRollback update: its token is stored before the call. */
  controlPlane?: { clientRequestToken?: string; updateId?: string; attempts?: number; errors?: UpdateError[]; state: StepState };
  /** ROLLBACK_READINESS findings overridden by spec.rollback.overrideReadiness, with its reason. */
  overridden?: string;
  /** What is happening or why it was refused. */
  message?: string;
  finishedAt?: string;
  /** 1 for the first decision; a refused rollback asked for again (spec.rollback) counts up. */
  attempt?: number;
  /** spec.rollback as this attempt saw it when decided: a refused attempt is asked again only when it changes. */
  decidedWith?: { requested: boolean; attempt?: number; overrideReason?: string };
  /** Why this attempt was refused, as a code (e.g. ROLLBACK_READINESS, ROLLBACK_WINDOW_EXPIRED). */
  refusal?: string;
  /** The refusal of the attempt before this one. */
  previousRefusal?: string;
}

export interface WindowStatus {
  open: boolean;
  nextStart?: string;
  nextEnd?: string;
  reason?: string;
}

/**
 * What the upgrade was started for, recorded with its first change (see intent.ts): the cluster,
 * the strategy, the target and, for BlueGreen, green and the Route53 records. The spec must keep
 * these values while the ClusterUpgrade exists.
 */
export interface FrozenIntent {
  /** The cluster upgraded (InPlace) or kept as blue (BlueGreen), as spec.cluster named it. */
  cluster: {
    /** spec.cluster.name when the upgrade started. */
    name: string;
    /** spec.cluster.region when the upgrade started; absent when the spec left it to AWS_REGION. */
    region?: string;
  };
  /** spec.strategy when the upgrade started. */
  strategy: Strategy;
  /** spec.targetVersion when the upgrade started. */
  targetVersion: string;
  /** BlueGreen: the green cluster and the Route53 records the traffic moves between. */
  blueGreen?: {
    /** The green cluster, as spec.blueGreen.greenCluster named it. */
    greenCluster: {
      /** spec.blueGreen.greenCluster.name when the upgrade started. */
      name: string;
      /** spec.blueGreen.greenCluster.region when the upgrade started, if set. */
      region?: string;
    };
    /** The weighted records, as spec.blueGreen.route53 named them. */
    route53: {
      /** spec.blueGreen.route53.hostedZoneId when the upgrade started. */
      hostedZoneId: string;
      /** spec.blueGreen.route53.recordName when the upgrade started. */
      recordName: string;
      /** spec.blueGreen.route53.blueSetIdentifier when the upgrade started. */
      blueSetIdentifier: string;
      /** spec.blueGreen.route53.greenSetIdentifier when the upgrade started. */
      greenSetIdentifier: string;
    };
  };
  /** When it was recorded. */
  frozenAt: string;
}

export interface ClusterUpgradeStatus {
  phase?: Phase;
  observedGeneration?: number;
  currentVersion?: string;
  progress?: string;
  startedAt?: string;
  finishedAt?: string;
  conditions?: Condition[];
  plan?: Plan;
  hops?: HopStatus[];
  addons?: AddonStatus[];
  nodeGroups?: NodeGroupStatus[];
  /** Karpenter's NodePools, moved by drift at each hop, and what the operator changed to drift them. */
  karpenter?: KarpenterStatus;
  preflight?: PreflightStatus;
  cutover?: CutoverStatus;
  /** BlueGreen with createGreen: the green cluster the operator creates. */
  green?: GreenClusterStatus;
  /** BlueGreen: blue after the cutover, kept for blueRetention.keepFor, then scaled down or deleted when asked. */
  blueRetention?: BlueRetentionStatus;
  window?: WindowStatus;
  /** What an abort gave back: nodes uncordoned, Auto Scaling groups restored. */
  released?: string[];
  /** The AWS resources this upgrade claims, so that no other upgrade changes them meanwhile. */
  claims?: ClaimStatus[];
  /** The intent recorded with the first change; edits of these spec fields are refused from then on. */
  frozenIntent?: FrozenIntent;
  /** Webhook notifications of phase changes: recorded with the phase change, delivered after. */
  notifications?: NotificationStatus;
  /** InPlace with spec.verification: the last reading of the gates. */
  verification?: VerificationStatus;
  /** A rollback of the last control-plane hop, once decided. */
  rollback?: RollbackStatus;
  /** With spec.bake: "rollback possible until <time>" while the way back is open. */
  rollbackWindow?: string;
}

/**
 * Phase changes are recorded here in the same status write as the phase itself, then posted to
 * the webhook, and retried on later passes until it answers 2xx: a restart neither loses nor
 * invents one. A crash between the post and the write that records it sends it again, with the
 * same idempotency key.
 */
export interface NotificationStatus {
  /** Phase changes recorded so far; numbers the idempotency keys. */
  sequence: number;
  /** Recorded and not yet acknowledged by the webhook, oldest first (at most 20; older ones are dropped). */
  pending?: PendingNotification[];
  /** The last phase change the webhook acknowledged. */
  lastNotified?: NotifiedPhase;
}

export interface PendingNotification {
  /** <uid>/<sequence>/<phase>: the same on every attempt, sent as idempotencyKey and the Idempotency-Key header. */
  key: string;
  /** The phase before the change. */
  previousPhase: string;
  /** The phase changed to. */
  phase: string;
  /** The summary condition's message at the change. */
  message: string;
  /** When the phase changed. */
  at: string;
  /** Posts that failed so far. */
  attempts?: number;
  /** Why the last post failed. */
  lastError?: string;
  /** No post before this time (backoff after a failure). */
  nextAttemptAt?: string;
}

export interface NotifiedPhase {
  /** The phase the acknowledged message announced. */
  phase: string;
  /** Its idempotency key. */
  key: string;
  /** When the webhook acknowledged it. */
  at: string;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface ClusterUpgrade {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: ClusterUpgradeSpec;
  status?: ClusterUpgradeStatus;
}

// ---- phases and conditions -----------------------------------------------------------------

/** The phase is derived from the conditions; it exists for printer columns and quick reading. */
export const PHASES = [
  "Pending",
  "InvalidSpec",
  "Preflight",
  "Blocked",
  "Planned",
  "WaitingForWindow",
  "UpgradingControlPlane",
  "Baking",
  "UpgradingAddons",
  "UpgradingNodeGroups",
  "CreatingGreen",
  "ShiftingTraffic",
  "RollingBack",
  "RolledBack",
  "Paused",
  "Aborting",
  "Aborted",
  "Failed",
  "Succeeded",
] as const;
export type Phase = (typeof PHASES)[number];

/** Every condition the operator writes; all are present from the first pass, Unknown until known. */
export const ConditionType = {
  /** Summary: True once the cluster runs the target version everywhere. */
  Ready: "Ready",
  /** The operator is actively changing something. */
  Progressing: "Progressing",
  SpecValid: "SpecValid",
  PreflightPassed: "PreflightPassed",
  MaintenanceWindowOpen: "MaintenanceWindowOpen",
  ControlPlaneUpgraded: "ControlPlaneUpgraded",
  AddonsUpgraded: "AddonsUpgraded",
  NodeGroupsUpgraded: "NodeGroupsUpgraded",
  TrafficShifted: "TrafficShifted",
  /** BlueGreen: blue scaled down (or deleted) after blueRetention.keepFor, when the spec asks. */
  BlueRetired: "BlueRetired",
  /** BlueGreen with createGreen: the green cluster cloned from blue is ACTIVE with its node groups. */
  GreenCreated: "GreenCreated",
  Paused: "Paused",
  /** The cluster, Auto Scaling groups, Route53 record and green cluster are claimed by this upgrade (status.claims). */
  Claimed: "Claimed",
  /** InPlace: spec.verification's gates passed after the last control plane or node groups moved. */
  Verified: "Verified",
  /** InPlace: a rollback of the last control-plane hop was asked for, is running, was refused or is done. */
  RolledBack: "RolledBack",
} as const;
export type ConditionTypeName = (typeof ConditionType)[keyof typeof ConditionType];
export const ALL_CONDITION_TYPES: readonly ConditionTypeName[] = Object.values(ConditionType);

/** Reasons are CamelCase, stable, and documented in docs/api.md. */
export const Reason = {
  Pending: "Pending",
  InvalidSpec: "InvalidSpec",
  /** A frozen field of the spec (cluster, region, strategy, target, green, Route53 records) was edited mid-upgrade. */
  IntentChanged: "IntentChanged",
  /** spec.targetVersion is not a version EKS offers (DescribeClusterVersions). */
  UnsupportedVersion: "UnsupportedVersion",
  Valid: "Valid",
  ClusterNotFound: "ClusterNotFound",
  TargetBelowCurrent: "TargetBelowCurrent",
  AlreadyAtTarget: "AlreadyAtTarget",
  ChecksPassed: "ChecksPassed",
  BlockingFindings: "BlockingFindings",
  DryRun: "DryRun",
  InsideWindow: "InsideWindow",
  OutsideWindow: "OutsideWindow",
  Blackout: "Blackout",
  NoWindows: "NoWindows",
  HopInProgress: "HopInProgress",
  HopFailed: "HopFailed",
  Upgraded: "Upgraded",
  NotApplicable: "NotApplicable",
  UserPaused: "UserPaused",
  Pausing: "Pausing",
  Resumed: "Resumed",
  Aborted: "Aborted",
  Aborting: "Aborting",
  Reconciling: "Reconciling",
  /** Progressing while an EKS control-plane update runs. */
  UpgradingControlPlane: "UpgradingControlPlane",
  /** Progressing while EKS add-on updates run. */
  UpgradingAddons: "UpgradingAddons",
  /** Progressing while nodes are replaced. */
  UpgradingNodeGroups: "UpgradingNodeGroups",
  // A pass that ended in an error says what kind of error (errorReason in the controller).
  /** An AWS service or the API server asked the operator to slow down. */
  Throttled: "Throttled",
  /** A call got no answer within its timeout (AWS_CALL_TIMEOUT_SECONDS, KUBE_REQUEST_TIMEOUT_SECONDS). */
  TimedOut: "TimedOut",
  /** A service was unreachable or answered with a server error (5xx, reset, DNS). */
  ServiceUnavailable: "ServiceUnavailable",
  /** The operator's AWS role or ServiceAccount may not make a call it needs. */
  AccessDenied: "AccessDenied",
  /** A service refused a request as invalid; the message says which and why. */
  RequestRefused: "RequestRefused",
  /** Something the upgrade reads no longer exists. */
  NotFound: "NotFound",
  /** An error the operator could not classify; the message carries it. */
  UnexpectedError: "UnexpectedError",
  StepUnavailable: "StepUnavailable",
  Succeeded: "Succeeded",
  ShiftingTraffic: "ShiftingTraffic",
  RollingBack: "RollingBack",
  RolledBack: "RolledBack",
  AwaitingApproval: "AwaitingApproval",
  Promoted: "Promoted",
  CreatingGreen: "CreatingGreen",
  GreenCreationFailed: "GreenCreationFailed",
  RetainingBlue: "RetainingBlue",
  RetiringBlue: "RetiringBlue",
  BlueRetired: "BlueRetired",
  BlueStillServing: "BlueStillServing",
  Claiming: "Claiming",
  ClaimsHeld: "ClaimsHeld",
  HeldByAnother: "HeldByAnother",
  ClaimsReleased: "ClaimsReleased",
  /** spec.verification's gates all passed. */
  GatesPassed: "GatesPassed",
  /** A gate of spec.verification failed; the message names it. */
  VerificationFailed: "VerificationFailed",
  /** No spec.verification: nothing is verified between hops. */
  NoGates: "NoGates",
  /** spec.bake: the control plane bakes with the nodes on the old version. */
  Baking: "Baking",
  /** The rollback cannot run: more than 7 days, more than one minor back, or ROLLBACK_READINESS errors without an override. */
  RollbackRefused: "RollbackRefused",
  /** No rollback asked for. */
  NotRequested: "NotRequested",
} as const;

/** Annotation a human sets on a waiting ClusterUpgrade to break a claim whose holder is gone; its value is the holder's UID. */
export const BREAK_CLAIM_ANNOTATION = "eksupgrade.io/break-claim";
export type ReasonName = (typeof Reason)[keyof typeof Reason];
