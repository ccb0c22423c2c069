import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { queryKeys } from "../api/queries";
import { CRASHING, fakeState, makeStore } from "../test/fakeApi";
import { renderApp } from "../test/renderApp";

const ready = makeStore(
  { id: "k7m2q9xd", name: "Demo shop", provisioning_seconds: 125, ready_at: "2026-11-22T10:02:05Z" },
  "ready",
);

function stateWithDemo() {
  return fakeState({
    stores: [ready],
    events: {
      k7m2q9xd: [
        { at: "2026-11-22T10:00:00Z", kind: "requested", message: "store requested" },
        {
          at: "2026-11-22T10:00:09Z",
          kind: "installed",
          message: "namespace, credentials and helm release applied in 8.6 s; waiting for the workloads",
          detail: { helm_seconds: 8.6 },
        },
        {
          at: "2026-11-22T10:02:05Z",
          kind: "ready",
          message: "store ready after 125.0 s; the storefront answers",
          detail: { provisioning_seconds: 125, storefront_checked: true },
        },
      ],
    },
    credentials: {
      k7m2q9xd: { admin_user: "admin", admin_password: "s3cret-pass", admin_url: "http://k7m2q9xd.localhost/wp-admin/" },
    },
  });
}

describe("store detail", () => {
  it("shows the overview, provisioning time and the activity log in order", async () => {
    renderApp(stateWithDemo(), "/stores/k7m2q9xd");
    expect(await screen.findByRole("heading", { level: 1, name: "Demo shop" })).toBeInTheDocument();
    expect(screen.getByTestId("provisioning-time")).toHaveTextContent("2 min 5 s");
    const log = await screen.findByRole("list", { name: "Activity log" });
    const items = within(log).getAllByRole("listitem").map((li) => li.textContent);
    expect(items[0]).toMatch(/store requested/);
    expect(items[1]).toMatch(/helm release applied in 8.6 s/);
    expect(items[2]).toMatch(/the storefront answers/);
    expect(items[2]).toMatch(/\+2 min 5 s after the first step/);
  });

  it("reads the credentials only when asked, and copies them", async () => {
    const state = stateWithDemo();
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, "writeText");
    renderApp(state, "/stores/k7m2q9xd");
    const reveal = await screen.findByRole("button", { name: "Reveal admin credentials" });
    expect(state.requests.some((r) => r.path.endsWith("/credentials"))).toBe(false);
    expect(screen.queryByText("s3cret-pass")).not.toBeInTheDocument();

    await user.click(reveal);
    expect(await screen.findByText("s3cret-pass")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Hide admin credentials" })).toHaveAttribute("aria-expanded", "true");

    await user.click(screen.getByRole("button", { name: "Copy password" }));
    expect(writeText).toHaveBeenCalledWith("s3cret-pass");
    expect(await screen.findByText("Copied password")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Hide admin credentials" }));
    await waitFor(() => {
      expect(screen.queryByText("s3cret-pass")).not.toBeInTheDocument();
    });
  });

  it("follows a provisioning store to Ready by itself, with the new step in the log", async () => {
    const provisioning = makeStore({ id: "p1p1p1p1", name: "New shop" }, "provisioning");
    const state = fakeState({
      stores: [provisioning],
      events: { p1p1p1p1: [{ at: "2026-11-22T10:00:00Z", kind: "requested", message: "store requested" }] },
    });
    renderApp(state, "/stores/p1p1p1p1");
    expect(await screen.findByText("Provisioning")).toBeInTheDocument();
    expect(await screen.findByText("store requested")).toBeInTheDocument();

    // The functions finish: the API now answers ready, with a new log entry.
    const store = state.stores[0];
    if (store === undefined) throw new Error("no store");
    Object.assign(store, { status: "ready", ready_at: "2026-11-22T10:01:30Z", provisioning_seconds: 90 });
    state.events.p1p1p1p1?.push({ at: "2026-11-22T10:01:30Z", kind: "ready", message: "store ready after 90.0 s; the storefront answers" });

    // The busy poll's first interval is 2 s; nothing is clicked or reloaded.
    expect(await screen.findByText("Ready", {}, { timeout: 5_000 })).toBeInTheDocument();
    expect(await screen.findByText("store ready after 90.0 s; the storefront answers", {}, { timeout: 5_000 })).toBeInTheDocument();
    expect(screen.getByTestId("provisioning-time")).toHaveTextContent("1 min 30 s");
    expect(screen.getByText(/\+1 min 30 s after the first step/)).toBeInTheDocument();
  }, 10_000);

  it("reads the log again as soon as the store's status changes, not at the log's next poll", async () => {
    const state = stateWithDemo();
    const { client } = renderApp(state, "/stores/k7m2q9xd");
    await screen.findByText(/the storefront answers/);

    // Deleted from another tab: a ready store's log is polled only every 30 s or more.
    const store = state.stores[0];
    if (store === undefined) throw new Error("no store");
    store.status = "deleting";
    state.events.k7m2q9xd?.push({ at: "2026-11-22T11:00:00Z", kind: "delete-requested", message: "deletion requested" });
    // the store's own poll, and only that one
    await client.refetchQueries({ queryKey: queryKeys.store("k7m2q9xd"), exact: true });

    expect(await screen.findByText("deletion requested")).toBeInTheDocument();
    // the log read before stays on screen while the new one loads
    expect(screen.queryByText("Loading the activity log…")).not.toBeInTheDocument();
  });

  it("shows the failure reason of a failed store", async () => {
    const failed = makeStore({ id: "f0f0f0f0", name: "Broken", failure_reason: CRASHING }, "failed");
    renderApp(fakeState({ stores: [failed] }), "/stores/f0f0f0f0");
    expect(await screen.findByText(CRASHING)).toBeInTheDocument();
    expect(screen.getByTestId("provisioning-time")).toHaveTextContent(/never became ready/);
  });

  it("says a store that is not there may have been deleted", async () => {
    renderApp(fakeState(), "/stores/nothere1");
    expect(await screen.findByRole("heading", { name: "Store not found" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /all stores/i })).toHaveAttribute("href", "/");
  });
});
