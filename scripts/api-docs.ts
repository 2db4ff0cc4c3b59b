// Generates the field reference tables of docs/api.md: spec fields from the CRD schema (the source
// of truth for types, defaults and validation) and status fields from src/api/v1alpha1/types.ts.
// The prose around the tables is written by hand; only the text between the GENERATED markers is
// replaced.
//
//   npx tsx scripts/api-docs.ts          rewrite the generated sections of docs/api.md
//   npx tsx scripts/api-docs.ts --check  exit 1 when docs/api.md is out of date
//
// test/unit/packaging/api-docs.test.ts runs the same functions, so a CRD change that is not
// reflected in the docs fails the unit tests.

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { parse } from "yaml";

export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CRD_PATH = "crds/eksupgrade.io_clusterupgrades.yaml";
export const TYPES_PATH = "src/api/v1alpha1/types.ts";
export const API_DOC_PATH = "docs/api.md";

/** The pattern the CRD uses for every duration field. */
const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";

/** The subset of an OpenAPI v3 schema node (as used by CRDs) that this generator reads. */
export interface SchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-validations"?: { rule: string; message?: string; fieldPath?: string }[];
}

export interface CrdVersion {
  name: string;
  additionalPrinterColumns?: { name: string; type: string; jsonPath: string; description?: string; priority?: number }[];
  schema: { openAPIV3Schema: SchemaNode };
}

export interface Crd {
  spec: { group: string; names: { kind: string; shortNames?: string[] }; versions: CrdVersion[] };
}

export interface FieldRow {
  /** Dotted path; "[]" marks the items of a list, e.g. spec.nodeGroups.managed[].name. */
  path: string;
  type: string;
  defaultValue: string;
  validation: string[];
  description: string;
}

/** What the docs add where the schema says too little: a meaning, or a default the operator applies. */
interface FieldNote {
  description?: string;
  defaultValue?: string;
}

/**
 * Meanings for spec fields whose schema has no description, and defaults that the operator (not the
 * API server) applies. A field listed here that also has a schema description keeps the schema's.
 */
