import { describe, expect, it } from "vitest";
import { describeWindow, insideWindow, isTimeZone, localTime, nextOpening } from "../../../server/watch/window";

const utc = (iso: string) => new Date(`${iso}Z`);

describe("maintenance windows", () => {
  it("no window is always open", () => {
    expect(insideWindow(null, new Date())).toBe(true);
  });

  it("a same-day window is open from start (inclusive) to end (exclusive) on its days", () => {
    const w = { days: [1, 2, 3, 4, 5], start: "09:00", end: "17:30", timeZone: "UTC" };
    // 2026-12-07 is a Monday.
    expect(insideWindow(w, utc("2026-12-07T09:00:00"))).toBe(true);
    expect(insideWindow(w, utc("2026-12-07T17:29:59"))).toBe(true);
    expect(insideWindow(w, utc("2026-12-07T17:30:00"))).toBe(false);
    expect(insideWindow(w, utc("2026-12-07T08:59:00"))).toBe(false);
    // Sunday is not one of its days.
    expect(insideWindow(w, utc("2026-12-06T12:00:00"))).toBe(false);
  });

  it("a window crossing midnight belongs to the day it starts on", () => {
    // Fridays 22:00 to Saturday 02:00.
    const w = { days: [5], start: "22:00", end: "02:00", timeZone: "UTC" };
    expect(insideWindow(w, utc("2026-12-11T22:00:00"))).toBe(true); // Fri
    expect(insideWindow(w, utc("2026-12-12T01:59:00"))).toBe(true); // Sat early: Friday's window
    expect(insideWindow(w, utc("2026-12-12T02:00:00"))).toBe(false);
    expect(insideWindow(w, utc("2026-12-12T23:00:00"))).toBe(false); // Sat evening: not a window day
    expect(insideWindow(w, utc("2026-12-11T01:00:00"))).toBe(false); // Fri early: Thursday's window, not listed
    expect(insideWindow(w, utc("2026-12-11T12:00:00"))).toBe(false);
  });

  it("a window crossing midnight from Saturday ends on Sunday (the week wraps)", () => {
    const w = { days: [6], start: "23:00", end: "01:00", timeZone: "UTC" };
    expect(insideWindow(w, utc("2026-12-13T00:30:00"))).toBe(true); // Sunday 00:30
    expect(insideWindow(w, utc("2026-12-14T00:30:00"))).toBe(false); // Monday 00:30
  });

  it("start == end is the whole day; no days listed is every day", () => {
    expect(insideWindow({ days: [2], start: "00:00", end: "00:00", timeZone: "UTC" }, utc("2026-12-08T13:37:00"))).toBe(true);
    expect(insideWindow({ days: [2], start: "00:00", end: "00:00", timeZone: "UTC" }, utc("2026-12-09T13:37:00"))).toBe(false);
    expect(insideWindow({ days: [], start: "10:00", end: "11:00", timeZone: "UTC" }, utc("2026-12-09T10:30:00"))).toBe(true);
  });

  it("times are read in the window's time zone, daylight saving included", () => {
    // 02:30 in Berlin on a winter Monday is 01:30 UTC; in summer it is 00:30 UTC.
    const w = { days: [1], start: "02:00", end: "04:00", timeZone: "Europe/Berlin" };
    expect(insideWindow(w, utc("2026-12-07T01:30:00"))).toBe(true);
    expect(insideWindow(w, utc("2026-12-07T03:30:00"))).toBe(false);
    expect(insideWindow(w, utc("2026-07-06T00:30:00"))).toBe(true);
    expect(localTime(utc("2026-12-06T23:30:00"), "Asia/Tokyo")).toEqual({ day: 1, minute: 8 * 60 + 30 });
    // New York's Sunday evening is already Monday in UTC.
    expect(insideWindow({ days: [0], start: "20:00", end: "23:00", timeZone: "America/New_York" }, utc("2026-12-07T02:00:00"))).toBe(true);
  });

  it("knows real zones and refuses made-up ones", () => {
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
  });

  it("finds the next opening, and none when no day can open", () => {
    const w = { days: [5], start: "22:00", end: "02:00", timeZone: "UTC" };
    expect(nextOpening(w, utc("2026-12-07T10:00:00"))?.toISOString()).toBe("2026-12-11T22:00:00.000Z");
    const open = utc("2026-12-11T23:00:00");
    expect(nextOpening(w, open)).toBe(open);
    expect(describeWindow(w)).toBe("Fri 22:00–02:00 UTC");
  });
});
