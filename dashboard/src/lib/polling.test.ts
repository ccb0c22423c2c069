import { describe, expect, it } from "vitest";
import { BUSY_MAX_MS, BUSY_MIN_MS, IDLE_MAX_MS, IDLE_MIN_MS, nextPollInterval } from "./polling";

describe("nextPollInterval", () => {
  it("polls fast right after a change while a store is busy", () => {
    expect(nextPollInterval(true, 0)).toBe(BUSY_MIN_MS);
  });
  it("backs off the longer nothing changes, up to a ceiling", () => {
    const a = nextPollInterval(true, 10_000);
    const b = nextPollInterval(true, 40_000);
    expect(a).toBeLessThan(b);
    expect(nextPollInterval(true, 10 * 60_000)).toBe(BUSY_MAX_MS);
  });
  it("polls slowly when nothing is in flight", () => {
    expect(nextPollInterval(false, 0)).toBe(IDLE_MIN_MS);
    expect(nextPollInterval(false, 60 * 60_000)).toBe(IDLE_MAX_MS);
  });
  it("treats a clock going backwards as a fresh change", () => {
    expect(nextPollInterval(true, -5_000)).toBe(BUSY_MIN_MS);
  });
});