const SPEC_NOTES: Record<string, FieldNote> = {
  spec: { description: "What to upgrade, to which version, how, and when." },
  "spec.cluster.region": { defaultValue: "the operator's `AWS_REGION`" },
  "spec.cluster.kubeconfigSecretRef.name": { description: "Name of the Secret." },
  "spec.cluster.kubeconfigSecretRef.key": { description: "Key in the Secret whose value is the kubeconfig." },
  "spec.controlPlane": { description: "How the control plane is upgraded." },
  "spec.nodeGroups.order": { defaultValue: "none: all groups by name" },
  "spec.nodeGroups.exclude": { defaultValue: "none" },
  "spec.nodeGroups.selfManaged": { defaultValue: "none" },
  "spec.nodeGroups.selfManaged[].autoScalingGroupName": { description: "Name of the Auto Scaling group." },
  "spec.nodeGroups.managed": { defaultValue: "none: every managed group with the settings above" },
  "spec.nodeGroups.managed[].name": { description: "Name of the EKS managed node group." },
  "spec.nodeGroups.managed[].releaseVersion": { defaultValue: "the latest release for the hop's version" },
  "spec.nodeGroups.managed[].maxUnavailable": {
    description: "Overrides spec.nodeGroups.maxUnavailable for this group.",
    defaultValue: "`spec.nodeGroups.maxUnavailable`",
  },
  "spec.verification.httpProbes[].url": { description: "URL read with a GET; any 2xx within the timeout passes." },
  "spec.verification.httpProbes[].timeoutSeconds": { description: "Seconds the probe may take." },
  "spec.verification.workloads[].kind": { description: "Deployment, StatefulSet or DaemonSet." },
  "spec.verification.workloads[].namespace": { description: "Namespace of the workload." },
  "spec.verification.workloads[].name": { description: "Name of the workload." },
  "spec.rollback.overrideReadiness.reason": { description: "Why the findings may be overridden; recorded in status.rollback.overridden and a Warning Event." },
  "spec.drain.gracePeriodSeconds": { defaultValue: "each pod's own `terminationGracePeriodSeconds`" },
  "spec.addons": { description: "How EKS add-ons follow each control-plane hop." },
  "spec.addons.pinned": {
    description: "Add-ons set to an exact version instead of the one the policy picks.",
    defaultValue: "none",
  },
  "spec.addons.pinned[].name": { description: "EKS add-on name, e.g. `vpc-cni`, `coredns`, `kube-proxy`." },
  "spec.addons.pinned[].version": { description: "Exact add-on version, e.g. `v1.19.0-eksbuild.1`." },
  "spec.addons.skip": { defaultValue: "none" },
  "spec.preflight": { description: "Checks that must pass before anything changes." },
  "spec.preflight.ignore": { defaultValue: "none" },
  "spec.preflight.ignore[].code": { description: "The finding code to ignore, e.g. `EKS002`." },
  "spec.preflight.ignore[].reason": { description: "Why it is safe to ignore; copied into status.preflight.overrides." },
  "spec.preflight.insightOverrides": { defaultValue: "none" },
  "spec.preflight.insightOverrides[].insightId": { description: "The id of the EKS upgrade insight." },
  "spec.preflight.insightOverrides[].reason": { description: "Why the insight may be overridden; recorded in status." },
  "spec.preflight.criticalNamespaces": { defaultValue: "none" },
  "spec.maintenanceWindows": { defaultValue: "none: work may start at any time" },
  "spec.blackouts": { defaultValue: "none" },
  "spec.blackouts[].start": { description: "Start of the blackout (RFC 3339 timestamp)." },
  "spec.blackouts[].end": { description: "End of the blackout (RFC 3339 timestamp); must be after start." },
  "spec.blackouts[].reason": { description: "Shown in the MaintenanceWindowOpen condition while the blackout lasts." },
  "spec.notifications": { description: "Where phase changes and failures are announced." },
  "spec.notifications.webhookUrl": { defaultValue: "none: no notifications" },
  "spec.notifications.webhookSecretRef.name": { description: "Name of the Secret, in the ClusterUpgrade's namespace." },
  "spec.notifications.webhookSecretRef.key": { description: "Key in the Secret whose value is the webhook URL." },
  "spec.blueGreen.greenCluster.region": { defaultValue: "the operator's `AWS_REGION`" },
  "spec.blueGreen.greenCluster.kubeconfigSecretRef.name": { description: "Name of the Secret." },
  "spec.blueGreen.greenCluster.kubeconfigSecretRef.key": { description: "Key in the Secret whose value is the kubeconfig." },
  "spec.blueGreen.verify.namespaces": {
    description: "Namespaces whose Deployments, StatefulSets and DaemonSets must all be available on green.",
    defaultValue: "none",
  },
  "spec.blueGreen.verify.workloads": { description: "Individual workloads that must be available on green.", defaultValue: "none" },
  "spec.blueGreen.verify.workloads[].kind": { description: "Kind of the workload." },
  "spec.blueGreen.verify.workloads[].namespace": { description: "Namespace of the workload on green." },
  "spec.blueGreen.verify.workloads[].name": { description: "Name of the workload." },
  "spec.blueGreen.route53": { description: "The weighted Route53 record set that carries the traffic." },
  "spec.blueGreen.route53.hostedZoneId": { description: "Hosted zone of the record, with or without the `/hostedzone/` prefix." },
  "spec.blueGreen.route53.recordName": { description: "DNS name of the weighted records, e.g. `shop.example.com`." },
  "spec.blueGreen.route53.recordType": { description: "Type of the weighted records." },
  "spec.blueGreen.route53.blueSetIdentifier": { description: "SetIdentifier of the record that points at blue." },
  "spec.blueGreen.route53.greenSetIdentifier": { description: "SetIdentifier of the record that points at green." },
  "spec.blueGreen.trafficSteps": { defaultValue: "`[10, 25, 50, 100]` (applied by the operator)" },
  "spec.blueGreen.weightSteps": { defaultValue: "none: derived from trafficSteps" },
  "spec.blueGreen.weightSteps[].blue": { description: "Route53 weight of the blue record at this step." },
  "spec.blueGreen.weightSteps[].green": { description: "Route53 weight of the green record at this step." },
  "spec.blueGreen.gates": { description: "Health signals checked during every traffic step; failures roll traffic back to blue." },
  "spec.blueGreen.gates.route53HealthCheckIds": { description: "Route53 health checks that must report healthy.", defaultValue: "none" },
  "spec.blueGreen.gates.cloudWatchAlarms": { description: "CloudWatch alarm names that must not be in ALARM.", defaultValue: "none" },
  "spec.blueGreen.gates.httpProbes": { description: "URLs that must answer 2xx.", defaultValue: "none" },
  "spec.blueGreen.gates.httpProbes[].url": { description: "The URL to GET." },
  "spec.blueGreen.gates.httpProbes[].timeoutSeconds": { description: "Timeout of one probe request." },
  "spec.blueGreen.gates.checkInterval": { description: "Time between two rounds of gate checks." },
  "spec.blueGreen.blueRetention": { description: "What happens to blue once green carries all traffic." },
  "spec.blueGreen.blueRetention.keepFor": { description: "How long blue is kept intact after the last step, ready to take traffic back." },
  "spec.blueGreen.blueRetention.scaleDown": { description: "After keepFor, scale blue's node groups to zero." },
  "spec.blueGreen.blueRetention.deleteBlue": { description: "After keepFor, delete the blue cluster. Requires scaleDown." },
};

