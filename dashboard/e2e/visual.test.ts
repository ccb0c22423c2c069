// VISUAL AND ACCESSIBILITY CHECK — not the end-to-end test.
//
// The built dashboard (dist/) in a real Chromium, with every /api request
// answered by the in-memory stand-in of src/test/fakeApi.ts through
// Playwright's page.route. It shows that each screen renders, fits a 375 px
// phone without sideways scrolling, and has no serious or critical axe-core
// violations; screenshots go to artifacts/screenshots/visual/ for a human to
// look at. That the dashboard works with the real functions is proven by
// e2e/stack.e2e.test.ts against `make dev`.

import type { Page } from "playwright-core";
import { preview, type PreviewServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answer, fakeState, IMAGE_NOT_PULLED, makeStore, type FakeState } from "../src/test/fakeApi";
import { DASHBOARD_DIR, launch, screenshot, seriousA11yViolations, type Browser } from "./browser";

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

function richState(): FakeState {
  return fakeState({
    maxStores: 10,
    stores: [
      makeStore({ id: "p1p1p1p1", name: "Spring sale", created_at: minutesAgo(1) }, "provisioning"),
      makeStore({ id: "k7m2q9xd", name: "Demo shop", created_at: minutesAgo(42), provisioning_seconds: 184, ready_at: minutesAgo(39) }, "ready"),
      makeStore({ id: "f0f0f0f0", name: "Broken shop", created_at: minutesAgo(120), failure_reason: IMAGE_NOT_PULLED }, "failed"),
      makeStore({ id: "d3d3d3d3", name: "Old test store", created_at: minutesAgo(60 * 26) }, "deleting"),
      makeStore({ id: "r2r2r2r2", name: "A store with a rather long name for phones", created_at: minutesAgo(60 * 24 * 3), provisioning_seconds: 131 }, "ready"),
    ],
    events: {
      k7m2q9xd: [
        { at: minutesAgo(42), kind: "requested", message: "store requested" },
        { at: minutesAgo(41), kind: "installed", message: "namespace, credentials and helm release applied in 41.3 s; waiting for the workloads" },
        { at: minutesAgo(40), kind: "waiting", message: "the database is starting" },
        { at: minutesAgo(39), kind: "ready", message: "store ready after 184.0 s; the storefront answers", detail: { provisioning_seconds: 184 } },
      ],
    },
    credentials: {
      k7m2q9xd: { admin_user: "admin", admin_password: "Zx8-fake-visual-only-pw", admin_url: "http://k7m2q9xd.localhost/wp-admin/" },
    },
  });
}

let server: PreviewServer;
let baseUrl: string;
let browser: Browser;

beforeAll(async () => {
  server = await preview({ root: DASHBOARD_DIR, logLevel: "silent", preview: { host: "127.0.0.1", port: 4179, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (url === undefined) throw new Error("vite preview did not report its URL");
  baseUrl = url.replace(/\/$/, "");
  browser = await launch();
});

afterAll(async () => {
  await browser.close();
  await new Promise<void>((resolve) => {
    server.httpServer.close(() => {
      resolve();
    });
  });
});

async function open(state: FakeState, path: string, { width = 1280, signedIn = true } = {}): Promise<Page> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height: width < 600 ? 812 : 900 });
  if (signedIn) {
    await page.addInitScript((token) => {
      window.sessionStorage.setItem("storefleet.api-token", token);
    }, state.token);
  }
  await page.route("**/api/**", async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    const result = answer(state, {
      method: request.method(),
      path: url.pathname + url.search,
      headers: await request.allHeaders(),
      body: request.postData(),
    });
    if (result === "network") await route.abort("connectionrefused");
    else await route.fulfill({ status: result.status, headers: result.headers, body: result.body });
  });
  await page.goto(`${baseUrl}${path}`);
  return page;
}

/** Screenshot, axe-core, and (at phone width) no sideways scrolling. */
async function check(page: Page, name: string, width: number) {
  await screenshot(page, "visual", `${name}-${width}`, ['[data-testid="admin-password"]']);
  expect(await seriousA11yViolations(page), `axe on ${name} at ${width}px`).toEqual([]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} scrolls sideways at ${width}px`).toBeLessThanOrEqual(0);
}

describe.each([1280, 375])("every screen at %d px", (width) => {
  it("sign-in, and a refused token", async () => {
    const page = await open(fakeState(), "/", { width, signedIn: false });
    await page.getByRole("heading", { name: "Sign in to Storefleet" }).waitFor();
    await check(page, "sign-in", width);
    await page.getByLabel("API token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    await check(page, "sign-in-refused", width);
    await page.close();
  });

  it("the store list with every status, quota and chart", async () => {
    const page = await open(richState(), "/", { width });
    await page.getByRole("link", { name: "Demo shop", exact: true }).waitFor();
    await page.getByText("Why it failed:").waitFor();
    await check(page, "stores", width);
    await page.close();
  });

  it("empty and error states", async () => {
    const empty = await open(fakeState(), "/", { width });
    await empty.getByRole("heading", { name: "No stores yet" }).waitFor();
    await check(empty, "stores-empty", width);
    await empty.close();

    const state = fakeState();
    // The dashboard retries a 5xx twice before it shows the error.
    for (let i = 0; i < 3; i++) {
      state.failures.push({ method: "GET", path: "/api/stores", answer: { status: 503, title: "Database unavailable", detail: "PostgreSQL did not answer within 5 s." } });
    }
    const failing = await open(state, "/", { width });
    await failing.getByRole("alert").waitFor();
    await check(failing, "stores-error", width);
    await failing.close();
  });

  it("the create and delete dialogs, keyboard only", async () => {
    const state = richState();
    const page = await open(state, "/", { width });
    await page.getByRole("link", { name: "Demo shop", exact: true }).waitFor();
    await page.getByRole("button", { name: "Create store" }).focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Create a store" });
    await dialog.getByRole("radio", { name: "WooCommerce" }).waitFor();
    await page.keyboard.type("Autumn sale");
    expect(await dialog.getByRole("radio", { name: "Medusa" }).isDisabled()).toBe(true);
    await check(page, "create-dialog", width);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    await page.getByRole("button", { name: "Delete store Demo shop" }).click();
    await page.getByRole("dialog", { name: "Delete “Demo shop”?" }).waitFor();
    await check(page, "delete-dialog", width);
    await page.close();
  });

  it("the quota limit", async () => {
    const state = richState();
    state.maxStores = 5;
    const page = await open(state, "/", { width });
    await page.getByText("You are using all 5 of your stores").waitFor();
    expect(await page.getByRole("button", { name: "Create store" }).isDisabled()).toBe(true);
    await check(page, "quota-limit", width);
    await page.close();
  });

  it("a store's detail with activity log and revealed credentials", async () => {
    const page = await open(richState(), "/stores/k7m2q9xd", { width });
    await page.getByRole("list", { name: "Activity log" }).waitFor();
    await page.getByRole("button", { name: "Reveal admin credentials" }).click();
    await page.getByTestId("admin-user").waitFor();
    await check(page, "detail", width);
    await page.close();

    const failed = await open(richState(), "/stores/f0f0f0f0", { width });
    await failed.getByText("Why it failed:").waitFor();
    await check(failed, "detail-failed", width);
    await failed.close();
  });
});
