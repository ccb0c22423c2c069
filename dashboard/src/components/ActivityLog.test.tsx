import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { StoreEvent } from "../api/types";
import { ActivityLog } from "./ActivityLog";

// As GET /api/stores/{id}/events answers (docs/openapi.json), with the sentences the functions write.
const events: StoreEvent[] = [
  { at: "2026-11-22T10:00:00Z", kind: "requested", message: "store requested" },
  { at: "2026-11-22T10:00:04Z", kind: "waiting", message: "the store's storage is being prepared" },
  { at: "2026-11-22T10:00:05Z", kind: "waiting", message: "the store's storage is being prepared" },
  { at: "2026-11-22T10:00:09Z", kind: "ready", message: "store ready after 9.0 s; the storefront answers", detail: { provisioning_seconds: 9 } },
];

describe("ActivityLog", () => {
  it("lists the steps oldest first with exact times and offsets, repeated steps once with a count", () => {
    render(<ActivityLog events={events} />);
    const items = within(screen.getByRole("list", { name: "Activity log" })).getAllByRole("listitem");
    expect(items.map((li) => li.getAttribute("data-kind"))).toEqual(["requested", "waiting", "ready"]);
    expect(items[1]).toHaveTextContent("the store's storage is being prepared (×2)");
    expect(items[1]?.querySelector("time")).toHaveAttribute("datetime", "2026-11-22T10:00:05Z");
    expect(items[2]).toHaveTextContent("+9 s after the first step");
  });

  it("says what to expect when nothing happened yet", () => {
    render(<ActivityLog events={[]} />);
    expect(screen.getByText(/No activity recorded yet/)).toBeInTheDocument();
  });
});