/**
 * Meanings of status fields. A JSDoc comment on the property in types.ts wins; these fill in where
 * there is none.
 */
const STATUS_NOTES: Record<string, string> = {
  "status.phase": "Where the upgrade stands, derived from the conditions (see Phases).",
  "status.observedGeneration": "The metadata.generation of the spec that the last error-free pass acted on.",
  "status.currentVersion": "Kubernetes version the control plane runs now, as reported by EKS.",
  "status.progress": "Short summary for the Progress printer column: what is done out of what is planned, e.g. `cp 1/2, addons 3/3, nodes 4/10`.",
  "status.startedAt": "When the operator first changed something.",
  "status.finishedAt": "When the upgrade reached Succeeded, Failed or Aborted.",
  "status.conditions": "Standard Kubernetes conditions; every type listed under Conditions is always present.",
  "status.conditions[].type": "Condition type (see Conditions).",
  "status.conditions[].status": "Whether the condition holds.",
  "status.conditions[].reason": "CamelCase reason (see Reasons).",
  "status.conditions[].message": "Human-readable detail naming the blocking thing.",
  "status.conditions[].observedGeneration": "Generation of the spec the condition was computed from.",
  "status.conditions[].lastTransitionTime": "When status last changed (not when the message changed).",
  "status.plan": "The upgrade plan computed after preflight, kept so that every pass follows the same plan.",
  "status.plan.computedAt": "When the plan was computed.",
  "status.plan.hops": "One entry per control-plane minor version hop.",
  "status.plan.hops[].from": "Version before the hop.",
  "status.plan.hops[].to": "Version after the hop.",
  "status.plan.hops[].controlPlane": "Whether the control plane itself moves in this hop (false when it is already there).",
  "status.plan.hops[].addons": "Add-on version changes of this hop.",
  "status.plan.hops[].addons[].name": "Add-on name.",
  "status.plan.hops[].addons[].from": "Add-on version before.",
  "status.plan.hops[].addons[].to": "Add-on version after.",
  "status.plan.hops[].nodeGroups": "Node groups rolled in this hop, in order.",
  "status.plan.hops[].nodeGroups[].name": "Node group (or Auto Scaling group) name.",
  "status.plan.hops[].nodeGroups[].kind": "Whether EKS manages the group or the operator rolls its Auto Scaling group.",
  "status.plan.hops[].nodeGroups[].nodeCount": "Nodes in the group when the plan was made.",
  "status.plan.hops[].nodeGroups[].batches": "Node names per batch, chosen deterministically and grouped by zone.",
  "status.plan.unorderedNodeGroups": "Node groups present in the cluster but not named in spec.nodeGroups.order, rolled after it.",
  "status.hops": "Progress of each control-plane hop.",
  "status.hops[].version": "The version this hop reaches, e.g. `1.30`.",
  "status.hops[].from": "The version the hop starts from.",
  "status.hops[].updateId": "EKS update id returned by UpdateClusterVersion.",
  "status.hops[].state": "Progress of this hop.",
  "status.hops[].startedAt": "When the hop started.",
  "status.hops[].finishedAt": "When the hop finished.",
  "status.hops[].attempts": "How many times UpdateClusterVersion was started for this hop.",
  "status.addons": "Progress of each add-on update.",
  "status.addons[].name": "Add-on name.",
  "status.addons[].hop": "The hop (target version) this update belongs to.",
  "status.addons[].fromVersion": "Version before the update.",
  "status.addons[].toVersion": "Version after the update.",
  "status.addons[].updateId": "EKS update id returned by UpdateAddon.",
  "status.addons[].state": "Progress of this add-on update.",
  "status.nodeGroups": "Progress of each node group.",
  "status.nodeGroups[].name": "Node group (or Auto Scaling group) name.",
  "status.nodeGroups[].kind": "Whether EKS manages the group or the operator rolls its Auto Scaling group.",
  "status.nodeGroups[].total": "Nodes in the group.",
  "status.nodeGroups[].upgraded": "Nodes already at the target version.",
  "status.nodeGroups[].inFlight": "Nodes being cordoned, drained or replaced now.",
  "status.nodeGroups[].version": "Kubernetes version the group runs now.",
  "status.nodeGroups[].state": "Progress of this node group in the current hop.",
  "status.nodeGroups[].updateId": "EKS update id returned by UpdateNodegroupVersion (managed groups).",
  "status.nodeGroups[].originalSize": "Auto Scaling group sizes before the surge, restored afterwards (self-managed groups).",
  "status.nodeGroups[].originalSize.min": "Original minimum size.",
  "status.nodeGroups[].originalSize.max": "Original maximum size.",
  "status.nodeGroups[].originalSize.desired": "Original desired capacity.",
  "status.green.nodeGroups[].name": "Node group name (the same as blue's).",
  "status.green.nodeGroups[].status": "EKS status of the node group: Pending (not sent yet), CREATING, ACTIVE, CREATE_FAILED.",
  "status.green.nodeGroups[].clientRequestToken": "Idempotency token of CreateNodegroup, stored before the first call and reused on every retry, so EKS never creates the group twice.",
  "status.green.addons[].name": "Add-on name (the same as blue's).",
  "status.green.addons[].version": "Version created: the default EKS lists for the target Kubernetes version.",
  "status.green.addons[].status": "EKS status of the add-on: Pending (not sent yet), CREATING, ACTIVE, CREATE_FAILED.",
  "status.green.addons[].clientRequestToken": "Idempotency token of CreateAddon, stored before the first call and reused on every retry.",
  "status.blueRetention.groups[].originalSize.min": "Minimum size before the scale-down.",
  "status.blueRetention.groups[].originalSize.max": "Maximum size before the scale-down.",
  "status.blueRetention.groups[].originalSize.desired": "Desired size before the scale-down.",
  "status.nodeGroups[].launchTemplateVersion": "Launch template version the roll moves the group to (self-managed groups): the one created for the new AMI, or on a rollback the earlier one.",
  "status.nodeGroups[].originalLaunchTemplate.id": "Launch template id the group used before the roll.",
  "status.nodeGroups[].originalLaunchTemplate.version": "Launch template version the group used before the roll; restored on abort.",
  "status.nodeGroups[].waitingForNodesSince": "Since when the current wave of a self-managed group waits for its new nodes to be Ready; past 15 minutes the group is Failed until they are.",
  "status.released": "What an abort gave back, one line each: nodes uncordoned, Auto Scaling groups restored.",
  "status.nodeGroups[].imageId": "AMI of that launch template version (self-managed groups): nodes on any other AMI are still to be replaced.",
  "status.nodeGroups[].previousLaunchTemplate.id": "Launch template id the group used before this hop's roll.",
  "status.nodeGroups[].previousLaunchTemplate.version": "Launch template version the group used before this hop's roll; a rollback of the hop goes back to it.",
  "status.nodeGroups[].nodes": "Nodes in flight, with what keeps their pods in place.",
  "status.nodeGroups[].nodes[].name": "Node name.",
  "status.nodeGroups[].nodes[].zone": "Availability zone of the node.",
  "status.nodeGroups[].nodes[].phase": "Where the node is in its replacement.",
  "status.nodeGroups[].nodes[].since": "When the node entered its phase.",
  "status.nodeGroups[].nodes[].podsLeft": "Pods still on the node.",
  "status.nodeGroups[].nodes[].podsLeft[].pod": "Pod as namespace/name.",
  "status.nodeGroups[].nodes[].podsLeft[].heldBy": "What keeps the pod on the node: a budget with its allowance, a policy, an error.",
  "status.preflight": "Result of the last preflight run.",
  "status.preflight.lastRunAt": "When the checks last ran.",
  "status.preflight.blocking": "Number of Blocking findings.",
  "status.preflight.warnings": "Number of Warning findings.",
  "status.preflight.findings": "Every finding of the last run.",
  "status.preflight.findings[].severity": "Blocking findings stop the upgrade; Warning findings stop it only when spec.preflight.warningsBlock is true.",
  "status.preflight.findings[].code": "Stable finding code, e.g. `EKS001`; usable in spec.preflight.ignore.",
  "status.preflight.findings[].resource": "The thing concerned, as kind/namespace/name or an AWS id.",
  "status.preflight.findings[].message": "What is wrong.",
  "status.preflight.findings[].remediation": "How to fix it.",
  "status.preflight.overrides": "Findings ignored through spec.preflight.ignore and insights overridden through spec.preflight.insightOverrides, with the reason given.",
  "status.preflight.overrides[].code": "Ignored finding code, or the id of the overridden EKS insight.",
  "status.preflight.overrides[].resource": "The thing the ignored finding concerned.",
  "status.preflight.overrides[].reason": "The reason from the spec.",
  "status.cutover": "Blue/green traffic shifting state.",
  "status.cutover.step": "Index of the current traffic step (0 before the first).",
  "status.cutover.blueWeight": "Route53 weight of the blue record now.",
  "status.cutover.greenWeight": "Route53 weight of the green record now.",
  "status.cutover.split": "`blue/green` percentages, for the Traffic printer column.",
  "status.cutover.stepStartedAt": "When the current step started (its weight change was sent).",
  "status.cutover.changeId": "Route53 change id of the last weight change.",
  "status.cutover.changeInSyncAt": "When Route53 reported that change INSYNC.",
  "status.cutover.failures": "Failed gate checks since the cutover started; reaching gates.failureThreshold rolls back.",
  "status.cutover.state": "Where the cutover stands: Shifting, AwaitingApproval, RollingBack, Aborting, or the final Promoted, RolledBack, Aborted.",
  "status.cutover.gates": "Result of each gate at the last check.",
  "status.cutover.gates[].kind": "Which kind of gate.",
  "status.cutover.gates[].name": "Health check id, alarm name or URL.",
  "status.cutover.gates[].healthy": "Whether the gate passed.",
  "status.cutover.gates[].value": "What was observed, e.g. the alarm state or the HTTP status.",
  "status.cutover.gates[].checkedAt": "When the gate was checked.",
  "status.cutover.rolledBack": "True once traffic was sent back to blue.",
  "status.nodeGroups[].previousRelease.releaseVersion": "The AMI release version, e.g. 1.30.4-20250115.",
  "status.nodeGroups[].previousRelease.launchTemplateVersion": "The launch template version, for groups with a launch template.",
  "status.verification.gates": "Result of each gate at the last check.",
  "status.verification.gates[].kind": "Which kind of gate.",
  "status.verification.gates[].name": "Health check id, alarm name or URL.",
  "status.verification.gates[].healthy": "Whether the gate passed.",
  "status.verification.gates[].value": "What was observed, e.g. the alarm state or the HTTP status.",
  "status.verification.gates[].checkedAt": "When the gate was checked.",
  "status.rollback.state": "Where the rollback stands; RolledBack is final, Refused until spec.rollback asks again (a new attempt value, an override, or a request after a refused automatic rollback).",
  "status.rollback.items[].name": "Node group, Auto Scaling group or add-on name.",
  "status.rollback.decidedWith.requested": "spec.rollback.requested when the attempt was decided.",
  "status.rollback.decidedWith.attempt": "spec.rollback.attempt when the attempt was decided.",
  "status.rollback.decidedWith.overrideReason": "spec.rollback.overrideReadiness.reason when the attempt was decided.",
  "status.rollback.items[].updateId": "The EKS update that moves it back.",
  "status.rollback.items[].attempts": "How many updates were started for it.",
  "status.rollback.controlPlane.clientRequestToken": "Idempotency token stored before UpdateClusterVersion and reused on retry.",
  "status.rollback.controlPlane.updateId": "The EKS update of type VersionRollback.",
  "status.rollback.controlPlane.attempts": "How many times UpdateClusterVersion was started for the rollback.",
  "status.rollback.controlPlane.state": "Progress of the control-plane rollback.",
  "status.rollback.finishedAt": "When the rollback ended.",
  "status.window": "Maintenance window state.",
  "status.window.open": "Whether new work may start now.",
  "status.window.nextStart": "When the next window opens.",
  "status.window.nextEnd": "When the current or next window closes.",
  "status.window.reason": "Why work may not start, e.g. the blackout's reason.",
};

