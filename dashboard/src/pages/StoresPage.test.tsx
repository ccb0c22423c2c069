import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { queryKeys } from "../api/queries";
import { fakeState, IMAGE_NOT_PULLED, makeStore } from "../test/fakeApi";
import { renderApp } from "../test/renderApp";

const demo = makeStore({ id: "k7m2q9xd", name: "Demo shop", provisioning_seconds: 184 }, "ready");
const pending = makeStore({ id: "p1p1p1p1", name: "New shop" }, "provisioning");
const broken = makeStore({ id: "f0f0f0f0", name: "Broken shop", failure_reason: IMAGE_NOT_PULLED }, "failed");

function row(name: string): HTMLElement {
  const item = screen.getByRole("link", { name }).closest("li");
  if (item === null) throw new Error(`no row for ${name}`);
  return item;
}

describe("store list", () => {
  it("shows a loading state, then every store with status text, links and created time", async () => {
    renderApp(fakeState({ stores: [pending, demo, broken] }));
    expect(screen.getByText(/loading your stores/i)).toBeInTheDocument();

    await screen.findByRole("link", { name: "Demo shop" });
    expect(within(row("Demo shop")).getByText("Ready")).toBeInTheDocument();
    expect(within(row("New shop")).getByText("Provisioning")).toBeInTheDocument();
    expect(within(row("Broken shop")).getByText("Failed")).toBeInTheDocument();

    const storefront = within(row("Demo shop")).getByRole("link", { name: /storefront of demo shop/i });
    expect(storefront).toHaveAttribute("href", "http://k7m2q9xd.localhost");
    expect(within(row("Demo shop")).getByRole("link", { name: /admin of demo shop/i })).toHaveAttribute(
      "href",
      "http://k7m2q9xd.localhost/wp-admin/",
    );

    const created = row("Demo shop").querySelector("time");
    expect(created).toHaveAttribute("datetime", demo.created_at);
    expect(created?.getAttribute("title")).toMatch(/2026/);
  });

  it("shows why a store failed", async () => {
    renderApp(fakeState({ stores: [broken] }));
    await screen.findByRole("link", { name: "Broken shop" });
    expect(within(row("Broken shop")).getByText(IMAGE_NOT_PULLED)).toBeInTheDocument();
  });

  it("shows the quota as n of max stores", async () => {
    renderApp(fakeState({ stores: [demo, pending], maxStores: 3 }));
    expect(await screen.findByTestId("quota")).toHaveTextContent("2 of 3 stores");
  });

  it("charts provisioning times of ready stores", async () => {
    renderApp(fakeState({ stores: [demo, pending] }));
    const chart = await screen.findByRole("img", { name: /from request to ready/i });
    expect(chart).toBeInTheDocument();
    expect(screen.getByRole("table", { name: /provisioning time per store/i })).toHaveTextContent("3 min 4 s");
  });
});

