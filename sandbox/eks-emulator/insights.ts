/**
 * Upgrade insights: ListInsights and DescribeInsight, and the sandbox path that replaces a
 * cluster's insights (scenarios seed them; tests turn one to ERROR to block an upgrade).
 */
import { randomUUID } from "node:crypto";
import type { EmulatorContext } from "./context.js";
import { invalidParameter, resourceNotFound } from "./errors.js";
import { epochSeconds, optionalString, paginate, requireString, stringList, stringMap, textOf, type Json } from "./request.js";
import type { InsightRecord } from "./state.js";

export class InsightOperations {
  constructor(private readonly context: EmulatorContext) {}

  listInsights(clusterName: string, body: Json): Json {
    this.context.cluster(clusterName);
    const filter = (body.filter ?? {}) as Json;
    const categories = stringList(filter.categories);
    const versions = stringList(filter.kubernetesVersions);
    const statuses = stringList(filter.statuses);
    const insights = this.context.state
      .insightsOf(clusterName)
      .filter((insight) => categories.length === 0 || categories.includes(insight.category))
      .filter((insight) => versions.length === 0 || versions.includes(insight.kubernetesVersion))
      .filter((insight) => statuses.length === 0 || statuses.includes(insight.status))
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(insightSummaryView);
    const params = new URLSearchParams();
    if (typeof body.maxResults === "number") params.set("maxResults", String(body.maxResults));
    if (typeof body.nextToken === "string") params.set("nextToken", body.nextToken);
    const page = paginate(insights, params);
    return { insights: page.items, nextToken: page.nextToken };
  }

  describeInsight(clusterName: string, id: string): Json {
    this.context.cluster(clusterName);
    const insight = this.context.state.insights.get(`${clusterName}/${id}`);
    if (!insight) throw resourceNotFound(`No insight found for ID: ${id}`, { clusterName });
    return {
      insight: {
        ...insightSummaryView(insight),
        recommendation: insight.recommendation,
        additionalInfo: insight.additionalInfo,
        resources: insight.resources.map((resource) => ({
          insightStatus: { status: resource.status, reason: resource.reason },
          kubernetesResourceUri: resource.kubernetesResourceUri,
          arn: resource.arn,
        })),
        categorySpecificSummary: { deprecationDetails: insight.deprecationDetails.map((detail) => ({ ...detail, clientStats: [] })) },
      },
    };
  }

  /** Replaces a cluster's insights (PUT /sandbox/clusters/{name}/insights), for scenarios and tests. */
  putInsights(clusterName: string, body: Json): Json {
    const { state } = this.context;
    this.context.cluster(clusterName);
    const list = Array.isArray(body.insights) ? (body.insights as Json[]) : [];
    for (const key of [...state.insights.keys()]) if (key.startsWith(`${clusterName}/`)) state.insights.delete(key);
    const now = this.context.deps.clock.now();
    for (const item of list) {
      const insight = parseInsight(item, now);
      state.insights.set(`${clusterName}/${insight.id}`, insight);
    }
    return { count: list.length };
  }
}

function insightSummaryView(insight: InsightRecord): Json {
  return {
    id: insight.id,
    name: insight.name,
    category: insight.category,
    kubernetesVersion: insight.kubernetesVersion,
    lastRefreshTime: epochSeconds(insight.lastRefreshTime),
    lastTransitionTime: epochSeconds(insight.lastTransitionTime),
    description: insight.description,
    insightStatus: { status: insight.status, reason: insight.reason },
  };
}

function parseInsight(item: Json, now: Date): InsightRecord {
  const status = textOf(item.status) || "PASSING";
  if (!["PASSING", "WARNING", "ERROR", "UNKNOWN"].includes(status)) {
    throw invalidParameter(`insight status must be PASSING, WARNING, ERROR or UNKNOWN, got ${status}`);
  }
  const id = optionalString(item, "id") ?? randomUUID();
  return {
    id,
    name: optionalString(item, "name") ?? id,
    category: optionalString(item, "category") ?? "UPGRADE_READINESS",
    kubernetesVersion: requireString(item, "kubernetesVersion"),
    lastRefreshTime: now,
    lastTransitionTime: now,
    description: optionalString(item, "description") ?? "",
    status: status as InsightRecord["status"],
    reason: optionalString(item, "reason") ?? "",
    recommendation: optionalString(item, "recommendation") ?? "",
    additionalInfo: stringMap(item.additionalInfo),
    resources: Array.isArray(item.resources)
      ? (item.resources as Json[]).map((resource) => ({
          kubernetesResourceUri: optionalString(resource, "kubernetesResourceUri"),
          arn: optionalString(resource, "arn"),
          status: optionalString(resource, "status") ?? status,
          reason: optionalString(resource, "reason") ?? "",
        }))
      : [],
    deprecationDetails: Array.isArray(item.deprecationDetails)
      ? (item.deprecationDetails as Json[]).map((detail) => ({
          usage: textOf(detail.usage),
          replacedWith: textOf(detail.replacedWith),
          stopServingVersion: textOf(detail.stopServingVersion),
          startServingReplacementVersion: textOf(detail.startServingReplacementVersion),
        }))
      : [],
  };
}