/** Meanings of status properties that recur in several places, used when nothing more specific exists. */
const STATUS_PROPERTY_NOTES: Record<string, string> = {
  clientRequestToken: "Idempotency token stored before the AWS update call and reused on retry.",
  updateId: "EKS update id of the update in flight or last finished.",
  attempts: "How many times the update was started.",
  errors: "Errors EKS reported for the update (DescribeUpdate).",
  errorCode: "EKS error code, e.g. `SubnetNotFound`, `PodEvictionFailure`.",
  errorMessage: "EKS error message.",
  resourceIds: "AWS resources the error concerns.",
  nextAttemptAt: "After a failed update: when the next attempt may start.",
  startedAt: "When this started.",
  finishedAt: "When this finished.",
  message: "Human-readable detail.",
  state: "Progress of this item.",
};

export function readRepositoryFile(relativePath: string): string {
  return readFileSync(path.join(REPOSITORY_ROOT, relativePath), "utf8");
}

export function loadCrd(text: string = readRepositoryFile(CRD_PATH)): Crd {
  return parse(text) as Crd;
}

export function servedVersion(crd: Crd): CrdVersion {
  const [version] = crd.spec.versions;
  if (!version) throw new Error("the CRD declares no version");
  return version;
}

export function specSchema(crd: Crd): SchemaNode {
  const spec = servedVersion(crd).schema.openAPIV3Schema.properties?.spec;
  if (!spec) throw new Error("the CRD schema has no spec property");
  return spec;
}

