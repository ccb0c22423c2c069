// END-TO-END: the dashboard in a real Chromium against the real stack of
// `make dev` — PostgreSQL, the four function binaries, the local broker
// (event chain, ApiServerSource emulation, gateway) and helm installing into
// the kwok test cluster. Nothing is stubbed. Run it with scripts/e2e-dashboard
// (make e2e-dashboard), which builds everything and starts the cluster.
//
// Screenshots of every state go to artifacts/screenshots/e2e/.

import { rm } from "node:fs/promises";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_DIR, launch, screenshot, SCREENSHOT_DIR, seriousA11yViolations, type Browser } from "./browser";
import { api, BASE_URL, createUser, startStack, stopStack } from "./stack";

/** How long a store may take to become Ready or Failed (helm + the test cluster + the chain). */
const SETTLE_MS = Number(process.env.STOREFLEET_E2E_SETTLE_SECONDS ?? "300") * 1000;
/** A store's status changes show within the dashboard's slowest busy poll (15 s) of the API changing. */
const FAILING_VALUES =
  process.env.STOREFLEET_E2E_FAILING_VALUES ?? path.join(DASHBOARD_DIR, "e2e", "fixtures", "failing-values.yaml");

let browser: Browser;
let page: Page;
let adminToken: string;
let user: { name: string; token: string };

beforeAll(async () => {
  await rm(path.join(SCREENSHOT_DIR, "e2e"), { recursive: true, force: true }); // only this run's states
  adminToken = startStack();
  user = await createUser(adminToken, 2);
  browser = await launch();
  page = await browser.context.newPage();
}, 6 * 60_000);

afterAll(async () => {
  await browser.close();
  // Leave nothing behind in the cluster: delete what this run's user still has.
  try {
    const { stores } = await api<{ stores: { id: string }[] }>(user.token, "GET", "/stores");
    for (const store of stores) await api(user.token, "DELETE", `/stores/${store.id}`);
  } catch (error) {
    console.warn("clean-up:", error);
  }
  stopStack();
}, 2 * 60_000);

async function shot(name: string) {
  await screenshot(page, "e2e", name, ['[data-testid="admin-password"]']);
}

async function noSeriousA11yViolations(where: string) {
  expect(await seriousA11yViolations(page), `axe on ${where}`).toEqual([]);
}

function row(name: string): Locator {
  return page.locator("li[data-store-id]", { has: page.getByRole("link", { name, exact: true }) });
}

async function statusOf(name: string, status: string, timeout = SETTLE_MS) {
  await row(name).locator(`[data-status="${status}"]`).waitFor({ timeout });
}

/** Waits for Ready, and fails at once with the store's reason if it fails instead. */
async function becomesReady(name: string) {
  await row(name).locator('[data-status="ready"], [data-status="failed"]').waitFor({ timeout: SETTLE_MS });
  if ((await row(name).locator('[data-status="failed"]').count()) > 0) {
    await shot("unexpected-failure");
    throw new Error(`${name} failed instead of becoming ready: ${await row(name).textContent()}`);
  }
}

/** The store list, fresh (each test starts there, so one failure does not hide the next). */
async function storeList() {
  await page.goto(BASE_URL);
  await page.getByRole("heading", { name: "Stores", level: 1 }).waitFor();
  await page.locator('[role="status"]').getByText("Loading your stores").waitFor({ state: "detached" });
}

async function createStore(name: string) {
  await page.getByRole("button", { name: "Create store" }).click();
  const dialog = page.getByRole("dialog", { name: "Create a store" });
  await dialog.getByRole("radio", { name: "WooCommerce" }).waitFor();
  // The name field has the focus when the dialog opens.
  await page.keyboard.type(name);
  expect(await dialog.getByRole("radio", { name: "Medusa" }).isDisabled(), "Medusa is shown but disabled").toBe(true);
  await dialog.getByRole("button", { name: "Create store" }).click();
  await dialog.waitFor({ state: "detached" });
  await row(name).waitFor();
}

async function deleteStore(name: string, screenshotName?: string) {
  await row(name).getByRole("button", { name: `Delete store ${name}` }).click();
  const dialog = page.getByRole("dialog", { name: `Delete “${name}”?` });
  await dialog.waitFor();
  if (screenshotName !== undefined) await shot(screenshotName);
  await dialog.getByRole("button", { name: "Delete store" }).click();
  await dialog.waitFor({ state: "detached" });
}

