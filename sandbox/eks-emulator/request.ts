/**
 * Reading EKS request bodies and query strings, and the small pieces every operation's answer
 * shares (epoch-second timestamps, maxResults/nextToken pages).
 */
import { EksError, invalidParameter } from "./errors.js";

export type Json = Record<string, unknown>;

export function requireString(body: Json, key: string): string {
  const value = body[key];
  if (typeof value !== "string" || value === "") throw invalidParameter(`${key} is required`);
  return value;
}

export function optionalString(body: Json, key: string): string | undefined {
  const value = body[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) if (typeof item === "string") out[key] = item;
  }
  return out;
}

export function textOf(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/** Offset-based pagination with EKS's maxResults/nextToken parameters. */
export function paginate<T>(items: readonly T[], query: URLSearchParams): { items: T[]; nextToken?: string } {
  const rawMax = query.get("maxResults");
  const max = rawMax === null ? 100 : Number(rawMax);
  if (!Number.isInteger(max) || max < 1 || max > 100) throw invalidParameter("maxResults must be between 1 and 100");
  const token = query.get("nextToken");
  const start = token ? Number(Buffer.from(token, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalidParameter("The nextToken is not valid");
  const slice = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max), "utf8").toString("base64url") : undefined;
  return { items: slice, nextToken: next };
}

export function describeError(error: unknown): string {
  if (error instanceof EksError) return `${error.type}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