// ---- spec: walk the CRD schema ------------------------------------------------------------------

function formatValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function code(text: string): string {
  return "`" + text + "`";
}

function count(amount: number, singular: string, plural = `${singular}s`): string {
  return `${amount} ${amount === 1 ? singular : plural}`;
}

function describeType(node: SchemaNode): string {
  if (node.type === "array") return `[]${node.items ? describeType(node.items) : "any"}`;
  if (node.type === "object" && typeof node.additionalProperties === "object") {
    return `map[string]${describeType(node.additionalProperties)}`;
  }
  if (node.type === "string" && node.pattern === DURATION_PATTERN) return "string (duration)";
  if (node.type === "string" && node.format) return `string (${node.format})`;
  return node.type ?? "any";
}

function describeValidation(node: SchemaNode, required: boolean): string[] {
  const rules: string[] = [];
  if (required) rules.push("required");
  if (node.enum) rules.push(`one of ${node.enum.map((value) => code(formatValue(value))).join(", ")}`);
  if (node.pattern === DURATION_PATTERN) rules.push("duration such as `90s`, `15m`, `1h30m`");
  else if (node.pattern) rules.push(`pattern ${code(node.pattern)}`);
  if (node.minimum !== undefined || node.maximum !== undefined) {
    rules.push(`${node.minimum ?? "-∞"} to ${node.maximum ?? "∞"}`);
  }
  if (node.minLength !== undefined) rules.push(`at least ${count(node.minLength, "character")}`);
  if (node.maxLength !== undefined) rules.push(`at most ${count(node.maxLength, "character")}`);
  if (node.minItems !== undefined) rules.push(`at least ${count(node.minItems, "item")}`);
  if (node.maxItems !== undefined) rules.push(`at most ${count(node.maxItems, "item")}`);
  if (node.maxProperties !== undefined) rules.push(`at most ${count(node.maxProperties, "entry", "entries")}`);
  const itemPattern = node.additionalProperties && typeof node.additionalProperties === "object"
    ? node.additionalProperties.pattern
    : node.items?.pattern;
  if (itemPattern) rules.push(`each value matches ${code(itemPattern)}`);
  if (node["x-kubernetes-list-type"] === "set") rules.push("unique items");
  const mapKeys = node["x-kubernetes-list-map-keys"];
  if (node["x-kubernetes-list-type"] === "map" && mapKeys) {
    rules.push(`unique by ${mapKeys.map(code).join(", ")}`);
  }
  return rules;
}

