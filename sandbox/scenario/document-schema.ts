/**
 * The JSON Schema of a scenario file as written, before defaults: what each field may hold, and
 * the few relations inside one object a schema states well (a budget names one limit, a DaemonSet
 * has no replicas). Relations across objects and arithmetic are in rules.ts. `errorMessage` is
 * this project's annotation, read by schema.ts: the sentence a reader gets instead of ajv's wording,
 * one for the node or one per failing keyword.
 */
import { ROUTE53_MAX_WEIGHT } from "./spec.js";

type Schema = Record<string, unknown>;

/** Strings may be written as numbers in YAML (a version 1.30 left unquoted); both are read as text. */
const text: Schema = { type: ["string", "number"], pattern: "\\S", errorMessage: "must be a non-empty string" };
const flag: Schema = { type: "boolean", errorMessage: "must be true or false" };
const seconds: Schema = { type: "number", minimum: 0, errorMessage: "must be a number of seconds >= 0" };

function integer(minimum: number, maximum?: number): Schema {
  const range = maximum === undefined ? `>= ${minimum}` : `between ${minimum} and ${maximum}`;
  return { type: "integer", minimum, ...(maximum === undefined ? {} : { maximum }), errorMessage: `must be an integer ${range}` };
}

function oneOf(...values: string[]): Schema {
  return { type: "string", enum: values, errorMessage: `must be one of ${values.join(", ")}` };
}

function list(items: Schema, minItems?: { count: number; message: string }): Schema {
  if (!minItems) return { type: "array", items, errorMessage: { type: "must be a list" } };
  return { type: "array", items, minItems: minItems.count, errorMessage: { type: "must be a list", minItems: minItems.message } };
}

/**
 * A mapping with exactly these fields, `required` ones present; `more` adds keywords, and its
 * `messages` the sentence for each of them.
 */
function mapping(properties: Record<string, Schema>, required: string[] = [], more: { messages?: Record<string, string> } & Schema = {}): Schema {
  const { messages, ...keywords } = more;
  return {
    type: "object",
    properties,
    required,
    additionalProperties: false,
    ...keywords,
    errorMessage: { type: "must be a mapping", ...messages },
  };
}

/** Fields an object may not carry when its `kind` is one of `kinds`. */
function forbiddenFor(kinds: string[], fields: string[], message: string): Schema {
  return {
    if: { properties: { kind: { enum: kinds } }, required: ["kind"] },
    then: { properties: Object.fromEntries(fields.map((field) => [field, { not: {}, errorMessage: message }])) },
  };
}

/** Labels, annotations, selectors: any keys, scalar values read as strings. */
const stringMap: Schema = {
  type: "object",
  additionalProperties: { type: ["string", "number", "boolean"], errorMessage: "must be a string" },
  errorMessage: { type: "must be a mapping" },
};

/** A PDB's minAvailable / maxUnavailable: a count, or a percentage up to 100% (keywords apply to their own type). */
const intOrPercent: Schema = {
  type: ["integer", "string"],
  minimum: 0,
  pattern: "^(\\d{1,2}|0\\d\\d|100)%$",
  errorMessage: "must be an integer >= 0 or a percentage such as 50%",
};

const budget: Record<string, Schema> = {
  minAvailable: intOrPercent,
  maxUnavailable: intOrPercent,
  unhealthyPodEvictionPolicy: oneOf("IfHealthyBudget", "AlwaysAllow"),
};

const oneLimit = {
  oneOf: [{ required: ["minAvailable"] }, { required: ["maxUnavailable"] }],
  messages: { oneOf: "set exactly one of minAvailable and maxUnavailable" },
};

const subnet = mapping({ name: text, zone: text, cidr: text, freeIps: integer(0), controlPlane: flag }, ["name", "zone", "cidr"]);

const addon = mapping({ name: text, version: text }, ["name"]);

const insight = mapping(
  {
    id: text,
    name: text,
    category: oneOf("UPGRADE_READINESS", "MISCONFIGURATION"),
    kubernetesVersion: text,
    status: oneOf("PASSING", "WARNING", "ERROR", "UNKNOWN"),
    reason: text,
    description: text,
    recommendation: text,
    resources: list(mapping({ kubernetesResourceUri: text, status: text, reason: text })),
    deprecationDetails: list(
      mapping({ usage: text, replacedWith: text, stopServingVersion: text, startServingReplacementVersion: text }, ["usage"]),
    ),
  },
  ["id", "kubernetesVersion", "status"],
);

