/**
 * The scenario file format: a YAML document that describes the world a sandbox starts from
 * (clusters, their network with chosen free-IP counts, node groups, workloads, Route53 records).
 * parseScenarioText checks it against a JSON Schema (document-schema.ts, through ajv), reads it
 * with its defaults (read.ts), then applies the rules a schema cannot express (rules.ts). Every
 * problem is reported at once with its path, e.g.
 * "clusters[0].nodeGroups[1].size.desired: must be an integer >= 0".
 */
import { Ajv, type ErrorObject } from "ajv";
import { parse as parseYaml } from "yaml";
import { SCENARIO_SCHEMA } from "./document-schema.js";
import { readScenario } from "./read.js";
import { checkRules, type Problem } from "./rules.js";
import type { Scenario } from "./spec.js";

export * from "./spec.js";
export { parseCidr, subnetCapacity, type Cidr } from "./cidr.js";

export class ScenarioError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid scenario ${source}:\n  - ${problems.join("\n  - ")}`);
  }
}

const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true });
// The sentence each schema node gives in place of ajv's wording; ajv itself ignores it.
ajv.addVocabulary(["errorMessage"]);
const validateDocument = ajv.compile(SCENARIO_SCHEMA);

export function parseScenarioText(text: string, source = "scenario"): Scenario {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ScenarioError(source, [`not valid YAML: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const shapeProblems = validateDocument(document) ? [] : schemaProblems(validateDocument.errors ?? []);
  const scenario = readScenario(document);
  // A field the schema refused is read as absent; what the rules then say about it would repeat it.
  const refused = shapeProblems.map((problem) => problem.path);
  const ruleProblems = checkRules(scenario).filter((problem) => !refused.some((path) => isAtOrUnder(problem.path, path)));
  const problems = [...shapeProblems, ...ruleProblems];
  if (problems.length > 0) throw new ScenarioError(source, problems.map((problem) => `${problem.path}: ${problem.message}`));
  return scenario;
}

/** ajv's errors as "path: what is wrong", in the project's words where the schema gives them. */
function schemaProblems(errors: readonly ErrorObject[]): Problem[] {
  // A failed oneOf also reports why each branch failed; the oneOf's own sentence says it all.
  const branches = errors.filter((error) => error.keyword === "oneOf").map((error) => `${error.schemaPath}/`);
  const problems: Problem[] = [];
  for (const error of errors) {
    // "if" only says that "then" failed; the "then" errors are reported themselves.
    if (error.keyword === "if" || branches.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
    const path = pathOf(error.instancePath);
    const params = error.params as Record<string, unknown>;
    if (error.keyword === "required") {
      problems.push({ path: join(path, String(params.missingProperty)), message: "is required" });
    } else if (error.keyword === "additionalProperties") {
      const known = Object.keys((error.parentSchema?.properties ?? {}) as Record<string, unknown>);
      problems.push({ path: join(path, String(params.additionalProperty)), message: `unknown field (expected one of: ${known.join(", ")})` });
    } else {
      problems.push({ path: path || "scenario", message: ownMessage(error) ?? error.message ?? error.keyword });
    }
  }
  return problems;
}

function ownMessage(error: ErrorObject): string | undefined {
  const message: unknown = error.parentSchema?.errorMessage;
  if (typeof message === "string") return message;
  if (message && typeof message === "object") {
    const byKeyword = (message as Record<string, unknown>)[error.keyword];
    if (typeof byKeyword === "string") return byKeyword;
  }
  return undefined;
}

/** "/clusters/0/vpc/subnets/1" -> "clusters[0].vpc.subnets[1]" (JSON Pointer escapes undone). */
function pathOf(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : join(path, segment)), "");
}

function isAtOrUnder(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}.`) || path.startsWith(`${ancestor}[`);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
