// The invariants a chaos run must keep, as pure functions over what was observed: the EKS
// emulator's call log, snapshots of Auto Scaling groups and launch templates taken before and
// after, the nodes, the webhook deliveries and the operator's logs. Each returns a verdict with a
// detail line that says what was seen, so a failure in the table can be read without the logs.
import type { EmulatorCall } from "../support/upgrades.js";

export interface Verdict {
  ok: boolean;
  detail: string;
}

function verdict(problems: string[], fine: string): Verdict {
  return problems.length === 0 ? { ok: true, detail: fine } : { ok: false, detail: problems.join("; ") };
}

/**
 * Exactly one `operation` per expected version: every call for a version carries the same client
 * request token (a resend after a lost answer is the same call; EKS answers it with the first
 * update), at least one was accepted, and no version outside the expected ones was asked for.
 */
export function onePerHop(calls: readonly EmulatorCall[], operation: string, expectedVersions: readonly string[], what: string): Verdict {
  const mine = calls.filter((call) => call.operation === operation);
  const byVersion = new Map<string, EmulatorCall[]>();
  for (const call of mine) {
    const version = typeof call.request.version === "string" ? call.request.version : "(no version)";
    byVersion.set(version, [...(byVersion.get(version) ?? []), call]);
  }
  const problems: string[] = [];
  for (const version of expectedVersions) {
    const sent = byVersion.get(version) ?? [];
    const tokens = new Set(sent.map((call, index) => (typeof call.request.clientRequestToken === "string" ? call.request.clientRequestToken : `(no token #${index})`)));
    if (sent.length === 0) problems.push(`${what}: no ${operation} for ${version}`);
    else if (tokens.size !== 1) problems.push(`${what}: ${tokens.size} different ${operation} calls for ${version} (tokens ${[...tokens].join(", ")})`);
    else if (!sent.some((call) => call.status >= 200 && call.status < 300)) problems.push(`${what}: ${operation} for ${version} never accepted (statuses ${sent.map((call) => call.status).join(", ")})`);
  }
  for (const [version, sent] of byVersion) {
    if (!expectedVersions.includes(version)) problems.push(`${what}: unexpected ${operation} for ${version} (${sent.length} call(s))`);
  }
  const resends = mine.length - byVersion.size;
  return verdict(problems, `${what}: ${expectedVersions.length === 0 ? `no ${operation}` : `one ${operation} per hop (${expectedVersions.join(", ")})`}${resends > 0 ? `, ${resends} resend(s) with the same token` : ""}`);
}

export interface GroupSnapshot {
  name: string;
  min: number;
  max: number;
  desired: number;
  suspended: string[];
  launchTemplateId?: string;
}

/** Every Auto Scaling group back at its sizes, and no process suspended that was not before. */
export function groupsRestored(before: readonly GroupSnapshot[], after: readonly GroupSnapshot[]): Verdict {
  const problems: string[] = [];
  for (const was of before) {
    const now = after.find((group) => group.name === was.name);
    if (!now) {
      problems.push(`${was.name} is gone`);
      continue;
    }
    const sizes = (group: GroupSnapshot): string => `min ${group.min}, max ${group.max}, desired ${group.desired}`;
    if (sizes(now) !== sizes(was)) problems.push(`${was.name} at ${sizes(now)}, was ${sizes(was)}`);
    const stillSuspended = now.suspended.filter((process) => !was.suspended.includes(process));
    if (stillSuspended.length > 0) problems.push(`${was.name} still has ${stillSuspended.join(", ")} suspended`);
  }
  for (const now of after) if (!before.some((group) => group.name === now.name)) problems.push(`new group ${now.name}`);
  return verdict(problems, `${before.length} group(s) at their sizes, nothing left suspended`);
}

/** The latest version number of each launch template, by id. */
export type TemplateVersions = Record<string, { name: string; latest: number }>;

/**
 * Launch templates grew by exactly the versions the roll needs: `expected` new versions for each
 * template id named there (one per hop for each rolled group), none for any other.
 */
export function templateVersionsAsNeeded(before: TemplateVersions, after: TemplateVersions, expected: Record<string, number>): Verdict {
  const problems: string[] = [];
  let added = 0;
  for (const [id, now] of Object.entries(after)) {
    const was = before[id]?.latest ?? 0;
    const grew = now.latest - was;
    added += grew;
    const want = expected[id] ?? 0;
    if (grew !== want) problems.push(`${now.name} has ${grew} new version(s), the roll needs ${want}`);
  }
  for (const id of Object.keys(expected)) if (!after[id]) problems.push(`launch template ${id} is gone`);
  return verdict(problems, `${added} new launch template version(s), as the roll needs`);
}

export interface NodeSnapshot {
  name: string;
  unschedulable: boolean;
  /** Label and annotation keys. */
  keys: string[];
}

