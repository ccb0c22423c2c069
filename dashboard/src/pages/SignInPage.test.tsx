import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeState } from "../test/fakeApi";
import { renderApp } from "../test/renderApp";

describe("sign in", () => {
  it("sends a signed-out visitor to the sign-in screen", async () => {
    renderApp(fakeState(), "/", { signedIn: false });
    expect(await screen.findByRole("heading", { name: /sign in to storefleet/i })).toBeInTheDocument();
  });

  it("refuses a wrong token with what to do, and stores nothing", async () => {
    renderApp(fakeState(), "/", { signedIn: false });
    await userEvent.type(await screen.findByLabelText("API token"), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The API did not accept this token");
    expect(alert).toHaveTextContent(/POST \/api\/users/);
    expect(window.sessionStorage.length).toBe(0);
  });

  it("keeps a valid token in session storage, shows the stores, and forgets it on sign out", async () => {
    const state = fakeState();
    renderApp(state, "/", { signedIn: false });
    await userEvent.type(await screen.findByLabelText("API token"), "test-token");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Stores" })).toBeInTheDocument();
    expect(window.sessionStorage.getItem("storefleet.api-token")).toBe("test-token");
    expect(window.localStorage.length).toBe(0);

    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { name: /sign in to storefleet/i })).toBeInTheDocument();
    expect(window.sessionStorage.length).toBe(0);
  });
});