describe("the dashboard against the real stack", () => {
  it("signs in with a token the API issued, after refusing a wrong one", async () => {
    await page.goto(BASE_URL);
    await page.getByRole("heading", { name: "Sign in to Storefleet" }).waitFor();
    await noSeriousA11yViolations("sign-in");
    await page.getByLabel("API token").fill("sft_not-a-real-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The API did not accept this token").waitFor();
    await shot("01-sign-in-refused");

    await page.getByLabel("API token").fill(user.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "No stores yet" }).waitFor();
    await page.getByText(`Signed in as ${user.name}`).waitFor();
    expect(await page.getByTestId("quota").textContent()).toBe("0 of 2 stores");
    await noSeriousA11yViolations("empty store list");
    await shot("02-empty");
  });

  it("links the dev mail catcher in the header, and the link opens Mailpit's web UI", async () => {
    await storeList();
    // scripts/dev runs Mailpit on loopback and tells the dashboard through GET /config.json.
    const mail = page.getByRole("banner").getByRole("link", { name: "Mail" });
    expect(await mail.getAttribute("href")).toBe(process.env.STOREFLEET_E2E_MAIL_URL ?? "http://127.0.0.1:8025/");
    expect(await mail.getAttribute("target")).toBe("_blank");
    const [mailpit] = await Promise.all([browser.context.waitForEvent("page"), mail.click()]);
    await mailpit.waitForLoadState();
    // The mailbox UI, rendered by its bundle (built by scripts/tool from scripts/mailpit-ui/): the
    // served index.html has no "Inbox" of its own, so a page without the bundle stays blank.
    await mailpit.getByText("Inbox", { exact: true }).first().waitFor({ state: "attached", timeout: 30_000 });
    await screenshot(mailpit, "e2e", "02b-mail-catcher");
    await mailpit.close();
  });

  it("creates a store and shows it go from Provisioning to Ready", async () => {
    await storeList();
    await createStore("E2E shop");
    await statusOf("E2E shop", "provisioning", 10_000);
    await shot("03-provisioning");
    await becomesReady("E2E shop");
    const links = row("E2E shop");
    expect(await links.getByRole("link", { name: /Storefront/ }).getAttribute("href")).toMatch(/^http:\/\/[a-z0-9]{8}\./);
    await page.getByRole("heading", { name: "Provisioning times" }).waitFor();
    await noSeriousA11yViolations("store list");
    await shot("04-ready");
  });

  it("shows the store's detail with its activity log, provisioning time and credentials", async () => {
    await storeList();
    await row("E2E shop").getByRole("link", { name: "E2E shop", exact: true }).click();
    await page.getByRole("heading", { name: "E2E shop", level: 1 }).waitFor();
    const log = page.getByRole("list", { name: "Activity log" });
    await log.locator('li[data-kind="ready"]').waitFor();
    const kinds = await log.locator("li").evaluateAll((items) => items.map((li) => li.getAttribute("data-kind")));
    expect(kinds[0], "the log starts with the request").toBe("requested");
    expect(kinds).toContain("ready");
    // each entry shows the time the API sends as `at` (docs/openapi.json's StoreEvent)
    const times = await log.locator("li time").evaluateAll((items) => items.map((t) => t.getAttribute("datetime") ?? ""));
    expect(times).toHaveLength(kinds.length);
    expect(times.every((at) => !Number.isNaN(Date.parse(at))), times.join(", ")).toBe(true);
    expect(await page.getByTestId("provisioning-time").textContent()).toMatch(/^\d+( min)?( \d+)? s$|^\d+ min$/);

    await page.getByRole("button", { name: "Reveal admin credentials" }).click();
    const adminUser = page.getByTestId("admin-user");
    await adminUser.waitFor();
    expect((await adminUser.textContent())?.trim()).not.toBe("");
    expect((await page.getByTestId("admin-password").textContent())?.length ?? 0).toBeGreaterThanOrEqual(12);
    await noSeriousA11yViolations("store detail");
    await shot("05-detail-credentials");
    await page.getByRole("button", { name: "Hide admin credentials" }).click();
    await page.getByRole("link", { name: "← All stores" }).click();
  });

  it("disables Create at the quota and says why", async () => {
    await storeList();
    await createStore("E2E second shop");
    await page.getByText("You are using all 2 of your stores").waitFor();
    expect(await page.getByTestId("quota").textContent()).toBe("2 of 2 stores");
    expect(await page.getByRole("button", { name: "Create store" }).isDisabled()).toBe(true);
    await shot("06-quota-reached");
  });

  it("deletes a store after confirmation and shows it disappear", async () => {
    await storeList();
    await deleteStore("E2E second shop", "07-delete-confirm");
    await statusOf("E2E second shop", "deleting", 10_000).catch(() => undefined); // may already be gone
    await shot("08-deleting");
    await row("E2E second shop").waitFor({ state: "detached", timeout: SETTLE_MS });
    await page.getByRole("button", { name: "Create store" }).and(page.locator(":enabled")).waitFor({ timeout: 60_000 });
    await shot("09-deleted");
  });

  it("shows a store that fails with its reason", async () => {
    // The same stack, restarted so that helm installs with values that make
    // the test cluster keep the web pod in ImagePullBackOff.
    stopStack();
    startStack({ STOREFLEET_STORE_VALUES: FAILING_VALUES });
    await storeList();
    await createStore("E2E broken shop");
    await statusOf("E2E broken shop", "failed");
    const reason = row("E2E broken shop").getByText("Why it failed:");
    await reason.waitFor();
    // the tenant's sentence (shared/kube/src/readiness/tenant.rs), never the kubelet's words
    const said = await row("E2E broken shop").textContent();
    expect(said, "the reason names the image problem").toMatch(/cannot start: its image cannot be pulled/);
    expect(said, "no cluster text reaches the tenant").not.toMatch(/ImagePullBackOff|ErrImagePull/);
    await shot("10-failed");

    await row("E2E broken shop").getByRole("link", { name: "E2E broken shop", exact: true }).click();
    await page.getByText("Why it failed:").waitFor();
    await noSeriousA11yViolations("failed store detail");
    await shot("11-failed-detail");
    await page.getByRole("link", { name: "← All stores" }).click();

    await deleteStore("E2E broken shop");
    await row("E2E broken shop").waitFor({ state: "detached", timeout: SETTLE_MS });
  });

  it("ends with no store left", async () => {
    await storeList();
    for (const name of await page.locator("li[data-store-id] h3").allTextContents()) {
      if ((await row(name).getByRole("button", { name: `Delete store ${name}` }).isEnabled())) await deleteStore(name);
    }
    await page.getByRole("heading", { name: "No stores yet" }).waitFor({ timeout: SETTLE_MS });
    await shot("12-all-deleted");
  });
});
