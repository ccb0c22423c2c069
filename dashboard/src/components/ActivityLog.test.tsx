import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { normalizeEvent } from "../api/types";
import { ActivityLog } from "./ActivityLog";

// The real API's shape: `at`, `kind`, `message`, `detail` (docs/api.md).
const raw = [
  { at: "2026-11-22T10:00:00Z", kind: "requested", message: "store requested", detail: null },
  { at: "2026-11-22T10:00:04Z", kind: "waiting", message: "pod mysql-0 is waiting for its volume to be bound", detail: null },
  { at: "2026-11-22T10:00:05Z", kind: "waiting", message: "pod mysql-0 is waiting for its volume to be bound", detail: null },
  { at: "2026-11-22T10:00:09Z", kind: "ready", message: "store ready after 9 s", detail: { seconds: 9 } },
];

describe("ActivityLog", () => {
  it("lists the steps oldest first with exact times and offsets, repeated steps once with a count", () => {
    render(<ActivityLog events={raw.map(normalizeEvent)} />);
    const items = within(screen.getByRole("list", { name: "Activity log" })).getAllByRole("listitem");
    expect(items.map((li) => li.getAttribute("data-kind"))).toEqual(["requested", "waiting", "ready"]);
    expect(items[1]).toHaveTextContent("waiting for its volume to be bound (×2)");
    expect(items[1]?.querySelector("time")).toHaveAttribute("datetime", "2026-11-22T10:00:05Z");
    expect(items[2]).toHaveTextContent("+9 s after the first step");
  });

  it("says what to expect when nothing happened yet", () => {
    render(<ActivityLog events={[]} />);
    expect(screen.getByText(/No activity recorded yet/)).toBeInTheDocument();
  });
});
