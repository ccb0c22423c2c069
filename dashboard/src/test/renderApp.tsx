import { render } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { vi } from "vitest";
import { AppProviders, createQueryClient, routes } from "../App";
import { saveToken } from "../auth/tokenStorage";
import { answer, type FakeState } from "./fakeApi";

/** Routes the app's fetch calls to the in-memory API of `state`. */
export function stubFetch(state: FakeState) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input), "http://dashboard.test");
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const result = answer(state, {
      method: init?.method ?? "GET",
      path: url.pathname + url.search,
      headers,
      body: typeof init?.body === "string" ? init.body : null,
    });
    await Promise.resolve();
    if (result === "network") throw new TypeError("Failed to fetch");
    return new Response(result.body, { status: result.status, headers: result.headers });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

/** The whole app at `path`, signed in with the state's token unless told otherwise. */
export function renderApp(state: FakeState, path = "/", { signedIn = true } = {}) {
  if (signedIn) saveToken(state.token);
  stubFetch(state);
  const client = createQueryClient();
  client.setDefaultOptions({ queries: { ...client.getDefaultOptions().queries, retry: false } });
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const view = render(
    <AppProviders client={client}>
      <RouterProvider router={router} />
    </AppProviders>,
  );
  return { ...view, router, client };
}