/** Splits "a.b" or ".a.b" into property names, for the fieldPath of a CEL rule. */
function fieldPathSegments(fieldPath: string): string[] {
  return fieldPath.replace(/^\./, "").split(".").filter((segment) => segment.length > 0);
}

/**
 * The messages of CEL rules, keyed by the field path they point at. A rule with a fieldPath belongs
 * to that field; a rule without one belongs to the node that carries it.
 */
function collectRuleMessages(node: SchemaNode, nodePath: string, into: Map<string, string[]>): void {
  for (const validation of node["x-kubernetes-validations"] ?? []) {
    const target = validation.fieldPath ? [nodePath, ...fieldPathSegments(validation.fieldPath)].join(".") : nodePath;
    const messages = into.get(target) ?? [];
    messages.push(validation.message ?? `must satisfy ${code(validation.rule)}`);
    into.set(target, messages);
  }
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    collectRuleMessages(child, `${nodePath}.${name}`, into);
  }
  if (node.items) collectRuleMessages(node.items, `${nodePath}[]`, into);
}

function walkSpec(
  node: SchemaNode,
  nodePath: string,
  required: boolean,
  ruleMessages: Map<string, string[]>,
  rows: FieldRow[],
): void {
  const note = SPEC_NOTES[nodePath] ?? {};
  rows.push({
    path: nodePath,
    type: describeType(node),
    defaultValue: node.default !== undefined ? code(formatValue(node.default)) : note.defaultValue ?? "",
    validation: [...describeValidation(node, required), ...(ruleMessages.get(nodePath) ?? [])],
    description: node.description ?? note.description ?? "",
  });
  const requiredChildren = new Set(node.required ?? []);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    walkSpec(child, `${nodePath}.${name}`, requiredChildren.has(name), ruleMessages, rows);
  }
  const itemRequired = new Set(node.items?.required ?? []);
  for (const [name, child] of Object.entries(node.items?.properties ?? {})) {
    walkSpec(child, `${nodePath}[].${name}`, itemRequired.has(name), ruleMessages, rows);
  }
}

/** Every field under spec, depth first in schema order. */
export function specFieldRows(crd: Crd): FieldRow[] {
  const spec = specSchema(crd);
  const ruleMessages = new Map<string, string[]>();
  collectRuleMessages(spec, "spec", ruleMessages);
  const rows: FieldRow[] = [];
  walkSpec(spec, "spec", true, ruleMessages, rows);
  return rows;
}

// ---- status: walk the TypeScript types ---------------------------------------------------------

