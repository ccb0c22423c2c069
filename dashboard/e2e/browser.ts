// Launching Debian's Chromium through playwright-core, and the checks every
// browser suite shares (axe-core, screenshots). Playwright never downloads a
// browser here: the executable is /usr/bin/chromium from apt
// (scripts/ensure-chromium installs it).

import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.STOREFLEET_CHROMIUM ?? "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

const here = path.dirname(fileURLToPath(import.meta.url));
export const DASHBOARD_DIR = path.resolve(here, "..");
export const SCREENSHOT_DIR = path.resolve(DASHBOARD_DIR, "..", "artifacts", "screenshots");

export interface Browser {
  context: BrowserContext;
  close: () => Promise<void>;
}

/** A Chromium with a fresh, throw-away profile. */
export async function launch(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  const profile = await mkdtemp(path.join(tmpdir(), "storefleet-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    locale: "en-GB",
    timezoneId: "UTC",
    reducedMotion: "reduce",
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as artifacts/screenshots/<group>/<name>.png. */
export async function screenshot(page: Page, group: string, name: string, mask: string[] = []): Promise<string> {
  const dir = path.join(SCREENSHOT_DIR, group);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, mask: mask.map((selector) => page.locator(selector)) });
  return file;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

const axeSource = (() => {
  const require = createRequire(import.meta.url);
  return (require("axe-core") as { source: string }).source;
})();

/**
 * Runs axe-core (WCAG 2.x A and AA rules plus best practices) in the page and
 * returns the serious and critical violations, formatted for a test message.
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, not added as an inline <script>:
  // the gateway's Content-Security-Policy (default-src 'self') refuses inline
  // scripts, and the pages are tested under that policy as users get them.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact ?? "?"} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