/** No node cordoned, none carrying an eksupgrade.io/ label or annotation. */
export function nodesClean(nodes: readonly NodeSnapshot[]): Verdict {
  const problems: string[] = [];
  for (const node of nodes) {
    if (node.unschedulable) problems.push(`${node.name} cordoned`);
    const marks = node.keys.filter((key) => key.startsWith("eksupgrade.io/"));
    if (marks.length > 0) problems.push(`${node.name} carries ${marks.join(", ")}`);
  }
  return verdict(problems, `${nodes.length} node(s), none cordoned or marked`);
}

export interface Delivery {
  /** The Idempotency-Key header. */
  header: string | undefined;
  body: { idempotencyKey?: string; phase?: string; previousPhase?: string };
}

export interface NotificationState {
  sequence?: number;
  pending?: unknown[];
  lastNotified?: { phase: string; key: string };
}

/**
 * Each phase change reached the webhook under one key, none missing: the keys (<uid>/<sequence>/
 * <phase>) number 1..sequence without a gap, each change continues from the one before, the last
 * is the final phase, and nothing is left pending. A key posted more than once is allowed (the
 * delivery is at least once and the receiver drops repeats by key) and counted.
 */
export function phasesNotifiedOnce(deliveries: readonly Delivery[], state: NotificationState | undefined, finalPhase: string): Verdict {
  const problems: string[] = [];
  const byKey = new Map<string, Delivery>();
  let repeats = 0;
  for (const delivery of deliveries) {
    const key = delivery.body.idempotencyKey;
    if (!key || delivery.header !== key) {
      problems.push(`a delivery's Idempotency-Key header (${delivery.header ?? "none"}) differs from its body's key (${key ?? "none"})`);
      continue;
    }
    if (byKey.has(key)) repeats++;
    else byKey.set(key, delivery);
  }
  const changes = [...byKey.entries()]
    .map(([key, delivery]) => ({ key, sequence: Number(key.split("/").at(-2)), delivery }))
    .sort((a, b) => a.sequence - b.sequence);
  const sequences = changes.map((change) => change.sequence);
  const recorded = state?.sequence ?? 0;
  const expected = Array.from({ length: recorded }, (_unused, index) => index + 1);
  if (sequences.join(",") !== expected.join(",")) problems.push(`keys delivered for changes ${sequences.join(", ") || "(none)"}, status recorded ${recorded}`);
  for (let index = 1; index < changes.length; index++) {
    const previous = changes[index - 1].delivery.body.phase;
    const current = changes[index].delivery.body;
    if (current.previousPhase !== previous) problems.push(`change ${changes[index].sequence} is ${current.previousPhase} -> ${current.phase}, but the one before went to ${previous}`);
  }
  const last = changes.at(-1);
  if (last?.delivery.body.phase !== finalPhase) problems.push(`the last change notified is ${last?.delivery.body.phase ?? "(none)"}, the upgrade ended ${finalPhase}`);
  if ((state?.pending?.length ?? 0) > 0) problems.push(`${state!.pending!.length} change(s) still pending in status`);
  if (last && state?.lastNotified?.key !== last.key) problems.push(`status.notifications.lastNotified is ${state?.lastNotified?.key ?? "(none)"}, not ${last.key}`);
  const phases = changes.map((change) => change.delivery.body.phase).join(" -> ");
  return verdict(problems, `${changes.length} change(s) once each (${phases})${repeats > 0 ? `, ${repeats} repeat(s) dropped by key` : ""}`);
}

export interface Secret {
  what: string;
  value: string;
}

/** No secret appears in any log. Secrets shorter than 8 characters are refused: they would match by chance. */
export function noSecretsIn(logs: readonly { path: string; text: string }[], secrets: readonly Secret[]): Verdict {
  const problems: string[] = [];
  for (const secret of secrets) {
    if (secret.value.length < 8) throw new Error(`${secret.what} is too short (${secret.value.length} characters) to look for in logs`);
    const leaks = logs.filter((log) => log.text.includes(secret.value));
    if (leaks.length > 0) problems.push(`${secret.what} in ${leaks.length} log(s), e.g. ${leaks[0].path}`);
  }
  return verdict(problems, `${secrets.map((secret) => secret.what).join(", ")} in none of ${logs.length} log(s)`);
}

/** Route53 weights (by set identifier) where the schedule ends. */
export function weightsAt(actual: Record<string, number>, expected: Record<string, number>): Verdict {
  const same = Object.keys(expected).every((id) => actual[id] === expected[id]) && Object.keys(actual).length === Object.keys(expected).length;
  const shown = (weights: Record<string, number>): string =>
    Object.entries(weights)
      .map(([id, weight]) => `${id} ${weight}`)
      .join(", ");
  return same ? { ok: true, detail: `weights ${shown(actual)}` } : { ok: false, detail: `weights ${shown(actual)}, the schedule ends at ${shown(expected)}` };
}