function isPlainObjectType(type: ts.Type, checker: ts.TypeChecker): boolean {
  if (!(type.flags & ts.TypeFlags.Object)) return false;
  if (checker.isArrayType(type)) return false;
  return checker.getPropertiesOfType(type).length > 0 && type.getCallSignatures().length === 0;
}

/**
 * String literals of a union in the order they are written in the source; the checker's own order
 * follows type creation and shifts when unrelated code changes.
 */
function literalsInSourceOrder(typeNode: ts.TypeNode | undefined, checker: ts.TypeChecker): string[] {
  if (!typeNode) return [];
  if (ts.isUnionTypeNode(typeNode)) return typeNode.types.flatMap((member) => literalsInSourceOrder(member, checker));
  if (ts.isLiteralTypeNode(typeNode) && ts.isStringLiteral(typeNode.literal)) return [typeNode.literal.text];
  if (ts.isTypeReferenceNode(typeNode)) {
    const symbol = checker.getSymbolAtLocation(typeNode.typeName);
    const alias = symbol?.declarations?.find(ts.isTypeAliasDeclaration);
    return alias ? literalsInSourceOrder(alias.type, checker) : [];
  }
  return [];
}

function statusTypeName(type: ts.Type, checker: ts.TypeChecker, typeNode?: ts.TypeNode): string {
  const members = type.isUnion() ? type.types.filter((t) => !(t.flags & ts.TypeFlags.Undefined)) : [type];
  const [single] = members;
  if (members.length === 1 && single) {
    if (checker.isArrayType(single)) {
      const [element] = checker.getTypeArguments(single as ts.TypeReference);
      return `[]${element ? statusTypeName(element, checker) : "any"}`;
    }
    if (isPlainObjectType(single, checker)) return "object";
  }
  if (members.every((t) => t.flags & ts.TypeFlags.BooleanLiteral)) return "boolean";
  if (members.every((t) => t.isStringLiteral())) {
    const sourceOrder = literalsInSourceOrder(typeNode, checker);
    const rank = (value: string): number => (sourceOrder.includes(value) ? sourceOrder.indexOf(value) : sourceOrder.length);
    const values = members
      .map((t) => t.value)
      .sort((left, right) => rank(left) - rank(right))
      .map(code);
    return values.length === 1 ? `string: ${values.join("")}` : `string, one of ${values.join(", ")}`;
  }
  return checker.typeToString(checker.getNonNullableType(type));
}

function walkStatusType(type: ts.Type, typePath: string, checker: ts.TypeChecker, rows: FieldRow[]): void {
  for (const property of checker.getPropertiesOfType(type)) {
    const declaration = property.valueDeclaration ?? property.declarations?.[0];
    if (!declaration) continue;
    const propertyType = checker.getTypeOfSymbolAtLocation(property, declaration);
    const propertyPath = `${typePath}.${property.name}`;
    const jsDoc = ts.displayPartsToString(property.getDocumentationComment(checker)).trim();
    rows.push({
      path: propertyPath,
      type: statusTypeName(propertyType, checker, ts.isPropertySignature(declaration) ? declaration.type : undefined),
      defaultValue: "",
      validation: [],
      description: jsDoc || STATUS_NOTES[propertyPath] || STATUS_PROPERTY_NOTES[property.name] || "",
    });
    const nonUndefined = checker.getNonNullableType(propertyType);
    if (checker.isArrayType(nonUndefined)) {
      const [element] = checker.getTypeArguments(nonUndefined as ts.TypeReference);
      if (element && isPlainObjectType(element, checker)) walkStatusType(element, `${propertyPath}[]`, checker, rows);
    } else if (isPlainObjectType(nonUndefined, checker) && !nonUndefined.isUnion()) {
      walkStatusType(nonUndefined, propertyPath, checker, rows);
    }
  }
}

