import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { fakeState, makeStore } from "../test/fakeApi";
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
        { id: 1, kind: "requested", message: "Store requested", created_at: "2026-11-22T10:00:00Z" },
        { id: 2, kind: "installed", message: "helm upgrade --install store-k7m2q9xd succeeded", created_at: "2026-11-22T10:00:09Z" },
        { id: 3, kind: "ready", message: "All workloads available; storefront answered 200", created_at: "2026-11-22T10:02:05Z" },
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
    expect(items[0]).toMatch(/Store requested/);
    expect(items[2]).toMatch(/storefront answered 200/);
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
    // The real API's event shape: `at`, `kind`, `message`, `detail`, no id.
    const state = fakeState({
      stores: [provisioning],
      events: { p1p1p1p1: [{ at: "2026-11-22T10:00:00Z", kind: "requested", message: "Store requested", detail: null }] },
    });
    renderApp(state, "/stores/p1p1p1p1");
    expect(await screen.findByText("Provisioning")).toBeInTheDocument();
    expect(await screen.findByText("Store requested")).toBeInTheDocument();

    // The functions finish: the API now answers ready, with a new log entry.
    const store = state.stores[0];
    if (store === undefined) throw new Error("no store");
    Object.assign(store, { status: "ready", ready_at: "2026-11-22T10:01:30Z", provisioning_seconds: 90 });
    state.events.p1p1p1p1?.push({ at: "2026-11-22T10:01:30Z", kind: "ready", message: "Every workload is available", detail: null });

    // The busy poll's first interval is 2 s; nothing is clicked or reloaded.
    expect(await screen.findByText("Ready", {}, { timeout: 5_000 })).toBeInTheDocument();
    expect(await screen.findByText("Every workload is available", {}, { timeout: 5_000 })).toBeInTheDocument();
    expect(screen.getByTestId("provisioning-time")).toHaveTextContent("1 min 30 s");
    expect(screen.getByText(/\+1 min 30 s after the first step/)).toBeInTheDocument();
  }, 10_000);

  it("shows the failure reason of a failed store", async () => {
    const failed = makeStore({ id: "f0f0f0f0", name: "Broken", failure_reason: "CrashLoopBackOff: wordpress exited 1" }, "failed");
    renderApp(fakeState({ stores: [failed] }), "/stores/f0f0f0f0");
    expect(await screen.findByText(/CrashLoopBackOff: wordpress exited 1/)).toBeInTheDocument();
    expect(screen.getByTestId("provisioning-time")).toHaveTextContent(/never became ready/);
  });

  it("says a store that is not there may have been deleted", async () => {
    renderApp(fakeState(), "/stores/nothere1");
    expect(await screen.findByRole("heading", { name: "Store not found" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /all stores/i })).toHaveAttribute("href", "/");
  });
});
