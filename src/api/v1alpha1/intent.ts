// The intent of an upgrade: which cluster, which version, which strategy and, for BlueGreen, which
// green cluster and which Route53 records. It is recorded in status the first time the upgrade is
// about to change something, and from then on the spec must keep it: everything in status (hops,
// node groups, the cutover, blue's retirement) was computed for that intent, and applying it to
// another one ends at the wrong version, rolls the wrong cluster or deletes the wrong blue.
// The same rule is enforced at admission by config/admission/ (a ValidatingAdmissionPolicy);
// this module covers clusters without it and objects edited before it was installed. No I/O here.
import type { ClusterUpgradeSpec, FrozenIntent, Strategy } from "./types.js";

export interface IntentChange {
  /** The spec field, e.g. "spec.targetVersion". */
  field: string;
  /** The value recorded when the upgrade started changing things ("" when it was unset). */
  frozen: string;
  /** The value the spec has now ("" when unset). */
  current: string;
}

/** The intent of a spec as it would be frozen now. */
export function intentOf(spec: ClusterUpgradeSpec, frozenAt: Date): FrozenIntent {
  const intent: FrozenIntent = {
    cluster: { name: spec.cluster.name, ...(spec.cluster.region ? { region: spec.cluster.region } : {}) },
    strategy: strategyOf(spec),
    targetVersion: spec.targetVersion,
    frozenAt: frozenAt.toISOString(),
  };
  const blueGreen = spec.blueGreen;
  if (strategyOf(spec) === "BlueGreen" && blueGreen) {
    const green = blueGreen.greenCluster;
    const route53 = blueGreen.route53;
    intent.blueGreen = {
      greenCluster: { name: green.name, ...(green.region ? { region: green.region } : {}) },
      route53: {
        hostedZoneId: route53.hostedZoneId,
        recordName: route53.recordName,
        blueSetIdentifier: route53.blueSetIdentifier,
        greenSetIdentifier: route53.greenSetIdentifier,
      },
    };
  }
  return intent;
}

function strategyOf(spec: ClusterUpgradeSpec): Strategy {
  return spec.strategy ?? "InPlace";
}

/** The frozen fields, as (spec path, read from a spec, read from a frozen intent). */
const FIELDS: readonly { field: string; fromSpec: (spec: ClusterUpgradeSpec) => string | undefined; fromIntent: (intent: FrozenIntent) => string | undefined }[] = [
  { field: "spec.cluster.name", fromSpec: (spec) => spec.cluster.name, fromIntent: (intent) => intent.cluster.name },
  { field: "spec.cluster.region", fromSpec: (spec) => spec.cluster.region, fromIntent: (intent) => intent.cluster.region },
  { field: "spec.strategy", fromSpec: strategyOf, fromIntent: (intent) => intent.strategy },
  { field: "spec.targetVersion", fromSpec: (spec) => spec.targetVersion, fromIntent: (intent) => intent.targetVersion },
  { field: "spec.blueGreen.greenCluster.name", fromSpec: (spec) => spec.blueGreen?.greenCluster.name, fromIntent: (intent) => intent.blueGreen?.greenCluster.name },
  { field: "spec.blueGreen.greenCluster.region", fromSpec: (spec) => spec.blueGreen?.greenCluster.region, fromIntent: (intent) => intent.blueGreen?.greenCluster.region },
  { field: "spec.blueGreen.route53.hostedZoneId", fromSpec: (spec) => spec.blueGreen?.route53.hostedZoneId, fromIntent: (intent) => intent.blueGreen?.route53.hostedZoneId },
  { field: "spec.blueGreen.route53.recordName", fromSpec: (spec) => spec.blueGreen?.route53.recordName, fromIntent: (intent) => intent.blueGreen?.route53.recordName },
  { field: "spec.blueGreen.route53.blueSetIdentifier", fromSpec: (spec) => spec.blueGreen?.route53.blueSetIdentifier, fromIntent: (intent) => intent.blueGreen?.route53.blueSetIdentifier },
  { field: "spec.blueGreen.route53.greenSetIdentifier", fromSpec: (spec) => spec.blueGreen?.route53.greenSetIdentifier, fromIntent: (intent) => intent.blueGreen?.route53.greenSetIdentifier },
];

/** Every frozen field whose value in the spec differs from the one recorded; empty when none. */
export function intentChanges(frozen: FrozenIntent | undefined, spec: ClusterUpgradeSpec): IntentChange[] {
  if (!frozen) return [];
  const changes: IntentChange[] = [];
  for (const { field, fromSpec, fromIntent } of FIELDS) {
    // A strategy switch already names the whole blueGreen block; its fields would only repeat it.
    if (field.startsWith("spec.blueGreen.") && strategyOf(spec) !== frozen.strategy) continue;
    const before = fromIntent(frozen) ?? "";
    const now = fromSpec(spec) ?? "";
    if (before !== now) changes.push({ field, frozen: before, current: now });
  }
  return changes;
}

/**
 * The spec with the frozen fields put back: what an abort or a deletion acts on, so that releasing
 * what the upgrade holds touches the cluster it was started on, not the one the spec names now.
 */
export function withFrozenIntent(spec: ClusterUpgradeSpec, frozen: FrozenIntent | undefined): ClusterUpgradeSpec {
  if (!frozen || intentChanges(frozen, spec).length === 0) return spec;
  const restored: ClusterUpgradeSpec = {
    ...spec,
    cluster: { ...spec.cluster, name: frozen.cluster.name, region: frozen.cluster.region },
    strategy: frozen.strategy,
    targetVersion: frozen.targetVersion,
  };
  if (restored.cluster.region === undefined) delete restored.cluster.region;
  if (frozen.blueGreen && spec.blueGreen) {
    const greenCluster = { ...spec.blueGreen.greenCluster, name: frozen.blueGreen.greenCluster.name, region: frozen.blueGreen.greenCluster.region };
    if (greenCluster.region === undefined) delete greenCluster.region;
    restored.blueGreen = { ...spec.blueGreen, greenCluster, route53: { ...spec.blueGreen.route53, ...frozen.blueGreen.route53 } };
  } else if (frozen.blueGreen) {
    // The block was removed since: the frozen names are enough to give traffic back and release blue.
    restored.blueGreen = { greenCluster: { ...frozen.blueGreen.greenCluster }, route53: { ...frozen.blueGreen.route53 } };
  } else {
    // Frozen as InPlace: whatever blueGreen block was added since is not part of this upgrade.
    delete restored.blueGreen;
  }
  return restored;
}

function shown(value: string): string {
  return value === "" ? "(unset)" : value;
}

/** The SpecValid message for changed intent: every field old -> new, and the two ways out. */
export function describeIntentChanges(changes: IntentChange[], frozenAt: string): string {
  const list = changes.map((change) => `${change.field} ${shown(change.frozen)} -> ${shown(change.current)}`).join(", ");
  const back = changes.map((change) => `${change.field} to ${shown(change.frozen)}`).join(", ");
  return (
    `the upgrade's intent was frozen at ${frozenAt} when it started changing the cluster, and the spec changed since: ${list}. ` +
    `Nothing was changed. Set ${back} to continue this upgrade, or abort it (spec.abort: true) and create a new ClusterUpgrade for the new intent.`
  );
}