/** Every field of ClusterUpgradeStatus as declared in the TypeScript API types. */
export function statusFieldRows(typesFile: string = path.join(REPOSITORY_ROOT, TYPES_PATH)): FieldRow[] {
  const program = ts.createProgram([typesFile], { strict: true, noEmit: true, lib: ["lib.es2022.d.ts"], types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(typesFile);
  if (!source) throw new Error(`reading ${typesFile}`);
  const statusInterface = source.statements.find(
    (statement): statement is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(statement) && statement.name.text === "ClusterUpgradeStatus",
  );
  if (!statusInterface) throw new Error(`${typesFile} declares no ClusterUpgradeStatus`);
  const rows: FieldRow[] = [];
  walkStatusType(checker.getTypeAtLocation(statusInterface), "status", checker, rows);
  return rows;
}

// ---- markdown ----------------------------------------------------------------------------------

/**
 * Escapes what would break a GitHub table cell: pipes (even inside code spans), line breaks, and
 * outside code spans the angle brackets that would otherwise read as HTML tags.
 */
function cell(text: string): string {
  const escaped = text
    .split("`")
    .map((part, index) => (index % 2 === 0 ? part.replace(/</g, "&lt;").replace(/>/g, "&gt;") : part))
    .join("`");
  return escaped.replace(/\|/g, "\\|").replace(/\n+/g, " ").trim();
}

export function renderSpecTable(rows: FieldRow[]): string {
  const lines = ["| Field | Type | Default | Validation | Description |", "| --- | --- | --- | --- | --- |"];
  for (const row of rows) {
    const validation = row.validation.length > 0 ? row.validation.join("; ") : "";
    lines.push(
      `| ${cell(code(row.path))} | ${cell(row.type)} | ${cell(row.defaultValue || "—")} | ${cell(validation || "—")} | ${cell(row.description)} |`,
    );
  }
  return lines.join("\n");
}

export function renderStatusTable(rows: FieldRow[]): string {
  const lines = ["| Field | Type | Description |", "| --- | --- | --- |"];
  for (const row of rows) {
    lines.push(`| ${cell(code(row.path))} | ${cell(row.type)} | ${cell(row.description)} |`);
  }
  return lines.join("\n");
}

/** What each printer column tells, where the CRD gives no description. */
const PRINTER_COLUMN_NOTES: Record<string, string> = {
  Cluster: "The EKS cluster being upgraded (blue, for BlueGreen).",
  Strategy: "`InPlace` or `BlueGreen`.",
  Current: "Version the control plane runs now.",
  Target: "Version asked for.",
  Phase: "See Phases.",
  Progress: "What is done out of what is planned: control-plane hops, add-ons, nodes, traffic.",
  "Next-Window": "When the next maintenance window opens.",
  Age: "Time since the ClusterUpgrade was created.",
};

export function renderPrinterColumns(crd: Crd): string {
  const lines = ["| Column | JSON path | Shown by default | Description |", "| --- | --- | --- | --- |"];
  for (const column of servedVersion(crd).additionalPrinterColumns ?? []) {
    const shown = (column.priority ?? 0) === 0 ? "yes" : "with `-o wide`";
    lines.push(`| ${cell(column.name)} | ${cell(code(column.jsonPath))} | ${shown} | ${cell(column.description ?? PRINTER_COLUMN_NOTES[column.name] ?? "")} |`);
  }
  return lines.join("\n");
}

/** Every CEL rule of the spec with the field it points at, in schema order. */
export function specRuleRows(crd: Crd): { path: string; message: string }[] {
  const ruleMessages = new Map<string, string[]>();
  collectRuleMessages(specSchema(crd), "spec", ruleMessages);
  return [...ruleMessages].flatMap(([rulePath, messages]) => messages.map((message) => ({ path: rulePath, message })));
}

export function renderRules(crd: Crd): string {
  const lines = ["| Field | Message |", "| --- | --- |"];
  for (const rule of specRuleRows(crd)) lines.push(`| ${cell(code(rule.path))} | ${cell(rule.message)} |`);
  return lines.join("\n");
}

/** The generated sections, by marker name. */
export function generatedSections(crd: Crd = loadCrd(), statusRows: FieldRow[] = statusFieldRows()): Map<string, string> {
  return new Map([
    ["spec-fields", renderSpecTable(specFieldRows(crd))],
    ["validation-rules", renderRules(crd)],
    ["status-fields", renderStatusTable(statusRows)],
    ["printer-columns", renderPrinterColumns(crd)],
  ]);
}

function markers(name: string): { begin: string; end: string } {
  return {
    begin: `<!-- BEGIN GENERATED ${name}: scripts/api-docs.ts writes this table, do not edit by hand -->`,
    end: `<!-- END GENERATED ${name} -->`,
  };
}

/** Replaces the text between each pair of markers; a missing marker is an error, not a silent skip. */
export function applyGeneratedSections(markdown: string, sections: Map<string, string>): string {
  let result = markdown;
  for (const [name, content] of sections) {
    const { begin, end } = markers(name);
    const start = result.indexOf(begin);
    const stop = result.indexOf(end);
    if (start < 0 || stop < start) throw new Error(`${API_DOC_PATH} lacks the markers of section ${name}`);
    result = `${result.slice(0, start + begin.length)}\n${content}\n${result.slice(stop)}`;
  }
  return result;
}

function main(argv: string[]): number {
  const current = readRepositoryFile(API_DOC_PATH);
  const updated = applyGeneratedSections(current, generatedSections());
  if (argv.includes("--check")) {
    if (updated !== current) {
      console.error(`${API_DOC_PATH} is out of date: run npx tsx scripts/api-docs.ts`);
      return 1;
    }
    return 0;
  }
  writeFileSync(path.join(REPOSITORY_ROOT, API_DOC_PATH), updated);
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) process.exitCode = main(process.argv.slice(2));
