// Maintenance windows: cron schedule + duration + IANA time zone (croner handles zones and DST),
// with blackout periods that close everything. Pure: the caller passes the time.
import { Cron } from "croner";
import { parseDuration } from "../api/v1alpha1/duration.js";

export interface Window {
  schedule: string;
  duration: string;
  timeZone: string;
}

export interface Blackout {
  start: string;
  end: string;
  reason?: string;
}

export type WindowState =
  | { open: true; reason: "NoWindows" }
  | { open: true; reason: "InsideWindow"; closesAt: Date }
  | { open: false; reason: "OutsideWindow" | "Blackout"; nextStart?: Date; nextEnd?: Date; blackout?: Blackout };

/** How far ahead the next window is searched; a schedule that never fires in a year is reported as none. */
const SEARCH_HORIZON_MS = 366 * 24 * 3_600_000;

function cronOf(window: Window): Cron {
  return new Cron(window.schedule, { timezone: window.timeZone, paused: true });
}

/** The window occurrence containing `at`, if any: the first start after (at - duration) that is not after `at`. */
function occurrenceContaining(window: Window, at: Date): { start: Date; end: Date } | undefined {
  const durationMs = parseDuration(window.duration);
  const start = cronOf(window).nextRun(new Date(at.getTime() - durationMs));
  if (!start || start.getTime() > at.getTime()) return undefined;
  return { start, end: new Date(start.getTime() + durationMs) };
}

function activeBlackout(blackouts: Blackout[], at: Date): Blackout | undefined {
  return blackouts.find((blackout) => Date.parse(blackout.start) <= at.getTime() && at.getTime() < Date.parse(blackout.end));
}

/** Open time from `at` on: the window occurrences, clipped by blackouts. */
function nextOpening(windows: Window[], blackouts: Blackout[], from: Date): { start: Date; end: Date } | undefined {
  let cursor = from;
  for (let guard = 0; guard < 1000 && cursor.getTime() - from.getTime() < SEARCH_HORIZON_MS; guard++) {
    const blackout = activeBlackout(blackouts, cursor);
    if (blackout) {
      cursor = new Date(Date.parse(blackout.end));
      continue;
    }
    const open = windows.map((window) => occurrenceContaining(window, cursor)).find(Boolean);
    if (open) return { start: cursor, end: clipByBlackouts(open.end, blackouts, cursor) };
    const starts = windows
      .map((window) => cronOf(window).nextRun(cursor))
      .filter((date): date is Date => date !== null)
      .sort((a, b) => a.getTime() - b.getTime());
    if (!starts.length) return undefined;
    cursor = starts[0]!;
  }
  return undefined;
}

function clipByBlackouts(end: Date, blackouts: Blackout[], from: Date): Date {
  const nextBlackoutStart = blackouts
    .map((blackout) => Date.parse(blackout.start))
    .filter((start) => start > from.getTime() && start < end.getTime())
    .sort((a, b) => a - b)[0];
  return nextBlackoutStart !== undefined ? new Date(nextBlackoutStart) : end;
}

export function windowState(windows: Window[], blackouts: Blackout[], now: Date): WindowState {
  const blackout = activeBlackout(blackouts, now);
  if (!blackout && windows.length === 0) return { open: true, reason: "NoWindows" };
  if (!blackout) {
    const current = windows.map((window) => occurrenceContaining(window, now)).find(Boolean);
    if (current) return { open: true, reason: "InsideWindow", closesAt: clipByBlackouts(current.end, blackouts, now) };
  }
  const next = windows.length ? nextOpening(windows, blackouts, now) : undefined;
  return {
    open: false,
    reason: blackout ? "Blackout" : "OutsideWindow",
    ...(next ? { nextStart: next.start, nextEnd: next.end } : blackout ? { nextStart: new Date(Date.parse(blackout.end)) } : {}),
    ...(blackout ? { blackout } : {}),
  };
}

export interface Occurrence {
  start: Date;
  end: Date;
}

/**
 * Every occurrence of a window that overlaps [from, to), in order, at most `limit` of them: the one
 * already open at `from` (if any) first. Used wherever a schedule must be compared with another.
 */
export function occurrencesBetween(window: Window, from: Date, to: Date, limit = 200): Occurrence[] {
  const durationMs = parseDuration(window.duration);
  const cron = cronOf(window);
  const found: Occurrence[] = [];
  let start = cron.nextRun(new Date(from.getTime() - durationMs));
  while (start && start.getTime() < to.getTime() && found.length < limit) {
    found.push({ start, end: new Date(start.getTime() + durationMs) });
    start = cron.nextRun(start);
  }
  return found;
}
