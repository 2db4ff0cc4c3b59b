// Defaults of the ClusterUpgrade spec in one place. The API server applies the same defaults from
// the CRD schema; resolving them here too keeps the controller correct for objects written before a
// default existed and makes unit tests independent of the API server.
import type {
  AddonsSpec,
  BlueGreenSpec,
  ClusterUpgradeSpec,
  DrainSpec,
  GatesSpec,
  NodeGroupsSpec,
  PreflightSpec,
  WeightStep,
} from "./types.js";

/** Route53 weights range 0-255 (Route53 API reference); the operator spreads percentages over it. */
export const MAX_ROUTE53_WEIGHT = 255;
/** Traffic steps used when the spec gives none (Flagger-style progressive shift). */
export const DEFAULT_TRAFFIC_STEPS = [10, 25, 50, 100] as const;
/** A control-plane minor upgrade takes 8-15 minutes on EKS (EKS user guide); plan for the upper end. */
export const DEFAULT_EXPECTED_HOP_DURATION = "15m";
/** EKS fails a managed node group update when a pod cannot be evicted for 15 minutes. */
export const DEFAULT_DRAIN_TIMEOUT = "15m";
/** kubectl drain retries an eviction refused by a PDB (HTTP 429) every 5 seconds. */
export const DEFAULT_EVICTION_RETRY_INTERVAL = "5s";

export type Resolved<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

export interface ResolvedSpec extends Omit<ClusterUpgradeSpec, "nodeGroups" | "drain" | "addons" | "preflight"> {
  strategy: "InPlace" | "BlueGreen";
  paused: boolean;
  abort: boolean;
  dryRun: boolean;
  expectedHopDuration: string;
  forceControlPlane: boolean;
  nodeGroups: Resolved<Pick<NodeGroupsSpec, "order" | "exclude" | "maxUnavailable" | "maxSurge" | "force" | "allowSelfManagedSkew" | "selfManaged" | "managed">>;
  drain: Required<Omit<DrainSpec, "gracePeriodSeconds">> & { gracePeriodSeconds?: number };
  addons: Resolved<AddonsSpec>;
  preflight: Resolved<PreflightSpec>;
  maintenanceWindows: { schedule: string; duration: string; timeZone: string }[];
  blackouts: { start: string; end: string; reason?: string }[];
}

export function resolveSpec(spec: ClusterUpgradeSpec): ResolvedSpec {
  return {
    ...spec,
    strategy: spec.strategy ?? "InPlace",
    paused: spec.paused ?? false,
    abort: spec.abort ?? false,
    dryRun: spec.dryRun ?? false,
    expectedHopDuration: spec.controlPlane?.expectedHopDuration ?? DEFAULT_EXPECTED_HOP_DURATION,
    forceControlPlane: spec.controlPlane?.force ?? false,
    nodeGroups: {
      order: spec.nodeGroups?.order ?? [],
      exclude: spec.nodeGroups?.exclude ?? [],
      maxUnavailable: spec.nodeGroups?.maxUnavailable ?? 1,
      maxSurge: spec.nodeGroups?.maxSurge ?? 1,
      force: spec.nodeGroups?.force ?? false,
      allowSelfManagedSkew: spec.nodeGroups?.allowSelfManagedSkew ?? false,
      selfManaged: spec.nodeGroups?.selfManaged ?? [],
      managed: spec.nodeGroups?.managed ?? [],
    },
    drain: {
      timeout: spec.drain?.timeout ?? DEFAULT_DRAIN_TIMEOUT,
      onTimeout: spec.drain?.onTimeout ?? "Wait",
      allowForceDelete: spec.drain?.allowForceDelete ?? false,
      deleteEmptyDirData: spec.drain?.deleteEmptyDirData ?? false,
      evictUnmanagedPods: spec.drain?.evictUnmanagedPods ?? false,
      evictionRetryInterval: spec.drain?.evictionRetryInterval ?? DEFAULT_EVICTION_RETRY_INTERVAL,
      maxParallelNodes: spec.drain?.maxParallelNodes ?? 1,
      ...(spec.drain?.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: spec.drain.gracePeriodSeconds } : {}),
    },
    addons: {
      policy: spec.addons?.policy ?? "Default",
      resolveConflicts: spec.addons?.resolveConflicts ?? "PRESERVE",
      pinned: spec.addons?.pinned ?? [],
      skip: spec.addons?.skip ?? [],
    },
    preflight: {
      warningsBlock: spec.preflight?.warningsBlock ?? false,
      ignore: spec.preflight?.ignore ?? [],
      insightOverrides: spec.preflight?.insightOverrides ?? [],
      criticalNamespaces: spec.preflight?.criticalNamespaces ?? [],
      recheckInterval: spec.preflight?.recheckInterval ?? "1m",
    },
    maintenanceWindows: (spec.maintenanceWindows ?? []).map((w) => ({ ...w, timeZone: w.timeZone ?? "UTC" })),
    blackouts: spec.blackouts ?? [],
  };
}

/** The weights for each step of a blue/green shift: explicit weightSteps, or percentages over 0-255. */
export function weightSchedule(blueGreen: BlueGreenSpec): WeightStep[] {
  if (blueGreen.weightSteps?.length) return blueGreen.weightSteps;
  const steps = blueGreen.trafficSteps?.length ? blueGreen.trafficSteps : [...DEFAULT_TRAFFIC_STEPS];
  return steps.map((percent) => {
    const green = Math.round((MAX_ROUTE53_WEIGHT * percent) / 100);
    return { blue: MAX_ROUTE53_WEIGHT - green, green };
  });
}

export function resolveGates(gates: GatesSpec | undefined): Resolved<GatesSpec> {
  return {
    route53HealthCheckIds: gates?.route53HealthCheckIds ?? [],
    cloudWatchAlarms: gates?.cloudWatchAlarms ?? [],
    httpProbes: gates?.httpProbes ?? [],
    failureThreshold: gates?.failureThreshold ?? 3,
    checkInterval: gates?.checkInterval ?? "30s",
  };
}
