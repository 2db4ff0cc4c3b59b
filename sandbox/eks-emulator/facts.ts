/**
 * Figures the emulator reproduces. Each one names the line of ../shared/facts/eks-upgrade-facts.md
 * (or sandbox-facts.md) it follows from, so a reader can check the emulation against its source.
 * Durations are in "EKS seconds": the sandbox clock scales them by SANDBOX_TIME_FACTOR.
 */

/** eks-upgrade-facts "Control plane": one minor version per UpdateClusterVersion call. */
export const CONTROL_PLANE_MINOR_STEP = 1;

/** eks-upgrade-facts "Control plane": EKS needs up to 5 free IP addresses in the cluster's subnets to upgrade. */
export const CONTROL_PLANE_UPGRADE_FREE_IPS = 5;

/** eks-upgrade-facts "Control plane": a minor upgrade typically takes 8-15 minutes; the emulator defaults to the low end. */
export const DEFAULT_CONTROL_PLANE_UPDATE_SECONDS = 8 * 60;

/**
 * eks-upgrade-facts "Control plane": right after UpdateClusterVersion returns, DescribeCluster can
 * still say ACTIVE for a short while. The emulator keeps ACTIVE for this long before UPDATING.
 */
export const CLUSTER_STATUS_LAG_SECONDS = 30;

/** eks-upgrade-facts "Managed node group update": updateConfig.maxUnavailable defaults to 1. */
export const DEFAULT_MAX_UNAVAILABLE = 1;

/** eks-upgrade-facts "Managed node group update": maxUnavailable is at most 100. */
export const MAX_MAX_UNAVAILABLE = 100;

/** eks-upgrade-facts "Managed node group update": the surge is up to 2 x the number of AZs (or maxUnavailable if larger). */
export const SURGE_NODES_PER_ZONE = 2;

/** eks-upgrade-facts "Managed node group update": a pod that cannot be evicted within 15 minutes fails the update. */
export const POD_EVICTION_TIMEOUT_SECONDS = 15 * 60;

/** eks-upgrade-facts "Draining": an eviction refused with 429 is retried; kubectl waits 5 s. */
export const EVICTION_RETRY_SECONDS = 5;

/** eks-upgrade-facts "Managed node group update": after a node is drained EKS waits 60 s, then terminates it. */
export const DRAINED_NODE_WAIT_SECONDS = 60;

/**
 * From an instance's launch to its Node being Ready: EC2 boot, nodeadm or bootstrap.sh, kubelet
 * registration, the VPC CNI up. Neither fact file times it; reports from EKS users put a Linux
 * node on the EKS-optimized AMI at 30 to 90 s, so the emulator takes 60 s (docs/sandbox.md says
 * so). SANDBOX_NODE_BOOT_SECONDS overrides it.
 */
export const DEFAULT_NODE_BOOT_SECONDS = 60;

/** eks-upgrade-facts "Draining": the default grace period of a pod is 30 s. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

/**
 * Add-on updates are not timed in the facts; EKS applies a new add-on version in about a minute.
 * The emulator uses this figure and says so in docs/sandbox.md.
 */
export const DEFAULT_ADDON_UPDATE_SECONDS = 60;

/** eks-upgrade-facts "Control plane": DescribeUpdate statuses. */
export const UPDATE_STATUSES = ["InProgress", "Failed", "Cancelled", "Successful"] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

/** eks-upgrade-facts "Control plane": error codes an update can fail with. */
export const UPDATE_ERROR_CODES = [
  "SubnetNotFound",
  "SecurityGroupNotFound",
  "IpNotAvailable",
  "InsufficientFreeAddresses",
  "EniLimitReached",
  "AccessDenied",
  "NodeCreationFailure",
  "PodEvictionFailure",
  "ClusterUnreachable",
] as const;
export type UpdateErrorCode = (typeof UPDATE_ERROR_CODES)[number];

/** eks-upgrade-facts "Control plane": an insight with status ERROR blocks the next minor unless force=true. */
export const BLOCKING_INSIGHT_STATUS = "ERROR";

/** eks-upgrade-facts "Control-plane rollback": UpdateClusterVersion to N-1 only within 7 days of the upgrade to N. */
export const ROLLBACK_WINDOW_SECONDS = 7 * 24 * 60 * 60;

/** eks-upgrade-facts "Control-plane rollback": the insight category whose ERROR findings block a rollback unless force=true. */
export const ROLLBACK_READINESS_CATEGORY = "ROLLBACK_READINESS";

/** moto's fixed account id (sandbox-facts "moto"); every ARN the emulator makes uses it. */
export const SANDBOX_ACCOUNT_ID = "123456789012";
