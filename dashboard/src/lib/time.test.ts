import { describe, expect, it } from "vitest";
import { formatDuration, formatRelative } from "./time";

describe("formatDuration", () => {
  it.each([
    [0, "0 s"],
    [48, "48 s"],
    [125, "2 min 5 s"],
    [180, "3 min"],
    [3780, "1 h 3 min"],
    [7200, "2 h"],
  ])("%d s reads as %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("formatRelative", () => {
  const now = Date.parse("2026-11-22T12:00:00Z");
  it("says just now for the last few seconds", () => {
    expect(formatRelative("2026-11-22T11:59:50Z", now)).toBe("just now");
  });
  it("uses the largest whole unit", () => {
    expect(formatRelative("2026-11-22T11:55:00Z", now)).toMatch(/5 minutes ago/);
    expect(formatRelative("2026-11-22T09:00:00Z", now)).toMatch(/3 hours ago/);
    expect(formatRelative("2026-11-20T12:00:00Z", now)).toMatch(/2 days ago/);
  });
  it("returns unparseable input as it is", () => {
    expect(formatRelative("not a date", now)).toBe("not a date");
  });
});
