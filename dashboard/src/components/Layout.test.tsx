import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { queryKeys } from "../api/queries";
import { fakeState } from "../test/fakeApi";
import { renderApp } from "../test/renderApp";

/** Renders the signed-in app and waits until GET /config.json has been answered and used. */
async function renderWithConfig(dashboardConfig: unknown) {
  const state = fakeState({ dashboardConfig });
  const view = renderApp(state);
  await screen.findByText(/signed in as/i);
  await waitFor(() => {
    expect(view.client.getQueryState(queryKeys.dashboardConfig)?.status).toBe("success");
  });
  return { ...view, state };
}

describe("header: the mail catcher link", () => {
  it("links the mail catcher's web UI in a new tab when the platform names one (development)", async () => {
    const { state } = await renderWithConfig({ mailUrl: "http://mail.localhost/" });
    const link = await screen.findByRole("link", { name: "Mail" });
    expect(link).toHaveAttribute("href", "http://mail.localhost/");
    expect(link).toHaveAttribute("target", "_blank");
    expect(link).toHaveAttribute("rel", "noopener noreferrer");
    // The document is the same for everyone: it is fetched without the token.
    const config = state.requests.find((r) => r.path === "/config.json");
    expect(config?.headers.authorization).toBeUndefined();
  });

  it("has no Mail link when the platform names none (production)", async () => {
    await renderWithConfig({});
    expect(screen.queryByRole("link", { name: "Mail" })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Sign out" })).toBeInTheDocument();
  });

  it("has no Mail link when the gateway has no config document (the SPA's index.html answers)", async () => {
    await renderWithConfig(undefined);
    expect(screen.queryByRole("link", { name: "Mail" })).not.toBeInTheDocument();
  });

  it("links nothing that is not an absolute http(s) URL", async () => {
    for (const mailUrl of ["javascript:alert(1)", "/mail", 8025, "data:text/html,<b>x</b>"]) {
      const { unmount } = await renderWithConfig({ mailUrl });
      expect(screen.queryByRole("link", { name: "Mail" })).not.toBeInTheDocument();
      unmount();
    }
  });
});
