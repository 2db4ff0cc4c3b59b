/**
 * The per-upgrade series the alerts use, derived from each pass's status: the phase and since when
 * this replica sees it, the nodes being drained with their start and the drain timeout, and
 * whether blue/green traffic went back to blue. Series of an upgrade that is gone, or of a node no
 * longer in flight, are removed so that an alert does not fire on a stale value.
 */
import { DEFAULT_DRAIN_TIMEOUT } from "../api/v1alpha1/defaults.js";
import { parseDuration } from "../api/v1alpha1/duration.js";
import type { ClusterUpgrade, ClusterUpgradeStatus } from "../api/v1alpha1/types.js";
import type { OperatorMetrics } from "./metrics.js";

interface Tracked {
  phase: string;
  enteredAt: number;
  drains: { node_group: string; node: string }[];
}

/** Node phases in which the drain timeout is running. */
const DRAINING = new Set(["Cordoned", "Draining"]);

export class UpgradeMetrics {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly metrics: OperatorMetrics) {}

  /** Called after every pass with the status just written; `nowMs` is the pass's clock. */
  observe(upgrade: ClusterUpgrade, status: ClusterUpgradeStatus, nowMs: number): void {
    const namespace = upgrade.metadata.namespace ?? "";
    const name = upgrade.metadata.name ?? "";
    const key = `${namespace}/${name}`;
    const phase = status.phase ?? "Pending";
    const previous = this.tracked.get(key);
    const enteredAt = previous && previous.phase === phase ? previous.enteredAt : nowMs;
    if (previous && previous.phase !== phase) this.metrics.upgradePhaseEnteredTimestamp.remove({ namespace, name, phase: previous.phase });
    this.metrics.upgradePhaseEnteredTimestamp.set({ namespace, name, phase }, enteredAt / 1000);

    const drains: Tracked["drains"] = [];
    for (const group of status.nodeGroups ?? []) {
      for (const node of group.nodes ?? []) {
        const since = Date.parse(node.since);
        if (!DRAINING.has(node.phase) || Number.isNaN(since)) continue;
        const labels = { node_group: group.name, node: node.name };
        drains.push(labels);
        this.metrics.nodeDrainStartedTimestamp.set({ namespace, name, ...labels }, since / 1000);
      }
    }
    for (const old of previous?.drains ?? []) {
      if (!drains.some((drain) => drain.node_group === old.node_group && drain.node === old.node)) {
        this.metrics.nodeDrainStartedTimestamp.remove({ namespace, name, ...old });
      }
    }
    this.metrics.drainTimeoutSeconds.set({ namespace, name }, drainTimeoutSeconds(upgrade));
    const cutover = status.cutover;
    const rolledBack = cutover?.rolledBack === true || cutover?.state === "RollingBack" || cutover?.state === "RolledBack";
    this.metrics.trafficRolledBack.set({ namespace, name }, rolledBack ? 1 : 0);
    this.tracked.set(key, { phase, enteredAt, drains });
  }

  /** The upgrade was deleted (or left this operator's cache): its series go with it. */
  forget(key: string): void {
    const tracked = this.tracked.get(key);
    if (!tracked) return;
    const slash = key.indexOf("/");
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    this.metrics.upgradePhaseEnteredTimestamp.remove({ namespace, name, phase: tracked.phase });
    for (const drain of tracked.drains) this.metrics.nodeDrainStartedTimestamp.remove({ namespace, name, ...drain });
    this.metrics.drainTimeoutSeconds.remove({ namespace, name });
    this.metrics.trafficRolledBack.remove({ namespace, name });
    this.tracked.delete(key);
  }
}

/** The timeout the drain engine applies; a spec the validation would refuse counts as the default. */
function drainTimeoutSeconds(upgrade: ClusterUpgrade): number {
  try {
    return parseDuration(upgrade.spec.drain?.timeout ?? DEFAULT_DRAIN_TIMEOUT) / 1000;
  } catch {
    return parseDuration(DEFAULT_DRAIN_TIMEOUT) / 1000;
  }
}