const nodeGroup = mapping(
  {
    name: text,
    kind: oneOf("managed", "self-managed"),
    instanceType: text,
    version: text,
    releaseVersion: text,
    subnets: list(text),
    // A bare count, or a mapping: `properties` and `required` only look at mappings, `minimum` at numbers.
    size: {
      type: ["integer", "object"],
      minimum: 0,
      properties: { desired: integer(0), min: integer(0), max: integer(1) },
      required: ["desired"],
      additionalProperties: false,
      errorMessage: { type: "must be a node count or a mapping of min, max and desired", minimum: "must be an integer >= 0" },
    },
    labels: stringMap,
    taints: list(mapping({ key: text, value: text, effect: oneOf("NoSchedule", "NoExecute", "PreferNoSchedule") }, ["key"])),
    maxUnavailable: integer(1, 100),
    maxUnavailablePercentage: integer(1, 100),
  },
  ["name", "size"],
  {
    not: { required: ["maxUnavailable", "maxUnavailablePercentage"] },
    allOf: [
      forbiddenFor(
        ["self-managed"],
        ["maxUnavailable", "maxUnavailablePercentage", "releaseVersion"],
        "applies to managed node groups only (Auto Scaling rolls self-managed ones); remove it",
      ),
    ],
    messages: { not: "set maxUnavailable or maxUnavailablePercentage, not both" },
  },
);

const workload = mapping(
  {
    kind: oneOf("Deployment", "StatefulSet", "DaemonSet", "Pod"),
    name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", errorMessage: "must be a DNS label (lowercase letters, digits, '-')" },
    namespace: text,
    replicas: integer(0),
    copies: integer(1),
    pdb: mapping(budget, [], oneLimit),
    antiAffinity: oneOf("required", "preferred"),
    emptyDir: flag,
    doNotDisrupt: flag,
    labels: stringMap,
    annotations: stringMap,
    nodeSelector: stringMap,
    priorityClassName: text,
    cpu: text,
    memory: text,
    terminationGracePeriodSeconds: integer(0),
  },
  ["kind", "name"],
  {
    allOf: [
      forbiddenFor(["DaemonSet"], ["replicas"], "a DaemonSet has no replicas"),
      forbiddenFor(["Pod"], ["replicas"], "a Pod has no replicas"),
      forbiddenFor(["DaemonSet"], ["pdb"], "DaemonSet pods are not drained; a PDB on them tests nothing"),
    ],
  },
);

const standalonePdb = mapping(
  {
    name: text,
    namespace: text,
    matchLabels: { ...stringMap, minProperties: 1, errorMessage: { type: "must be a mapping", minProperties: "must name a label (a PDB selecting nothing tests nothing)" } },
    ...budget,
  },
  ["name", "matchLabels"],
  oneLimit,
);

const nodePoolBudget = mapping(
  {
    nodes: { type: ["string", "integer"], pattern: "^((100|[0-9]{1,2})%|[0-9]+)$", minimum: 0, errorMessage: "must be a node count or a percentage such as 10%" },
    reasons: list(oneOf("Drifted", "Underutilized", "Empty")),
    schedule: text,
    duration: { type: "string", pattern: "^([0-9]+(s|m|h))+$", errorMessage: "must be a duration such as 8h or 30m" },
  },
  ["nodes"],
  {
    dependencies: { schedule: ["duration"], duration: ["schedule"] },
    messages: { dependencies: "a scheduled budget needs both schedule and duration (Karpenter refuses one without the other)" },
  },
);

const nodePool = mapping(
  {
    name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", errorMessage: "must be a DNS label (lowercase letters, digits, '-')" },
    labels: stringMap,
    budgets: list(nodePoolBudget),
    instanceFamilies: list(oneOf("c", "m", "s")),
  },
  ["name"],
);

const cluster = mapping(
  {
    name: text,
    version: text,
    mirrorNodes: flag,
    controlPlaneUpdateSeconds: seconds,
    addonUpdateSeconds: seconds,
    vpc: mapping({ cidr: text, subnets: list(subnet) }, ["subnets"]),
    securityGroups: list(text),
    addons: list(addon),
    insights: list(insight),
    nodeGroups: list(nodeGroup),
    workloads: list(workload),
    podDisruptionBudgets: list(standalonePdb),
    karpenter: mapping({ nodePools: list(nodePool, { count: 1, message: "at least one NodePool is required (leave karpenter out for none)" }) }, ["nodePools"]),
  },
  ["name", "version", "vpc"],
);

const record = mapping(
  {
    name: text,
    type: oneOf("A", "AAAA", "CNAME", "TXT"),
    ttl: integer(0),
    setIdentifier: text,
    weight: integer(0, ROUTE53_MAX_WEIGHT),
    values: list({ type: ["string", "number"], errorMessage: "must be a string" }, { count: 1, message: "at least one value is required" }),
  },
  ["name", "values"],
  {
    dependencies: { weight: ["setIdentifier"], setIdentifier: ["weight"] },
    messages: { dependencies: "a weighted record needs both weight and setIdentifier" },
  },
);

export const SCENARIO_SCHEMA: Schema = mapping(
  {
    name: text,
    description: text,
    clusters: list(cluster, { count: 1, message: "at least one cluster is required" }),
    hostedZones: list(mapping({ name: text, records: list(record) }, ["name"])),
    waitForPods: flag,
  },
  ["name", "clusters"],
);
