import assert from "node:assert/strict";
import { occurrencesBetween, windowState } from "../../../src/schedule/windows.js";

const at = (iso: string): Date => new Date(iso);

describe("maintenance windows", () => {
  it("is always open without windows", () => {
    assert.deepEqual(windowState([], [], at("2026-11-22T12:00:00Z")), { open: true, reason: "NoWindows" });
  });

  it("opens inside a window and says when it closes", () => {
    const state = windowState([{ schedule: "0 22 * * *", duration: "4h", timeZone: "UTC" }], [], at("2026-11-22T23:00:00Z"));
    assert.equal(state.open, true);
    assert.equal(state.open && state.reason === "InsideWindow" && state.closesAt.toISOString(), "2026-11-23T02:00:00.000Z");
  });

  it("wraps past midnight: 02:00 belongs to the window opened at 22:00 the day before", () => {
    const state = windowState([{ schedule: "0 22 * * *", duration: "6h", timeZone: "UTC" }], [], at("2026-11-23T02:00:00Z"));
    assert.equal(state.open, true);
  });

  it("outside a window gives the next start and end", () => {
    const state = windowState([{ schedule: "0 22 * * *", duration: "4h", timeZone: "UTC" }], [], at("2026-11-22T12:00:00Z"));
    assert.equal(state.open, false);
    assert.equal(!state.open && state.nextStart?.toISOString(), "2026-11-22T22:00:00.000Z");
    assert.equal(!state.open && state.nextEnd?.toISOString(), "2026-11-23T02:00:00.000Z");
  });

  it("follows the time zone across a daylight-saving change", () => {
    // Berlin leaves summer time on 2026-10-25: 22:00 local is 20:00Z before and 21:00Z after.
    const windows = [{ schedule: "0 22 * * *", duration: "1h", timeZone: "Europe/Berlin" }];
    const before = windowState(windows, [], at("2026-10-24T12:00:00Z"));
    const after = windowState(windows, [], at("2026-10-25T12:00:00Z"));
    assert.equal(!before.open && before.nextStart?.toISOString(), "2026-10-24T20:00:00.000Z");
    assert.equal(!after.open && after.nextStart?.toISOString(), "2026-10-25T21:00:00.000Z");
  });

  it("takes the earliest of several windows", () => {
    const windows = [
      { schedule: "0 22 * * *", duration: "1h", timeZone: "UTC" },
      { schedule: "0 14 * * *", duration: "1h", timeZone: "UTC" },
    ];
    const state = windowState(windows, [], at("2026-11-22T12:00:00Z"));
    assert.equal(!state.open && state.nextStart?.toISOString(), "2026-11-22T14:00:00.000Z");
  });

  it("a blackout closes an open window and pushes the next start past it", () => {
    const windows = [{ schedule: "0 22 * * *", duration: "4h", timeZone: "UTC" }];
    const blackouts = [{ start: "2026-11-22T00:00:00Z", end: "2026-11-24T00:00:00Z", reason: "freeze" }];
    const state = windowState(windows, blackouts, at("2026-11-22T23:00:00Z"));
    assert.equal(state.open, false);
    assert.equal(!state.open && state.reason, "Blackout");
    assert.equal(!state.open && state.nextStart?.toISOString(), "2026-11-24T00:00:00.000Z");
    assert.equal(!state.open && state.nextEnd?.toISOString(), "2026-11-24T02:00:00.000Z");
  });

  it("a blackout starting inside a window shortens it", () => {
    const windows = [{ schedule: "0 22 * * *", duration: "4h", timeZone: "UTC" }];
    const blackouts = [{ start: "2026-11-23T00:00:00Z", end: "2026-11-23T06:00:00Z" }];
    const state = windowState(windows, blackouts, at("2026-11-22T23:00:00Z"));
    assert.equal(state.open && state.reason === "InsideWindow" && state.closesAt.toISOString(), "2026-11-23T00:00:00.000Z");
  });

  it("lists the occurrences overlapping a span, the one already open first, in the window's time zone", () => {
    const nightly = { schedule: "0 22 * * *", duration: "4h", timeZone: "Europe/Berlin" };
    const found = occurrencesBetween(nightly, at("2026-11-22T23:30:00Z"), at("2026-11-24T21:00:00Z"));
    assert.deepEqual(
      found.map((occurrence) => [occurrence.start.toISOString(), occurrence.end.toISOString()]),
      [
        ["2026-11-22T21:00:00.000Z", "2026-11-23T01:00:00.000Z"],
        ["2026-11-23T21:00:00.000Z", "2026-11-24T01:00:00.000Z"],
      ],
    );
    assert.equal(occurrencesBetween(nightly, at("2026-11-22T23:30:00Z"), at("2026-12-22T23:30:00Z"), 3).length, 3);
    // An occurrence that ends exactly where the span starts does not overlap it.
    assert.deepEqual(occurrencesBetween({ schedule: "0 8 * * *", duration: "1h", timeZone: "UTC" }, at("2026-11-22T09:00:00Z"), at("2026-11-22T12:00:00Z")), []);
  });
});