describe("empty and error states", () => {
  it("tells a new user what to do when there are no stores", async () => {
    renderApp(fakeState());
    expect(await screen.findByRole("heading", { name: "No stores yet" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: /create your first store/i })).toBeEnabled();
  });

  it("shows the problem detail of a server error and recovers on Retry", async () => {
    const state = fakeState({ stores: [demo] });
    state.failures.push({
      method: "GET",
      path: "/api/stores",
      answer: { status: 503, title: "Database unavailable", detail: "PostgreSQL did not answer within 5 s." },
    });
    renderApp(state);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Database unavailable");
    expect(alert).toHaveTextContent("PostgreSQL did not answer within 5 s.");
    expect(alert).toHaveTextContent(/retry in a moment/i);

    await userEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("link", { name: "Demo shop" })).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("says how to fix an unreachable gateway", async () => {
    const state = fakeState();
    state.failures.push({ method: "GET", path: "/api/stores", answer: "network" });
    renderApp(state);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not reach the Storefleet API");
    expect(alert).toHaveTextContent(/make dev/);
  });

  it("sends the user to sign in again when the token is rejected", async () => {
    const state = fakeState();
    renderApp(state);
    await screen.findByRole("heading", { name: "No stores yet" });
    state.token = "rotated";
    await userEvent.click(screen.getByRole("button", { name: /create your first store/i }));
    // Loading engines with the old token answers 401.
    expect(await screen.findByRole("heading", { name: /sign in to storefleet/i })).toBeInTheDocument();
    expect(screen.getByText(/no longer accepts your token/i)).toBeInTheDocument();
    expect(window.sessionStorage.length).toBe(0);
  });
});

describe("create store", () => {
  it("creates a WooCommerce store with an Idempotency-Key; Medusa is shown but disabled with the reason", async () => {
    const state = fakeState();
    renderApp(state);
    await userEvent.click(await screen.findByRole("button", { name: /create your first store/i }));

    const dialog = await screen.findByRole("dialog", { name: "Create a store" });
    const woo = await within(dialog).findByRole("radio", { name: "WooCommerce" });
    const medusa = within(dialog).getByRole("radio", { name: "Medusa" });
    expect(woo).toBeChecked();
    expect(medusa).toBeDisabled();
    expect(medusa).toHaveAccessibleDescription(/not enabled medusa yet|has not enabled Medusa/i);

    const submit = within(dialog).getByRole("button", { name: "Create store" });
    expect(submit).toBeDisabled(); // no name yet
    await userEvent.type(within(dialog).getByLabelText("Store name"), "  Spring sale  ");
    await userEvent.click(submit);

    expect(await screen.findByRole("link", { name: "Spring sale" })).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(within(row("Spring sale")).getByText("Provisioning")).toBeInTheDocument();

    const post = state.requests.find((r) => r.method === "POST");
    expect(post?.body).toBe(JSON.stringify({ name: "Spring sale", type: "woocommerce" }));
    expect(post?.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(await screen.findByTestId("quota")).toHaveTextContent("1 of 5 stores");
  });

  it("retries with the same key after a network error, and uses a new key after an edit", async () => {
    const state = fakeState({ stores: [demo] });
    state.failures.push({ method: "POST", path: "/api/stores", answer: "network" });
    state.failures.push({ method: "POST", path: "/api/stores", answer: "network" });
    renderApp(state);
    await userEvent.click(await screen.findByRole("button", { name: "Create store" }));
    const dialog = await screen.findByRole("dialog");
    await within(dialog).findByRole("radio", { name: "WooCommerce" });
    await userEvent.type(within(dialog).getByLabelText("Store name"), "Shop");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create store" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent(/could not reach/i);

    // Submitting the same form again is the same submission.
    await userEvent.click(within(dialog).getByRole("button", { name: "Create store" }));
    await within(dialog).findByRole("alert");
    const [first, second] = state.requests.filter((r) => r.method === "POST");
    expect(second?.headers["idempotency-key"]).toBe(first?.headers["idempotency-key"]);

    // Editing makes it a new submission.
    await userEvent.type(within(dialog).getByLabelText("Store name"), " 2");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create store" }));
    await screen.findByRole("link", { name: "Shop 2" });
    const third = state.requests.filter((r) => r.method === "POST")[2];
    expect(third?.headers["idempotency-key"]).not.toBe(first?.headers["idempotency-key"]);
  });

  it("disables Create at the quota and says why", async () => {
    renderApp(fakeState({ stores: [demo, pending], maxStores: 2 }));
    expect(await screen.findByTestId("quota")).toHaveTextContent("2 of 2 stores");
    const create = screen.getByRole("button", { name: "Create store" });
    expect(create).toBeDisabled();
    expect(create).toHaveAccessibleDescription(/using all 2 of your stores. Delete one/i);
  });

  it("frees the quota once a deleting store is gone, without a reload", async () => {
    const leaving = makeStore({ id: "d3d3d3d3", name: "Leaving shop" }, "deleting");
    const state = fakeState({ stores: [demo, leaving], maxStores: 2 });
    renderApp(state);
    expect(await screen.findByTestId("quota")).toHaveTextContent("2 of 2 stores");
    expect(screen.getByRole("button", { name: "Create store" })).toBeDisabled();

    // delete-store finishes: the API lists it no more and counts one store.
    const gone = state.stores.find((s) => s.id === leaving.id);
    if (gone === undefined) throw new Error("no store");
    gone.status = "deleted";

    await waitFor(() => { expect(screen.getByTestId("quota")).toHaveTextContent("1 of 2 stores"); }, { timeout: 5_000 });
    expect(screen.getByRole("button", { name: "Create store" })).toBeEnabled();
  }, 10_000);

  it("reads the quota again after the list shows a deletion finished, though nothing is in flight any more", async () => {
    const leaving = makeStore({ id: "d3d3d3d3", name: "Leaving shop" }, "deleting");
    const state = fakeState({ stores: [demo, leaving], maxStores: 2 });
    const { client } = renderApp(state);
    expect(await screen.findByTestId("quota")).toHaveTextContent("2 of 2 stores");

    const gone = state.stores.find((s) => s.id === leaving.id);
    if (gone === undefined) throw new Error("no store");
    gone.status = "deleted";
    // The list's poll sees it first; with no store in flight the quota
    // alone would slow to the idle rate (30 s and more).
    await client.refetchQueries({ queryKey: queryKeys.stores, exact: true });
    await waitFor(() => { expect(screen.queryByRole("link", { name: "Leaving shop" })).not.toBeInTheDocument(); });

    await waitFor(() => { expect(screen.getByTestId("quota")).toHaveTextContent("1 of 2 stores"); }, { timeout: 5_000 });
  }, 10_000);

  it("shows the API's quota-exceeded problem when the limit is hit meanwhile", async () => {
    const state = fakeState({ stores: [demo], maxStores: 2 });
    renderApp(state);
    await userEvent.click(await screen.findByRole("button", { name: "Create store" }));
    const dialog = await screen.findByRole("dialog");
    await within(dialog).findByRole("radio", { name: "WooCommerce" });
    state.stores.push(makeStore({ id: "other111", name: "From another tab" }, "provisioning"));
    await userEvent.type(within(dialog).getByLabelText("Store name"), "One too many");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create store" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("You have reached your store limit");
    expect(alert).toHaveTextContent("You have 2 of 2 stores.");
  });
});

describe("delete store", () => {
  it("asks for confirmation; Cancel keeps the store", async () => {
    const state = fakeState({ stores: [demo] });
    renderApp(state);
    await userEvent.click(await screen.findByRole("button", { name: "Delete store Demo shop" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete “Demo shop”?" });
    expect(dialog).toHaveTextContent("store-k7m2q9xd");
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await waitFor(() => {
      expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    });
    expect(state.requests.some((r) => r.method === "DELETE")).toBe(false);
  });

  it("deletes after confirmation and shows Deleting at once", async () => {
    const state = fakeState({ stores: [demo] });
    renderApp(state);
    await userEvent.click(await screen.findByRole("button", { name: "Delete store Demo shop" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Delete store" }));
    await waitFor(() => {
      expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    });
    expect(within(row("Demo shop")).getByText("Deleting")).toBeInTheDocument();
    expect(within(row("Demo shop")).getByRole("button", { name: "Deleting… store Demo shop" })).toBeDisabled();
    expect(state.requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual(["/api/stores/k7m2q9xd"]);
  });

  it("keeps the dialog open with the problem detail when the delete is refused", async () => {
    const state = fakeState({ stores: [demo] });
    state.failures.push({
      method: "DELETE",
      path: "/api/stores/k7m2q9xd",
      answer: { status: 409, title: "Conflict", detail: "The store is still being created; delete it once it is ready or failed." },
    });
    renderApp(state);
    await userEvent.click(await screen.findByRole("button", { name: "Delete store Demo shop" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Delete store" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("still being created");
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await waitFor(() => {
      expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    });
    expect(within(row("Demo shop")).getByText("Ready")).toBeInTheDocument();
  });

  it("removes a store from the list once the API no longer lists it", async () => {
    const state = fakeState({ stores: [demo] });
    const { client } = renderApp(state);
    await screen.findByRole("link", { name: "Demo shop" });
    state.stores[0] = { ...demo, status: "deleted" };
    await client.refetchQueries();
    expect(await screen.findByRole("heading", { name: "No stores yet" })).toBeInTheDocument();
  });
});
